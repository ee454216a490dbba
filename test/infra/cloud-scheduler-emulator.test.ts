import { status } from '@grpc/grpc-js';
import type { CloudSchedulerClient } from '@google-cloud/scheduler';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  startCloudSchedulerEmulator,
  type EmulatedJob,
  type RunningCloudSchedulerEmulator,
} from '../../emulators/cloud-scheduler/index.js';
import { createSchedulerClient } from '../../infra/scheduler-admin.js';

const PARENT = 'projects/demo-sched/locations/us-central1';
const TOPIC = 'projects/demo-sched/topics/ws-sync-tick';

async function rpcCode(promise: Promise<unknown>): Promise<number | undefined> {
  try {
    await promise;
    return undefined;
  } catch (err) {
    return (err as { code?: number }).code;
  }
}

describe('Cloud Scheduler gRPC emulator served to the real CloudSchedulerClient', () => {
  let emulator: RunningCloudSchedulerEmulator;
  let client: CloudSchedulerClient;
  const ran: EmulatedJob[] = [];

  beforeAll(async () => {
    // No Google credentials exist here; the client must not go looking for them.
    emulator = await startCloudSchedulerEmulator({ onRunJob: (job) => void ran.push(job) });
    client = createSchedulerClient({ emulatorHost: emulator.host });
  });

  afterAll(async () => {
    await client?.close();
    await emulator?.close();
  });

  it('creates a job, fills in the service defaults, and answers ALREADY_EXISTS for a second create', async () => {
    const [job] = await client.createJob({
      parent: PARENT,
      job: {
        name: `${PARENT}/jobs/a`,
        schedule: '*/5 * * * *',
        pubsubTarget: { topicName: TOPIC, data: Buffer.from('{"kind":"tick"}'), attributes: { k: 'v' } },
      },
    });
    expect(job).toMatchObject({
      name: `${PARENT}/jobs/a`,
      state: 'ENABLED',
      timeZone: 'Etc/UTC',
      retryConfig: { retryCount: 0, maxDoublings: 5, minBackoffDuration: { seconds: '5' } },
      pubsubTarget: { topicName: TOPIC, attributes: { k: 'v' } },
    });
    expect(Buffer.from(job.pubsubTarget!.data as Uint8Array).toString()).toBe('{"kind":"tick"}');
    expect(job.userUpdateTime?.seconds).toBeTruthy();

    expect(
      await rpcCode(
        client.createJob({
          parent: PARENT,
          job: { name: `${PARENT}/jobs/a`, schedule: '* * * * *', pubsubTarget: { topicName: TOPIC } },
        }),
      ),
    ).toBe(status.ALREADY_EXISTS);
  });

  it('answers NOT_FOUND for unknown jobs and INVALID_ARGUMENT for malformed ones', async () => {
    const missing = `${PARENT}/jobs/missing`;
    expect(await rpcCode(client.getJob({ name: missing }))).toBe(status.NOT_FOUND);
    expect(await rpcCode(client.deleteJob({ name: missing }))).toBe(status.NOT_FOUND);
    expect(
      await rpcCode(
        client.updateJob({
          job: { name: missing, schedule: '* * * * *' },
          updateMask: { paths: ['schedule'] },
        }),
      ),
    ).toBe(status.NOT_FOUND);
    expect(
      await rpcCode(
        client.createJob({ parent: PARENT, job: { name: `${PARENT}/jobs/b`, schedule: '* * * * *' } }),
      ),
    ).toBe(status.INVALID_ARGUMENT);
    expect(
      await rpcCode(
        client.createJob({
          parent: PARENT,
          job: {
            name: `${PARENT}/jobs/b`,
            schedule: '* * * * *',
            timeZone: 'Mars/Olympus',
            pubsubTarget: { topicName: TOPIC },
          },
        }),
      ),
    ).toBe(status.INVALID_ARGUMENT);
    expect(
      await rpcCode(
        client.createJob({
          parent: PARENT,
          job: {
            name: 'projects/other/locations/x/jobs/b',
            schedule: '* * * * *',
            pubsubTarget: { topicName: TOPIC },
          },
        }),
      ),
    ).toBe(status.INVALID_ARGUMENT);
  });

  it('updates only the fields named in the update mask', async () => {
    const [updated] = await client.updateJob({
      job: {
        name: `${PARENT}/jobs/a`,
        schedule: '0 3 * * *',
        description: 'ignored: not in the mask',
        retryConfig: { retryCount: 4 },
      },
      updateMask: { paths: ['schedule', 'retry_config.retry_count'] },
    });
    expect(updated.schedule).toBe('0 3 * * *');
    expect(updated.description).toBe('');
    expect(updated.retryConfig).toMatchObject({ retryCount: 4, maxDoublings: 5 });
    expect(
      await rpcCode(
        client.updateJob({
          job: { name: `${PARENT}/jobs/a`, state: 'PAUSED' },
          updateMask: { paths: ['state'] },
        }),
      ),
    ).toBe(status.INVALID_ARGUMENT);
  });

  it('pauses, resumes, runs and lists jobs with paging', async () => {
    const name = `${PARENT}/jobs/a`;
    expect((await client.pauseJob({ name }))[0].state).toBe('PAUSED');
    expect(await rpcCode(client.pauseJob({ name }))).toBe(status.FAILED_PRECONDITION);
    expect((await client.resumeJob({ name }))[0].state).toBe('ENABLED');
    await client.runJob({ name });
    expect(ran.map((j) => j.name)).toEqual([name]);

    for (const id of ['c', 'd', 'e']) {
      await client.createJob({
        parent: PARENT,
        job: { name: `${PARENT}/jobs/${id}`, schedule: '* * * * *', pubsubTarget: { topicName: TOPIC } },
      });
    }
    const listed: string[] = [];
    for await (const job of client.listJobsAsync({ parent: PARENT, pageSize: 2 }, { autoPaginate: false }))
      listed.push(job.name!);
    expect(listed).toEqual(['a', 'c', 'd', 'e'].map((id) => `${PARENT}/jobs/${id}`));
    expect(emulator.calls.filter((c) => c.method === 'ListJobs')).toHaveLength(2);

    await client.deleteJob({ name: `${PARENT}/jobs/e` });
    expect(await rpcCode(client.getJob({ name: `${PARENT}/jobs/e` }))).toBe(status.NOT_FOUND);
  });

  it('records every call with its decoded request and outcome', () => {
    const creates = emulator.calls.filter((c) => c.method === 'CreateJob');
    expect(creates[0]).toMatchObject({
      code: status.OK,
      request: { parent: PARENT, job: { name: `${PARENT}/jobs/a` } },
    });
    expect(creates[1]).toMatchObject({
      code: status.ALREADY_EXISTS,
      error: expect.stringContaining('already exists'),
    });
    expect(emulator.mutatingCalls().every((c) => c.method !== 'GetJob' && c.method !== 'ListJobs')).toBe(
      true,
    );
  });
});

import type { PubSub } from '@google-cloud/pubsub';
import type { CloudSchedulerClient } from '@google-cloud/scheduler';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  startCloudSchedulerEmulator,
  type RunningCloudSchedulerEmulator,
} from '../../emulators/cloud-scheduler/index.js';
import { applyInfra, planInfra, type InfraPorts } from '../../infra/apply.js';
import { runCli } from '../../infra/cli.js';
import { parseInfraConfig, type InfraConfig } from '../../infra/config.js';
import { desiredState } from '../../infra/desired-state.js';
import { actionTarget, formatPlan, hasChanges, type Plan } from '../../infra/plan.js';
import { createPubSubAdmin } from '../../infra/pubsub-admin.js';
import { createSchedulerAdmin, createSchedulerClient } from '../../infra/scheduler-admin.js';
import { SCHEDULER_JOBS, SUBSCRIPTIONS, TOPICS } from '../../shared/topology.js';
import { emulatorEnv, testPubSub, uniqueProjectId } from '../support/emulator-clients.js';

const REGION = 'europe-west1';

function configFor(projectId: string, overrides: Partial<InfraConfig> = {}): InfraConfig {
  return parseInfraConfig({
    projectId,
    region: REGION,
    functionsBaseUrl: `https://${REGION}-${projectId}.cloudfunctions.net/`,
    pushServiceAccount: `ws-sync-push@${projectId}.iam.gserviceaccount.com`,
    env: 'test',
    ...overrides,
  });
}

function summary(plan: Plan): string[] {
  return plan.actions
    .filter((a) => a.op !== 'noop')
    .map((a) => `${a.op} ${actionTarget(a).kind} ${actionTarget(a).name}`);
}

describe('infra plan/apply against the Pub/Sub emulator and the Cloud Scheduler emulator', () => {
  let scheduler: RunningCloudSchedulerEmulator;
  let schedulerClient: CloudSchedulerClient;
  let pubsub: PubSub;
  let projectId: string;
  let ports: InfraPorts;

  beforeAll(async () => {
    scheduler = await startCloudSchedulerEmulator();
    schedulerClient = createSchedulerClient({ emulatorHost: scheduler.host });
    projectId = uniqueProjectId('infra');
    pubsub = testPubSub(projectId);
    ports = {
      pubsub: createPubSubAdmin(pubsub),
      scheduler: createSchedulerAdmin(schedulerClient, { projectId, region: REGION }),
    };
  });

  afterAll(async () => {
    await schedulerClient?.close();
    await pubsub?.close();
    await scheduler?.close();
  });

  it('plans a create for every topic, subscription and job, applies them, then plans no changes', async () => {
    const config = configFor(projectId);
    const desired = desiredState(config);

    const first = await planInfra(ports, desired, { env: config.env });
    expect(summary(first).sort()).toEqual(
      [
        ...Object.values(TOPICS).map((t) => `create topic ${t}`),
        ...SUBSCRIPTIONS.map((s) => `create subscription ${s.name}`),
        ...SCHEDULER_JOBS.map((j) => `create job ${j.name}`),
      ].sort(),
    );
    const createLine = formatPlan(first)
      .split('\n')
      .find((l) => l.startsWith('+ create subscription ws-sync-entity-push'));
    expect(createLine).toContain('ackDeadlineSeconds=600');
    expect(createLine).toContain(
      `push.endpoint="https://${REGION}-${projectId}.cloudfunctions.net/syncEntity"`,
    );

    const { applied } = await applyInfra(ports, desired, { env: config.env });
    expect(applied.filter((a) => a.op === 'create')).toHaveLength(first.actions.length);

    // What landed is what was asked for, read back through the real clients.
    const [sub] = await pubsub.subscription('ws-sync-entity-push').getMetadata();
    expect(sub.ackDeadlineSeconds).toBe(600);
    expect(sub.pushConfig?.oidcToken?.serviceAccountEmail).toBe(
      `ws-sync-push@${projectId}.iam.gserviceaccount.com`,
    );
    expect(sub.deadLetterPolicy).toEqual({
      deadLetterTopic: `projects/${projectId}/topics/${TOPICS.deadLetter}`,
      maxDeliveryAttempts: 10,
    });
    expect(sub.labels).toEqual({ app: 'workspace-sync', env: 'test' });
    const [job] = await schedulerClient.getJob({
      name: `projects/${projectId}/locations/${REGION}/jobs/ws-sync-tick`,
    });
    expect(job.schedule).toBe(SCHEDULER_JOBS[0]!.schedule);
    expect(job.pubsubTarget?.topicName).toBe(`projects/${projectId}/topics/${TOPICS.tick}`);
    expect(JSON.parse(Buffer.from(job.pubsubTarget!.data as Uint8Array).toString('utf8'))).toEqual(
      SCHEDULER_JOBS[0]!.payload,
    );

    const second = await planInfra(ports, desired, { env: config.env });
    expect(hasChanges(second)).toBe(false);
    expect(formatPlan(second)).toMatch(/^No changes\. \d+ resource\(s\) up to date\.$/);
  });

  it('records no mutating Cloud Scheduler call on a second apply', async () => {
    const config = configFor(projectId);
    scheduler.calls.length = 0;
    const { applied } = await applyInfra(ports, desiredState(config), { env: config.env });
    expect(applied.every((a) => a.op === 'noop')).toBe(true);
    expect(scheduler.mutatingCalls()).toEqual([]);
    expect(scheduler.calls.map((c) => c.method)).toEqual(['ListJobs']);
  });

  it('plans exactly a changed job time zone, and applies it with a one-field update mask', async () => {
    const config = configFor(projectId, { schedulerTimeZone: 'Europe/Berlin' });
    const plan = await planInfra(ports, desiredState(config), { env: config.env });
    expect(formatPlan(plan)).toBe('~ update job ws-sync-tick: timeZone "Etc/UTC" -> "Europe/Berlin"');

    scheduler.calls.length = 0;
    await applyInfra(ports, desiredState(config), { env: config.env });
    const updates = scheduler.mutatingCalls();
    expect(updates.map((c) => c.method)).toEqual(['UpdateJob']);
    expect(updates[0]!.request.updateMask).toEqual({ paths: ['time_zone'] });
    expect(hasChanges(await planInfra(ports, desiredState(config), { env: config.env }))).toBe(false);
  });

  it('detects an ack deadline changed by hand on the emulator as exactly one update', async () => {
    const config = configFor(projectId, { schedulerTimeZone: 'Europe/Berlin' });
    await pubsub.subscription('ws-sync-tick-push').setMetadata({ ackDeadlineSeconds: 20 });

    const plan = await planInfra(ports, desiredState(config), { env: config.env });
    expect(formatPlan(plan)).toBe('~ update subscription ws-sync-tick-push: ackDeadlineSeconds 20 -> 60');
    await applyInfra(ports, desiredState(config), { env: config.env });
    const [sub] = await pubsub.subscription('ws-sync-tick-push').getMetadata();
    expect(sub.ackDeadlineSeconds).toBe(60);
    expect(hasChanges(await planInfra(ports, desiredState(config), { env: config.env }))).toBe(false);
  });

  it('changes a push endpoint and the dead-letter policy in place with the matching mask paths', async () => {
    const config = configFor(projectId, {
      schedulerTimeZone: 'Europe/Berlin',
      functionsBaseUrl: 'https://tick-abc123-ew.a.run.app',
    });
    const plan = await planInfra(ports, desiredState(config), { env: config.env });
    const updates = plan.actions.flatMap((a) => (a.op === 'update' ? [a] : []));
    expect(updates.map((u) => [u.update.spec.name, u.update.mask])).toEqual([
      ['ws-sync-tick-push', ['push_config']],
      ['ws-sync-entity-push', ['push_config']],
      ['ws-sync-dead-letter-push', ['push_config']],
      ['ws-sync-notifications-push', ['push_config']],
    ]);
    expect(updates[0]!.changes.map((c) => c.field)).toEqual(['push.endpoint', 'push.audience']);
    expect(summary(plan)).toHaveLength(4);
  });

  it('never deletes resources it does not own, and lists owned stale ones only with prune', async () => {
    const config = configFor(projectId, { schedulerTimeZone: 'Europe/Berlin' });
    // Someone else's topic, a topic of ours from another env, and a stale topic + job of ours.
    await pubsub.createTopic('orders');
    await pubsub.createTopic({
      name: 'ws-sync-other-env',
      labels: { app: 'workspace-sync', env: 'staging' },
    });
    await pubsub.createTopic({ name: 'ws-sync-retired', labels: { app: 'workspace-sync', env: 'test' } });
    const parent = `projects/${projectId}/locations/${REGION}`;
    await schedulerClient.createJob({
      parent,
      job: {
        name: `${parent}/jobs/ws-sync-retired`,
        schedule: '0 1 * * *',
        pubsubTarget: { topicName: `projects/${projectId}/topics/ws-sync-retired` },
      },
    });
    await schedulerClient.createJob({
      parent,
      job: {
        name: `${parent}/jobs/billing-report`,
        schedule: '0 1 * * *',
        pubsubTarget: { topicName: `projects/${projectId}/topics/orders` },
      },
    });

    const desired = desiredState(config);
    const withoutPrune = await planInfra(ports, desired, { env: config.env });
    expect(hasChanges(withoutPrune)).toBe(false);
    expect(formatPlan(withoutPrune)).toContain(
      'note: 2 managed resource(s) are no longer in the desired state (job ws-sync-retired, topic ws-sync-retired); run with --prune to delete them',
    );

    const pruning = await planInfra(ports, desired, { env: config.env, prune: true });
    expect(formatPlan(pruning)).toBe(
      '- would delete job ws-sync-retired\n- would delete topic ws-sync-retired',
    );
    await applyInfra(ports, desired, { env: config.env, prune: true });

    const [topics] = await pubsub.getTopics();
    const names = topics.map((t) => t.name.split('/').pop());
    expect(names).toContain('orders');
    expect(names).toContain('ws-sync-other-env');
    expect(names).not.toContain('ws-sync-retired');
    const jobs = (await schedulerClient.listJobs({ parent }))[0].map((j) => j.name!.split('/').pop());
    expect(jobs.sort()).toEqual(['billing-report', 'ws-sync-tick']);
  });

  it('runs plan and apply through the CLI with emulator hosts from the environment', async () => {
    const cliProject = uniqueProjectId('infracli');
    const env = {
      ...emulatorEnv(),
      CLOUD_SCHEDULER_EMULATOR_HOST: scheduler.host,
      INFRA_REGION: REGION,
      INFRA_PUSH_SA: `ws-sync-push@${cliProject}.iam.gserviceaccount.com`,
    };
    const args = [
      '--project',
      cliProject,
      '--functions-base-url',
      `https://${REGION}-${cliProject}.cloudfunctions.net`,
    ];
    const run = async (argv: string[]) => {
      const out: string[] = [];
      const code = await runCli(argv, env, { out: (l) => out.push(l), err: (l) => out.push(`ERR ${l}`) });
      return { code, text: out.join('\n') };
    };

    const plan = await run(['plan', ...args, '--exit-code']);
    expect(plan.code).toBe(2);
    expect(plan.text.split('\n').filter((l) => l.startsWith('+ create'))).toHaveLength(
      Object.keys(TOPICS).length + SUBSCRIPTIONS.length + SCHEDULER_JOBS.length,
    );
    const apply = await run(['apply', ...args]);
    expect(apply.code).toBe(0);
    expect(apply.text).toContain(
      `Applied ${Object.keys(TOPICS).length + SUBSCRIPTIONS.length + SCHEDULER_JOBS.length} change(s).`,
    );

    scheduler.calls.length = 0;
    const again = await run(['apply', ...args]);
    expect(again.code).toBe(0);
    expect(again.text).toContain('No changes.');
    expect(scheduler.mutatingCalls()).toEqual([]);
    expect((await run(['plan', ...args, '--exit-code'])).code).toBe(0);

    const bad = await run(['plan', '--project', cliProject]);
    expect(bad.code).toBe(2);
    expect(bad.text).toContain('functionsBaseUrl');
  });
});

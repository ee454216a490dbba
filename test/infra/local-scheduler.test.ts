import type { Message, PubSub, Subscription } from '@google-cloud/pubsub';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startLocalScheduler, type LocalTick, type SchedulerClock } from '../../infra/local-scheduler.js';
import { SCHEDULER_JOBS, TOPICS, type SchedulerJobDefinition } from '../../shared/topology.js';
import { testPubSub, uniqueProjectId } from '../support/emulator-clients.js';

/** Time only moves when the test says so; due timers run in order. */
function fakeClock(startIso: string) {
  let now = Date.parse(startIso);
  let timers: Array<{ id: number; due: number; callback: () => void }> = [];
  let nextId = 1;
  const clock: SchedulerClock = {
    now: () => now,
    setTimeout: (callback, ms) => {
      const id = nextId++;
      timers.push({ id, due: now + ms, callback });
      return id;
    },
    clearTimeout: (handle) => {
      timers = timers.filter((t) => t.id !== handle);
    },
  };
  const advanceTo = (iso: string) => {
    const target = Date.parse(iso);
    for (;;) {
      const due = timers.filter((t) => t.due <= target).sort((a, b) => a.due - b.due)[0];
      if (!due) break;
      timers = timers.filter((t) => t !== due);
      now = due.due;
      due.callback();
    }
    now = target;
  };
  return { clock, advanceTo, pending: () => timers.length };
}

function collect(subscription: Subscription) {
  const messages: Message[] = [];
  const waiters: Array<() => void> = [];
  subscription.on('message', (m: Message) => {
    m.ack();
    messages.push(m);
    waiters.splice(0).forEach((w) => w());
  });
  return {
    messages,
    async waitFor(count: number, timeoutMs = 10_000): Promise<Message[]> {
      const deadline = Date.now() + timeoutMs;
      while (messages.length < count) {
        if (Date.now() > deadline) throw new Error(`expected ${count} message(s), got ${messages.length}`);
        await new Promise<void>((resolve) => {
          waiters.push(resolve);
          setTimeout(resolve, 200);
        });
      }
      return messages.slice(0, count);
    },
  };
}

describe('startLocalScheduler publishing to the Pub/Sub emulator', () => {
  const projectId = uniqueProjectId('localsched');
  let pubsub: PubSub;
  let subscription: Subscription;
  let inbox: ReturnType<typeof collect>;

  beforeAll(async () => {
    pubsub = testPubSub(projectId);
    const [topic] = await pubsub.createTopic(TOPICS.tick);
    [subscription] = await topic.createSubscription('tick-observer');
    inbox = collect(subscription);
  });

  afterAll(async () => {
    await subscription?.close();
    await pubsub?.close();
  });

  it('runNow publishes the job payload to the job topic, as Cloud Scheduler would', async () => {
    const ticks: LocalTick[] = [];
    const scheduler = startLocalScheduler({ pubsub, onTick: (t) => ticks.push(t) });
    const job = SCHEDULER_JOBS[0]!;
    const messageId = await scheduler.runNow(job.name);
    await scheduler.stop();

    const [message] = await inbox.waitFor(1);
    expect(message!.id).toBe(messageId);
    expect(JSON.parse(message!.data.toString('utf8'))).toEqual(job.payload);
    expect(message!.attributes).toEqual({});
    expect(ticks).toEqual([{ jobName: job.name, scheduledAt: expect.any(Date), messageId, error: null }]);
    await expect(scheduler.runNow('no-such-job')).rejects.toThrow(/unknown scheduler job no-such-job/);
    inbox.messages.length = 0;
  });

  it('fires at the cron minutes in the job time zone and not in between', async () => {
    const job: SchedulerJobDefinition = {
      name: 'ws-sync-test-berlin',
      description: 'test',
      schedule: '0 9 * * *',
      timeZone: 'Europe/Berlin',
      topic: TOPICS.tick,
      payload: { kind: 'tick', job: 'ws-sync-test-berlin' },
    };
    const { clock, advanceTo, pending } = fakeClock('2025-01-15T07:58:30Z');
    const ticks: LocalTick[] = [];
    const scheduler = startLocalScheduler({ pubsub, jobs: [job], clock, onTick: (t) => ticks.push(t) });

    advanceTo('2025-01-15T07:59:59Z');
    advanceTo('2025-01-15T08:00:00Z'); // 09:00 in Berlin
    advanceTo('2025-01-15T08:59:00Z');
    advanceTo('2025-01-15T09:00:00Z'); // 10:00 in Berlin: no
    await scheduler.stop();
    expect(pending()).toBe(0);

    const [message] = await inbox.waitFor(1);
    expect(JSON.parse(message!.data.toString('utf8'))).toEqual(job.payload);
    expect(ticks.map((t) => [t.jobName, t.scheduledAt.toISOString(), t.error])).toEqual([
      [job.name, '2025-01-15T08:00:00.000Z', null],
    ]);
    await new Promise((r) => setTimeout(r, 300));
    expect(inbox.messages).toHaveLength(1);
  });

  it('refuses a job whose schedule does not parse', () => {
    const broken = { ...SCHEDULER_JOBS[0]!, schedule: '0 25 * * *' };
    expect(() => startLocalScheduler({ pubsub, jobs: [broken] })).toThrow(/hour: 25/);
  });
});

import type { PubSub } from '@google-cloud/pubsub';
import { SCHEDULER_JOBS, type SchedulerJobDefinition } from '../shared/topology.js';
import { cronMatches, parseCron, type CronSchedule } from './cron.js';
import { desiredJob } from './desired-state.js';
import type { JobSpec } from './resource-specs.js';

export interface SchedulerClock {
  now(): number;
  setTimeout(callback: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

export const realClock: SchedulerClock = {
  now: () => Date.now(),
  setTimeout: (callback, ms) => {
    const handle = setTimeout(callback, ms);
    // The local stack's HTTP servers keep the process alive; a pending tick alone should not.
    handle.unref();
    return handle;
  },
  clearTimeout: (handle) => clearTimeout(handle as NodeJS.Timeout),
};

export interface LocalTick {
  jobName: string;
  /** The cron minute that fired, or the moment of a `runNow`. */
  scheduledAt: Date;
  messageId: string | null;
  error: Error | null;
}

export interface LocalSchedulerOptions {
  /** A client for the Pub/Sub emulator (or any project whose topics exist). */
  pubsub: PubSub;
  jobs?: readonly SchedulerJobDefinition[];
  clock?: SchedulerClock;
  onTick?: (tick: LocalTick) => void;
  /** Same meaning as InfraConfig.schedulerTimeZone. */
  timeZoneOverride?: string;
}

export interface LocalScheduler {
  /** Publishes the job's payload now, as `gcloud scheduler jobs run` would, and returns the message id. */
  runNow(jobName: string): Promise<string>;
  /** Stops firing and waits for publishes already under way. */
  stop(): Promise<void>;
}

const MINUTE_MS = 60_000;
const MAX_CATCH_UP_MINUTES = 5;

interface ScheduledJob {
  spec: JobSpec;
  cron: CronSchedule;
}

/**
 * Cloud Scheduler for the local stack: publishes each job's payload to its topic at the job's cron minutes,
 * in the job's time zone. The bytes and topic come from the same desired-state code infra provisions the
 * cloud jobs with.
 */
export function startLocalScheduler(options: LocalSchedulerOptions): LocalScheduler {
  const { pubsub, onTick } = options;
  const clock = options.clock ?? realClock;
  const scheduled = new Map<string, ScheduledJob>();
  for (const def of options.jobs ?? SCHEDULER_JOBS) {
    // Parsing up front turns a typo in the topology into an error at start-up, not a silent no-op.
    scheduled.set(def.name, {
      spec: desiredJob(def, options.timeZoneOverride),
      cron: parseCron(def.schedule),
    });
  }
  const inFlight = new Set<Promise<unknown>>();
  let timer: unknown = null;
  let stopped = false;
  let lastMinute = Math.floor(clock.now() / MINUTE_MS) * MINUTE_MS;

  const publish = async (job: ScheduledJob): Promise<string> => {
    const target = job.spec.pubsubTarget;
    if (!target) throw new Error(`job ${job.spec.name} has no Pub/Sub target`);
    return pubsub.topic(target.topic).publishMessage({
      data: Buffer.from(target.dataBase64, 'base64'),
      attributes: { ...target.attributes },
    });
  };

  const fire = (job: ScheduledJob, scheduledAt: Date): Promise<string> => {
    const pending = publish(job);
    inFlight.add(pending);
    void pending.then(
      (messageId) => onTick?.({ jobName: job.spec.name, scheduledAt, messageId, error: null }),
      (err: unknown) =>
        onTick?.({
          jobName: job.spec.name,
          scheduledAt,
          messageId: null,
          error: err instanceof Error ? err : new Error(String(err)),
        }),
    );
    void pending.catch(() => undefined).finally(() => inFlight.delete(pending));
    return pending;
  };

  const onMinute = () => {
    timer = null;
    if (stopped) return;
    const minute = Math.floor(clock.now() / MINUTE_MS) * MINUTE_MS;
    // Minutes since the last check are evaluated, so a late timer (a busy event loop) still fires what was
    // due, once; like Cloud Scheduler, a long sleep (a laptop lid) does not replay a backlog.
    const from = Math.max(lastMinute + MINUTE_MS, minute - (MAX_CATCH_UP_MINUTES - 1) * MINUTE_MS);
    for (let m = from; m <= minute; m += MINUTE_MS) {
      const at = new Date(m);
      for (const job of scheduled.values()) {
        if (cronMatches(job.cron, at, job.spec.timeZone)) void fire(job, at).catch(() => undefined);
      }
    }
    lastMinute = Math.max(lastMinute, minute);
    schedule();
  };

  const schedule = () => {
    if (stopped) return;
    const delay = MINUTE_MS - (clock.now() % MINUTE_MS);
    timer = clock.setTimeout(onMinute, delay);
  };

  schedule();

  return {
    runNow: async (jobName) => {
      const job = scheduled.get(jobName);
      if (!job)
        throw new Error(`unknown scheduler job ${jobName}; known: ${[...scheduled.keys()].join(', ')}`);
      return fire(job, new Date(clock.now()));
    },
    stop: async () => {
      stopped = true;
      if (timer !== null) clock.clearTimeout(timer);
      timer = null;
      await Promise.allSettled([...inFlight]);
    },
  };
}

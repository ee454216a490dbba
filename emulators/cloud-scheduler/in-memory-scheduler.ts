import { alreadyExists, failedPrecondition, invalidArgument, notFound } from '../grpc-support/rpc-error.js';

/**
 * Jobs as proto-loader decodes them (camelCase, longs and enums as strings, bytes as Buffer, unset fields
 * undefined) and as grpc-js encodes them back.
 */
export interface Duration {
  seconds?: string | number;
  nanos?: number;
}

export interface Timestamp {
  seconds: string;
  nanos: number;
}

export interface PubsubTarget {
  topicName?: string;
  data?: Buffer;
  attributes?: Record<string, string>;
}

export interface RetryConfig {
  retryCount?: number;
  maxRetryDuration?: Duration;
  minBackoffDuration?: Duration;
  maxBackoffDuration?: Duration;
  maxDoublings?: number;
}

export type JobState = 'STATE_UNSPECIFIED' | 'ENABLED' | 'PAUSED' | 'DISABLED' | 'UPDATE_FAILED';

export interface Job {
  name?: string;
  description?: string;
  pubsubTarget?: PubsubTarget;
  appEngineHttpTarget?: Record<string, unknown>;
  httpTarget?: Record<string, unknown>;
  schedule?: string;
  timeZone?: string;
  userUpdateTime?: Timestamp;
  state?: JobState;
  scheduleTime?: Timestamp;
  lastAttemptTime?: Timestamp;
  retryConfig?: RetryConfig;
  attemptDeadline?: Duration;
  /** proto-loader's virtual oneof field: which target is set. */
  target?: string;
}

const TARGETS = ['pubsubTarget', 'appEngineHttpTarget', 'httpTarget'] as const;

/** Top-level Job fields (proto names) an update mask may name; the rest are output-only or the identity. */
const UPDATABLE_FIELDS = new Set([
  'description',
  'pubsub_target',
  'app_engine_http_target',
  'http_target',
  'schedule',
  'time_zone',
  'retry_config',
  'attempt_deadline',
]);

const PARENT = /^projects\/([^/]+)\/locations\/([^/]+)$/;
const JOB_NAME = /^projects\/([^/]+)\/locations\/([^/]+)\/jobs\/([A-Za-z0-9_-]{1,500})$/;
const TOPIC_NAME = /^projects\/[^/]+\/topics\/[^/]+$/;
const DEFAULT_PAGE_SIZE = 500;

/** Cloud Scheduler's documented retry defaults, filled in when a job leaves them unset. */
const RETRY_DEFAULTS = {
  retryCount: 0,
  maxRetryDuration: { seconds: '0', nanos: 0 },
  minBackoffDuration: { seconds: '5', nanos: 0 },
  maxBackoffDuration: { seconds: '3600', nanos: 0 },
  maxDoublings: 5,
} satisfies RetryConfig;

function isZeroDuration(d: Duration | undefined): boolean {
  return d === undefined || (Number(d.seconds ?? 0) === 0 && (d.nanos ?? 0) === 0);
}

function timestamp(date: Date): Timestamp {
  const ms = date.getTime();
  return { seconds: String(Math.floor(ms / 1000)), nanos: (ms % 1000) * 1e6 };
}

/** Deep copy that keeps Buffers as Buffers (structuredClone would turn them into Uint8Arrays). */
export function cloneJob<T>(value: T): T {
  if (Buffer.isBuffer(value)) return Buffer.from(value) as T;
  if (Array.isArray(value)) return value.map(cloneJob) as T;
  if (value !== null && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) if (v !== undefined) out[k] = cloneJob(v);
    return out as T;
  }
  return value;
}

function camel(segment: string): string {
  return segment.replace(/_([a-z])/g, (_, c: string) => c.toUpperCase());
}

function isValidTimeZone(timeZone: string): boolean {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone });
    return true;
  } catch {
    return false;
  }
}

function withoutTarget(job: Job): Job {
  const copy = cloneJob(job);
  delete copy.target;
  return copy;
}

function setPath(target: Record<string, unknown>, path: string[], value: unknown): void {
  const [head, ...rest] = path;
  if (head === undefined) return;
  if (rest.length === 0) {
    if (value === undefined) delete target[head];
    else target[head] = cloneJob(value);
    return;
  }
  const child = target[head];
  const next = child !== null && typeof child === 'object' ? (child as Record<string, unknown>) : {};
  target[head] = next;
  setPath(next, rest, value);
}

function getPath(source: unknown, path: string[]): unknown {
  let cur = source;
  for (const segment of path) {
    if (cur === null || typeof cur !== 'object') return undefined;
    cur = (cur as Record<string, unknown>)[segment];
  }
  return cur;
}

export class InMemoryCloudScheduler {
  private readonly jobs = new Map<string, Job>();

  constructor(private readonly now: () => Date = () => new Date()) {}

  private validate(job: Job): void {
    const targets = TARGETS.filter((t) => job[t] !== undefined);
    if (targets.length !== 1) {
      throw invalidArgument(
        `A job must have exactly one target (pubsub_target, http_target or app_engine_http_target).`,
      );
    }
    // The service also accepts English-like schedules ("every 5 minutes"), so only emptiness is rejected.
    if (!job.schedule?.trim()) throw invalidArgument('A schedule is required.');
    if (job.timeZone && !isValidTimeZone(job.timeZone)) {
      throw invalidArgument(`Time zone "${job.timeZone}" is not a valid tz database name.`);
    }
    if (job.pubsubTarget && !TOPIC_NAME.test(job.pubsubTarget.topicName ?? '')) {
      throw invalidArgument(
        `Pub/Sub topic name "${job.pubsubTarget.topicName ?? ''}" must be projects/*/topics/*.`,
      );
    }
  }

  private withDefaults(job: Job): Job {
    const retry: RetryConfig = { ...job.retryConfig };
    retry.retryCount ??= RETRY_DEFAULTS.retryCount;
    retry.maxRetryDuration ??= RETRY_DEFAULTS.maxRetryDuration;
    // Proto3 cannot tell 0 from unset, so the service treats 0 as "use the default".
    if (isZeroDuration(retry.minBackoffDuration))
      retry.minBackoffDuration = RETRY_DEFAULTS.minBackoffDuration;
    if (isZeroDuration(retry.maxBackoffDuration))
      retry.maxBackoffDuration = RETRY_DEFAULTS.maxBackoffDuration;
    if (!retry.maxDoublings) retry.maxDoublings = RETRY_DEFAULTS.maxDoublings;
    return { ...job, timeZone: job.timeZone || 'Etc/UTC', retryConfig: retry };
  }

  private existing(name: string | undefined): Job {
    const job = name === undefined ? undefined : this.jobs.get(name);
    if (!job) throw notFound(`Job not found: ${name ?? '(no name)'}.`);
    return job;
  }

  createJob(request: { parent?: string; job?: Job }): Job {
    const parent = request.parent ?? '';
    if (!PARENT.test(parent)) throw invalidArgument(`Parent "${parent}" must be projects/*/locations/*.`);
    if (!request.job) throw invalidArgument('A job is required.');
    const name = request.job.name || `${parent}/jobs/${Math.random().toString(36).slice(2, 12)}`;
    if (!JOB_NAME.test(name) || !name.startsWith(`${parent}/jobs/`)) {
      throw invalidArgument(`Job name "${name}" must be ${parent}/jobs/[A-Za-z0-9_-]{1,500}.`);
    }
    if (this.jobs.has(name)) throw alreadyExists(`Job ${name} already exists.`);
    const job = this.withDefaults({ ...withoutTarget(request.job), name });
    this.validate(job);
    job.state = 'ENABLED';
    job.userUpdateTime = timestamp(this.now());
    this.jobs.set(name, job);
    return cloneJob(job);
  }

  getJob(request: { name?: string }): Job {
    return cloneJob(this.existing(request.name));
  }

  listJobs(request: { parent?: string; pageSize?: number; pageToken?: string }): {
    jobs: Job[];
    nextPageToken: string;
  } {
    const parent = request.parent ?? '';
    if (!PARENT.test(parent)) throw invalidArgument(`Parent "${parent}" must be projects/*/locations/*.`);
    const all = [...this.jobs.values()]
      .filter((j) => j.name?.startsWith(`${parent}/jobs/`))
      .sort((a, b) => (a.name ?? '').localeCompare(b.name ?? ''));
    const offset = request.pageToken
      ? Number(Buffer.from(request.pageToken, 'base64url').toString('utf8'))
      : 0;
    if (!Number.isInteger(offset) || offset < 0) throw invalidArgument('Invalid page token.');
    const size = Math.min(request.pageSize || DEFAULT_PAGE_SIZE, DEFAULT_PAGE_SIZE);
    const page = all.slice(offset, offset + size);
    const next = offset + size < all.length ? Buffer.from(String(offset + size)).toString('base64url') : '';
    return { jobs: page.map(cloneJob), nextPageToken: next };
  }

  updateJob(request: { job?: Job; updateMask?: { paths?: string[] } }): Job {
    if (!request.job) throw invalidArgument('A job is required.');
    const current = this.existing(request.job.name);
    const paths = request.updateMask?.paths ?? [];
    for (const path of paths) {
      const top = path.split('.')[0] ?? '';
      if (!UPDATABLE_FIELDS.has(top))
        throw invalidArgument(`Field "${path}" in update_mask cannot be updated.`);
    }
    const incoming = withoutTarget(request.job);
    const updated: Job = cloneJob(current);
    // Without a mask every updatable field is replaced, as with a PATCH that names them all.
    const effective = paths.length > 0 ? paths : [...UPDATABLE_FIELDS];
    for (const path of effective) {
      const segments = path.split('.').map(camel);
      setPath(updated as Record<string, unknown>, segments, getPath(incoming, segments));
      const top = segments[0];
      // Setting one target clears the others: they are a oneof.
      if (TARGETS.some((t) => t === top) && incoming[top as (typeof TARGETS)[number]] !== undefined) {
        for (const other of TARGETS) if (other !== top) delete updated[other];
      }
    }
    const job = this.withDefaults(updated);
    this.validate(job);
    job.userUpdateTime = timestamp(this.now());
    this.jobs.set(job.name!, job);
    return cloneJob(job);
  }

  deleteJob(request: { name?: string }): Record<string, never> {
    this.existing(request.name);
    this.jobs.delete(request.name!);
    return {};
  }

  pauseJob(request: { name?: string }): Job {
    const job = this.existing(request.name);
    if (job.state !== 'ENABLED')
      throw failedPrecondition(`Job ${job.name} is ${job.state}; only ENABLED jobs can be paused.`);
    job.state = 'PAUSED';
    job.userUpdateTime = timestamp(this.now());
    return cloneJob(job);
  }

  resumeJob(request: { name?: string }): Job {
    const job = this.existing(request.name);
    if (job.state !== 'PAUSED')
      throw failedPrecondition(`Job ${job.name} is ${job.state}; only PAUSED jobs can be resumed.`);
    job.state = 'ENABLED';
    job.userUpdateTime = timestamp(this.now());
    return cloneJob(job);
  }

  runJob(request: { name?: string }): Job {
    const job = this.existing(request.name);
    job.lastAttemptTime = timestamp(this.now());
    return cloneJob(job);
  }

  /** A snapshot of every stored job, for test assertions. */
  snapshot(): Job[] {
    return [...this.jobs.values()].map(cloneJob);
  }
}

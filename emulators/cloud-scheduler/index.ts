import {
  Server,
  status,
  type handleUnaryCall,
  type ServiceDefinition,
  type UntypedServiceImplementation,
} from '@grpc/grpc-js';
import { listenInsecure } from '../grpc-support/insecure-server.js';
import { InMemoryCloudScheduler, type Job } from './in-memory-scheduler.js';
import { loadCloudSchedulerServiceDefinition } from './proto.js';
import { RpcError } from '../grpc-support/rpc-error.js';

export type SchedulerMethod =
  'ListJobs' | 'GetJob' | 'CreateJob' | 'UpdateJob' | 'DeleteJob' | 'PauseJob' | 'ResumeJob' | 'RunJob';

export const MUTATING_METHODS: ReadonlySet<SchedulerMethod> = new Set([
  'CreateJob',
  'UpdateJob',
  'DeleteJob',
  'PauseJob',
  'ResumeJob',
]);

/** One RPC as the emulator received it, so tests can assert on exactly what a client did. */
export interface RecordedCall {
  method: SchedulerMethod;
  /** The decoded request (camelCase fields, bytes as Buffer, unset fields absent). */
  request: Record<string, unknown>;
  /** gRPC status code of the answer: 0 = OK. */
  code: status;
  error?: string;
  at: Date;
}

export interface CloudSchedulerEmulatorOptions {
  /** 0 (default) picks a free port. */
  port?: number;
  host?: string;
  /** Called for RunJob, e.g. to publish the job's Pub/Sub payload. */
  onRunJob?: (job: Job) => void | Promise<void>;
  now?: () => Date;
}

export interface RunningCloudSchedulerEmulator {
  /** `host:port`, the value for CLOUD_SCHEDULER_EMULATOR_HOST. */
  host: string;
  port: number;
  /** Every call in arrival order; a live array, so `calls.length = 0` forgets the history. */
  calls: RecordedCall[];
  /** Recorded calls that (try to) change state: create, update, delete, pause, resume, failed or not. */
  mutatingCalls(): RecordedCall[];
  scheduler: InMemoryCloudScheduler;
  close(): Promise<void>;
}

function implementation(
  definition: ServiceDefinition,
  scheduler: InMemoryCloudScheduler,
  calls: RecordedCall[],
  onRunJob: CloudSchedulerEmulatorOptions['onRunJob'],
): UntypedServiceImplementation {
  const handlers: Record<SchedulerMethod, (request: never) => unknown> = {
    ListJobs: (r) => scheduler.listJobs(r),
    GetJob: (r) => scheduler.getJob(r),
    CreateJob: (r) => scheduler.createJob(r),
    UpdateJob: (r) => scheduler.updateJob(r),
    DeleteJob: (r) => scheduler.deleteJob(r),
    PauseJob: (r) => scheduler.pauseJob(r),
    ResumeJob: (r) => scheduler.resumeJob(r),
    RunJob: (r) => scheduler.runJob(r),
  };
  const unary =
    (method: SchedulerMethod): handleUnaryCall<Record<string, unknown>, unknown> =>
    async (call, callback) => {
      const record: RecordedCall = { method, request: call.request, code: status.OK, at: new Date() };
      calls.push(record);
      try {
        const response = handlers[method](call.request as never);
        if (method === 'RunJob' && onRunJob) await onRunJob(response as Job);
        callback(null, response);
      } catch (err) {
        const code = err instanceof RpcError ? err.code : status.INTERNAL;
        const details =
          err instanceof RpcError
            ? err.message
            : `Cloud Scheduler emulator internal error: ${err instanceof Error ? err.message : String(err)}`;
        record.code = code;
        record.error = details;
        callback({ code, details });
      }
    };
  const out: UntypedServiceImplementation = {};
  for (const [name, method] of Object.entries(definition)) {
    out[name] =
      name in handlers
        ? unary(name as SchedulerMethod)
        : (((_call, callback) =>
            callback({
              code: status.UNIMPLEMENTED,
              details: `Method ${method.path} is not implemented by the Cloud Scheduler emulator.`,
            })) satisfies handleUnaryCall<unknown, never>);
  }
  return out;
}

/**
 * A Cloud Scheduler v1 gRPC server for the real `CloudSchedulerClient` (Cloud Scheduler has no official
 * emulator). Jobs live in memory and never fire on their own; infra/local-scheduler.ts does the firing.
 */
export async function startCloudSchedulerEmulator(
  options: CloudSchedulerEmulatorOptions = {},
): Promise<RunningCloudSchedulerEmulator> {
  const host = options.host ?? '127.0.0.1';
  const definition = loadCloudSchedulerServiceDefinition();
  const scheduler = new InMemoryCloudScheduler(options.now);
  const calls: RecordedCall[] = [];
  const server = new Server();
  server.addService(definition, implementation(definition, scheduler, calls, options.onRunJob));

  const listening = await listenInsecure(server, host, options.port ?? 0);

  return {
    host: listening.host,
    port: listening.port,
    calls,
    mutatingCalls: () => calls.filter((c) => MUTATING_METHODS.has(c.method)),
    scheduler,
    close: listening.close,
  };
}

export { InMemoryCloudScheduler } from './in-memory-scheduler.js';
export type { Job as EmulatedJob } from './in-memory-scheduler.js';

import grpc from '@grpc/grpc-js';
import { CloudSchedulerClient, type protos } from '@google-cloud/scheduler';
import {
  jobPath,
  lastSegment,
  locationPath,
  shortTopicName,
  topicPath,
  type JobSpec,
} from './resource-specs.js';

type Job = protos.google.cloud.scheduler.v1.IJob;
type Duration = protos.google.protobuf.IDuration;

/** Update-mask paths (proto field names) of the job fields infra manages. */
export type JobField = 'description' | 'schedule' | 'time_zone' | 'pubsub_target' | 'retry_config';

/** The narrow slice of Cloud Scheduler administration infra needs; one project and region. */
export interface SchedulerAdmin {
  readonly projectId: string;
  readonly region: string;
  listJobs(): Promise<JobSpec[]>;
  createJob(job: JobSpec): Promise<void>;
  updateJob(job: JobSpec, fields: readonly JobField[]): Promise<void>;
  deleteJob(name: string): Promise<void>;
}

export type SchedulerClientOptions = NonNullable<ConstructorParameters<typeof CloudSchedulerClient>[0]>;

const HOST_PORT = /^(?:\[([^\]]+)\]|([^:\s[\]]+)):(\d{1,5})$/;

/**
 * Options that point the real client at the local Cloud Scheduler emulator over plaintext gRPC without
 * touching Google credentials: `sslCreds` short-circuits google-gax's credential setup, `grpc` pins the
 * grpc-js instance the credentials were made with (grpc-js checks `instanceof`), and `universeDomain`
 * answers google-gax's pre-connect universe check, which would otherwise go looking for ADC.
 */
export function schedulerEmulatorClientOptions(emulatorHost: string): SchedulerClientOptions {
  const match = HOST_PORT.exec(emulatorHost.trim());
  const hostname = match?.[1] ?? match?.[2];
  const port = Number(match?.[3]);
  if (hostname === undefined || !Number.isInteger(port) || port < 1 || port > 65535) {
    throw new Error(`CLOUD_SCHEDULER_EMULATOR_HOST must be host:port, got [${emulatorHost}]`);
  }
  return {
    apiEndpoint: hostname,
    port,
    grpc,
    sslCreds: grpc.credentials.createInsecure(),
    universeDomain: 'googleapis.com',
  };
}

/** The emulator when `emulatorHost` is given (CLOUD_SCHEDULER_EMULATOR_HOST), else ADC against the cloud. */
export function createSchedulerClient(
  opts: { emulatorHost?: string | undefined } = {},
): CloudSchedulerClient {
  return new CloudSchedulerClient(opts.emulatorHost ? schedulerEmulatorClientOptions(opts.emulatorHost) : {});
}

function durationSeconds(d: Duration | null | undefined): number {
  if (!d) return 0;
  return Number(d.seconds?.toString() ?? 0) + (d.nanos ?? 0) / 1e9;
}

function duration(seconds: number): Duration {
  return { seconds: Math.floor(seconds), nanos: Math.round((seconds % 1) * 1e9) };
}

function base64Of(data: Uint8Array | string | null | undefined): string {
  if (!data) return '';
  // Over gRPC bytes arrive as a Buffer; the REST fallback hands back a base64 string.
  return typeof data === 'string' ? data : Buffer.from(data).toString('base64');
}

export function jobSpecFromJob(projectId: string, job: Job): JobSpec {
  const target = job.pubsubTarget;
  const retry = job.retryConfig;
  return {
    name: lastSegment(job.name ?? ''),
    description: job.description ?? '',
    schedule: job.schedule ?? '',
    timeZone: job.timeZone || 'Etc/UTC',
    pubsubTarget: target
      ? {
          topic: shortTopicName(projectId, target.topicName ?? ''),
          dataBase64: base64Of(target.data),
          attributes: { ...(target.attributes ?? {}) },
        }
      : null,
    retry: {
      retryCount: retry?.retryCount ?? 0,
      maxRetryDurationSeconds: durationSeconds(retry?.maxRetryDuration),
      minBackoffSeconds: durationSeconds(retry?.minBackoffDuration),
      maxBackoffSeconds: durationSeconds(retry?.maxBackoffDuration),
      maxDoublings: retry?.maxDoublings ?? 0,
    },
  };
}

export function jobFromSpec(projectId: string, region: string, spec: JobSpec): Job {
  return {
    name: jobPath(projectId, region, spec.name),
    description: spec.description,
    schedule: spec.schedule,
    timeZone: spec.timeZone,
    ...(spec.pubsubTarget
      ? {
          pubsubTarget: {
            topicName: topicPath(projectId, spec.pubsubTarget.topic),
            data: Buffer.from(spec.pubsubTarget.dataBase64, 'base64'),
            attributes: { ...spec.pubsubTarget.attributes },
          },
        }
      : {}),
    retryConfig: {
      retryCount: spec.retry.retryCount,
      maxRetryDuration: duration(spec.retry.maxRetryDurationSeconds),
      minBackoffDuration: duration(spec.retry.minBackoffSeconds),
      maxBackoffDuration: duration(spec.retry.maxBackoffSeconds),
      maxDoublings: spec.retry.maxDoublings,
    },
  };
}

export function createSchedulerAdmin(
  client: CloudSchedulerClient,
  location: { projectId: string; region: string },
): SchedulerAdmin {
  const { projectId, region } = location;
  const parent = locationPath(projectId, region);
  return {
    projectId,
    region,

    async listJobs() {
      const jobs: JobSpec[] = [];
      for await (const job of client.listJobsAsync({ parent }, { autoPaginate: false })) {
        jobs.push(jobSpecFromJob(projectId, job));
      }
      return jobs;
    },

    async createJob(spec) {
      await client.createJob({ parent, job: jobFromSpec(projectId, region, spec) });
    },

    async updateJob(spec, fields) {
      if (fields.length === 0) return;
      await client.updateJob({
        job: jobFromSpec(projectId, region, spec),
        updateMask: { paths: [...fields] },
      });
    },

    async deleteJob(name) {
      await client.deleteJob({ name: jobPath(projectId, region, name) });
    },
  };
}

/**
 * The shape of every resource infra manages, used both for what we want (desired-state.ts) and for what
 * the admin ports read back from the cloud, so the diff compares like with like. Names are short ids
 * (`ws-sync-tick`); a topic outside the project keeps its full `projects/P/topics/T` path.
 */

export type Labels = Readonly<Record<string, string>>;

export interface TopicSpec {
  name: string;
  labels: Labels;
}

export interface PushSpec {
  endpoint: string;
  /** Service account Pub/Sub signs an OIDC token as; null for unauthenticated pushes. */
  oidcServiceAccount: string | null;
  audience: string | null;
}

export interface SubscriptionSpec {
  name: string;
  topic: string;
  /** null for a pull subscription. */
  push: PushSpec | null;
  ackDeadlineSeconds: number;
  /** null means Pub/Sub redelivers immediately instead of backing off. */
  retry: { minimumBackoffSeconds: number; maximumBackoffSeconds: number } | null;
  deadLetter: { topic: string; maxDeliveryAttempts: number } | null;
  messageRetentionSeconds: number;
  /** Inactivity after which Pub/Sub deletes the subscription; null = never (Pub/Sub's own default is 31 days). */
  expirationTtlSeconds: number | null;
  labels: Labels;
}

export interface JobRetrySpec {
  retryCount: number;
  /** 0 = no time limit. */
  maxRetryDurationSeconds: number;
  minBackoffSeconds: number;
  maxBackoffSeconds: number;
  maxDoublings: number;
}

export interface JobSpec {
  name: string;
  description: string;
  schedule: string;
  timeZone: string;
  /** null when the job targets something other than Pub/Sub (HTTP, App Engine). */
  pubsubTarget: { topic: string; dataBase64: string; attributes: Labels } | null;
  retry: JobRetrySpec;
}

export type ResourceKind = 'topic' | 'subscription' | 'job';

export type ResourceSpec =
  | { kind: 'topic'; spec: TopicSpec }
  | { kind: 'subscription'; spec: SubscriptionSpec }
  | { kind: 'job'; spec: JobSpec };

export function topicPath(projectId: string, topic: string): string {
  return topic.startsWith('projects/') ? topic : `projects/${projectId}/topics/${topic}`;
}

export function subscriptionPath(projectId: string, subscription: string): string {
  return `projects/${projectId}/subscriptions/${subscription}`;
}

export function locationPath(projectId: string, region: string): string {
  return `projects/${projectId}/locations/${region}`;
}

export function jobPath(projectId: string, region: string, job: string): string {
  return `${locationPath(projectId, region)}/jobs/${job}`;
}

/** `projects/P/topics/T` -> `T` when P is our project; anything else stays a full path. */
export function shortTopicName(projectId: string, path: string): string {
  const prefix = `projects/${projectId}/topics/`;
  return path.startsWith(prefix) ? path.slice(prefix.length) : path;
}

export function lastSegment(path: string): string {
  return path.slice(path.lastIndexOf('/') + 1);
}

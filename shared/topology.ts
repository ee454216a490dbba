/**
 * Pub/Sub topics, push subscriptions and Cloud Scheduler jobs: one definition that `infra/` provisions in the
 * cloud and the local stack (emulator setup + local scheduler) uses, so the two cannot drift.
 */
export const TOPICS = {
  tick: 'ws-sync-tick',
  sync: 'ws-sync-entity',
  deadLetter: 'ws-sync-dead-letter',
  /** Outbound notifications (webhooks, email) to deliver: `{tenantId, eventId}` naming an outbox document. */
  notifications: 'ws-sync-notifications',
} as const;

export type FunctionTarget = 'tick' | 'syncEntity' | 'deadLetter' | 'deliverNotifications';

export interface SubscriptionDefinition {
  name: string;
  topic: string;
  /** The function a push subscription delivers to; null for a pull subscription that just holds messages. */
  pushTo: FunctionTarget | null;
  ackDeadlineSeconds: number;
  retry: { minimumBackoffSeconds: number; maximumBackoffSeconds: number };
  deadLetter: { topic: string; maxDeliveryAttempts: number } | null;
  messageRetentionSeconds: number;
}

export const SUBSCRIPTIONS: readonly SubscriptionDefinition[] = [
  {
    name: 'ws-sync-tick-push',
    topic: TOPICS.tick,
    pushTo: 'tick',
    ackDeadlineSeconds: 60,
    retry: { minimumBackoffSeconds: 10, maximumBackoffSeconds: 300 },
    deadLetter: { topic: TOPICS.deadLetter, maxDeliveryAttempts: 5 },
    messageRetentionSeconds: 24 * 3600,
  },
  {
    name: 'ws-sync-entity-push',
    topic: TOPICS.sync,
    pushTo: 'syncEntity',
    // For push, the ack deadline is also the request timeout: a sync invocation checkpoints well before it.
    ackDeadlineSeconds: 600,
    retry: { minimumBackoffSeconds: 10, maximumBackoffSeconds: 600 },
    deadLetter: { topic: TOPICS.deadLetter, maxDeliveryAttempts: 10 },
    messageRetentionSeconds: 3 * 24 * 3600,
  },
  {
    // The consumer records every letter in Firestore (deadLetters/{messageId}) and ends a run a dead-lettered
    // sync request left running; a pull subscription that only held the messages is no longer needed.
    name: 'ws-sync-dead-letter-push',
    topic: TOPICS.deadLetter,
    pushTo: 'deadLetter',
    ackDeadlineSeconds: 60,
    retry: { minimumBackoffSeconds: 10, maximumBackoffSeconds: 600 },
    // No dead letter of its own: it would forward into the topic it reads. A letter the consumer cannot record
    // (Firestore down) is pushed again until the retention below runs out.
    deadLetter: null,
    messageRetentionSeconds: 7 * 24 * 3600,
  },
  {
    // The function retries a failing webhook or SMTP server itself (bounded, with backoff, each attempt in the
    // delivery log) and acks when it delivered or gave up; a redelivery resumes from the attempts recorded.
    name: 'ws-sync-notifications-push',
    topic: TOPICS.notifications,
    pushTo: 'deliverNotifications',
    // The in-process retries of one delivery (NOTIFY_* settings) stay well inside this.
    ackDeadlineSeconds: 600,
    retry: { minimumBackoffSeconds: 10, maximumBackoffSeconds: 600 },
    deadLetter: { topic: TOPICS.deadLetter, maxDeliveryAttempts: 5 },
    messageRetentionSeconds: 3 * 24 * 3600,
  },
];

export interface SchedulerJobDefinition {
  name: string;
  description: string;
  /** unix-cron */
  schedule: string;
  timeZone: string;
  topic: string;
  /** JSON payload published on the tick topic. */
  payload: { kind: 'tick'; job: string };
}

export const SCHEDULER_JOBS: readonly SchedulerJobDefinition[] = [
  {
    name: 'ws-sync-tick',
    description: 'Ticks the fan-out, which syncs the tenants whose own schedule is due',
    // Each tenant has its own schedule in its own time zone (functions/src/engine/tenant-schedule.ts): the tick
    // only has to come often enough that a due time waits at most a quarter of an hour.
    schedule: '*/15 * * * *',
    timeZone: 'Etc/UTC',
    topic: TOPICS.tick,
    payload: { kind: 'tick', job: 'ws-sync-tick' },
  },
];

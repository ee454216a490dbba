/**
 * Pub/Sub topics, push subscriptions and Cloud Scheduler jobs: one definition that `infra/` provisions in the
 * cloud and the local stack (emulator setup + local scheduler) uses, so the two cannot drift.
 */
export const TOPICS = {
  tick: 'ws-sync-tick',
  sync: 'ws-sync-entity',
  deadLetter: 'ws-sync-dead-letter',
} as const;

export type FunctionTarget = 'tick' | 'syncEntity';

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
    name: 'ws-sync-dead-letter-hold',
    topic: TOPICS.deadLetter,
    pushTo: null,
    ackDeadlineSeconds: 60,
    retry: { minimumBackoffSeconds: 10, maximumBackoffSeconds: 600 },
    deadLetter: null,
    messageRetentionSeconds: 7 * 24 * 3600,
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
    description: 'Fans out a sync of every mapped entity of every active tenant',
    // Five passes a day: early morning before school/office hours, then through the working day.
    schedule: '0 5,9,12,15,19 * * *',
    timeZone: 'Etc/UTC',
    topic: TOPICS.tick,
    payload: { kind: 'tick', job: 'ws-sync-tick' },
  },
];

import type { protos, PubSub, SubscriptionMetadata, TopicMetadata } from '@google-cloud/pubsub';
import {
  lastSegment,
  shortTopicName,
  subscriptionPath,
  topicPath,
  type Labels,
  type SubscriptionSpec,
  type TopicSpec,
} from './resource-specs.js';

/** Pub/Sub's default when a subscription sets no retention. */
const DEFAULT_RETENTION_SECONDS = 7 * 24 * 3600;

/** Update-mask paths (proto field names) of the fields infra manages. */
export type TopicField = 'labels';
export type SubscriptionField =
  | 'labels'
  | 'push_config'
  | 'ack_deadline_seconds'
  | 'retry_policy'
  | 'dead_letter_policy'
  | 'message_retention_duration'
  | 'expiration_policy';

const EMULATOR_CANNOT_UPDATE: ReadonlySet<SubscriptionField> = new Set(['labels', 'expiration_policy']);

/** The narrow slice of Pub/Sub administration infra needs; one project. */
export interface PubSubAdmin {
  readonly projectId: string;
  /** Update-mask paths this endpoint rejects: the Pub/Sub emulator cannot update labels or expiration. */
  readonly cannotUpdate: ReadonlySet<SubscriptionField>;
  listTopics(): Promise<TopicSpec[]>;
  listSubscriptions(): Promise<SubscriptionSpec[]>;
  createTopic(topic: TopicSpec): Promise<void>;
  updateTopic(topic: TopicSpec, fields: readonly TopicField[]): Promise<void>;
  deleteTopic(name: string): Promise<void>;
  createSubscription(subscription: SubscriptionSpec): Promise<void>;
  updateSubscription(subscription: SubscriptionSpec, fields: readonly SubscriptionField[]): Promise<void>;
  deleteSubscription(name: string): Promise<void>;
}

interface DurationLike {
  seconds?: number | string | { toString(): string } | null;
  nanos?: number | null;
}

function durationSeconds(d: DurationLike | null | undefined): number | null {
  if (!d) return null;
  return Number(d.seconds?.toString() ?? 0) + (d.nanos ?? 0) / 1e9;
}

function labelsOf(raw: Record<string, string> | null | undefined): Labels {
  return { ...(raw ?? {}) };
}

type Subscription = protos.google.pubsub.v1.ISubscription;

export function subscriptionSpecFromMetadata(projectId: string, m: Subscription): SubscriptionSpec {
  const endpoint = m.pushConfig?.pushEndpoint || null;
  const minimum = durationSeconds(m.retryPolicy?.minimumBackoff);
  const maximum = durationSeconds(m.retryPolicy?.maximumBackoff);
  const deadLetterTopic = m.deadLetterPolicy?.deadLetterTopic || null;
  const retention = durationSeconds(m.messageRetentionDuration);
  return {
    name: lastSegment(m.name ?? ''),
    topic: shortTopicName(projectId, m.topic ?? ''),
    push:
      endpoint === null
        ? null
        : {
            endpoint,
            oidcServiceAccount: m.pushConfig?.oidcToken?.serviceAccountEmail || null,
            audience: m.pushConfig?.oidcToken?.audience || null,
          },
    ackDeadlineSeconds: m.ackDeadlineSeconds ?? 10,
    // An unset policy comes back as null; a set one always has both bounds (defaults 10 s and 600 s).
    retry: m.retryPolicy
      ? { minimumBackoffSeconds: minimum ?? 10, maximumBackoffSeconds: maximum ?? 600 }
      : null,
    deadLetter:
      deadLetterTopic === null
        ? null
        : {
            topic: shortTopicName(projectId, deadLetterTopic),
            maxDeliveryAttempts: m.deadLetterPolicy?.maxDeliveryAttempts || 5,
          },
    messageRetentionSeconds: retention ?? DEFAULT_RETENTION_SECONDS,
    // A policy without a ttl means "never expire"; the emulator answers with no policy at all.
    expirationTtlSeconds: durationSeconds(m.expirationPolicy?.ttl),
    labels: labelsOf(m.labels),
  };
}

function seconds(value: number) {
  return { seconds: Math.floor(value), nanos: Math.round((value % 1) * 1e9) };
}

/** Every managed field of a subscription, as the client's metadata object. */
export function subscriptionMetadata(
  projectId: string,
  s: SubscriptionSpec,
): Required<
  Pick<
    SubscriptionMetadata,
    | 'pushConfig'
    | 'ackDeadlineSeconds'
    | 'retryPolicy'
    | 'deadLetterPolicy'
    | 'messageRetentionDuration'
    | 'expirationPolicy'
    | 'labels'
  >
> {
  return {
    // An empty push config turns a push subscription back into a pull one.
    pushConfig:
      s.push === null
        ? {}
        : {
            pushEndpoint: s.push.endpoint,
            ...(s.push.oidcServiceAccount === null
              ? {}
              : {
                  oidcToken: {
                    serviceAccountEmail: s.push.oidcServiceAccount,
                    audience: s.push.audience ?? s.push.endpoint,
                  },
                }),
          },
    ackDeadlineSeconds: s.ackDeadlineSeconds,
    retryPolicy:
      s.retry === null
        ? null
        : {
            minimumBackoff: seconds(s.retry.minimumBackoffSeconds),
            maximumBackoff: seconds(s.retry.maximumBackoffSeconds),
          },
    deadLetterPolicy:
      s.deadLetter === null
        ? null
        : {
            deadLetterTopic: topicPath(projectId, s.deadLetter.topic),
            maxDeliveryAttempts: s.deadLetter.maxDeliveryAttempts,
          },
    messageRetentionDuration: seconds(s.messageRetentionSeconds),
    // An empty policy (set, without ttl) is how the API spells "never expire".
    expirationPolicy: s.expirationTtlSeconds === null ? {} : { ttl: seconds(s.expirationTtlSeconds) },
    labels: { ...s.labels },
  };
}

const SUBSCRIPTION_FIELD_KEYS: Record<SubscriptionField, keyof ReturnType<typeof subscriptionMetadata>> = {
  labels: 'labels',
  push_config: 'pushConfig',
  ack_deadline_seconds: 'ackDeadlineSeconds',
  retry_policy: 'retryPolicy',
  dead_letter_policy: 'deadLetterPolicy',
  message_retention_duration: 'messageRetentionDuration',
  expiration_policy: 'expirationPolicy',
};

function assertProjectId(pubsub: PubSub): string {
  const projectId = pubsub.projectId;
  // Without an explicit project the client holds a `{{projectId}}` placeholder until its first request.
  if (!projectId || projectId.includes('{{')) {
    throw new Error('the PubSub client needs an explicit projectId for infra');
  }
  return projectId;
}

export function createPubSubAdmin(pubsub: PubSub): PubSubAdmin {
  const projectId = assertProjectId(pubsub);
  return {
    projectId,
    cannotUpdate: pubsub.isEmulator ? EMULATOR_CANNOT_UPDATE : new Set(),

    async listTopics() {
      const [topics] = await pubsub.getTopics();
      return topics.map((t) => {
        const metadata: TopicMetadata = t.metadata ?? {};
        return { name: lastSegment(t.name), labels: labelsOf(metadata.labels) };
      });
    },

    async listSubscriptions() {
      const [subscriptions] = await pubsub.getSubscriptions();
      return subscriptions.map((s) =>
        subscriptionSpecFromMetadata(projectId, { ...(s.metadata ?? {}), name: s.metadata?.name ?? s.name }),
      );
    },

    async createTopic(topic) {
      await pubsub.createTopic({ name: topicPath(projectId, topic.name), labels: { ...topic.labels } });
    },

    async updateTopic(topic, fields) {
      if (fields.length === 0) return;
      await pubsub.topic(topic.name).setMetadata({ labels: { ...topic.labels } });
    },

    async deleteTopic(name) {
      await pubsub.topic(name).delete();
    },

    async createSubscription(s) {
      await pubsub.createSubscription(
        topicPath(projectId, s.topic),
        s.name,
        subscriptionMetadata(projectId, s),
      );
    },

    async updateSubscription(s, fields) {
      if (fields.length === 0) return;
      const all = subscriptionMetadata(projectId, s);
      // The client derives the update mask from the keys it is given, so pass exactly the changed ones.
      const changed: SubscriptionMetadata = {};
      for (const field of fields) {
        const key = SUBSCRIPTION_FIELD_KEYS[field];
        Object.assign(changed, { [key]: all[key] });
      }
      await pubsub.subscription(subscriptionPath(projectId, s.name)).setMetadata(changed);
    },

    async deleteSubscription(name) {
      await pubsub.subscription(subscriptionPath(projectId, name)).delete();
    },
  };
}

import type { PubSub, Topic } from '@google-cloud/pubsub';
import { z } from 'zod';
import { TOPICS } from '../../../shared/topology.js';
import { TENANT_ID_PATTERN } from '../store/tenants.js';
import { EVENT_ID_PATTERN } from './events.js';

/** `{tenantId, eventId}` on the notifications topic: deliver that outbox event. */
export const notificationMessageSchema = z.strictObject({
  tenantId: z.string().regex(TENANT_ID_PATTERN),
  eventId: z.string().regex(EVENT_ID_PATTERN),
});
export type NotificationMessage = z.infer<typeof notificationMessageSchema>;

export type PublishNotification = (msg: NotificationMessage) => Promise<void>;

/** `pubsub` is a function: the client (and its package) is loaded by the first publish, not before. */
export function notificationPublisher(pubsub: () => PubSub): PublishNotification {
  let topic: Topic | null = null;
  return async (msg) => {
    topic ??= pubsub().topic(TOPICS.notifications, { batching: { maxMessages: 100, maxMilliseconds: 10 } });
    await topic.publishMessage({ json: msg, attributes: { tenantId: msg.tenantId } });
  };
}

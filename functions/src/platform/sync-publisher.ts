import type { PubSub, Topic } from '@google-cloud/pubsub';
import { TOPICS } from '../../../shared/topology.js';
import type { SyncMessage } from '../engine/messages.js';

/** Publishes sync requests; the message attributes let a subscription filter or a human read the queue. */
export function syncPublisher(pubsub: () => PubSub): (msg: SyncMessage) => Promise<void> {
  let topic: Topic | null = null;
  return async (msg) => {
    // A function: the client is made (and its package loaded) by the first publish, not by the publisher.
    topic ??= pubsub().topic(TOPICS.sync);
    await topic.publishMessage({
      json: msg,
      attributes: { tenantId: msg.tenantId, mappingId: msg.mappingId, trigger: msg.trigger },
    });
  };
}

export function tickPublisher(
  pubsub: PubSub,
): (payload: { kind: 'tick'; job: string; tenantId?: string }) => Promise<string> {
  return (payload) => pubsub.topic(TOPICS.tick).publishMessage({ json: payload });
}

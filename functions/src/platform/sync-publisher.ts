import type { PubSub, Topic } from '@google-cloud/pubsub';
import { TOPICS } from '../../../shared/topology.js';
import type { ShardMessage, SyncMessage, TickMessage } from '../engine/messages.js';

/**
 * Publisher batching: messages published within a few milliseconds of each other go out in one request, so a
 * fan-out that keeps many publishes in flight (engine/fan-out.ts bounds how many) sends a few hundred messages
 * per request instead of one. A lone publish (a continuation) waits at most maxMilliseconds.
 */
export const PUBLISH_BATCHING = { maxMessages: 500, maxMilliseconds: 20, maxBytes: 1024 * 1024 } as const;

/** `pubsub` is a function: the client is made (and its package loaded) by the first publish, not before. */
function batchedTopic(pubsub: () => PubSub, name: string): () => Topic {
  let topic: Topic | null = null;
  return () => (topic ??= pubsub().topic(name, { batching: PUBLISH_BATCHING }));
}

/** Publishes sync requests; the message attributes let a subscription filter or a human read the queue. */
export function syncPublisher(pubsub: () => PubSub): (msg: SyncMessage) => Promise<void> {
  const topic = batchedTopic(pubsub, TOPICS.sync);
  return async (msg) => {
    await topic().publishMessage({
      json: msg,
      attributes: { tenantId: msg.tenantId, mappingId: msg.mappingId, trigger: msg.trigger },
    });
  };
}

/** Publishes ticks and the shards a tick is cut into (both on the tick topic); resolves to the message id. */
export function tickPublisher(
  pubsub: () => PubSub,
): (payload: TickMessage | ShardMessage) => Promise<string> {
  const topic = batchedTopic(pubsub, TOPICS.tick);
  return (payload) => topic().publishMessage({ json: payload });
}

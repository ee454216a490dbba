import type { CloudEvent } from '@google-cloud/functions-framework';
import { z } from 'zod';
import type { App } from './app.js';
import { fanOutTick } from './engine/fan-out.js';
import { decodeJsonPayload } from './engine/messages.js';
import { runSync, type SyncOutcome } from './engine/engine.js';

const pubsubEventSchema = z.object({
  message: z.object({ data: z.string().optional(), messageId: z.string().optional() }).loose(),
});

function payloadOf(event: CloudEvent<unknown>): { payload: unknown; messageId: string } {
  const parsed = pubsubEventSchema.safeParse(event.data);
  if (!parsed.success) return { payload: undefined, messageId: event.id };
  return {
    payload: decodeJsonPayload(parsed.data.message.data),
    messageId: parsed.data.message.messageId ?? event.id,
  };
}

export async function handleTickEvent(app: App, event: CloudEvent<unknown>): Promise<void> {
  const { payload, messageId } = payloadOf(event);
  const d = app.syncDeps();
  await fanOutTick(
    { db: d.db, log: d.log, sources: d.sources, publishSync: d.publishSync },
    payload,
    messageId,
  );
}

/** Resolving acks the message; throwing (RetryLaterError, transient failures) makes Pub/Sub redeliver it. */
export async function handleSyncEvent(app: App, event: CloudEvent<unknown>): Promise<SyncOutcome> {
  const { payload } = payloadOf(event);
  return runSync(app.syncDeps(), payload);
}

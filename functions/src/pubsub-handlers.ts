import type { CloudEvent } from '@google-cloud/functions-framework';
import { z } from 'zod';
import type { App } from './app.js';
import { entraSyncRequestOf, runEntraPeopleSync, type EntraSyncOutcome } from './sources/entra/entra-sync.js';
import { fanOutTick } from './engine/fan-out.js';
import { decodeJsonPayload } from './engine/messages.js';
import { runSyncMessage, type SyncOutcome } from './engine/sync-runner.js';

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
  await fanOutTick({ db: d.db, log: d.log, publishSync: d.publishSync }, payload, messageId);
}

/**
 * Resolving acks the message; throwing (RetryLaterError, transient failures) makes Pub/Sub redeliver it. A sync
 * message for `entra-people` runs the Entra people sync, any other one the Google sync of that mapping.
 */
export async function handleSyncEvent(
  app: App,
  event: CloudEvent<unknown>,
): Promise<SyncOutcome | EntraSyncOutcome> {
  const { payload } = payloadOf(event);
  const entra = entraSyncRequestOf(payload);
  if (entra) return runEntraPeopleSync(app.entraSyncDeps(), entra);
  return runSyncMessage(app.syncDeps(), payload);
}

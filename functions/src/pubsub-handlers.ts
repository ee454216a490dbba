import type { CloudEvent } from '@google-cloud/functions-framework';
import { z } from 'zod';
import type { App } from './app.js';
import { handleDeadLetter } from './engine/dead-letters.js';
import { fanOutTick } from './engine/fan-out.js';
import { decodeJsonPayload, tickMessageSchema } from './engine/messages.js';
import { runSync, type SyncOutcome } from './engine/engine.js';
import { maintainPushChannelsOnTick } from './push/tick.js';
import { checkCredentialHealthOnTick } from './connection/credential-health.js';
import { republishStalledNotifications } from './notifications/sweep.js';

const pubsubEventSchema = z.object({
  message: z
    .object({
      data: z.string().optional(),
      messageId: z.string().optional(),
      publishTime: z.string().optional(),
      attributes: z.record(z.string(), z.string()).optional(),
    })
    .loose(),
});

function payloadOf(event: CloudEvent<unknown>): {
  payload: unknown;
  messageId: string;
  publishedAt: number | undefined;
} {
  const parsed = pubsubEventSchema.safeParse(event.data);
  if (!parsed.success) return { payload: undefined, messageId: event.id, publishedAt: undefined };
  const published = Date.parse(parsed.data.message.publishTime ?? '');
  return {
    payload: decodeJsonPayload(parsed.data.message.data),
    messageId: parsed.data.message.messageId ?? event.id,
    publishedAt: Number.isFinite(published) ? published : undefined,
  };
}

/** A tick or a shard of one (engine/fan-out.ts); shards are published back on the tick topic. */
export async function handleTickEvent(app: App, event: CloudEvent<unknown>): Promise<void> {
  const { payload, messageId, publishedAt } = payloadOf(event);
  const d = app.syncDeps();
  await fanOutTick(
    {
      db: d.db,
      log: d.log,
      sources: d.sources,
      publishSync: d.publishSync,
      publishShard: app.publishTickTopic,
    },
    payload,
    messageId,
    // The tick's time decides which tenants' schedules are due; a redelivery carries the same publish time.
    publishedAt,
  );
  // The scheduler ticks every 15 minutes for the per-tenant schedules; channel upkeep walks every tenant, so it
  // keeps to the first tick of each hour (PUSH_RENEW_BEFORE_SECONDS is far longer than an hour).
  // A tenant's own tick (sync now, the initial sync) maintains that tenant's channels whenever it comes.
  const forOneTenant = tickMessageSchema.safeParse(payload).data?.tenantId !== undefined;
  if (forOneTenant || publishedAt === undefined || new Date(publishedAt).getUTCMinutes() < 15) {
    await maintainPushChannelsOnTick(app, payload);
    // Credential health walks the tenants due a check: hourly too (a check is due every 4 h).
    await checkCredentialHealthOnTick(app, payload);
  }
  // Only a scheduled tick (not its shards, not a one-tenant tick) sweeps the notification outbox.
  const scheduled = (payload as { kind?: unknown; tenantId?: unknown } | undefined) ?? {};
  if (scheduled.kind === 'tick' && scheduled.tenantId === undefined) {
    await republishStalledNotifications(app.notifyDeps()).catch((err: unknown) =>
      d.log.warn('notification sweep failed', { error: err instanceof Error ? err.message : String(err) }),
    );
  }
}

/** Resolving acks the message; throwing (RetryLaterError, transient failures) makes Pub/Sub redeliver it. */
export async function handleSyncEvent(app: App, event: CloudEvent<unknown>): Promise<SyncOutcome> {
  const { payload } = payloadOf(event);
  return runSync(app.syncDeps(), payload);
}

/**
 * A message Pub/Sub gave up delivering. Always acks (resolves) unless Firestore fails: a letter that cannot be
 * read is recorded as malformed, since throwing would only have the dead-letter subscription push it again.
 */
export async function handleDeadLetterEvent(app: App, event: CloudEvent<unknown>): Promise<void> {
  const parsed = pubsubEventSchema.safeParse(event.data);
  const message = parsed.success ? parsed.data.message : null;
  // functions-framework names the topic in the source: //pubsub.googleapis.com/projects/P/topics/T.
  const topic = /projects\/[^/]+\/topics\/[^/]+/.exec(event.source ?? '')?.[0] ?? null;
  const d = app.syncDeps();
  await handleDeadLetter(
    { db: d.db, clock: d.clock, log: d.log },
    {
      messageId: message?.messageId ?? event.id,
      topic,
      attributes: message?.attributes ?? {},
      data: message?.data,
      publishTime: message?.publishTime ?? null,
    },
  );
}

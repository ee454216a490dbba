import type { Firestore } from '@google-cloud/firestore';
import { z } from 'zod';
import { paths } from '../../../shared/firestore-paths.js';
import { eventTypeSchema } from '../notifications/events.js';

/**
 * `tenants/{t}/notificationOutbox/{eventId}`: an event to deliver, written before anything is published (the
 * transactional-outbox pattern): the exact body the webhook is signed over, and per channel (webhook, email)
 * where its delivery stands. Created once (`create`), so the same event emitted twice is one document; kept
 * 30 days (TTL `expireAt`).
 */
export const CHANNELS = ['webhook', 'email'] as const;
export type Channel = (typeof CHANNELS)[number];

const channelStateSchema = z.strictObject({
  status: z.enum(['pending', 'delivered', 'gave_up']),
  attempts: z.number().int().min(0),
  lastAttemptAt: z.string().nullable(),
  lastError: z.string().nullable(),
  /** Webhook: the URL as it was when the event was emitted. Email: null (recipients are resolved on delivery). */
  target: z.string().nullable(),
});
export type ChannelState = z.infer<typeof channelStateSchema>;

export const outboxEventSchema = z.strictObject({
  eventId: z.string(),
  tenantId: z.string(),
  type: eventTypeSchema,
  createdAt: z.string(),
  /** `pending` while any channel is; the sweep re-publishes pending events whose delivery stalled. */
  status: z.enum(['pending', 'done']),
  body: z.string(),
  channels: z.strictObject({
    webhook: channelStateSchema.optional(),
    email: channelStateSchema.optional(),
  }),
});
export type OutboxEvent = z.infer<typeof outboxEventSchema>;

const KEEP_MS = 30 * 24 * 3600_000;

/** Creates the event; false when it already exists (emitted before: nothing to do). */
export async function createOutboxEvent(db: Firestore, event: OutboxEvent, now: number): Promise<boolean> {
  const doc = outboxEventSchema.parse(event);
  try {
    await db
      .doc(paths.notificationEvent(doc.tenantId, doc.eventId))
      .create({ ...doc, expireAt: new Date(now + KEEP_MS) });
    return true;
  } catch (err) {
    if ((err as { code?: unknown }).code === 6) return false; // ALREADY_EXISTS
    throw err;
  }
}

export async function readOutboxEvent(
  db: Firestore,
  tenantId: string,
  eventId: string,
): Promise<OutboxEvent | null> {
  const snap = await db.doc(paths.notificationEvent(tenantId, eventId)).get();
  if (!snap.exists) return null;
  const { expireAt: _expireAt, ...data } = snap.data()!;
  const parsed = outboxEventSchema.safeParse(data);
  return parsed.success ? parsed.data : null;
}

/** Records one attempt's outcome on the event (the delivery log document is written with it). */
export function outboxChannelUpdate(
  event: OutboxEvent,
  channel: Channel,
  state: ChannelState,
): Record<string, unknown> {
  const channels = { ...event.channels, [channel]: state };
  const pending = Object.values(channels).some((c) => c?.status === 'pending');
  return { [`channels.${channel}`]: state, status: pending ? 'pending' : 'done' };
}

export function outboxEventPath(tenantId: string, eventId: string): string {
  return paths.notificationEvent(tenantId, eventId);
}

/**
 * Events of any tenant still pending since before `olderThan` (their publish was lost or their delivery
 * crashed): a collection-group query, at most `limit` (index in infra/firestore.indexes.json).
 */
export async function listStalledOutboxEvents(
  db: Firestore,
  olderThan: string,
  limit: number,
): Promise<Array<{ tenantId: string; eventId: string }>> {
  const snap = await db
    .collectionGroup('notificationOutbox')
    .where('status', '==', 'pending')
    .where('createdAt', '<', olderThan)
    .orderBy('createdAt')
    .limit(limit)
    .get();
  return snap.docs.map((d) => ({ tenantId: String(d.get('tenantId')), eventId: d.id }));
}

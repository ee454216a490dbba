import type { Firestore } from '@google-cloud/firestore';
import { z } from 'zod';
import { paths } from '../../../shared/firestore-paths.js';
import { eventTypeSchema } from '../notifications/events.js';
import {
  CHANNELS,
  outboxChannelUpdate,
  outboxEventPath,
  type ChannelState,
  type OutboxEvent,
} from './notification-outbox.js';

/**
 * `tenants/{t}/notificationDeliveries/{eventId}-{channel}-{attempt}`: the delivery log, one document per attempt
 * (its id repeats if a crashed delivery redoes the attempt, so a redo overwrites rather than adds). Kept 30 days
 * (TTL `expireAt`). Written in one batch with the outbox event's channel state.
 */
export const deliverySchema = z.strictObject({
  id: z.string(),
  eventId: z.string(),
  type: eventTypeSchema,
  channel: z.enum(CHANNELS),
  attempt: z.number().int().min(1),
  at: z.string(),
  /** `failed`: will be tried again; `gave_up`: the last attempt failed too. */
  outcome: z.enum(['delivered', 'failed', 'gave_up']),
  /** Webhook: the receiver's HTTP status, when it answered. */
  statusCode: z.number().int().nullable(),
  error: z.string().nullable(),
  durationMs: z.number().int().min(0),
  /** Webhook: the URL; email: the recipients. */
  target: z.string(),
});
export type Delivery = z.infer<typeof deliverySchema>;

const KEEP_MS = 30 * 24 * 3600_000;

export async function recordDeliveryAttempt(
  db: Firestore,
  tenantId: string,
  event: OutboxEvent,
  delivery: Delivery,
  state: ChannelState,
  now: number,
): Promise<void> {
  const doc = deliverySchema.parse(delivery);
  const batch = db.batch();
  batch.set(db.collection(paths.notificationDeliveries(tenantId)).doc(doc.id), {
    ...doc,
    expireAt: new Date(now + KEEP_MS),
  });
  batch.update(
    db.doc(outboxEventPath(tenantId, event.eventId)),
    outboxChannelUpdate(event, doc.channel, state),
  );
  await batch.commit();
}

export type DeliveryPage =
  { kind: 'page'; deliveries: Delivery[]; next: string | null } | { kind: 'unknown_cursor' };

/** Newest first; `after` is the id of the last delivery of the previous page. */
export async function listDeliveries(
  db: Firestore,
  tenantId: string,
  opts: { limit: number; after?: string | undefined },
): Promise<DeliveryPage> {
  const col = db.collection(paths.notificationDeliveries(tenantId));
  let query = col
    .orderBy('at', 'desc')
    .orderBy('__name__', 'desc')
    .limit(opts.limit + 1);
  if (opts.after !== undefined) {
    const cursor = await col.doc(opts.after).get();
    if (!cursor.exists) return { kind: 'unknown_cursor' };
    query = query.startAfter(cursor);
  }
  const snap = await query.get();
  const docs = snap.docs.slice(0, opts.limit);
  const deliveries = docs.flatMap((d) => {
    const { expireAt: _expireAt, ...data } = d.data();
    const parsed = deliverySchema.safeParse(data);
    return parsed.success ? [parsed.data] : [];
  });
  return { kind: 'page', deliveries, next: snap.docs.length > opts.limit ? docs[docs.length - 1]!.id : null };
}

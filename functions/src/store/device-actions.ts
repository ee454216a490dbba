import type { Firestore } from '@google-cloud/firestore';
import { z } from 'zod';
import { paths } from '../../../shared/firestore-paths.js';

/**
 * `tenants/{t}/deviceActions/{actionId}`: the audit trail of device actions, one document per request (who,
 * when, which devices, what was asked, Google's answer per device, the syncs it started). Written once, never
 * changed; the API answers with the document as stored.
 *
 * `tenants/{t}/deviceActionKeys/{keyHash}`: what an Idempotency-Key has been used for: the hash of the request
 * it came with and, once done, the first answer, so a retry gets that answer without Google being called again.
 */

const deviceResultSchema = z.union([
  z.strictObject({ deviceId: z.string(), ok: z.literal(true) }),
  z.strictObject({
    deviceId: z.string(),
    ok: z.literal(false),
    error: z.strictObject({ kind: z.string(), message: z.string() }),
  }),
]);
export type DeviceActionResult = z.infer<typeof deviceResultSchema>;

export const deviceActionDocSchema = z.strictObject({
  id: z.string(),
  tenantId: z.string(),
  entity: z.enum(['chromeos', 'mobile']),
  action: z.string(),
  deviceIds: z.array(z.string()),
  deprovisionReason: z.string().optional(),
  orgUnitId: z.string().optional(),
  /** writeBack: the fields asked for, by Google field name (null clears). */
  fields: z.record(z.string(), z.string().nullable()).optional(),
  /** writeBack: Google's answer (the device's writable fields as Google stored them). */
  googleAnswer: z.record(z.string(), z.unknown()).optional(),
  requestedBy: z.string(),
  requestedAt: z.string(),
  idempotencyKey: z.string().optional(),
  results: z.array(deviceResultSchema),
  succeeded: z.number().int(),
  failed: z.number().int(),
  refresh: z.strictObject({
    runs: z.array(z.strictObject({ mappingId: z.string(), runId: z.string(), deduplicated: z.boolean() })),
  }),
});
export type DeviceActionDoc = z.infer<typeof deviceActionDocSchema>;

/** An Idempotency-Key is remembered this long; a retry after that is a new request. */
const KEY_TTL_MS = 24 * 3600_000;
/**
 * A key whose request never finished (the instance died while Google was being called) is free again after
 * this long; until then a retry is told the first request is still in progress rather than repeating it.
 */
const PENDING_CLAIM_MS = 5 * 60_000;

export type KeyClaim =
  | { kind: 'claimed' }
  | { kind: 'replay'; answer: DeviceActionDoc }
  | { kind: 'different_request' }
  | { kind: 'in_progress' };

/** Claims an Idempotency-Key for a request (by the hash of its body), or says what the key was used for. */
export async function claimIdempotencyKey(
  db: Firestore,
  tenantId: string,
  keyHash: string,
  requestHash: string,
  now: number,
): Promise<KeyClaim> {
  const ref = db.doc(paths.deviceActionKey(tenantId, keyHash));
  return db.runTransaction(async (tx): Promise<KeyClaim> => {
    const snap = await tx.get(ref);
    const expireAt = snap.get('expireAt') as { toMillis(): number } | undefined;
    if (snap.exists && (!expireAt || expireAt.toMillis() > now)) {
      if (snap.get('requestHash') !== requestHash) return { kind: 'different_request' };
      const answer = deviceActionDocSchema.safeParse(snap.get('answer'));
      if (answer.success) return { kind: 'replay', answer: answer.data };
      if (Number(snap.get('claimedAt') ?? 0) > now - PENDING_CLAIM_MS) return { kind: 'in_progress' };
    }
    tx.set(ref, { requestHash, claimedAt: now, answer: null, expireAt: new Date(now + KEY_TTL_MS) });
    return { kind: 'claimed' };
  });
}

/** The request failed before anything was recorded: the key may be used again at once. */
export async function releaseIdempotencyKey(db: Firestore, tenantId: string, keyHash: string): Promise<void> {
  await db.doc(paths.deviceActionKey(tenantId, keyHash)).delete();
}

/** Writes the audit document and, with a key, the key's answer, in one batch: neither exists without the other. */
export async function createDeviceAction(
  db: Firestore,
  action: DeviceActionDoc,
  key?: { keyHash: string },
): Promise<void> {
  const doc = deviceActionDocSchema.parse(action);
  const batch = db.batch();
  batch.create(db.doc(paths.deviceAction(doc.tenantId, doc.id)), doc);
  if (key) batch.update(db.doc(paths.deviceActionKey(doc.tenantId, key.keyHash)), { answer: doc });
  await batch.commit();
}

export async function readDeviceAction(
  db: Firestore,
  tenantId: string,
  actionId: string,
): Promise<DeviceActionDoc | null> {
  const snap = await db.doc(paths.deviceAction(tenantId, actionId)).get();
  if (!snap.exists) return null;
  const parsed = deviceActionDocSchema.safeParse(snap.data());
  return parsed.success ? parsed.data : null;
}

export type DeviceActionPage =
  { kind: 'page'; actions: DeviceActionDoc[]; next: string | null } | { kind: 'unknown_cursor' };

/** Newest first (ties by id, descending); `after` is the id of the last action of the previous page. */
export async function listDeviceActions(
  db: Firestore,
  tenantId: string,
  opts: { limit: number; after?: string },
): Promise<DeviceActionPage> {
  let query = db
    .collection(paths.deviceActions(tenantId))
    .orderBy('requestedAt', 'desc')
    .orderBy('__name__', 'desc')
    .limit(opts.limit + 1);
  if (opts.after !== undefined) {
    const cursor = await db.doc(paths.deviceAction(tenantId, opts.after)).get();
    if (!cursor.exists) return { kind: 'unknown_cursor' };
    query = query.startAfter(cursor);
  }
  const snap = await query.get();
  const docs = snap.docs.slice(0, opts.limit);
  const actions = docs.flatMap((d) => {
    const parsed = deviceActionDocSchema.safeParse(d.data());
    return parsed.success ? [parsed.data] : [];
  });
  return {
    kind: 'page',
    actions,
    next: snap.docs.length > opts.limit ? docs[docs.length - 1]!.id : null,
  };
}

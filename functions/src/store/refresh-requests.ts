import type { DocumentData, Firestore } from '@google-cloud/firestore';
import { paths } from '../../../shared/firestore-paths.js';

/**
 * The refresh webhook's Firestore state, written with `create()` only: no transaction, no document that many
 * callers rewrite. (It used to be one `rateLimits/sync` document per tenant, read and rewritten in a transaction
 * by every call, together with the mappings' sync states: a burst of calls queued on it until they timed out,
 * and the transaction's read of a sync state aborted that mapping's lease transaction.)
 *
 *   tenants/{t}/refreshSlots/{window}:{n}      slot n of a rate-limit window; a call that creates one may sync.
 *                                               A taken slot fails the create at once (ALREADY_EXISTS): the
 *                                               caller moves to the next slot instead of waiting on a lock.
 *   tenants/{t}/refreshes/{mapping}:{window}:{seq}
 *                                               the run a call planned for a mapping. Every caller in the same
 *                                               window derives the same id, so concurrent callers converge on
 *                                               one run id: the first create wins, the others read the winner's.
 *                                               seq moves on once that run has finished (or was abandoned).
 *
 * Both carry `expireAt` for the Firestore TTL policy (infra/firestore.indexes.json); nothing reads a document of
 * a past window, so the TTL only keeps the collections small.
 */

/** gRPC ALREADY_EXISTS: `create()` of a document that exists. */
const ALREADY_EXISTS = 6;
const isAlreadyExists = (err: unknown) => (err as { code?: unknown } | null)?.code === ALREADY_EXISTS;

/** Kept a day past their window: long enough to look at after an incident, short enough to stay small. */
const KEEP_MS = 24 * 3600_000;

export interface RefreshWindow {
  /** floor(now / windowMs): the id part shared by every caller in the window. */
  index: number;
  endsAt: number;
}

const slotRef = (db: Firestore, tenantId: string, window: number, n: number) =>
  db.doc(`${paths.refreshSlots(tenantId)}/${window}:${n}`);

const pendingRef = (db: Firestore, tenantId: string, mappingId: string, window: number, seq: number) =>
  db.doc(`${paths.refreshes(tenantId)}/${mappingId}:${window}:${seq}`);

/** True when this call took slot n of the window; false when another call had it. */
export async function claimRefreshSlot(
  db: Firestore,
  tenantId: string,
  window: RefreshWindow,
  n: number,
  now: number,
): Promise<boolean> {
  try {
    await slotRef(db, tenantId, window.index, n).create({
      at: new Date(now).toISOString(),
      expireAt: new Date(window.endsAt + KEEP_MS),
    });
    return true;
  } catch (err) {
    if (isAlreadyExists(err)) return false;
    throw err;
  }
}

export interface PendingRefresh {
  runId: string;
  /** Publishing its message failed: the run will never start, so it covers nobody. */
  abandoned: boolean;
}

function pendingOf(data: DocumentData | undefined): PendingRefresh | null {
  if (!data || typeof data.runId !== 'string') return null;
  return { runId: data.runId, abandoned: data.abandoned === true };
}

export async function readPendingRefresh(
  db: Firestore,
  tenantId: string,
  mappingId: string,
  window: RefreshWindow,
  seq: number,
): Promise<PendingRefresh | null> {
  return pendingOf((await pendingRef(db, tenantId, mappingId, window.index, seq).get()).data());
}

/**
 * Plans `runId` at (mapping, window, seq) unless another caller got there first: `created` says whether this
 * caller's run id is the one planned (and so whether it must publish the message).
 */
export async function planPendingRefresh(
  db: Firestore,
  tenantId: string,
  mappingId: string,
  window: RefreshWindow,
  seq: number,
  runId: string,
  now: number,
): Promise<{ created: true } | { created: false; existing: PendingRefresh | null }> {
  const ref = pendingRef(db, tenantId, mappingId, window.index, seq);
  try {
    await ref.create({
      mappingId,
      runId,
      abandoned: false,
      at: new Date(now).toISOString(),
      expireAt: new Date(window.endsAt + KEEP_MS),
    });
    return { created: true };
  } catch (err) {
    if (!isAlreadyExists(err)) throw err;
    return { created: false, existing: pendingOf((await ref.get()).data()) };
  }
}

/** Publishing failed: later callers must not join a run that will never start. One writer: its creator. */
export async function abandonPendingRefresh(
  db: Firestore,
  tenantId: string,
  mappingId: string,
  window: RefreshWindow,
  seq: number,
): Promise<void> {
  await pendingRef(db, tenantId, mappingId, window.index, seq).update({ abandoned: true });
}

/** A run's status, or null while no run document exists (its message is not picked up yet). Plain read. */
export async function runStatus(db: Firestore, tenantId: string, runId: string): Promise<string | null> {
  const status: unknown = (await db.doc(paths.run(tenantId, runId)).get()).get('status');
  return typeof status === 'string' ? status : null;
}

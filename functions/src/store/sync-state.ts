import { createHash, randomUUID } from 'node:crypto';
import { FieldValue, type DocumentReference, type Firestore, type Timestamp } from '@google-cloud/firestore';
import { z } from 'zod';
import { paths } from '../../../shared/firestore-paths.js';
import { leaseVerdict, type DeliveryView, type LeaseVerdict, type PassKind } from '../engine/decisions.js';
import { zeroCounts, type SyncCounts } from '../engine/sync-counts.js';
import { initialRunDoc, runRef, type RunIdentity } from './runs.js';

/**
 * `tenants/{t}/syncState/{mappingId}`: the lease and checkpoint of one mapping's sync. At most one invocation
 * works a mapping at a time; every write after the lease was taken is guarded by the document's update time,
 * so an invocation that lost its lease fails instead of overwriting newer progress.
 *
 * `.../requests/{key}`: one small document per request that started a run (expiring after a week, longer
 * than Pub/Sub keeps a message), so a late redelivery starts nothing even after later runs.
 */

const countsSchema = z.object({
  seen: z.number(),
  created: z.number(),
  updated: z.number(),
  unchanged: z.number(),
  removed: z.number(),
  failed: z.number(),
  skipped: z.number(),
  outOfScope: z.number(),
});

export const syncStateSchema = z.object({
  mappingId: z.string(),
  status: z.enum(['idle', 'running']).default('idle'),
  runId: z.string().nullable().default(null),
  requestId: z.string().nullable().default(null),
  leaseId: z.string().nullable().default(null),
  leaseExpiresAt: z.number().default(0),
  pass: z.enum(['full', 'incremental']).default('full'),
  /** Where the current pass goes on (a page token, a Graph nextLink); null = its first page. */
  cursor: z.string().nullable().default(null),
  pageNo: z.number().default(0),
  counts: countsSchema.default(zeroCounts),
  stalledDeliveries: z.number().default(0),
  /** When the latest run started (ms): a push request notified before it is covered (decisions.leaseVerdict). */
  runStartedAt: z.number().default(0),
  /** Where the next incremental pass starts (kept between runs); null = the next pass is full. */
  resumeCursor: z.string().nullable().default(null),
  lastRequestId: z.string().nullable().default(null),
  lastCompletedRunId: z.string().nullable().default(null),
  lastCompletedAt: z.string().nullable().default(null),
  lastFullPassAt: z.string().nullable().default(null),
  updatedAt: z.string().default(''),
});
export type SyncState = z.infer<typeof syncStateSchema>;

/** What a run's end (finished or failed) writes: idle, and free for the next request at once. */
const ENDED = { status: 'idle', leaseId: null, leaseExpiresAt: 0, cursor: null } as const;

const REQUEST_TTL_MS = 8 * 24 * 3600 * 1000;

export function stateRef(db: Firestore, tenantId: string, mappingId: string): DocumentReference {
  return db.doc(paths.syncState(tenantId, mappingId));
}

function requestRef(db: Firestore, tenantId: string, mappingId: string, requestId: string) {
  const key = createHash('sha256').update(requestId).digest('hex').slice(0, 32);
  return db.doc(`${paths.syncRequests(tenantId, mappingId)}/${key}`);
}

export async function readSyncState(
  db: Firestore,
  tenantId: string,
  mappingId: string,
): Promise<SyncState | null> {
  const snap = await stateRef(db, tenantId, mappingId).get();
  return snap.exists ? syncStateSchema.parse({ mappingId, ...snap.data() }) : null;
}

/** The lease an invocation holds: its identity and the update time that guards its writes. */
export interface HeldLease extends RunIdentity {
  state: SyncState;
  updateTime: Timestamp;
  resumed: boolean;
}

export type AcquireResult =
  { kind: 'acquired'; lease: HeldLease } | Exclude<LeaseVerdict, { kind: 'start' } | { kind: 'resume' }>;

export interface AcquireInput {
  tenantId: string;
  mappingId: string;
  delivery: DeliveryView;
  now: number;
  leaseMs: number;
  maxStalledDeliveries: number;
  /** Decides the pass of a new run from the state (incremental when a resume cursor is kept). */
  passFor(state: SyncState): PassKind;
  /** The new run's id (the refresh webhook plans it to answer with it). */
  newRunId: string;
  /** The run document of a new run, minus what this module fills in. */
  runFields: Omit<Parameters<typeof initialRunDoc>[0], 'runId' | 'requestId' | 'pass'>;
}

/** Judges a delivery (engine/decisions.leaseVerdict) and, when it starts or resumes a run, takes the lease. */
export async function acquireLease(db: Firestore, input: AcquireInput): Promise<AcquireResult> {
  const { tenantId, mappingId, delivery, now } = input;
  const ref = stateRef(db, tenantId, mappingId);
  const reqRef = requestRef(db, tenantId, mappingId, delivery.requestId);
  const nowIso = new Date(now).toISOString();
  const newRunRef = runRef(db, tenantId, input.newRunId);
  const outcome = await db.runTransaction(async (tx) => {
    const [snap, reqSnap, newRunSnap] = await tx.getAll(ref, reqRef, newRunRef);
    const state = syncStateSchema.parse({ mappingId, ...(snap?.data() ?? {}) });
    const handled = reqSnap!.exists || delivery.requestId === state.lastRequestId;
    // A request that started or took over a run is a delivery of that run (its redelivery resumes it).
    const attachedRun: unknown = reqSnap!.get('runId');
    const view: DeliveryView =
      delivery.runId === undefined && typeof attachedRun === 'string'
        ? { ...delivery, runId: attachedRun }
        : delivery;
    const verdict = leaseVerdict(state, view, handled, now, input.maxStalledDeliveries);
    const lease = { leaseId: randomUUID(), leaseExpiresAt: now + input.leaseMs, updatedAt: nowIso };
    if (verdict.kind === 'resume') {
      tx.update(ref, { ...lease, stalledDeliveries: FieldValue.increment(1) });
      tx.update(runRef(db, tenantId, verdict.runId), { invocations: FieldValue.increment(1) });
      if (view.runId === undefined && delivery.requestId !== state.requestId) {
        // Another request took the run over: remember it, so its own redelivery is a delivery of this run.
        tx.create(reqRef, requestDoc(delivery.requestId, verdict.runId, now));
      }
      return { kind: 'ok' as const, resumed: true };
    }
    if (verdict.kind !== 'start') return verdict;
    if (newRunSnap!.exists) {
      // A planned run id that names an existing run (a second request planned the same id): that run is
      // never overwritten, and failing the transaction would only have Pub/Sub redeliver it forever.
      return {
        kind: 'drop' as const,
        reason: `run ${input.newRunId} already exists; request ${delivery.requestId} planned the id of another request's run`,
      };
    }
    const pass = input.passFor(state);
    const runId = input.newRunId;
    const next: SyncState = {
      ...state,
      status: 'running',
      runId,
      requestId: delivery.requestId,
      ...lease,
      pass,
      cursor: pass === 'incremental' ? state.resumeCursor : null,
      pageNo: 0,
      counts: zeroCounts(),
      stalledDeliveries: 0,
      runStartedAt: now,
    };
    tx.set(ref, next);
    tx.create(reqRef, requestDoc(delivery.requestId, runId, now));
    // create, never set: a run document is written once, and a second writer fails instead of resetting it.
    tx.create(
      runRef(db, tenantId, runId),
      initialRunDoc({ ...input.runFields, runId, requestId: delivery.requestId, pass }),
    );
    return { kind: 'ok' as const, resumed: false };
  });
  if (outcome.kind !== 'ok') return outcome;
  // Re-read for the update time: every later write of this invocation is guarded by it.
  const snap = await ref.get();
  const state = syncStateSchema.parse({ mappingId, ...snap.data() });
  return {
    kind: 'acquired',
    lease: {
      tenantId,
      mappingId,
      runId: state.runId!,
      state,
      updateTime: snap.updateTime!,
      resumed: outcome.resumed,
    },
  };
}

function requestDoc(requestId: string, runId: string, now: number) {
  return { requestId, runId, at: new Date(now).toISOString(), expireAt: new Date(now + REQUEST_TTL_MS) };
}

/** The run a request started or took over, while its request document is kept; null otherwise. */
export async function runOfRequest(
  db: Firestore,
  tenantId: string,
  mappingId: string,
  requestId: string,
): Promise<string | null> {
  const runId: unknown = (await requestRef(db, tenantId, mappingId, requestId).get()).get('runId');
  return typeof runId === 'string' ? runId : null;
}

/**
 * Ends a run nobody works as failed (a delivery that gave up on it, the dead-letter consumer) and frees the
 * mapping for the next request. False when the run is not the mapping's running one, or someone holds a live
 * lease on it: a holder that is alive finishes it, and one that died leaves it to the next delivery.
 */
export async function endStalledRun(
  db: Firestore,
  run: RunIdentity,
  reason: string,
  now: number,
): Promise<boolean> {
  const ref = stateRef(db, run.tenantId, run.mappingId);
  const nowIso = new Date(now).toISOString();
  return db.runTransaction(async (tx) => {
    const snap = await tx.get(ref);
    if (snap.get('status') !== 'running' || snap.get('runId') !== run.runId) return false;
    const leaseExpiresAt: unknown = snap.get('leaseExpiresAt');
    if (snap.get('leaseId') != null && typeof leaseExpiresAt === 'number' && leaseExpiresAt > now)
      return false;
    tx.update(ref, { ...ENDED, stalledDeliveries: 0, updatedAt: nowIso });
    tx.update(runRef(db, run.tenantId, run.runId), {
      status: 'failed',
      finishedAt: nowIso,
      errors: FieldValue.arrayUnion({ at: nowIso, message: reason }),
    });
    return true;
  });
}

export interface StateWrite {
  db: Firestore;
  lease: HeldLease;
}

/** Guarded fields for the state document in a batch (the caller commits and keeps the new update time). */
export function checkpointFields(opts: {
  cursor: string | null;
  pageNo: number;
  counts: SyncCounts;
  now: number;
  leaseMs: number;
}) {
  return {
    cursor: opts.cursor,
    pageNo: opts.pageNo,
    counts: opts.counts,
    stalledDeliveries: 0,
    leaseExpiresAt: opts.now + opts.leaseMs,
    updatedAt: new Date(opts.now).toISOString(),
  };
}

export function releasedFields(now: number) {
  return { leaseId: null, leaseExpiresAt: 0, updatedAt: new Date(now).toISOString() };
}

export function completedFields(opts: {
  requestId: string;
  runId: string;
  now: number;
  pass: PassKind;
  resumeCursor: string | null;
}) {
  const at = new Date(opts.now).toISOString();
  return {
    ...ENDED,
    stalledDeliveries: 0,
    resumeCursor: opts.resumeCursor,
    lastRequestId: opts.requestId,
    lastCompletedRunId: opts.runId,
    lastCompletedAt: at,
    ...(opts.pass === 'full' ? { lastFullPassAt: at } : {}),
    updatedAt: at,
  };
}

export function failedFields(opts: { requestId: string; now: number; final: boolean }) {
  return {
    ...ENDED,
    stalledDeliveries: 0,
    ...(opts.final ? { lastRequestId: opts.requestId } : {}),
    updatedAt: new Date(opts.now).toISOString(),
  };
}

/** Drops the incremental cursors of a tenant's mappings of one source (their next passes are full). */
export async function forgetResumeCursors(db: Firestore, tenantId: string, source: string): Promise<void> {
  const mappings = await db.collection(paths.mappings(tenantId)).where('source', '==', source).get();
  if (mappings.empty) return;
  const batch = db.batch();
  for (const m of mappings.docs)
    batch.set(stateRef(db, tenantId, m.id), { resumeCursor: null }, { merge: true });
  await batch.commit();
}

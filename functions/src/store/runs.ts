import { FieldValue, type DocumentReference, type Firestore, type WriteBatch } from '@google-cloud/firestore';
import { paths } from '../../../shared/firestore-paths.js';
import { zeroCounts, type SyncCounts } from '../engine/sync-counts.js';

/**
 * `tenants/{t}/runs/{runId}`: the history of sync runs. The engine creates a run once (never overwritten) and
 * updates it as the run goes; the API reads it.
 *
 * `.../pages/{n}`: per committed page, what the run saw (record id -> "hash|sourceId") and the removals an
 * incremental pass reported, so a run resumed by another invocation knows everything its predecessors saw.
 */

export interface RunIdentity {
  tenantId: string;
  mappingId: string;
  runId: string;
}

export const MAX_RECORDED_ERRORS = 20;
const PAGE_DOC_TTL_MS = 7 * 24 * 3600 * 1000;

export function runRef(db: Firestore, tenantId: string, runId: string): DocumentReference {
  return db.doc(paths.run(tenantId, runId));
}

/** A new run's history document: one shape for every source, what the API and console read. */
export function initialRunDoc(fields: {
  runId: string;
  tenantId: string;
  mappingId: string;
  mappingName: string;
  mappingVersion: number | null;
  source: string;
  entity: string;
  objectId: string;
  trigger: string;
  requestId: string;
  pass: 'full' | 'incremental';
  startedAt: string;
}): Record<string, unknown> {
  return {
    ...fields,
    // Kept for readers of the Entra runs before the engine was one: a full pass is what they called fullSync.
    fullSync: fields.pass === 'full',
    status: 'running',
    finishedAt: null,
    durationMs: null,
    counts: zeroCounts(),
    pages: 0,
    invocations: 1,
    apiRetries: 0,
    errors: [],
    removal: null,
  };
}

export const errorEntries = (messages: readonly string[], at: string) =>
  messages.slice(0, MAX_RECORDED_ERRORS).map((message) => ({ at, message }));

/** Progress for the console: counts, pages, retries, and any errors of the page. */
export function progressFields(opts: {
  counts: SyncCounts;
  pages: number;
  retries: number;
  errors?: readonly string[];
  at: string;
}): Record<string, unknown> {
  return {
    counts: opts.counts,
    pages: opts.pages,
    apiRetries: FieldValue.increment(opts.retries),
    ...(opts.errors && opts.errors.length > 0
      ? { errors: FieldValue.arrayUnion(...errorEntries(opts.errors, opts.at)) }
      : {}),
  };
}

export async function recordRunError(db: Firestore, run: RunIdentity, message: string, at: string) {
  await runRef(db, run.tenantId, run.runId).update({
    errors: FieldValue.arrayUnion({ at, message }),
  });
}

export async function runStartedAt(db: Firestore, run: RunIdentity): Promise<string | null> {
  const v: unknown = (await runRef(db, run.tenantId, run.runId).get()).get('startedAt');
  return typeof v === 'string' ? v : null;
}

export interface PageRecord {
  /** recordId -> "hash|sourceId" of every record the page returned. */
  seen: Record<string, string>;
  /** recordId -> reason, for records an incremental page reported removed (in the page's order). */
  removed: Record<string, string>;
}

export function addPageDoc(
  batch: WriteBatch,
  db: Firestore,
  run: RunIdentity,
  pageNo: number,
  page: PageRecord,
  now: number,
): void {
  batch.set(db.doc(`${paths.runPages(run.tenantId, run.runId)}/${String(pageNo).padStart(6, '0')}`), {
    // JSON strings rather than maps, so the page's ids are not each indexed.
    entries: JSON.stringify(page.seen),
    removed: JSON.stringify(page.removed),
    expireAt: new Date(now + PAGE_DOC_TTL_MS),
  });
}

/** The pages an earlier invocation of the run committed, in order. */
export async function loadPageDocs(db: Firestore, run: RunIdentity): Promise<PageRecord[]> {
  const snap = await db.collection(paths.runPages(run.tenantId, run.runId)).orderBy('__name__').get();
  return snap.docs.map((doc) => ({
    seen: JSON.parse(String(doc.get('entries') ?? '{}')) as Record<string, string>,
    removed: JSON.parse(String(doc.get('removed') ?? '{}')) as Record<string, string>,
  }));
}

// --- reads for the API ---
export {};

// --- reads for the API ---

// Aliased so that the engine's imports at the top of the file (same modules) cannot collide with these.
import type { DocumentData as RunData, Firestore as RunDb } from '@google-cloud/firestore';
import { paths as runPaths } from '../../../shared/firestore-paths.js';

/** A run document as stored; the engine owns its shape, the API shows selected fields (api/run-views.ts). */
export interface StoredRun {
  id: string;
  data: RunData;
}

/** Newest first. Needs the composite index runs(mappingId ASC, startedAt DESC) when filtered by mapping. */
export async function listRuns(
  db: RunDb,
  tenantId: string,
  opts: { mappingId?: string; limit: number },
): Promise<StoredRun[]> {
  const runs = db.collection(runPaths.runs(tenantId));
  const scoped = opts.mappingId ? runs.where('mappingId', '==', opts.mappingId) : runs;
  const snap = await scoped.orderBy('startedAt', 'desc').limit(opts.limit).get();
  return snap.docs.map((d) => ({ id: d.id, data: d.data() }));
}

export async function readRun(db: RunDb, tenantId: string, runId: string): Promise<StoredRun | null> {
  const snap = await db.doc(runPaths.run(tenantId, runId)).get();
  return snap.exists ? { id: snap.id, data: snap.data()! } : null;
}

const COMPLETED_STATUSES = new Set(['succeeded', 'succeeded_with_errors', 'held']);

/**
 * The last completed run of the mapping that started before `before`: the size a running run is measured
 * against (progress and ETA). One query on runs(mappingId, startedAt DESC), the index the history uses.
 */
export async function previousCompletedRun(
  db: RunDb,
  tenantId: string,
  mappingId: string,
  before: string,
): Promise<StoredRun | null> {
  const snap = await db
    .collection(runPaths.runs(tenantId))
    .where('mappingId', '==', mappingId)
    .orderBy('startedAt', 'desc')
    .startAfter(before)
    .limit(10)
    .get();
  const doc = snap.docs.find((d) => COMPLETED_STATUSES.has(String(d.get('status'))));
  return doc ? { id: doc.id, data: doc.data() } : null;
}

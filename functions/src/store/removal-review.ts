import { FieldPath, type Firestore, type Transaction } from '@google-cloud/firestore';
import { z } from 'zod';
import { paths } from '../../../shared/firestore-paths.js';
import { runRef } from './runs.js';

/**
 * Reviewing the removals a held run would make:
 *
 * - `tenants/{t}/runs/{runId}/heldRemovals/{recordId}`: every record a held run would have removed, with why,
 *   written by the engine when it holds (so an admin sees what a "260 records" banner means). Kept with the run.
 * - `tenants/{t}/syncState/{mappingId}/removalReview/approval`: an admin confirmed a held run: the next full pass
 *   removes that run's held records (less the excluded ones) whatever the threshold, then drops the approval.
 * - `.../removalReview/x:{recordId}`: a record an admin excluded from removal. The engine keeps it (indexed as it
 *   was, not counted against the threshold, not held again) for as long as it stays absent; once the source lists
 *   it again the exclusion ends, so a later disappearance is judged afresh.
 * One collection holds both so the engine reads them with one query at the end of a pass.
 */

const APPROVAL_ID = 'approval';
const EXCLUSION_PREFIX = 'x:';
const BATCH_LIMIT = 500;

export interface HeldRemoval {
  recordId: string;
  reason: string;
  sourceId: string | null;
  /** The identifier value the record id stands for (null when the id is a hash). */
  identifier: string | null;
}

const heldSchema = z.object({
  reason: z.string(),
  sourceId: z.string().nullable().catch(null),
  identifier: z.string().nullable().catch(null),
});

export interface Approval {
  heldRunId: string;
  confirmedBy: string;
  confirmedAt: string;
}

export interface Exclusion {
  recordId: string;
  runId: string;
  excludedBy: string;
  excludedAt: string;
}

const approvalSchema = z.object({
  kind: z.literal('approval'),
  heldRunId: z.string(),
  confirmedBy: z.string(),
  confirmedAt: z.string(),
});
const exclusionSchema = z.object({
  kind: z.literal('exclusion'),
  recordId: z.string(),
  runId: z.string(),
  excludedBy: z.string(),
  excludedAt: z.string(),
});

export interface RemovalReview {
  approval: Approval | null;
  exclusions: Map<string, Exclusion>;
}

const exclusionDocId = (recordId: string) => `${EXCLUSION_PREFIX}${recordId}`;

/** The engine's one query at the end of a pass: the pending approval and the exclusions of a mapping. */
export async function loadRemovalReview(
  db: Firestore,
  tenantId: string,
  mappingId: string,
): Promise<RemovalReview> {
  const snap = await db.collection(paths.removalReview(tenantId, mappingId)).get();
  const review: RemovalReview = { approval: null, exclusions: new Map() };
  for (const doc of snap.docs) {
    const approval = approvalSchema.safeParse(doc.data());
    if (approval.success && doc.id === APPROVAL_ID) {
      const { kind: _kind, ...rest } = approval.data;
      review.approval = rest;
      continue;
    }
    const exclusion = exclusionSchema.safeParse(doc.data());
    if (exclusion.success) {
      const { kind: _kind, ...rest } = exclusion.data;
      review.exclusions.set(rest.recordId, rest);
    }
  }
  return review;
}

/** After a pass used the review: ends exclusions of records that came back, and a consumed approval. */
export async function settleRemovalReview(
  db: Firestore,
  tenantId: string,
  mappingId: string,
  settle: { endExclusions: readonly string[]; consumeApproval: boolean },
): Promise<number> {
  const refs = settle.endExclusions.map((id) =>
    db.doc(`${paths.removalReview(tenantId, mappingId)}/${exclusionDocId(id)}`),
  );
  if (settle.consumeApproval) refs.push(db.doc(`${paths.removalReview(tenantId, mappingId)}/${APPROVAL_ID}`));
  for (let i = 0; i < refs.length; i += BATCH_LIMIT) {
    const batch = db.batch();
    for (const ref of refs.slice(i, i + BATCH_LIMIT)) batch.delete(ref);
    await batch.commit();
  }
  return refs.length;
}

/** The engine holds a run: what it would have removed, for review. Returns the documents written. */
export async function writeHeldRemovals(
  db: Firestore,
  tenantId: string,
  runId: string,
  held: readonly HeldRemoval[],
): Promise<number> {
  const base = paths.heldRemovals(tenantId, runId);
  for (let i = 0; i < held.length; i += BATCH_LIMIT) {
    const batch = db.batch();
    for (const h of held.slice(i, i + BATCH_LIMIT)) {
      batch.set(db.doc(`${base}/${h.recordId}`), {
        reason: h.reason,
        sourceId: h.sourceId,
        identifier: h.identifier,
      });
    }
    await batch.commit();
  }
  return held.length;
}

/** Every record id a held run would have removed (ids only). */
export async function heldRemovalIds(db: Firestore, tenantId: string, runId: string): Promise<Set<string>> {
  const snap = await db.collection(paths.heldRemovals(tenantId, runId)).select().get();
  return new Set(snap.docs.map((d) => d.id));
}

/** One page of a held run's records in id order, after `afterId`; `more` says whether others follow. */
export async function pageHeldRemovals(
  db: Firestore,
  tenantId: string,
  runId: string,
  opts: { afterId?: string | undefined; limit: number },
): Promise<{ held: HeldRemoval[]; more: boolean }> {
  let query = db
    .collection(paths.heldRemovals(tenantId, runId))
    .orderBy(FieldPath.documentId())
    .limit(opts.limit + 1);
  if (opts.afterId) query = query.startAfter(opts.afterId);
  const snap = await query.get();
  const held = snap.docs.slice(0, opts.limit).flatMap((d) => {
    const parsed = heldSchema.safeParse(d.data());
    return parsed.success ? [{ recordId: d.id, ...parsed.data }] : [];
  });
  return { held, more: snap.docs.length > opts.limit };
}

/** The excluded records among `recordIds`. */
export async function excludedAmong(
  db: Firestore,
  tenantId: string,
  mappingId: string,
  recordIds: readonly string[],
): Promise<Map<string, Exclusion>> {
  const out = new Map<string, Exclusion>();
  if (recordIds.length === 0) return out;
  const refs = recordIds.map((id) =>
    db.doc(`${paths.removalReview(tenantId, mappingId)}/${exclusionDocId(id)}`),
  );
  for (const snap of await db.getAll(...refs)) {
    const parsed = exclusionSchema.safeParse(snap.data());
    if (parsed.success) {
      const { kind: _kind, ...rest } = parsed.data;
      out.set(rest.recordId, rest);
    }
  }
  return out;
}

export type ConfirmOutcome =
  | { kind: 'confirmed'; mappingId: string; approved: number; excluded: number }
  | { kind: 'not_found' }
  | { kind: 'not_held'; status: string }
  | { kind: 'already_confirmed'; confirmedBy: string; confirmedAt: string }
  | { kind: 'superseded'; latestRunId: string }
  | { kind: 'unknown_records'; recordIds: string[] };

/**
 * An admin confirms a held run, keeping `exclude`: in one transaction the run must still be held, unconfirmed
 * and its mapping's latest run (a later run judged the records again), and every excluded id must be one it
 * held. Writes the approval, the exclusions and the run's `review` (who, when, how many) together.
 */
export async function confirmHeldRun(
  db: Firestore,
  tenantId: string,
  runId: string,
  opts: { exclude: readonly string[]; by: string; at: string },
): Promise<ConfirmOutcome> {
  return db.runTransaction(async (tx: Transaction): Promise<ConfirmOutcome> => {
    const run = await tx.get(runRef(db, tenantId, runId));
    if (!run.exists) return { kind: 'not_found' };
    const status = String(run.get('status') ?? '');
    const mappingId = String(run.get('mappingId') ?? '');
    const review = run.get('review') as { confirmedBy?: string; confirmedAt?: string } | undefined;
    if (review?.confirmedBy)
      return {
        kind: 'already_confirmed',
        confirmedBy: review.confirmedBy,
        confirmedAt: String(review.confirmedAt ?? ''),
      };
    if (status !== 'held') return { kind: 'not_held', status };
    const latest = await tx.get(
      db
        .collection(paths.runs(tenantId))
        .where('mappingId', '==', mappingId)
        .orderBy('startedAt', 'desc')
        .limit(1),
    );
    const latestId = latest.docs[0]?.id;
    if (latestId !== undefined && latestId !== runId) return { kind: 'superseded', latestRunId: latestId };
    const exclude = [...new Set(opts.exclude)];
    const heldBase = paths.heldRemovals(tenantId, runId);
    const heldSnaps =
      exclude.length > 0 ? await tx.getAll(...exclude.map((id) => db.doc(`${heldBase}/${id}`))) : [];
    const unknown = heldSnaps.filter((s) => !s.exists).map((s) => s.id);
    if (unknown.length > 0) return { kind: 'unknown_records', recordIds: unknown };
    const candidates = Number((run.get('removal') as { candidates?: unknown } | undefined)?.candidates ?? 0);
    const reviewBase = paths.removalReview(tenantId, mappingId);
    tx.set(db.doc(`${reviewBase}/${APPROVAL_ID}`), {
      kind: 'approval',
      heldRunId: runId,
      confirmedBy: opts.by,
      confirmedAt: opts.at,
    });
    for (const recordId of exclude) {
      tx.set(db.doc(`${reviewBase}/${exclusionDocId(recordId)}`), {
        kind: 'exclusion',
        recordId,
        runId,
        excludedBy: opts.by,
        excludedAt: opts.at,
      });
    }
    const approved = Math.max(0, candidates - exclude.length);
    tx.update(runRef(db, tenantId, runId), {
      review: {
        confirmedBy: opts.by,
        confirmedAt: opts.at,
        approved,
        excluded: exclude.length,
        excludedRecordIds: exclude.slice(0, 100),
      },
    });
    return { kind: 'confirmed', mappingId, approved, excluded: exclude.length };
  });
}

import { saveHashIndex } from '../store/hash-index.js';
import { addPageDoc, progressFields, recordRunError, runRef, runStartedAt } from '../store/runs.js';
import {
  checkpointFields,
  completedFields,
  failedFields,
  releasedFields,
  stateRef,
} from '../store/sync-state.js';
import type { Db as Firestore } from '../store/firestore.js';
import { objectIdOf } from '../../../shared/mapping.js';
import { moveRekeyedRecords } from '../store/records.js';
import {
  heldRemovalIds,
  loadRemovalReview,
  settleRemovalReview,
  writeHeldRemovals,
} from '../store/removal-review.js';
import { removalVerdict, reviewCandidates } from './decisions.js';
import { findRekeys } from './rekey.js';
import { identifierOfRecordId } from './record-id.js';
import {
  LeaseLostError,
  RetryLaterError,
  iso,
  isPreconditionFailure,
  type PendingRemoval,
  type Run,
  type SyncOutcome,
} from './engine-types.js';
import { hashOfEntry, sourceIdOfEntry } from './page-plan.js';
import { SourceError } from './source.js';
import { addCounts, type SyncCounts } from './sync-counts.js';
import { emitTenantEventSafely } from '../notifications/emit.js';
import type { RunEventData } from '../notifications/events.js';

/** What a run event says about the run (notifications/events.ts). */
function runEventData(run: Run, status: RunEventData['status'], extra: Partial<RunEventData>): RunEventData {
  return {
    runId: run.lease.runId,
    mappingId: run.mapping.id,
    mappingName: run.mapping.name,
    source: run.mapping.source,
    entity: run.mapping.entity,
    status,
    ...extra,
  };
}

/**
 * What a run writes as it goes and when it ends: page checkpoints, progress, completion with the removal
 * verdict, hand-over to a continuation, failure. Every state-document write is guarded by the lease.
 */

/** Progress for the console goes to the run document at most this often (the lease document is exact). */
const RUN_PROGRESS_INTERVAL_MS = 2000;

type Batch = ReturnType<Firestore['batch']>;

/** Commits a batch whose state-document write is guarded by this invocation's lease. */
export async function guardedCommit(
  run: Run,
  fill: (batch: Batch) => void,
  stateUpdate?: Record<string, unknown>,
) {
  const batch = run.deps.db.batch();
  if (stateUpdate) {
    batch.update(stateRef(run.deps.db, run.msg.tenantId, run.msg.mappingId), stateUpdate, {
      lastUpdateTime: run.updateTime,
    });
  }
  fill(batch);
  let results;
  try {
    results = await batch.commit();
  } catch (err) {
    if (isPreconditionFailure(err)) throw new LeaseLostError('lease lost');
    throw err;
  }
  if (stateUpdate) run.updateTime = results[0]!.writeTime;
}

/**
 * One atomic commit per page: checkpoint, the page's seen ids and the run's progress move together, guarded by
 * the lease. Record writes before it are idempotent, so a crash in between only redoes them.
 */
export async function commitPage(
  run: Run,
  next: string | null,
  pageCounts: SyncCounts,
  page: { seen: Record<string, string>; removed: Record<string, string> },
  retries: number,
  pageErrors: string[],
): Promise<void> {
  const { db, clock, config } = run.deps;
  const now = clock.now();
  const pageNo = run.pageNo + 1;
  const counts = addCounts(run.counts, pageCounts);
  run.progress.pendingRetries += retries;
  const writeProgress =
    pageErrors.length > 0 || (next !== null && now - run.progress.writtenAt >= RUN_PROGRESS_INTERVAL_MS);
  await guardedCommit(
    run,
    (batch) => {
      addPageDoc(batch, db, run.lease, pageNo, page, now);
      if (writeProgress) {
        batch.update(
          runRef(db, run.msg.tenantId, run.lease.runId),
          progressFields({
            counts,
            pages: pageNo,
            retries: run.progress.pendingRetries,
            errors: pageErrors,
            at: iso(run),
          }),
        );
      }
    },
    checkpointFields({ cursor: next, pageNo, counts, now, leaseMs: config.leaseMs }),
  );
  run.meter.bookkeepingWrites += writeProgress ? 3 : 2;
  if (writeProgress) run.progress = { writtenAt: now, pendingRetries: 0 };
  run.cursor = next;
  run.pageNo = pageNo;
  run.counts = counts;
}

export async function completeRun(
  run: Run,
  index: Map<string, string>,
  shardContents: Map<string, string>,
  seen: Map<string, string>,
  pendingRemovals: Map<string, PendingRemoval>,
  resumeCursor: string | null,
): Promise<SyncOutcome> {
  const { db, clock } = run.deps;
  const now = clock.now();
  const candidates = new Map<string, string>();
  if (run.pass === 'full') {
    for (const id of index.keys())
      if (!seen.has(id)) candidates.set(id, run.source.absentReason(run.mapping));
  }
  for (const [id, { reason, stored }] of pendingRemovals)
    if (index.has(id) || stored !== undefined) candidates.set(id, reason);
  /** The record as it is stored now: as this run wrote it, else as the index has it. */
  const lastStored = (id: string) => pendingRemovals.get(id)?.stored ?? index.get(id);

  // An identifier change moves records to their new ids instead of removing them (engine/rekey.ts).
  const rekeys = await findRekeys(run, index, seen, candidates);
  for (const r of rekeys) candidates.delete(r.from);
  if (rekeys.length > 0) {
    run.meter.recordWrites += await moveRekeyedRecords(
      db,
      run.msg.tenantId,
      objectIdOf(run.mapping.target),
      rekeys,
      { at: new Date(now).toISOString(), runId: run.lease.runId },
    );
  }

  // An admin's review (store/removal-review.ts): approved records go, excluded ones stay, the rest is judged.
  const review = await loadRemovalReview(db, run.msg.tenantId, run.msg.mappingId);
  run.meter.reads += Math.max(1, review.exclusions.size + (review.approval ? 1 : 0));
  let approvedIds = new Set<string>();
  if (review.approval && run.pass === 'full') {
    approvedIds = await heldRemovalIds(db, run.msg.tenantId, review.approval.heldRunId);
    run.meter.reads += Math.max(1, approvedIds.size);
  }
  const reviewed = reviewCandidates(candidates, {
    approvedIds,
    excludedIds: new Set(review.exclusions.keys()),
  });
  const verdict = removalVerdict(
    reviewed.judged.size,
    index.size,
    run.mapping.removalThresholdPercent,
    run.msg.confirmRemovals === true,
  );
  const toRemove = new Map([...reviewed.approved, ...(verdict.held ? [] : reviewed.judged)]);
  const kept = new Map([...reviewed.excluded, ...(verdict.held ? reviewed.judged : [])]);
  let removed = 0;
  if (toRemove.size > 0) {
    removed = await run.sink.markRemoved(
      [...toRemove].map(([recordId, reason]) => {
        const sourceId = sourceIdOfEntry(lastStored(recordId) ?? '');
        return { recordId, reason, ...(sourceId ? { sourceId } : {}) };
      }),
    );
  }
  if (verdict.held) {
    run.meter.bookkeepingWrites += await writeHeldRemovals(
      db,
      run.msg.tenantId,
      run.lease.runId,
      [...reviewed.judged].map(([recordId, reason]) => ({
        recordId,
        reason,
        sourceId: sourceIdOfEntry(lastStored(recordId) ?? '') || null,
        identifier: run.mapping.target.kind === 'people' ? null : identifierOfRecordId(recordId),
      })),
    );
  }
  // An exclusion lasts while its record stays absent: once the source lists it again (or it is gone from the
  // index), a later disappearance is a new state, judged afresh. An approval is used up by a full pass.
  const endExclusions = [...review.exclusions.keys()].filter((id) => seen.has(id) || !index.has(id));
  const consumeApproval = review.approval !== null && run.pass === 'full';
  if (endExclusions.length > 0 || consumeApproval) {
    run.meter.bookkeepingWrites += await settleRemovalReview(db, run.msg.tenantId, run.msg.mappingId, {
      endExclusions,
      consumeApproval,
    });
  }

  const nextIndex = new Map<string, string>();
  if (run.pass === 'incremental') for (const [id, e] of index) nextIndex.set(id, e);
  // Only a source with incremental passes needs each record's source id in the index (to route removals that
  // name only the source object); for the others the hash alone keeps the index a third of the size.
  const indexEntry = run.source.incremental ? (e: string) => e : hashOfEntry;
  for (const [id, e] of seen) nextIndex.set(id, indexEntry(e));
  // Held and excluded records stay indexed as stored, so the next (full) pass finds them absent again: a held
  // one is judged again, an excluded one is kept again.
  for (const id of kept.keys()) {
    const stored = lastStored(id);
    if (stored !== undefined) nextIndex.set(id, indexEntry(stored));
  }
  for (const id of toRemove.keys()) nextIndex.delete(id);
  await saveHashIndex(db, run.msg.tenantId, run.msg.mappingId, nextIndex, shardContents, run.meter);

  // A re-keyed record was written as new by its page; it is the same record, moved.
  const counts: SyncCounts = {
    ...run.counts,
    created: run.counts.created - rekeys.length,
    updated: run.counts.updated + rekeys.length,
    removed,
  };
  const finishedAt = new Date(now).toISOString();
  const startedAt = Date.parse((await runStartedAt(db, run.lease)) ?? finishedAt);
  run.meter.reads++;
  await guardedCommit(
    run,
    (batch) =>
      batch.update(runRef(db, run.msg.tenantId, run.lease.runId), {
        // A completed run with records it could not write succeeded, but not fully: hosts and admins are told.
        status: verdict.held ? 'held' : counts.failed > 0 ? 'succeeded_with_errors' : 'succeeded',
        finishedAt,
        durationMs: now - startedAt,
        counts,
        pages: run.pageNo,
        pass: run.pass,
        fullSync: run.pass === 'full',
        ...progressFields({
          counts,
          pages: run.pageNo,
          retries: run.progress.pendingRetries,
          at: finishedAt,
        }),
        removal: {
          ...verdict,
          approved: reviewed.approved.size,
          excluded: reviewed.excluded.size,
          ...(rekeys.length > 0 ? { rekeyed: rekeys.length } : {}),
          ...(verdict.held
            ? {
                message: `${verdict.candidates} of ${verdict.previousRecords} records would be removed (over the ${verdict.thresholdPercent}% safety threshold); ${removed > 0 ? `only the ${removed} an admin confirmed earlier were removed` : 'nothing was removed'}. Review them and confirm to apply.`,
              }
            : {}),
        },
        firestore: { ...run.meter.snapshot(), bookkeepingWrites: run.meter.bookkeepingWrites + 2 },
      }),
    completedFields({
      requestId: run.msg.requestId,
      runId: run.lease.runId,
      now,
      pass: run.pass,
      // A held pass keeps no cursor: changes since it would never report the held removals again, so the next
      // pass is full, and holds again until an admin confirms.
      resumeCursor: verdict.held ? null : resumeCursor,
    }),
  );
  run.meter.bookkeepingWrites += 2;
  if (verdict.held || counts.failed > 0) {
    // One event per run outcome (the run id keys it): a redelivery that completes the run again sends nothing new.
    await emitTenantEventSafely(
      run.deps.notify,
      run.msg.tenantId,
      verdict.held
        ? {
            type: 'run.held',
            data: runEventData(run, 'held', {
              counts: { ...counts },
              message: `${verdict.candidates} of ${verdict.previousRecords} records would be removed (over the ${verdict.thresholdPercent}% safety threshold); nothing was removed.`,
            }),
          }
        : {
            type: 'run.succeeded_with_errors',
            data: runEventData(run, 'succeeded', { counts: { ...counts } }),
          },
      { dedupeKey: run.lease.runId },
    );
  }
  run.log.info('sync run finished', {
    counts,
    held: verdict.held,
    pass: run.pass,
    firestore: run.meter.snapshot(),
  });
  return {
    status: 'completed',
    runId: run.lease.runId,
    counts,
    held: verdict.held,
    pass: run.pass,
    fullSync: run.pass === 'full',
    meter: run.meter.snapshot(),
  };
}

/** The invocation's time budget is used: release the lease and continue in a new message. */
export async function handOver(run: Run): Promise<SyncOutcome> {
  await releaseWithProgress(run);
  await run.deps.publishSync({ ...run.msg, trigger: 'continuation', runId: run.lease.runId });
  run.log.info('invocation budget used; continuing in a new message', { pageNo: run.pageNo });
  return { status: 'continued', runId: run.lease.runId, pages: run.pageNo };
}

/** Writes what the run document has not yet seen and frees the lease for the next delivery at once. */
export async function releaseWithProgress(run: Run): Promise<void> {
  const { db, clock } = run.deps;
  await guardedCommit(
    run,
    (batch) =>
      batch.update(
        runRef(db, run.msg.tenantId, run.lease.runId),
        progressFields({
          counts: run.counts,
          pages: run.pageNo,
          retries: run.progress.pendingRetries,
          at: iso(run),
        }),
      ),
    releasedFields(clock.now()),
  );
  run.meter.bookkeepingWrites += 2;
  run.progress = { writtenAt: clock.now(), pendingRetries: 0 };
}

/** One place that turns a source's failure into what happens to the run. */
export async function handleSourceFailure(run: Run, err: unknown): Promise<SyncOutcome> {
  const kind = err instanceof SourceError ? err.kind : null;
  const message = err instanceof Error ? err.message : String(err);
  switch (kind) {
    case 'reauthorize':
      await run.source.markNeedsReauthorization(run.msg.tenantId, message);
      await emitTenantEventSafely(
        run.deps.notify,
        run.msg.tenantId,
        { type: 'tenant.needs_reauthorization', data: { source: run.mapping.source, reason: message } },
        { dedupeKey: `${run.mapping.source}:${run.lease.runId}` },
      );
      return failRun(run, message);
    case 'not_permitted':
      return failRun(run, message);
    case 'fatal':
    case 'restart_listing':
      return failRun(run, message);
    default: {
      // Transient (retries used up) or not the source's: Pub/Sub redelivers and the run resumes at its
      // checkpoint; MAX_STALLED_DELIVERIES and the dead-letter topic bound how often.
      await recordRunError(run.deps.db, run.lease, message, iso(run)).catch(() => undefined);
      await releaseWithProgress(run);
      throw new RetryLaterError(
        `page ${run.pageNo + 1} failed (${message}); Pub/Sub will redeliver and resume`,
      );
    }
  }
}

export async function failRun(run: Run, reason: string): Promise<SyncOutcome> {
  const { db, clock } = run.deps;
  const now = clock.now();
  const at = new Date(now).toISOString();
  await guardedCommit(
    run,
    (batch) =>
      batch.update(runRef(db, run.msg.tenantId, run.lease.runId), {
        status: 'failed',
        finishedAt: at,
        durationMs: now - run.startedAt,
        ...progressFields({
          counts: run.counts,
          pages: run.pageNo,
          retries: run.progress.pendingRetries,
          errors: [reason],
          at,
        }),
      }),
    failedFields({ requestId: run.msg.requestId, now, final: true }),
  );
  run.log.warn('sync run failed', { reason });
  await emitTenantEventSafely(
    run.deps.notify,
    run.msg.tenantId,
    {
      type: 'run.failed',
      data: runEventData(run, 'failed', { counts: { ...run.counts }, message: reason, errors: [reason] }),
    },
    { dedupeKey: run.lease.runId },
  );
  return { status: 'failed', runId: run.lease.runId, reason };
}

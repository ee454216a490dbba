import type { Db as Firestore, Timestamp } from '../store/firestore.js';
import type { SourceKind } from '../../../shared/entities.js';
import { objectIdOf, type Mapping } from '../../../shared/mapping.js';
import type { Clock } from '../platform/clock.js';
import type { SyncConfig } from '../platform/config.js';
import type { Logger } from '../platform/log.js';
import { loadHashIndex, saveHashIndex } from '../store/hash-index.js';
import { readMapping } from '../store/mappings.js';
import { sharedRequestBudget, type RequestBudget } from '../store/request-budget.js';
import {
  addPageDoc,
  loadPageDocs,
  progressFields,
  recordRunError,
  runRef,
  runStartedAt,
} from '../store/runs.js';
import {
  acquireLease,
  checkpointFields,
  completedFields,
  endStalledRun,
  failedFields,
  releasedFields,
  stateRef,
  type HeldLease,
} from '../store/sync-state.js';
import { readTenant, type TenantDoc } from '../store/tenants.js';
import { backoffDelay } from './backoff-delay.js';
import { afterPage, passFor, removalVerdict, waitBudgetMs, type PassKind } from './decisions.js';
import { FirestoreMeter } from './firestore-meter.js';
import { syncMessageSchema, type SyncMessage } from './messages.js';
import { planPage, sourceIdOfEntry, type PassView } from './page-plan.js';
import { recordSinkFor, type RecordSink } from './record-sink.js';
import { newRunId } from './run-id.js';
import { SourceError, type Source, type SourcePage, type SourceReader } from './source.js';
import { addCounts, type SyncCounts } from './sync-counts.js';

/**
 * The one sync engine, for every source and both pass kinds. A sync message names a tenant and a mapping; the
 * engine takes the mapping's lease, asks the mapping's source for pages from the checkpoint, detects changes
 * against the hash index, writes what changed, checkpoints after every page, and at the end of a pass removes
 * what is gone (behind the removal threshold) and stores the index. Sources only read (engine/source.ts).
 */

export interface EngineDeps {
  db: Firestore;
  config: SyncConfig;
  clock: Clock;
  log: Logger;
  sources: Record<SourceKind, Source>;
  publishSync(msg: SyncMessage): Promise<void>;
  /** The tenant's Directory request budget; by default shared across instances through Firestore. */
  requestBudgetFor?(tenantId: string): RequestBudget;
  /** Test seam to stop an invocation at a page boundary, as a crash or timeout would. */
  afterPageCommitted?(info: { runId: string; pageNo: number }): Promise<void> | void;
}

export type SyncOutcome =
  | { status: 'dropped'; reason: string }
  | { status: 'continued'; runId: string; pages: number }
  | {
      status: 'completed';
      runId: string;
      counts: SyncCounts;
      held: boolean;
      pass: PassKind;
      /** Kept for callers of the Entra sync before the engine was one. */
      fullSync: boolean;
      meter: ReturnType<FirestoreMeter['snapshot']>;
    }
  | { status: 'failed'; runId: string | null; reason: string };

/** Thrown to have Pub/Sub deliver the message again (transient trouble, or another invocation holds the lease). */
export class RetryLaterError extends Error {
  override name = 'RetryLaterError';
}

/** Firestore's answer to a write whose update-time precondition failed: another invocation took the lease. */
class LeaseLostError extends Error {
  override name = 'LeaseLostError';
}

/** Progress for the console goes to the run document at most this often (the lease document is exact). */
const RUN_PROGRESS_INTERVAL_MS = 2000;
/** Restarts of a listing (expired page tokens, delta links) one invocation tolerates before failing the run. */
const MAX_LISTING_RESTARTS = 3;
/** Deliveries that take a run over without committing a page before the engine gives up on it. */
export const MAX_STALLED_DELIVERIES = 5;

interface Run {
  deps: EngineDeps;
  log: Logger;
  msg: SyncMessage;
  mapping: Mapping;
  source: Source;
  lease: HeldLease;
  updateTime: Timestamp;
  pass: PassKind;
  cursor: string | null;
  pageNo: number;
  counts: SyncCounts;
  meter: FirestoreMeter;
  sink: RecordSink;
  startedAt: number;
  progress: { writtenAt: number; pendingRetries: number };
}

export async function runSync(deps: EngineDeps, payload: unknown): Promise<SyncOutcome> {
  const parsed = syncMessageSchema.safeParse(payload);
  if (!parsed.success) {
    deps.log.warn('rejected malformed sync message', { issues: parsed.error.issues.map((i) => i.message) });
    return { status: 'dropped', reason: 'malformed message' };
  }
  const msg = parsed.data;
  const log = deps.log.child({ tenantId: msg.tenantId, mappingId: msg.mappingId, requestId: msg.requestId });
  const tenant = await readTenant(deps.db, msg.tenantId);
  if (!tenant) return { status: 'dropped', reason: 'tenant is unknown' };
  const mapping = await readMapping(deps.db, msg.tenantId, msg.mappingId);
  if (!mapping || !mapping.enabled) return { status: 'dropped', reason: 'mapping missing or disabled' };
  const source = deps.sources[mapping.source];
  if (!source.connected(tenant)) return { status: 'dropped', reason: source.whyNotConnected(tenant) };

  const lease = await takeLease(deps, msg, mapping, source);
  if ('status' in lease) {
    log.info('sync message needs no work', { reason: lease.reason });
    return lease;
  }
  const runLog = log.child({ runId: lease.runId });
  const meter = new FirestoreMeter();
  meter.reads += 4; // tenant, mapping, lease transaction, lease re-read
  const run: Run = {
    deps,
    log: runLog,
    msg,
    mapping,
    source,
    lease,
    updateTime: lease.updateTime,
    pass: lease.state.pass,
    cursor: lease.state.cursor,
    pageNo: lease.state.pageNo,
    counts: lease.state.counts,
    meter,
    sink: recordSinkFor({
      db: deps.db,
      clock: deps.clock,
      log: runLog,
      tenantId: msg.tenantId,
      mapping,
      runId: lease.runId,
      meter,
      removalReason: source.absentReason(mapping),
    }),
    startedAt: deps.clock.now(),
    progress: { writtenAt: 0, pendingRetries: 0 },
  };
  try {
    return await runPasses(run, tenant);
  } catch (err) {
    if (err instanceof LeaseLostError || isPreconditionFailure(err)) {
      runLog.warn('the sync lease was taken over by another invocation; stopping');
      return { status: 'dropped', reason: 'lease lost to another invocation' };
    }
    throw err;
  }
}

/** How often a delivery waiting for a live lease looks again (the holder may finish or hand over sooner). */
const LEASE_POLL_MS = 1000;

/**
 * Takes the lease, or says why not. A delivery of the running run waits out a live lease in-process (its holder
 * may have crashed; a nack would have Pub/Sub back off for minutes) for at most the lease plus 30 s, looking
 * again every second; a lease that keeps being renewed means a live holder, and the message goes back to Pub/Sub.
 */
async function takeLease(
  deps: EngineDeps,
  msg: SyncMessage,
  mapping: Mapping,
  source: Source,
): Promise<HeldLease | Extract<SyncOutcome, { status: 'dropped' | 'failed' }>> {
  const { config, clock } = deps;
  const startedWaiting = clock.now();
  let firstUntil: number | null = null;
  for (;;) {
    const now = clock.now();
    const result = await acquireLease(deps.db, {
      tenantId: msg.tenantId,
      mappingId: msg.mappingId,
      delivery: {
        trigger: msg.trigger,
        requestId: msg.requestId,
        ...(msg.runId ? { runId: msg.runId } : {}),
      },
      now,
      leaseMs: config.leaseMs,
      maxStalledDeliveries: MAX_STALLED_DELIVERIES,
      passFor: (state) =>
        passFor({
          incrementalSupported: source.incremental === true,
          resumeCursor: state.resumeCursor,
          confirmRemovals: msg.confirmRemovals === true,
        }),
      newRunId: msg.plannedRunId ?? newRunId(now),
      runFields: {
        tenantId: msg.tenantId,
        mappingId: msg.mappingId,
        mappingName: mapping.name,
        mappingVersion: mapping.version,
        source: mapping.source,
        entity: mapping.entity,
        objectId: objectIdOf(mapping.target),
        trigger: msg.trigger,
        startedAt: new Date(now).toISOString(),
      },
    });
    switch (result.kind) {
      case 'acquired':
        return result.lease;
      case 'drop':
        return { status: 'dropped', reason: result.reason };
      case 'give-up': {
        const reason = `gave up after ${result.deliveries} deliveries without progress (see the errors above)`;
        // Not ended: another delivery took the run over in between; judge this one again.
        if (!(await endStalledRun(deps.db, { ...msg, runId: result.runId }, reason, now))) continue;
        deps.log.warn('sync run given up', { runId: result.runId, reason });
        if (result.thenStart) continue; // another request: it starts a run of its own
        return { status: 'failed', runId: result.runId, reason };
      }
      case 'wait': {
        firstUntil ??= result.untilMs;
        const renewed = result.untilMs > firstUntil;
        const wait = waitBudgetMs(result.untilMs, startedWaiting, config.leaseMs + 30_000);
        if (renewed || wait === null) {
          throw new RetryLaterError(`run ${result.runId} is in progress on another invocation`);
        }
        await clock.sleep(Math.min(LEASE_POLL_MS, Math.max(50, result.untilMs - now + 50)));
      }
    }
  }
}

async function runPasses(run: Run, tenant: TenantDoc): Promise<SyncOutcome> {
  const { deps, msg, mapping } = run;
  let reader: SourceReader;
  try {
    reader = await run.source.open(msg.tenantId, mapping, tenant, {
      budget: deps.requestBudgetFor?.(msg.tenantId) ?? defaultBudget(deps, msg.tenantId),
    });
  } catch (err) {
    return handleSourceFailure(run, err);
  }
  const { index, shardContents } = await loadHashIndex(deps.db, msg.tenantId, msg.mappingId, run.meter);
  const seen = new Map<string, string>();
  const pendingRemovals = new Map<string, PendingRemoval>();
  if (run.lease.resumed) {
    const pages = await loadPageDocs(deps.db, run.lease);
    run.meter.reads += Math.max(1, pages.length);
    for (const page of pages) foldPage(seen, pendingRemovals, page.seen, page.removed);
  }
  let bySource: Map<string, string> | null = null;
  const view: PassView = {
    indexed: (id) => index.get(id),
    seen: (id) => seen.get(id),
    recordOfSource(sourceId) {
      if (!bySource) {
        // Built on first need (incremental passes, source removals): a full pass of 100k records never pays it.
        bySource = new Map();
        for (const [id, e] of index) bySource.set(sourceIdOfEntry(e), id);
        for (const [id, e] of seen) bySource.set(sourceIdOfEntry(e), id);
        // A record this run already removed no longer stands for its source object.
        for (const id of pendingRemovals.keys()) {
          const s = sourceIdOfEntry(index.get(id) ?? '');
          if (bySource.get(s) === id) bySource.delete(s);
        }
      }
      return bySource.get(sourceId);
    },
  };

  let restarts = 0;
  let prefetched: { cursor: string | null; promise: Promise<Fetched> } | null = null;
  for (;;) {
    let fetched: Fetched;
    try {
      fetched = await (prefetched && prefetched.cursor === run.cursor
        ? prefetched.promise
        : fetchPage(run, reader, run.cursor));
      prefetched = null;
    } catch (err) {
      prefetched = null;
      if (err instanceof SourceError && err.kind === 'restart_listing' && restarts < MAX_LISTING_RESTARTS) {
        restarts++;
        // Expired page tokens and delta links: what was seen still counts; list again from the start. An
        // incremental pass becomes a full one (its cursor is what expired), which nothing was removed by yet.
        await recordRunError(
          deps.db,
          run.lease,
          `${err.message}; restarting the listing from the first page${run.pass === 'incremental' ? ' as a full pass' : ''}`,
          iso(run),
        );
        run.meter.bookkeepingWrites++;
        if (run.pass === 'incremental') {
          run.pass = 'full';
          pendingRemovals.clear();
          // The state says so too: an invocation that resumes this run must finish it as a full pass.
          await guardedCommit(
            run,
            (b) => b.update(runRef(deps.db, msg.tenantId, run.lease.runId), { pass: 'full', fullSync: true }),
            { pass: 'full', cursor: null, updatedAt: iso(run) },
          );
        }
        run.cursor = null;
        continue;
      }
      return handleSourceFailure(run, err);
    }
    const { page, retries } = fetched;
    if (page.next !== null) prefetched = { cursor: page.next, promise: fetchPage(run, reader, page.next) };

    const plan = planPage(mapping, page.changes, view, run.pass, run.source.label);
    const written = await run.sink.write(plan.writes);
    plan.counts.failed += written.failed;
    plan.errors.push(...written.errors);
    foldPage(seen, pendingRemovals, plan.seen, plan.removed);
    if (bySource) {
      const m: Map<string, string> = bySource;
      for (const [id, e] of Object.entries(plan.seen)) m.set(sourceIdOfEntry(e), id);
    }
    await commitPage(
      run,
      page.next,
      plan.counts,
      { seen: plan.seen, removed: plan.removed },
      retries,
      plan.errors,
    );
    await deps.afterPageCommitted?.({ runId: run.lease.runId, pageNo: run.pageNo });

    const step = afterPage(page.next, deps.clock.now() - run.startedAt, deps.config.invocationBudgetMs);
    if (step === 'complete') {
      return completeRun(run, index, shardContents, seen, pendingRemovals, page.resumeCursor ?? null);
    }
    if (step === 'hand-over') {
      prefetched = null;
      return handOver(run);
    }
  }
}

/**
 * A removal an incremental pass reported. `stored` is the record as an earlier page of this run wrote it, if one
 * did: a user restored on one page and deleted again on a later one has a record the index does not know yet,
 * and that record is removed (or, if held, indexed) like any other.
 */
interface PendingRemoval {
  reason: string;
  stored?: string;
}

/** Folds one page into the run's picture, in page order: a later page's report of a record wins. */
function foldPage(
  seen: Map<string, string>,
  pending: Map<string, PendingRemoval>,
  pageSeen: Record<string, string>,
  pageRemoved: Record<string, string>,
) {
  for (const [id, e] of Object.entries(pageSeen)) {
    seen.set(id, e);
    pending.delete(id);
  }
  for (const [id, reason] of Object.entries(pageRemoved)) {
    const stored = seen.get(id) ?? pending.get(id)?.stored;
    seen.delete(id);
    pending.set(id, stored === undefined ? { reason } : { reason, stored });
  }
}

interface Fetched {
  page: SourcePage;
  retries: number;
}

/** One page from the source, with the engine's bounded retries on what the source calls retryable. */
function fetchPage(run: Run, reader: SourceReader, cursor: string | null): Promise<Fetched> {
  const { config, clock, log } = run.deps;
  const promise = (async () => {
    for (let attempt = 1; ; attempt++) {
      try {
        const page =
          run.pass === 'incremental' && reader.changesPage && cursor !== null
            ? await reader.changesPage(cursor)
            : await reader.fullPage(cursor);
        return { page, retries: attempt - 1 };
      } catch (err) {
        if (
          !(err instanceof SourceError) ||
          err.kind !== 'retry_later' ||
          attempt >= config.backoff.maxAttempts
        )
          throw err;
        const delayMs = Math.max(err.retryAfterMs ?? 0, backoffDelay(config.backoff, attempt));
        log.info('retrying a source call', { attempt, delayMs, reason: err.message });
        await clock.sleep(delayMs);
      }
    }
  })();
  promise.catch(() => {}); // a discarded prefetch must not become an unhandled rejection
  return promise;
}

function iso(run: Run): string {
  return new Date(run.deps.clock.now()).toISOString();
}

function isPreconditionFailure(err: unknown): boolean {
  return (err as { code?: unknown } | null)?.code === 9;
}

type Batch = ReturnType<Firestore['batch']>;

/** Commits a batch whose state-document write is guarded by this invocation's lease. */
async function guardedCommit(run: Run, fill: (batch: Batch) => void, stateUpdate?: Record<string, unknown>) {
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
async function commitPage(
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

async function completeRun(
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
  const verdict = removalVerdict(
    candidates.size,
    index.size,
    run.mapping.removalThresholdPercent,
    run.msg.confirmRemovals === true,
  );
  let removed = 0;
  if (!verdict.held && candidates.size > 0) {
    removed = await run.sink.markRemoved(
      [...candidates].map(([recordId, reason]) => {
        const sourceId = sourceIdOfEntry(lastStored(recordId) ?? '');
        return { recordId, reason, ...(sourceId ? { sourceId } : {}) };
      }),
    );
  }

  const nextIndex = new Map<string, string>();
  if (run.pass === 'incremental') for (const [id, e] of index) nextIndex.set(id, e);
  for (const [id, e] of seen) nextIndex.set(id, e);
  if (verdict.held) {
    // Held records stay indexed as stored, so the next (full) pass finds them absent and judges them again.
    for (const id of candidates.keys()) {
      const stored = lastStored(id);
      if (stored !== undefined) nextIndex.set(id, stored);
    }
  } else {
    for (const id of candidates.keys()) nextIndex.delete(id);
  }
  await saveHashIndex(db, run.msg.tenantId, run.msg.mappingId, nextIndex, shardContents, run.meter);

  const counts: SyncCounts = { ...run.counts, removed };
  const finishedAt = new Date(now).toISOString();
  const startedAt = Date.parse((await runStartedAt(db, run.lease)) ?? finishedAt);
  run.meter.reads++;
  await guardedCommit(
    run,
    (batch) =>
      batch.update(runRef(db, run.msg.tenantId, run.lease.runId), {
        status: verdict.held ? 'held' : 'succeeded',
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
          ...(verdict.held
            ? {
                message: `${verdict.candidates} of ${verdict.previousRecords} records would be removed (over the ${verdict.thresholdPercent}% safety threshold); nothing was removed. Confirm to apply.`,
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
async function handOver(run: Run): Promise<SyncOutcome> {
  await releaseWithProgress(run);
  await run.deps.publishSync({ ...run.msg, trigger: 'continuation', runId: run.lease.runId });
  run.log.info('invocation budget used; continuing in a new message', { pageNo: run.pageNo });
  return { status: 'continued', runId: run.lease.runId, pages: run.pageNo };
}

/** Writes what the run document has not yet seen and frees the lease for the next delivery at once. */
async function releaseWithProgress(run: Run): Promise<void> {
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
async function handleSourceFailure(run: Run, err: unknown): Promise<SyncOutcome> {
  const kind = err instanceof SourceError ? err.kind : null;
  const message = err instanceof Error ? err.message : String(err);
  switch (kind) {
    case 'reauthorize':
      await run.source.markNeedsReauthorization(run.msg.tenantId, message);
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

async function failRun(run: Run, reason: string): Promise<SyncOutcome> {
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
  return { status: 'failed', runId: run.lease.runId, reason };
}

/** One budget per tenant and database in this instance: its block of requests is shared by its mappings. */
const budgets = new WeakMap<Firestore, Map<string, RequestBudget>>();

function defaultBudget(deps: EngineDeps, tenantId: string): RequestBudget {
  let byTenant = budgets.get(deps.db);
  if (!byTenant) budgets.set(deps.db, (byTenant = new Map()));
  let b = byTenant.get(tenantId);
  if (!b) {
    b = sharedRequestBudget(deps.db, tenantId, deps.config.tenantQpm, deps.clock, {
      windowMs: deps.config.budgetWindowMs,
    });
    byTenant.set(tenantId, b);
  }
  return b;
}

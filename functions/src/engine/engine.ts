import type { Db as Firestore } from '../store/firestore.js';
import { loadHashIndex } from '../store/hash-index.js';
import { listEnabledLoginUsersMappings, readMapping } from '../store/mappings.js';
import { sharedRequestBudget, type RequestBudget } from '../store/request-budget.js';
import { loadPageDocs, recordRunError, runRef } from '../store/runs.js';
import { readTenant, type TenantDoc } from '../store/tenants.js';
import { removalCeilingOf } from '../store/tenant-settings.js';
import { backoffDelay } from './backoff-delay.js';
import { afterPage } from './decisions.js';
import {
  LeaseLostError,
  MAX_LISTING_RESTARTS,
  iso,
  isPreconditionFailure,
  type EngineDeps,
  type PendingRemoval,
  type Run,
  type SyncOutcome,
} from './engine-types.js';
import { FirestoreMeter } from './firestore-meter.js';
import { syncMessageSchema } from './messages.js';
import { planPage, sourceIdOfEntry, type PassView } from './page-plan.js';
import {
  checkpointOf,
  decodeCheckpoint,
  isPartitionedCursor,
  runPartitionedPass,
  type PageCommit,
  type PassCheckpoint,
} from './partitioned-pass.js';
import type { LoginUsersOwnership } from './record-mapper.js';
import { recordSinkFor } from './record-sink.js';
import { commitPage, completeRun, guardedCommit, handOver, handleSourceFailure } from './run-ledger.js';
import { SourceError, type SourceChange, type SourcePage, type SourceReader } from './source.js';
import { takeLease } from './take-lease.js';

export {
  MAX_STALLED_DELIVERIES,
  RetryLaterError,
  type EngineDeps,
  type SyncOutcome,
} from './engine-types.js';

/**
 * The one sync engine, for every source and both pass kinds. A sync message names a tenant and a mapping; the
 * engine takes the mapping's lease, asks the mapping's source for pages from the checkpoint, detects changes
 * against the hash index, writes what changed, checkpoints after every page, and at the end of a pass removes
 * what is gone (behind the removal threshold) and stores the index. Sources only read (engine/source.ts).
 */

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
  const stored = await readMapping(deps.db, msg.tenantId, msg.mappingId);
  if (!stored || !stored.enabled) return { status: 'dropped', reason: 'mapping missing or disabled' };
  // The tenant's removal ceiling (its settings, store/tenant-settings.ts) applies where it is stricter.
  const ceiling = removalCeilingOf(tenant);
  const mapping =
    ceiling !== null && ceiling < stored.removalThresholdPercent
      ? { ...stored, removalThresholdPercent: ceiling }
      : stored;
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
      writeRamp: deps.config.writeRamp,
      notify: deps.notify,
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
  const loginUsers = await loginUsersOwnership(run);
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

  /**
   * One page of the pass, first half: plan it, fold it into the run's picture (a later page is planned against
   * it, as in page order) and start its writes. The second half waits for the writes and commits the page with
   * `next` as the checkpoint; pages must be committed in the order they were prepared, and a page's checkpoint
   * may only cover pages prepared up to it. Splitting them lets a partitioned pass write several pages at once
   * while it still commits them one by one.
   */
  const preparePage = (changes: SourceChange[], retries: number): PageCommit => {
    const plan = planPage(mapping, changes, view, run.pass, run.source.label, loginUsers);
    foldPage(seen, pendingRemovals, plan.seen, plan.removed);
    if (bySource) {
      const m: Map<string, string> = bySource;
      for (const [id, e] of Object.entries(plan.seen)) m.set(sourceIdOfEntry(e), id);
    }
    const writing = run.sink.write(plan.writes);
    writing.catch(() => {}); // awaited by the commit; a pass that stops first must not leave it unhandled
    return async (next) => {
      const written = await writing;
      plan.counts.failed += written.failed;
      plan.errors.push(...written.errors);
      await commitPage(
        run,
        next,
        plan.counts,
        { seen: plan.seen, removed: plan.removed },
        retries,
        plan.errors,
      );
      await deps.afterPageCommitted?.({ runId: run.lease.runId, pageNo: run.pageNo });
    };
  };
  /** One page of the pass: plan, write, fold into the run's picture, commit with `next` as the checkpoint. */
  const processPage = (changes: SourceChange[], next: string | null, retries: number) =>
    preparePage(changes, retries)(next);

  // Partitions pay off only listed at once; one at a time they would only cost a request each.
  if (run.pass === 'full' && reader.partitionPage && deps.config.listingConcurrency > 1) {
    let start: PassCheckpoint | null = null;
    try {
      start = await partitionCheckpoint(run, reader, index.size);
    } catch (err) {
      return handleSourceFailure(run, err);
    }
    if (start) {
      const end = await runPartitionedPass(
        {
          run,
          reader,
          concurrency: deps.config.listingConcurrency,
          fetch: (call) => withRetries(run, call),
          processPage,
          preparePage,
          absentees: () => [...index.keys()].filter((id) => !seen.has(id)),
        },
        start,
      );
      if (end.kind === 'complete') {
        const resumeCursor = reader.partitionedResumeCursor?.() ?? null;
        return completeRun(run, index, shardContents, seen, pendingRemovals, resumeCursor);
      }
      if (end.kind === 'hand-over') return handOver(run);
      return handleSourceFailure(run, end.err);
    }
  }

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

    await processPage(page.changes, page.next, retries);

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
 * A login-users mapping shares login users with the tenant's other login-users mappings (one per org unit);
 * each user is the most specific one's (shared/mapping.ts loginUsersOwner). Read once per invocation, so a
 * mapping added or changed meanwhile counts from the next invocation on.
 */
async function loginUsersOwnership(run: Run): Promise<LoginUsersOwnership | undefined> {
  const { mapping } = run;
  if (mapping.target.kind !== 'loginUsers') return undefined;
  const stored = await listEnabledLoginUsersMappings(run.deps.db, run.msg.tenantId);
  run.meter.reads += Math.max(1, stored.length);
  // The running mapping as this run read it, whatever the listing says of it.
  const mappings = [...stored.filter((m) => m.id !== mapping.id), mapping];
  return { selfId: mapping.id, mappings };
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
  const promise = withRetries(run, () =>
    run.pass === 'incremental' && reader.changesPage && cursor !== null
      ? reader.changesPage(cursor)
      : reader.fullPage(cursor),
  ).then(({ value, retries }) => ({ page: value, retries }));
  promise.catch(() => {}); // a discarded prefetch must not become an unhandled rejection
  return promise;
}

/** A source call with bounded retries on retry_later (waiting what the source asked, at least the backoff). */
function withRetries<T>(run: Run, call: () => Promise<T>): Promise<{ value: T; retries: number }> {
  const { config, clock, log } = run.deps;
  const promise = (async () => {
    for (let attempt = 1; ; attempt++) {
      try {
        return { value: await call(), retries: attempt - 1 };
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

/**
 * Where a full pass listed in partitions starts or goes on: the checkpoint it left, or (on its first page) the
 * source's partitions. null: this pass walks one cursor (the source does not partition this listing, or the
 * run began as a sequential pass).
 */
async function partitionCheckpoint(
  run: Run,
  reader: SourceReader,
  knownObjects: number,
): Promise<PassCheckpoint | null> {
  if (isPartitionedCursor(run.cursor)) return decodeCheckpoint(run.cursor);
  if (run.cursor !== null || !reader.partitions) return null;
  const { value: keys } = await withRetries(run, () => reader.partitions!({ knownObjects }));
  return keys ? checkpointOf(keys) : null;
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

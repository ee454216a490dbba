import { FieldValue, type DocumentReference, type Firestore, type Timestamp } from '@google-cloud/firestore';
import { paths } from '../../../shared/firestore-paths.js';
import type { Mapping } from '../../../shared/mapping.js';
import { DEFAULT_BACKOFF, withDirectoryRetry, type BackoffPolicy } from '../sources/google/backoff.js';
import { DirectoryCallError, InvalidGrantError } from '../sources/google/directory-errors.js';
import type { DirectoryLister, DirectoryPage } from '../sources/google/directory-lister.js';
import { tenantRateLimiter } from '../sources/google/rate-limiter.js';
import { NotConnectedError } from '../sources/google/workspace-auth.js';
import type { Clock } from '../platform/clock.js';
import type { SyncConfig } from '../platform/config.js';
import type { Logger } from '../platform/log.js';
import { markNeedsReauthorization, readTenant } from '../store/tenants.js';
import { FirestoreMeter } from './firestore-meter.js';
import { loadHashIndex, saveHashIndex } from '../store/hash-index.js';
import { syncMessageSchema, type SyncMessage } from './messages.js';
import { mapSourceObject, type MappedRecord } from './record-mapper.js';
import { readMapping } from '../store/mappings.js';
import { recordSinkFor, type RecordSink } from './record-sink.js';
import { addCounts, zeroCounts, type SyncCounts } from './sync-counts.js';
import { ENDED_RUN_LEASE, acquireLease, type SyncState } from './sync-lease.js';

export interface SyncDeps {
  db: Firestore;
  config: SyncConfig;
  clock: Clock;
  log: Logger;
  /** The tenant's Directory API access; throws NotConnectedError / InvalidGrantError when it has none. */
  listerFor(tenantId: string): Promise<DirectoryLister>;
  publishSync(msg: SyncMessage): Promise<void>;
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
      meter: ReturnType<FirestoreMeter['snapshot']>;
    }
  | { status: 'failed'; runId: string | null; reason: string };

/** Thrown to have Pub/Sub deliver the message again (transient trouble, or another invocation holds the lease). */
export class RetryLaterError extends Error {
  override name = 'RetryLaterError';
}

interface FetchedPage {
  page: DirectoryPage;
  retries: number;
}

const MAX_RECORDED_ERRORS = 20;
const PAGE_DOC_TTL_MS = 7 * 24 * 3600 * 1000;
/**
 * Progress for the console goes to the run document at most this often: at one write per page it was a third of
 * a sync's bookkeeping writes. The lease document keeps the exact checkpoint either way.
 */
const RUN_PROGRESS_INTERVAL_MS = 2000;

interface RunContext {
  deps: SyncDeps;
  msg: SyncMessage;
  mapping: Mapping;
  runId: string;
  stateRef: DocumentReference;
  runRef: DocumentReference;
  stateUpdateTime: Timestamp;
  state: SyncState;
  meter: FirestoreMeter;
  /** Where records go: the mapping's object, or the merged people object (see record-sink.ts). */
  sink: RecordSink;
  startedAt: number;
  /** Run-document progress not yet written (it is written at most every RUN_PROGRESS_INTERVAL_MS). */
  progress: { writtenAt: number; pendingRetries: number };
}

export async function runSyncMessage(deps: SyncDeps, payload: unknown): Promise<SyncOutcome> {
  const parsed = syncMessageSchema.safeParse(payload);
  if (!parsed.success) {
    deps.log.warn('rejected malformed sync message', { issues: parsed.error.issues.map((i) => i.message) });
    return { status: 'dropped', reason: 'malformed message' };
  }
  const msg = parsed.data;
  const log = deps.log.child({ tenantId: msg.tenantId, mappingId: msg.mappingId, requestId: msg.requestId });
  const tenant = await readTenant(deps.db, msg.tenantId);
  if (!tenant || tenant.status !== 'active') {
    return { status: 'dropped', reason: `tenant is ${tenant?.status ?? 'unknown'}` };
  }
  const mapping = await readMapping(deps.db, msg.tenantId, msg.mappingId);
  if (!mapping || !mapping.enabled) return { status: 'dropped', reason: 'mapping missing or disabled' };

  const decision = await acquireLease(deps.db, msg, mapping, deps.clock.now(), deps.config.leaseMs);
  if (decision.kind === 'drop') {
    log.info('sync message needs no work', { reason: decision.reason });
    return { status: 'dropped', reason: decision.reason };
  }
  if (decision.kind === 'retry-later') throw new RetryLaterError(decision.reason);

  const runLog = log.child({ runId: decision.state.runId });
  const runId = decision.state.runId!;
  const meter = new FirestoreMeter();
  const ctx: RunContext = {
    deps: { ...deps, log: runLog },
    msg,
    mapping,
    runId,
    stateRef: deps.db.doc(paths.syncState(msg.tenantId, msg.mappingId)),
    runRef: deps.db.doc(paths.run(msg.tenantId, runId)),
    stateUpdateTime: decision.updateTime,
    state: decision.state,
    meter,
    sink: recordSinkFor({
      db: deps.db,
      clock: deps.clock,
      log: runLog,
      tenantId: msg.tenantId,
      mapping,
      runId,
      meter,
    }),
    startedAt: deps.clock.now(),
    progress: { writtenAt: 0, pendingRetries: 0 },
  };
  ctx.meter.reads += 4; // tenant, mapping, lease transaction read, lease re-read
  return runPages(ctx, decision.resumed);
}

async function runPages(ctx: RunContext, resumed: boolean): Promise<SyncOutcome> {
  const { deps, msg, mapping } = ctx;
  let lister: DirectoryLister;
  try {
    lister = await deps.listerFor(msg.tenantId);
  } catch (err) {
    if (err instanceof NotConnectedError || err instanceof InvalidGrantError) return stopForReauth(ctx, err);
    throw err;
  }

  const { index, shardContents } = await loadHashIndex(deps.db, msg.tenantId, msg.mappingId, ctx.meter);
  // recordId -> "hash|sourceId" for every record this run has seen so far, including earlier invocations.
  const seen = resumed ? await loadSeenPages(ctx) : new Map<string, string>();
  const limiter = tenantRateLimiter(msg.tenantId, deps.config.tenantQpm, deps.clock);
  const backoff: BackoffPolicy = { ...DEFAULT_BACKOFF, ...deps.config.backoff };
  const sourcePaths = mapping.fieldMap.map((f) => f.source);

  const fetchPage = (pageToken: string | null): Promise<FetchedPage> => {
    const fetched = { retries: 0 };
    const promise = (async () => {
      await limiter.acquire();
      const page = await withDirectoryRetry(
        () =>
          lister.listPage({
            entity: mapping.entity,
            pageToken,
            sourcePaths,
            ...(deps.config.pageSize ? { pageSize: deps.config.pageSize } : {}),
          }),
        backoff,
        deps.clock,
        {
          onRetry: (r) => {
            fetched.retries++;
            deps.log.info('retrying Directory call', r);
          },
        },
      );
      return { page, retries: fetched.retries };
    })();
    promise.catch(() => {}); // a discarded prefetch must not become an unhandled rejection
    return promise;
  };

  // The next page is fetched while the current one is written: API latency and Firestore writes overlap.
  let prefetched: { token: string | null; promise: Promise<FetchedPage> } | null = null;
  for (;;) {
    if (deps.clock.now() - ctx.startedAt > deps.config.invocationBudgetMs) return continueLater(ctx);

    let page: DirectoryPage;
    let retries: number;
    try {
      const pending: Promise<FetchedPage> =
        prefetched && prefetched.token === ctx.state.pageToken
          ? prefetched.promise
          : fetchPage(ctx.state.pageToken);
      prefetched = null;
      ({ page, retries } = await pending);
    } catch (err) {
      if (err instanceof InvalidGrantError) return stopForReauth(ctx, err);
      if (err instanceof DirectoryCallError && err.classification.kind === 'invalid_page_token') {
        // Page tokens expire (three days for users); the records seen so far still count, start the listing over.
        await recordError(ctx, 'page token expired; restarting the listing from the first page');
        ctx.state = { ...ctx.state, pageToken: null };
        continue;
      }
      if (err instanceof DirectoryCallError && err.classification.kind === 'forbidden') {
        return failRun(ctx, `Google refused the listing: ${err.classification.reason}`);
      }
      await recordError(ctx, err instanceof Error ? err.message : String(err));
      await flushProgress(ctx);
      await releaseLease(ctx);
      throw new RetryLaterError(`page ${ctx.state.pageNo} failed; Pub/Sub will redeliver and resume`);
    }
    if (page.nextPageToken !== null)
      prefetched = { token: page.nextPageToken, promise: fetchPage(page.nextPageToken) };

    const pageCounts = zeroCounts();
    const writes: MappedRecord[] = [];
    const pageEntries: Record<string, string> = {};
    const pageErrors: string[] = [];
    for (const item of page.items) {
      pageCounts.seen++;
      const outcome = mapSourceObject(mapping, item);
      if (outcome.kind === 'out_of_scope') {
        pageCounts.outOfScope++;
        continue;
      }
      if (outcome.kind === 'skipped') {
        pageCounts.skipped++;
        continue;
      }
      const r = outcome.record;
      const already = seen.get(r.recordId) ?? pageEntries[r.recordId];
      if (already !== undefined) {
        const otherSource = already.slice(already.indexOf('|') + 1);
        if (otherSource !== r.sourceId) {
          // Duplicate serial numbers happen after re-enrolment: keep the first, report the rest.
          pageCounts.failed++;
          pageErrors.push(
            `duplicate ${mapping.identifier} "${r.identifierValue}" (${r.sourceId} and ${otherSource}); kept the first`,
          );
        }
        continue;
      }
      pageEntries[r.recordId] = `${r.hash}|${r.sourceId}`;
      const previous = index.get(r.recordId);
      if (previous === r.hash) {
        pageCounts.unchanged++;
      } else {
        if (previous === undefined) pageCounts.created++;
        else pageCounts.updated++;
        writes.push(r);
      }
    }

    await ctx.sink.write(writes);
    for (const [id, v] of Object.entries(pageEntries)) seen.set(id, v);
    await commitCheckpoint(ctx, page.nextPageToken, pageCounts, pageEntries, retries, pageErrors);
    await deps.afterPageCommitted?.({ runId: ctx.runId, pageNo: ctx.state.pageNo });
    if (page.nextPageToken === null) return completeRun(ctx, index, shardContents, seen);
  }
}

/**
 * One atomic commit per page: checkpoint, the page's seen ids and the run's progress move together, guarded by
 * the lease document's update time. Record writes before it are idempotent, so a crash in between only redoes
 * them.
 */
async function commitCheckpoint(
  ctx: RunContext,
  nextPageToken: string | null,
  pageCounts: SyncCounts,
  pageEntries: Record<string, string>,
  retries: number,
  pageErrors: string[],
): Promise<void> {
  const { db, clock, config } = ctx.deps;
  const now = clock.now();
  const pageNo = ctx.state.pageNo + 1;
  const counts = addCounts(ctx.state.counts, pageCounts);
  const batch = db.batch();
  batch.update(
    ctx.stateRef,
    {
      pageToken: nextPageToken,
      pageNo,
      counts,
      leaseExpiresAt: now + config.leaseMs,
      updatedAt: new Date(now).toISOString(),
    },
    { lastUpdateTime: ctx.stateUpdateTime },
  );
  batch.set(db.doc(`${paths.runPages(ctx.msg.tenantId, ctx.runId)}/${String(pageNo).padStart(6, '0')}`), {
    // A JSON string rather than a map, so the page's ids are not each indexed.
    entries: JSON.stringify(pageEntries),
    expireAt: new Date(now + PAGE_DOC_TTL_MS),
  });
  ctx.progress.pendingRetries += retries;
  const writeProgress =
    pageErrors.length > 0 ||
    (nextPageToken !== null && now - ctx.progress.writtenAt >= RUN_PROGRESS_INTERVAL_MS);
  if (writeProgress) {
    const runUpdate: Record<string, unknown> = {
      counts,
      pages: pageNo,
      apiRetries: FieldValue.increment(ctx.progress.pendingRetries),
    };
    if (pageErrors.length > 0) {
      runUpdate.errors = FieldValue.arrayUnion(
        ...pageErrors
          .slice(0, MAX_RECORDED_ERRORS)
          .map((m) => ({ at: new Date(now).toISOString(), message: m })),
      );
    }
    batch.update(ctx.runRef, runUpdate);
    ctx.progress = { writtenAt: now, pendingRetries: 0 };
  }
  const results = await batch.commit();
  ctx.meter.bookkeepingWrites += writeProgress ? 3 : 2;
  ctx.stateUpdateTime = results[0]!.writeTime;
  ctx.state = { ...ctx.state, pageToken: nextPageToken, pageNo, counts };
}

async function loadSeenPages(ctx: RunContext): Promise<Map<string, string>> {
  const snap = await ctx.deps.db.collection(paths.runPages(ctx.msg.tenantId, ctx.runId)).get();
  ctx.meter.reads += Math.max(1, snap.size);
  const seen = new Map<string, string>();
  for (const doc of snap.docs) {
    for (const [id, v] of Object.entries(
      JSON.parse(String(doc.get('entries') ?? '{}')) as Record<string, string>,
    )) {
      seen.set(id, v);
    }
  }
  return seen;
}

async function completeRun(
  ctx: RunContext,
  index: Map<string, string>,
  shardContents: Map<string, string>,
  seen: Map<string, string>,
): Promise<SyncOutcome> {
  const { db, clock } = ctx.deps;
  const now = clock.now();
  const candidates = [...index.keys()].filter((id) => !seen.has(id));
  const share = index.size === 0 ? 0 : (candidates.length / index.size) * 100;
  const held =
    candidates.length > 0 && share > ctx.mapping.removalThresholdPercent && ctx.msg.confirmRemovals !== true;

  if (!held && candidates.length > 0) await ctx.sink.markRemoved(candidates);

  const nextIndex = new Map<string, string>();
  for (const [id, v] of seen) nextIndex.set(id, v.slice(0, v.indexOf('|')));
  if (held) for (const id of candidates) nextIndex.set(id, index.get(id)!);
  await saveHashIndex(db, ctx.msg.tenantId, ctx.msg.mappingId, nextIndex, shardContents, ctx.meter);

  const counts: SyncCounts = { ...ctx.state.counts, removed: held ? 0 : candidates.length };
  const finishedAt = new Date(now).toISOString();
  const runStartedAt = Date.parse(
    ((await ctx.runRef.get()).get('startedAt') as string | undefined) ?? finishedAt,
  );
  ctx.meter.reads++;
  const batch = db.batch();
  batch.update(
    ctx.stateRef,
    {
      ...ENDED_RUN_LEASE,
      pageToken: null,
      lastRequestId: ctx.msg.requestId,
      lastCompletedRunId: ctx.runId,
      lastCompletedAt: finishedAt,
      updatedAt: finishedAt,
    },
    { lastUpdateTime: ctx.stateUpdateTime },
  );
  batch.update(ctx.runRef, {
    status: held ? 'held' : 'succeeded',
    finishedAt,
    durationMs: now - runStartedAt,
    counts,
    pages: ctx.state.pageNo,
    apiRetries: FieldValue.increment(ctx.progress.pendingRetries),
    removal: {
      candidates: candidates.length,
      previousRecords: index.size,
      sharePercent: Math.round(share * 10) / 10,
      thresholdPercent: ctx.mapping.removalThresholdPercent,
      held,
      ...(held
        ? {
            message: `${candidates.length} of ${index.size} records would be removed (over the ${ctx.mapping.removalThresholdPercent}% safety threshold); nothing was removed. Confirm to apply.`,
          }
        : {}),
    },
    firestore: { ...ctx.meter.snapshot(), bookkeepingWrites: ctx.meter.bookkeepingWrites + 2 },
  });
  await batch.commit();
  ctx.meter.bookkeepingWrites += 2;
  ctx.deps.log.info('sync run finished', { counts, held, firestore: ctx.meter.snapshot() });
  return { status: 'completed', runId: ctx.runId, counts, held, meter: ctx.meter.snapshot() };
}

async function continueLater(ctx: RunContext): Promise<SyncOutcome> {
  await flushProgress(ctx);
  await releaseLease(ctx);
  await ctx.deps.publishSync({ ...ctx.msg, trigger: 'continuation', runId: ctx.runId });
  ctx.deps.log.info('invocation budget used; continuing in a new message', { pageNo: ctx.state.pageNo });
  return { status: 'continued', runId: ctx.runId, pages: ctx.state.pageNo };
}

/** Writes what the run document has not yet seen, before this invocation hands the run on. */
async function flushProgress(ctx: RunContext): Promise<void> {
  await ctx.runRef.update({
    counts: ctx.state.counts,
    pages: ctx.state.pageNo,
    apiRetries: FieldValue.increment(ctx.progress.pendingRetries),
  });
  ctx.meter.bookkeepingWrites++;
  ctx.progress = { writtenAt: ctx.deps.clock.now(), pendingRetries: 0 };
}

/** Lets the next delivery (continuation or redelivery) take over at once instead of waiting for expiry. */
async function releaseLease(ctx: RunContext): Promise<void> {
  const now = new Date(ctx.deps.clock.now()).toISOString();
  const [res] = await ctx.deps.db
    .batch()
    .update(
      ctx.stateRef,
      { leaseId: null, leaseExpiresAt: 0, updatedAt: now },
      { lastUpdateTime: ctx.stateUpdateTime },
    )
    .commit();
  ctx.meter.bookkeepingWrites++;
  ctx.stateUpdateTime = res!.writeTime;
}

async function recordError(ctx: RunContext, message: string): Promise<void> {
  await ctx.runRef.update({
    errors: FieldValue.arrayUnion({ at: new Date(ctx.deps.clock.now()).toISOString(), message }),
  });
  ctx.meter.bookkeepingWrites++;
}

async function failRun(ctx: RunContext, reason: string): Promise<SyncOutcome> {
  const now = new Date(ctx.deps.clock.now()).toISOString();
  const batch = ctx.deps.db.batch();
  batch.update(
    ctx.stateRef,
    {
      ...ENDED_RUN_LEASE,
      pageToken: null,
      lastRequestId: ctx.msg.requestId,
      updatedAt: now,
    },
    { lastUpdateTime: ctx.stateUpdateTime },
  );
  batch.update(ctx.runRef, {
    status: 'failed',
    finishedAt: now,
    errors: FieldValue.arrayUnion({ at: now, message: reason }),
  });
  await batch.commit();
  ctx.deps.log.warn('sync run failed', { reason });
  return { status: 'failed', runId: ctx.runId, reason };
}

/** invalid_grant is final until an admin re-authorizes: stop this tenant's syncs, no retry storm. */
async function stopForReauth(ctx: RunContext, err: Error): Promise<SyncOutcome> {
  const reason =
    err instanceof InvalidGrantError
      ? 'Google revoked or expired the authorization (invalid_grant); re-authorize the connection'
      : 'no stored Google authorization; connect Google Workspace';
  await markNeedsReauthorization(ctx.deps.db, ctx.msg.tenantId, reason, new Date(ctx.deps.clock.now()));
  return failRun(ctx, reason);
}

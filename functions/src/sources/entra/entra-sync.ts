import { randomUUID } from 'node:crypto';
import {
  FieldValue,
  type DocumentReference,
  type Firestore,
  type Timestamp,
  type WriteBatch,
} from '@google-cloud/firestore';
import { paths } from '../../../../shared/firestore-paths.js';
import { PEOPLE_OBJECT } from '../../../../shared/mapping.js';
import { PeopleStore, type ApplyResult, type PersonChange } from '../../store/people.js';
import { personRecordId } from '../../people/person-record-id.js';
import type { Clock } from '../../platform/clock.js';
import type { Logger } from '../../platform/log.js';
import type { SecretStore } from '../../secrets/secret-store.js';
import { tenantDocSchema } from '../../store/tenants.js';
import { FirestoreMeter } from '../../engine/firestore-meter.js';
import { loadHashIndex, saveHashIndex } from '../../store/hash-index.js';
import { ENTRA_PEOPLE_SYNC_ID, syncMessageSchema, type SyncMessage } from '../../engine/messages.js';
import { addCounts, zeroCounts, type SyncCounts } from '../../engine/sync-counts.js';
import { ENDED_RUN_LEASE, initialRunDoc, newRunId } from '../../engine/sync-lease.js';
import { RetryLaterError } from '../../engine/sync-runner.js';
import {
  loadEntraConnection,
  markEntraState,
  parseTenantEntra,
  type EntraConnection,
  type EntraConnectionState,
} from './entra-connection.js';
import { EntraError, type EntraErrorCode } from './entra-error.js';
import { EntraGraphClient, type DeltaPage } from './entra-graph-client.js';
import { mapGraphUser } from './map-graph-user.js';

/**
 * The Entra source of the merged people object, one delta round per run:
 *
 *   - the round starts from the stored deltaLink (none, or expired = a full round listing everyone);
 *   - each page is mapped (mapGraphUser) and applied to the people store as source 'entra';
 *   - an index Entra object id -> email (sharded like the Google hash index, under syncState/entra-people/index)
 *     routes `@removed` entries, which carry only the id, and address changes (old address loses its Entra
 *     source, new address gains it);
 *   - a full round removes from the Entra source everyone indexed but not returned;
 *   - the new deltaLink, the index and the run's result are stored only after every page was applied, so a
 *     failed round is simply repeated (applying a change twice writes nothing the second time).
 *
 * One run per tenant at a time: a lease on `syncState/entra-people`, taken in a transaction.
 */

export const ENTRA_PEOPLE_MAPPING_NAME = 'Microsoft Entra users';

export interface EntraSyncDeps {
  db: Firestore;
  clock: Clock;
  log: Logger;
  secrets: SecretStore;
  /** How long a run may go without renewing its lease (renewed after every page). */
  leaseMs: number;
  /** The Graph client for a connection; tests pass faster retries. Throttling and retries live in the client. */
  graphClientFor?(connection: EntraConnection): EntraGraphClient;
  /** Test seam: after each applied page. */
  afterPage?(info: { runId: string; pageNo: number }): Promise<void> | void;
}

export interface EntraSyncRequest {
  tenantId: string;
  /** Identifies the request; a redelivered request never starts a second run. */
  requestId?: string;
  trigger?: SyncMessage['trigger'];
  /** An admin confirmed that a full round's removals above the safety threshold are intended. */
  confirmRemovals?: boolean;
  /** The run id to use if this request starts a run (the refresh webhook answers with it). */
  plannedRunId?: string;
}

/** Like a Google mapping's default: a full round that would remove more than this share stops and asks. */
export const DEFAULT_ENTRA_REMOVAL_THRESHOLD_PERCENT = 10;

export type EntraSyncOutcome =
  | { status: 'dropped'; reason: string }
  | {
      status: 'completed';
      runId: string;
      counts: SyncCounts;
      fullSync: boolean;
      held: boolean;
      meter: ReturnType<FirestoreMeter['snapshot']>;
    }
  | { status: 'failed'; runId: string; reason: string };

/** `tenants/{t}/syncState/entra-people`. */
export interface EntraSyncState {
  mappingId: typeof ENTRA_PEOPLE_SYNC_ID;
  status: 'idle' | 'running';
  runId: string | null;
  requestId: string | null;
  leaseId: string | null;
  leaseExpiresAt: number;
  /** Where the next round starts; null = full round. */
  deltaLink: string | null;
  lastRequestId: string | null;
  lastCompletedRunId: string | null;
  lastCompletedAt: string | null;
  lastFullSyncAt: string | null;
  updatedAt: string;
}

/** Errors an admin has to fix: the connection is marked and syncs stop until then (no retry storm). */
const STOP_STATES: Partial<Record<EntraErrorCode, EntraConnectionState>> = {
  CONSENT_REQUIRED: 'needs_consent',
  PERMISSION_DENIED: 'needs_consent',
  INVALID_CLIENT: 'needs_credentials',
  TENANT_NOT_FOUND: 'needs_credentials',
  INVALID_CONFIGURATION: 'needs_credentials',
};

const MAX_RECORDED_ERRORS = 20;

class LeaseLostError extends Error {
  override name = 'LeaseLostError';
}

interface RunContext {
  deps: EntraSyncDeps;
  log: Logger;
  tenantId: string;
  requestId: string;
  runId: string;
  stateRef: DocumentReference;
  runRef: DocumentReference;
  stateUpdateTime: Timestamp;
  meter: FirestoreMeter;
  startedAt: number;
  counts: SyncCounts;
  pages: number;
  errors: string[];
  confirmRemovals: boolean;
  removalThresholdPercent: number;
}

/** The Entra people sync travels as a sync message with mappingId `entra-people`; null for any other message. */
export function entraSyncRequestOf(payload: unknown): EntraSyncRequest | null {
  const parsed = syncMessageSchema.safeParse(payload);
  if (!parsed.success || parsed.data.mappingId !== ENTRA_PEOPLE_SYNC_ID) return null;
  const m = parsed.data;
  return {
    tenantId: m.tenantId,
    requestId: m.requestId,
    trigger: m.trigger,
    ...(m.confirmRemovals ? { confirmRemovals: true } : {}),
    ...(m.plannedRunId ? { plannedRunId: m.plannedRunId } : {}),
  };
}

export async function runEntraPeopleSync(
  deps: EntraSyncDeps,
  request: EntraSyncRequest,
): Promise<EntraSyncOutcome> {
  const { db } = deps;
  const tenantId = request.tenantId;
  const requestId = request.requestId ?? `entra:${randomUUID()}`;
  const log = deps.log.child({ tenantId, mappingId: ENTRA_PEOPLE_SYNC_ID, requestId });

  const tenantSnap = await db.doc(paths.tenant(tenantId)).get();
  const tenant = tenantDocSchema.safeParse(tenantSnap.data() ?? null);
  if (!tenantSnap.exists || !tenant.success || tenant.data.status !== 'active') {
    return { status: 'dropped', reason: `tenant is ${tenant.success ? tenant.data.status : 'unknown'}` };
  }
  const entra = parseTenantEntra(tenant.data.entra);
  if (!entra) return { status: 'dropped', reason: 'Microsoft Entra is not connected' };
  if (entra.state !== 'connected')
    return { status: 'dropped', reason: `the Entra connection is ${entra.state}` };

  const lease = await acquireEntraLease(
    deps,
    tenantId,
    requestId,
    request.trigger ?? 'manual',
    request.plannedRunId,
  );
  if (lease.kind === 'drop') {
    log.info('Entra sync needs no work', { reason: lease.reason });
    return { status: 'dropped', reason: lease.reason };
  }
  const ctx: RunContext = {
    deps,
    log: log.child({ runId: lease.runId }),
    tenantId,
    requestId,
    runId: lease.runId,
    stateRef: db.doc(paths.syncState(tenantId, ENTRA_PEOPLE_SYNC_ID)),
    runRef: db.doc(paths.run(tenantId, lease.runId)),
    stateUpdateTime: lease.updateTime,
    meter: new FirestoreMeter(),
    startedAt: deps.clock.now(),
    counts: zeroCounts(),
    pages: 0,
    errors: [],
    confirmRemovals: request.confirmRemovals === true,
    removalThresholdPercent: removalThresholdOf(tenantSnap.get('entraRemovalThresholdPercent')),
  };
  ctx.meter.reads += 3; // tenant, lease transaction read, lease re-read

  try {
    const loaded = await loadEntraConnection(deps, tenantId, tenant.data.entra);
    if (loaded.kind !== 'ok') {
      const reason = loaded.kind === 'invalid' ? loaded.reason : 'Microsoft Entra is not connected';
      await markEntraState(db, tenantId, 'needs_credentials', reason, new Date(deps.clock.now()));
      return await failRun(ctx, reason, { final: true });
    }
    return await runRound(ctx, loaded.connection, lease.deltaLink);
  } catch (err) {
    return handleFailure(ctx, err);
  }
}

async function handleFailure(ctx: RunContext, err: unknown): Promise<EntraSyncOutcome> {
  if (err instanceof LeaseLostError) {
    // Another invocation took the lease over (ours expired): it owns the state and the run now.
    ctx.log.warn('Entra sync lost its lease; stopping', { reason: err.message });
    return { status: 'failed', runId: ctx.runId, reason: err.message };
  }
  if (err instanceof EntraError) {
    const stopState = STOP_STATES[err.code];
    if (stopState) {
      await markEntraState(ctx.deps.db, ctx.tenantId, stopState, err.message, new Date(ctx.deps.clock.now()));
      ctx.log.warn('Entra sync stopped until an admin acts', { errorCode: err.code, state: stopState });
      return failRun(ctx, err.message, { final: true });
    }
    if (err.retryable) {
      // Throttled or unavailable after the client's own retries: Pub/Sub redelivers later, with its backoff.
      await failRun(ctx, err.message, { final: false });
      throw new RetryLaterError(`Entra sync of ${ctx.tenantId}: ${err.code}`);
    }
    return failRun(ctx, err.message, { final: true });
  }
  await failRun(ctx, err instanceof Error ? err.message : String(err), { final: false }).catch(
    () => undefined,
  );
  throw err;
}

type LeaseDecision =
  | { kind: 'acquired'; runId: string; deltaLink: string | null; updateTime: Timestamp }
  | { kind: 'drop'; reason: string };

function idleEntraState(now: number): EntraSyncState {
  return {
    mappingId: ENTRA_PEOPLE_SYNC_ID,
    status: 'idle',
    runId: null,
    requestId: null,
    leaseId: null,
    leaseExpiresAt: 0,
    deltaLink: null,
    lastRequestId: null,
    lastCompletedRunId: null,
    lastCompletedAt: null,
    lastFullSyncAt: null,
    updatedAt: new Date(now).toISOString(),
  };
}

/** In one transaction: start a run, or drop the request (a run is in progress, or this request already ran). */
async function acquireEntraLease(
  deps: EntraSyncDeps,
  tenantId: string,
  requestId: string,
  trigger: SyncMessage['trigger'],
  plannedRunId: string | undefined,
): Promise<LeaseDecision> {
  const { db } = deps;
  const now = deps.clock.now();
  const nowIso = new Date(now).toISOString();
  const stateRef = db.doc(paths.syncState(tenantId, ENTRA_PEOPLE_SYNC_ID));
  const decision = await db.runTransaction(
    async (
      tx,
    ): Promise<
      { kind: 'ok'; runId: string; deltaLink: string | null } | { kind: 'drop'; reason: string }
    > => {
      const snap = await tx.get(stateRef);
      const state: EntraSyncState = {
        ...idleEntraState(now),
        ...(snap.data() as Partial<EntraSyncState> | undefined),
      };
      if (state.leaseId !== null && state.leaseExpiresAt > now) {
        return {
          kind: 'drop',
          reason: `Entra run ${state.runId} is in progress; this request is covered by it`,
        };
      }
      if (requestId === state.lastRequestId) {
        return {
          kind: 'drop',
          reason: `request ${requestId} was already handled (run ${state.lastCompletedRunId})`,
        };
      }
      if (state.status === 'running' && state.runId) {
        // Its invocation died without finishing: nothing of it was committed but idempotent people writes.
        tx.set(
          db.doc(paths.run(tenantId, state.runId)),
          {
            status: 'failed',
            finishedAt: nowIso,
            errors: FieldValue.arrayUnion({
              at: nowIso,
              message: 'the invocation stopped before finishing; a later run took over',
            }),
          },
          { merge: true },
        );
      }
      const runId = plannedRunId ?? newRunId(now);
      tx.set(stateRef, {
        ...state,
        status: 'running',
        runId,
        requestId,
        leaseId: randomUUID(),
        leaseExpiresAt: now + deps.leaseMs,
        updatedAt: nowIso,
      } satisfies EntraSyncState);
      tx.set(
        db.doc(paths.run(tenantId, runId)),
        initialRunDoc({
          runId,
          tenantId,
          mappingId: ENTRA_PEOPLE_SYNC_ID,
          mappingName: ENTRA_PEOPLE_MAPPING_NAME,
          mappingVersion: null,
          source: 'entra',
          entity: 'users',
          objectId: PEOPLE_OBJECT,
          trigger,
          requestId,
          startedAt: nowIso,
          fullSync: state.deltaLink === null,
        }),
      );
      return { kind: 'ok', runId, deltaLink: state.deltaLink };
    },
  );
  if (decision.kind === 'drop') return decision;
  // The update time guards every later state write: a run that lost its lease cannot overwrite newer state.
  const snap = await stateRef.get();
  return {
    kind: 'acquired',
    runId: decision.runId,
    deltaLink: decision.deltaLink,
    updateTime: snap.updateTime!,
  };
}

async function runRound(
  ctx: RunContext,
  connection: EntraConnection,
  storedDeltaLink: string | null,
): Promise<EntraSyncOutcome> {
  const { deps, tenantId } = ctx;
  const client = deps.graphClientFor?.(connection) ?? new EntraGraphClient(connection);
  const { index, shardContents } = await loadHashIndex(deps.db, tenantId, ENTRA_PEOPLE_SYNC_ID, ctx.meter);
  const previousSize = index.size;
  const store = await PeopleStore.open(deps.db, tenantId, { meter: ctx.meter, log: ctx.log });
  /** Entra object ids returned by this round (a full round removes everyone else). */
  const returned = new Set<string>();

  const round = (deltaLink: string | null) => {
    returned.clear();
    return client.deltaUsers({
      ...(deltaLink ? { deltaLink } : {}),
      onPage: async (page) => {
        await applyPage(ctx, store, index, returned, page);
      },
    });
  };

  let result: Awaited<ReturnType<typeof round>>;
  try {
    result = await round(storedDeltaLink);
  } catch (err) {
    const expired = err instanceof EntraError && err.code === 'RESYNC_REQUIRED';
    // A stored link Graph no longer accepts (or that no longer points at the configured Graph) = start over.
    const unusable = err instanceof EntraError && err.code === 'INVALID_ARGUMENT' && storedDeltaLink !== null;
    if (!expired && !unusable) throw err;
    ctx.errors.push(`${(err as EntraError).message}; ran a full sync instead`);
    ctx.log.info('Entra delta state unusable; running a full round', { errorCode: (err as EntraError).code });
    result = await round(null);
  }

  let candidates: string[] = [];
  let held = false;
  if (result.fullSync) {
    candidates = [...index.keys()].filter((id) => !returned.has(id));
    const share = previousSize === 0 ? 0 : (candidates.length / previousSize) * 100;
    held = candidates.length > 0 && share > ctx.removalThresholdPercent && !ctx.confirmRemovals;
    if (!held) {
      const changes: PersonChange[] = candidates.map((id) => ({
        kind: 'remove',
        recordId: personRecordId(index.get(id)!),
        sourceId: id,
        reason: 'not returned by Microsoft Entra in a full sync',
      }));
      for (const id of candidates) index.delete(id);
      const applied = await store.apply(changes, applyContext(ctx));
      ctx.counts = addCounts(ctx.counts, { removed: applied.removed, failed: applied.failed });
      noteErrors(ctx, applied);
    }
  }
  await saveHashIndex(deps.db, tenantId, ENTRA_PEOPLE_SYNC_ID, index, shardContents, ctx.meter);
  // A held round keeps no delta link: deltas would never report the missing users again, so the next round is
  // full once more, and holds again until an admin confirms.
  return completeRun(ctx, held ? null : result.deltaLink, result.fullSync, {
    candidates: candidates.length,
    previousRecords: previousSize,
    held,
  });
}

function removalThresholdOf(value: unknown): number {
  return typeof value === 'number' && value >= 0 && value <= 100
    ? value
    : DEFAULT_ENTRA_REMOVAL_THRESHOLD_PERCENT;
}

function applyContext(ctx: RunContext) {
  return {
    source: 'entra' as const,
    at: new Date(ctx.deps.clock.now()).toISOString(),
    runId: ctx.runId,
    writer: ENTRA_PEOPLE_SYNC_ID,
  };
}

function noteErrors(ctx: RunContext, applied: ApplyResult): void {
  for (const e of applied.errors) if (ctx.errors.length < MAX_RECORDED_ERRORS) ctx.errors.push(e);
}

const REMOVED_REASONS: Record<string, string> = {
  changed: 'deleted in Microsoft Entra (restorable for 30 days)',
  deleted: 'permanently deleted in Microsoft Entra',
};

/** Maps one delta page to person changes, keeps the id -> email index current, applies, renews the lease. */
async function applyPage(
  ctx: RunContext,
  store: PeopleStore,
  index: Map<string, string>,
  returned: Set<string>,
  page: DeltaPage,
): Promise<void> {
  const changes: PersonChange[] = [];
  const pageCounts = zeroCounts();
  const remove = (email: string, sourceId: string, reason: string): PersonChange => ({
    kind: 'remove',
    recordId: personRecordId(email),
    sourceId,
    reason,
  });

  for (const user of page.users) {
    pageCounts.seen++;
    returned.add(user.id);
    const previous = index.get(user.id);
    const mapped = mapGraphUser(user);
    if (mapped.kind === 'skipped') {
      pageCounts.skipped++;
      // Was a person (e.g. a guest whose mail was cleared): no longer one.
      if (previous !== undefined)
        changes.push(remove(previous, user.id, `no longer a person in Microsoft Entra (${mapped.reason})`));
      index.delete(user.id);
      continue;
    }
    const email = mapped.person.email;
    if (previous !== undefined && previous !== email) {
      changes.push(remove(previous, user.id, `address changed in Microsoft Entra to ${email}`));
    }
    changes.push({ kind: 'upsert', person: mapped.person });
    index.set(user.id, email);
  }
  for (const gone of page.removed) {
    pageCounts.seen++;
    returned.delete(gone.id);
    const previous = index.get(gone.id);
    if (previous === undefined) continue;
    changes.push(
      remove(
        previous,
        gone.id,
        REMOVED_REASONS[gone.reason] ?? `removed in Microsoft Entra (${gone.reason})`,
      ),
    );
    index.delete(gone.id);
  }

  const applied = await store.apply(changes, applyContext(ctx));
  pageCounts.created = applied.created;
  pageCounts.updated = applied.updated;
  pageCounts.unchanged = applied.unchanged + applied.ignored;
  pageCounts.removed = applied.removed;
  pageCounts.failed = applied.failed;
  noteErrors(ctx, applied);
  ctx.counts = addCounts(ctx.counts, pageCounts);
  ctx.pages++;
  await renewLease(ctx);
  await ctx.deps.afterPage?.({ runId: ctx.runId, pageNo: ctx.pages });
}

/** Extends the lease and records progress; fails if another invocation took the lease over. */
async function renewLease(ctx: RunContext): Promise<void> {
  const now = ctx.deps.clock.now();
  const batch = ctx.deps.db.batch();
  batch.update(
    ctx.stateRef,
    { leaseExpiresAt: now + ctx.deps.leaseMs, updatedAt: new Date(now).toISOString() },
    { lastUpdateTime: ctx.stateUpdateTime },
  );
  batch.update(ctx.runRef, { counts: ctx.counts, pages: ctx.pages });
  ctx.stateUpdateTime = (await commitGuarded(batch))[0]!.writeTime;
  ctx.meter.bookkeepingWrites += 2;
}

async function commitGuarded(batch: WriteBatch) {
  try {
    return await batch.commit();
  } catch (err) {
    if ((err as { code?: unknown }).code === 9)
      throw new LeaseLostError('the Entra sync lease was taken over by another invocation');
    throw err;
  }
}

async function completeRun(
  ctx: RunContext,
  deltaLink: string | null,
  fullSync: boolean,
  removal: { candidates: number; previousRecords: number; held: boolean },
): Promise<EntraSyncOutcome> {
  const now = ctx.deps.clock.now();
  const finishedAt = new Date(now).toISOString();
  const batch = ctx.deps.db.batch();
  batch.update(
    ctx.stateRef,
    {
      ...ENDED_RUN_LEASE,
      deltaLink,
      lastRequestId: ctx.requestId,
      lastCompletedRunId: ctx.runId,
      lastCompletedAt: finishedAt,
      ...(fullSync ? { lastFullSyncAt: finishedAt } : {}),
      updatedAt: finishedAt,
    },
    { lastUpdateTime: ctx.stateUpdateTime },
  );
  const sharePercent =
    removal.previousRecords === 0
      ? 0
      : Math.round((removal.candidates / removal.previousRecords) * 1000) / 10;
  batch.update(ctx.runRef, {
    status: removal.held ? 'held' : 'succeeded',
    finishedAt,
    durationMs: now - ctx.startedAt,
    counts: ctx.counts,
    pages: ctx.pages,
    fullSync,
    removal: fullSync
      ? {
          candidates: removal.candidates,
          previousRecords: removal.previousRecords,
          sharePercent,
          thresholdPercent: ctx.removalThresholdPercent,
          held: removal.held,
          ...(removal.held
            ? {
                message: `${removal.candidates} of ${removal.previousRecords} people would lose their Microsoft Entra source (over the ${ctx.removalThresholdPercent}% safety threshold); nothing was removed. Confirm to apply.`,
              }
            : {}),
        }
      : null,
    ...(ctx.errors.length > 0
      ? {
          errors: FieldValue.arrayUnion(
            ...ctx.errors.slice(0, MAX_RECORDED_ERRORS).map((message) => ({ at: finishedAt, message })),
          ),
        }
      : {}),
    firestore: { ...ctx.meter.snapshot(), bookkeepingWrites: ctx.meter.bookkeepingWrites + 2 },
  });
  await commitGuarded(batch);
  ctx.meter.bookkeepingWrites += 2;
  ctx.log.info('Entra people sync finished', {
    counts: ctx.counts,
    fullSync,
    firestore: ctx.meter.snapshot(),
  });
  return {
    status: 'completed',
    runId: ctx.runId,
    counts: ctx.counts,
    fullSync,
    held: removal.held,
    meter: ctx.meter.snapshot(),
  };
}

/**
 * Ends the run as failed and frees the lease. `final`: this request is done (ack it, the next tick tries again);
 * otherwise the same request may run again (Pub/Sub redelivery).
 */
async function failRun(
  ctx: RunContext,
  reason: string,
  { final }: { final: boolean },
): Promise<EntraSyncOutcome> {
  const now = new Date(ctx.deps.clock.now()).toISOString();
  const batch = ctx.deps.db.batch();
  batch.update(
    ctx.stateRef,
    {
      ...ENDED_RUN_LEASE,
      ...(final ? { lastRequestId: ctx.requestId } : {}),
      updatedAt: now,
    },
    { lastUpdateTime: ctx.stateUpdateTime },
  );
  batch.update(ctx.runRef, {
    status: 'failed',
    finishedAt: now,
    durationMs: ctx.deps.clock.now() - ctx.startedAt,
    counts: ctx.counts,
    pages: ctx.pages,
    errors: FieldValue.arrayUnion(
      ...[...ctx.errors, reason].slice(-MAX_RECORDED_ERRORS).map((message) => ({ at: now, message })),
    ),
  });
  try {
    await commitGuarded(batch);
  } catch (err) {
    if (!(err instanceof LeaseLostError)) throw err;
  }
  ctx.log.warn('Entra people sync failed', { reason });
  return { status: 'failed', runId: ctx.runId, reason };
}

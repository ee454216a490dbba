import type { SyncMessage } from '../engine/messages.js';
import { newRunId } from '../engine/run-id.js';
import type { Logger } from '../platform/log.js';
import type { Db } from '../store/firestore.js';
import {
  abandonPendingRefresh,
  claimRefreshSlot,
  planPendingRefresh,
  readPendingRefresh,
  runStatus,
  type RefreshWindow,
} from '../store/refresh-requests.js';
import { readSyncState } from '../store/sync-state.js';
import { ApiError } from './api-error.js';
import type { RouteContext } from './route-context.js';

export interface Planned {
  mappingId: string;
  runId: string;
  /** The call joined a run that was already running or queued (by an earlier or a concurrent call). */
  deduplicated: boolean;
}

export type RefreshOutcome =
  { kind: 'planned'; planned: Planned[] } | { kind: 'rate_limited'; retryAfterSeconds: number };

export interface RefreshCall {
  tenantId: string;
  mappingIds: readonly string[];
  confirmRemovals?: boolean;
  limit: { maxRequests: number; windowMs: number };
  now: number;
  publish(msg: SyncMessage): Promise<void>;
  log: Logger;
  /** Called once the call has its slot or knows it gets none (the admission's release: see `admit`). */
  slotDecided?: () => void;
}

/** More runs of one mapping in one window than any rate limit lets through: something is wrong, stop. */
const MAX_RUNS_PER_WINDOW = 1000;

export const refreshWindow = (now: number, windowMs: number): RefreshWindow => {
  const index = Math.floor(now / windowMs);
  return { index, endsAt: (index + 1) * windowMs };
};

/**
 * Answers refresh calls without a transaction, so a burst of them neither queues on a lock nor aborts the
 * lease transaction of a sync that is running (store/refresh-requests.ts has the documents).
 *
 * - Rate limit: fixed windows of `windowMs`, `maxRequests` create-only slot documents each. This instance
 *   remembers the next slot it has not seen taken, so in a burst each call tries at most the slots other
 *   instances took since, and once the window is full it answers 429 without touching Firestore. (Fixed windows
 *   let up to twice the limit through around a window's edge; a sliding window needs a shared counter, which is
 *   the hot document this replaces.)
 * - Concurrent identical calls on this instance share one resolution: the first call reads and plans, the others
 *   answer with its runs as deduplicated. Each still took its own slot: the limit counts calls.
 * - Across instances, callers converge through the per-window pending document whose id every caller derives:
 *   the first `create()` plans the run and publishes it, the rest join that run id.
 * A call joins a run that is running (the sync state says so) or queued (planned, and its run document is not
 * there yet, or is still running). A planned run whose message was lost covers its mapping until the window
 * ends at the latest.
 */
export class RefreshPlanner {
  /** Per tenant: the next slot of the current window not yet seen taken. */
  private readonly nextSlot = new Map<string, { window: number; n: number }>();
  /** Per tenant and mapping: the first pending seq of the current window not yet seen finished. */
  private readonly firstSeq = new Map<string, { window: number; seq: number }>();
  private readonly inflight = new Map<string, Promise<Planned[]>>();
  /** Per tenant: calls of this instance admitted in the current window that have not been answered yet. */
  private readonly admitted = new Map<string, { window: number; count: number }>();

  constructor(private readonly db: Db) {}

  /**
   * Lets a call go on to read and claim a slot only while the slots this instance has not seen taken outnumber the
   * calls it has already admitted; any other call is answered 429 at once. In a burst every call arrives before
   * the first has claimed a slot, so without this each one would read the tenant's mappings (or wait for the calls
   * ahead of it) before learning it is refused. The price: a call refused because admitted calls hold the last
   * open slots is not let through when one of those then fails for its own reasons (an unknown mapping), so a
   * window may admit fewer calls than the limit under a burst that mixes in bad calls, never more. Reads nothing
   * and writes nothing: it runs before a host signature is spent. `release` is called once the call is answered.
   */
  admit(
    tenantId: string,
    limit: RefreshCall['limit'],
    now: number,
  ): { kind: 'admitted'; release: () => void } | { kind: 'rate_limited'; retryAfterSeconds: number } {
    const window = refreshWindow(now, limit.windowMs);
    const retryAfterSeconds = Math.max(1, Math.ceil((window.endsAt - now) / 1000));
    let held = this.admitted.get(tenantId);
    if (held?.window !== window.index) {
      held = { window: window.index, count: 0 };
      this.admitted.set(tenantId, held);
    }
    const next = this.nextSlot.get(tenantId);
    const seenTaken = next?.window === window.index ? next.n : 0;
    if (seenTaken + held.count >= limit.maxRequests) return { kind: 'rate_limited', retryAfterSeconds };
    held.count++;
    const slotHolder = held;
    let released = false;
    return {
      kind: 'admitted',
      release: () => {
        if (released) return;
        released = true;
        slotHolder.count--;
      },
    };
  }

  async request(call: RefreshCall): Promise<RefreshOutcome> {
    const window = refreshWindow(call.now, call.limit.windowMs);
    const claimed = await this.claimSlot(call.tenantId, window, call.limit.maxRequests, call.now).finally(
      () => call.slotDecided?.(),
    );
    if (!claimed) {
      return {
        kind: 'rate_limited',
        retryAfterSeconds: Math.max(1, Math.ceil((window.endsAt - call.now) / 1000)),
      };
    }
    const key = JSON.stringify([
      call.tenantId,
      window.index,
      [...call.mappingIds].sort(),
      !!call.confirmRemovals,
    ]);
    const order = (planned: Planned[], joined: boolean) =>
      call.mappingIds.map((m) => {
        const p = planned.find((x) => x.mappingId === m)!;
        return joined ? { ...p, deduplicated: true } : p;
      });
    const shared = this.inflight.get(key);
    if (shared) return { kind: 'planned', planned: order(await shared, true) };
    const own = Promise.all(call.mappingIds.map((m) => this.joinOrPlan(call, m, window))).finally(() =>
      this.inflight.delete(key),
    );
    this.inflight.set(key, own);
    return { kind: 'planned', planned: order(await own, false) };
  }

  private async claimSlot(
    tenantId: string,
    window: RefreshWindow,
    max: number,
    now: number,
  ): Promise<boolean> {
    for (;;) {
      let next = this.nextSlot.get(tenantId);
      if (next?.window !== window.index) {
        next = { window: window.index, n: 0 };
        this.nextSlot.set(tenantId, next);
      }
      if (next.n >= max) return false;
      const n = next.n++;
      if (await claimRefreshSlot(this.db, tenantId, window, n, now)) return true;
    }
  }

  private async joinOrPlan(call: RefreshCall, mappingId: string, window: RefreshWindow): Promise<Planned> {
    const { tenantId } = call;
    // Plain reads: a read inside a transaction would lock the sync state against the engine's lease.
    const state = await readSyncState(this.db, tenantId, mappingId);
    if (state?.status === 'running' && state.runId)
      return { mappingId, runId: state.runId, deduplicated: true };

    const hintKey = `${tenantId}/${mappingId}`;
    const hint = this.firstSeq.get(hintKey);
    const remember = (seq: number) => this.firstSeq.set(hintKey, { window: window.index, seq });
    for (let seq = hint?.window === window.index ? hint.seq : 0; seq < MAX_RUNS_PER_WINDOW; seq++) {
      let pending = await readPendingRefresh(this.db, tenantId, mappingId, window, seq);
      if (!pending) {
        const runId = newRunId(call.now);
        const planned = await planPendingRefresh(this.db, tenantId, mappingId, window, seq, runId, call.now);
        if (planned.created) {
          remember(seq);
          await this.publish(call, mappingId, runId, window, seq);
          return { mappingId, runId, deduplicated: false };
        }
        pending = planned.existing;
      }
      if (pending && !pending.abandoned) {
        const status = await runStatus(this.db, tenantId, pending.runId);
        if (status === null || status === 'running') {
          remember(seq);
          return { mappingId, runId: pending.runId, deduplicated: true };
        }
      }
      // That run has finished (or will never start): a run planned after it covers this call.
    }
    throw new Error(`more than ${MAX_RUNS_PER_WINDOW} refreshes of mapping ${mappingId} in one window`);
  }

  private async publish(
    call: RefreshCall,
    mappingId: string,
    runId: string,
    window: RefreshWindow,
    seq: number,
  ): Promise<void> {
    const msg: SyncMessage = {
      kind: 'sync',
      tenantId: call.tenantId,
      mappingId,
      requestId: `manual:${runId}`,
      trigger: 'manual',
      plannedRunId: runId,
      ...(call.confirmRemovals ? { confirmRemovals: true } : {}),
    };
    try {
      await call.publish(msg);
    } catch (err) {
      await abandonPendingRefresh(this.db, call.tenantId, mappingId, window, seq).catch(() => undefined);
      call.log.error('publishing a sync request failed', {
        tenantId: call.tenantId,
        error: err instanceof Error ? err.message : String(err),
      });
      throw new ApiError('unavailable', 'the sync could not be queued; try again');
    }
  }
}

/** One planner per instance (per Firestore client: tests run several apps in one process). */
const planners = new WeakMap<Db, RefreshPlanner>();

/**
 * Syncs `mappingIds` of a tenant now, or joins the runs already going or queued for them. The refresh webhook
 * and device actions (which refresh the devices they changed) both sync through here.
 * Throws the API's 429 (with Retry-After) when the window is full and 503 when publishing failed.
 */
function plannerOf(db: Db): RefreshPlanner {
  let planner = planners.get(db);
  if (!planner) {
    planner = new RefreshPlanner(db);
    planners.set(db, planner);
  }
  return planner;
}

function rateLimited(limit: RefreshCall['limit'], retryAfterSeconds: number): ApiError {
  return new ApiError(
    'rate_limited',
    `at most ${limit.maxRequests} sync requests per ${limit.windowMs / 60_000} minutes; try again in ${retryAfterSeconds} s`,
    [],
    { 'retry-after': String(retryAfterSeconds) },
  );
}

/**
 * The refresh webhook's admission (a route's `admit`, run before a host signature is spent): throws the 429 at
 * once when the slots this instance has not seen taken are already held by calls it admitted, so a burst of
 * calls costs no Firestore reads or writes beyond the first few and nobody waits. Returns what to call once the
 * call is answered.
 */
export async function admitRefresh(
  ctx: Pick<RouteContext, 'app' | 'api' | 'req'>,
  tenantId: string,
): Promise<() => void> {
  const limit = ctx.api.syncRateLimit;
  const admission = plannerOf(ctx.app.db).admit(tenantId, limit, ctx.app.clock.now());
  if (admission.kind === 'rate_limited') throw rateLimited(limit, admission.retryAfterSeconds);
  admissions.set(ctx.req, admission.release);
  return admission.release;
}

/**
 * Admitted calls, by request: `requestRefresh` releases the admission as soon as the call's slot is decided, so
 * the calls waiting behind it get their answer without waiting for its reads and publish.
 */
const admissions = new WeakMap<object, () => void>();

/**
 * Syncs `mappingIds` of a tenant now, or joins the runs already going or queued for them. The refresh webhook
 * and device actions (which refresh the devices they changed) both sync through here.
 * Throws the API's 429 (with Retry-After) when the window is full and 503 when publishing failed.
 */
export async function requestRefresh(
  ctx: Pick<RouteContext, 'app' | 'api' | 'log'> & { req?: RouteContext['req'] },
  tenantId: string,
  mappingIds: readonly string[],
  opts: { confirmRemovals?: boolean } = {},
): Promise<Planned[]> {
  const { app } = ctx;
  const limit = ctx.api.syncRateLimit;
  const outcome = await plannerOf(app.db).request({
    tenantId,
    mappingIds,
    ...(opts.confirmRemovals ? { confirmRemovals: true } : {}),
    limit,
    now: app.clock.now(),
    publish: (msg) => app.syncDeps().publishSync(msg),
    log: ctx.log,
    ...(ctx.req && admissions.has(ctx.req) ? { slotDecided: admissions.get(ctx.req) } : {}),
  });
  if (outcome.kind === 'rate_limited') throw rateLimited(limit, outcome.retryAfterSeconds);
  return outcome.planned;
}

import type { Firestore } from '@google-cloud/firestore';
import { paths } from '../../../shared/firestore-paths.js';

/**
 * `tenants/{t}/rateLimits/sync`: the refresh webhook's window of recent requests and the runs it planned but a
 * sync has not yet picked up. One transaction counts a request against the window and decides per mapping: a
 * run already going (or queued by an earlier request) covers it; otherwise a run id is planned.
 */

/** A request published but not yet picked up still covers later requests for this long. */
const PENDING_TTL_MS = 5 * 60_000;

interface Pending {
  runId: string;
  requestedAt: number;
}

export interface Planned {
  mappingId: string;
  runId: string;
  deduplicated: boolean;
}

export type PlanOutcome =
  { kind: 'planned'; planned: Planned[] } | { kind: 'rate_limited'; retryAfterSeconds: number };

const limitRef = (db: Firestore, tenantId: string) => db.doc(`${paths.tenant(tenantId)}/rateLimits/sync`);

export async function planRefresh(
  db: Firestore,
  tenantId: string,
  mappingIds: readonly string[],
  opts: { maxRequests: number; windowMs: number; now: number; newRunId(now: number): string },
): Promise<PlanOutcome> {
  const { maxRequests, windowMs, now } = opts;
  const ref = limitRef(db, tenantId);
  return db.runTransaction(async (tx): Promise<PlanOutcome> => {
    const stateRefs = mappingIds.map((m) => db.doc(paths.syncState(tenantId, m)));
    const [limitSnap, ...stateSnaps] = await tx.getAll(ref, ...stateRefs);
    const hits = ((limitSnap?.get('hits') as number[] | undefined) ?? []).filter((t) => t > now - windowMs);
    if (hits.length >= maxRequests) {
      return {
        kind: 'rate_limited',
        retryAfterSeconds: Math.max(1, Math.ceil((Math.min(...hits) + windowMs - now) / 1000)),
      };
    }
    const pending = { ...((limitSnap?.get('pending') as Record<string, Pending> | undefined) ?? {}) };
    const pendingRuns = mappingIds
      .map((m) => pending[m])
      .map((p) => (p && p.requestedAt > now - PENDING_TTL_MS ? p : undefined));
    const runSnaps = await Promise.all(
      pendingRuns.map((p) => (p ? tx.get(db.doc(paths.run(tenantId, p.runId))) : Promise.resolve(null))),
    );

    const planned = mappingIds.map((mappingId, i): Planned => {
      const state = stateSnaps[i];
      if (state?.get('status') === 'running' && typeof state.get('runId') === 'string') {
        return { mappingId, runId: state.get('runId') as string, deduplicated: true };
      }
      const p = pendingRuns[i];
      const run = runSnaps[i];
      // Queued by an earlier request and not finished (or not started) yet: that run will cover this one.
      if (p && (!run?.exists || run.get('status') === 'running'))
        return { mappingId, runId: p.runId, deduplicated: true };
      const runId = opts.newRunId(now);
      pending[mappingId] = { runId, requestedAt: now };
      return { mappingId, runId, deduplicated: false };
    });
    for (const [id, p] of Object.entries(pending))
      if (p.requestedAt <= now - PENDING_TTL_MS) delete pending[id];
    tx.set(ref, { hits: [...hits, now], pending, updatedAt: new Date(now).toISOString() });
    return { kind: 'planned', planned };
  });
}

/** Publishing failed: the planned runs no longer cover later requests. */
export async function forgetPlanned(
  db: Firestore,
  tenantId: string,
  fresh: readonly Planned[],
): Promise<void> {
  const ref = limitRef(db, tenantId);
  await db.runTransaction(async (tx) => {
    const snap = await tx.get(ref);
    const pending = { ...((snap.get('pending') as Record<string, Pending> | undefined) ?? {}) };
    for (const p of fresh) if (pending[p.mappingId]?.runId === p.runId) delete pending[p.mappingId];
    tx.update(ref, { pending });
  });
}

import type { DocumentReference } from '@google-cloud/firestore';
import { z } from 'zod';
import { paths } from '../../../../shared/firestore-paths.js';
import type { Mapping } from '../../../../shared/mapping.js';
import { tenantSyncs } from '../../engine/tenant-syncs.js';
import { readMapping } from '../../store/mappings.js';
import { readTenant, type TenantDoc } from '../../store/tenants.js';
import type { SyncMessage } from '../../engine/messages.js';
import { newRunId } from '../../engine/run-id.js';
import { ApiError, notFound } from '../api-error.js';
import { json, type ApiResult } from '../http.js';
import { PARAM_SCHEMAS } from '../path-params.js';
import { parseBody } from '../request-body.js';
import { actorOf, requireTenant, type RouteContext } from '../route-context.js';
import type { Route } from '../router.js';

const syncBody = z.strictObject({
  mappingId: PARAM_SCHEMAS.mappingId.optional(),
  confirmRemovals: z.boolean().optional(),
});

/** A request published but not yet picked up still covers later requests for this long. */
const PENDING_TTL_MS = 5 * 60_000;

interface Pending {
  runId: string;
  requestedAt: number;
}

interface Planned {
  mappingId: string;
  runId: string;
  deduplicated: boolean;
}

/**
 * POST /api/tenants/:tenantId/sync — "sync now" from the console or the host product. One transaction on
 * `tenants/{t}/rateLimits/sync` counts the request against the tenant's window and decides per mapping: a run
 * already going (or queued by an earlier request) answers with its run id; otherwise a run id is planned and
 * the message carrying it is published.
 */
async function syncNow(ctx: RouteContext): Promise<ApiResult> {
  const scope = requireTenant(ctx);
  const body = parseBody(ctx.req, syncBody, { emptyAllowed: true });
  const { app } = ctx;
  const tenant = await readTenant(app.db, scope.tenantId);
  if (!tenant) throw notFound('tenant not found');
  const mappings = await mappingsToSync(ctx, scope.tenantId, tenant, body.mappingId);
  const planned = await plan(ctx, scope.tenantId, mappings);

  const { publishSync } = app.syncDeps();
  const fresh = planned.filter((p) => !p.deduplicated);
  try {
    for (const p of fresh) {
      const msg: SyncMessage = {
        kind: 'sync',
        tenantId: scope.tenantId,
        mappingId: p.mappingId,
        requestId: `manual:${p.runId}`,
        trigger: 'manual',
        plannedRunId: p.runId,
        ...(body.confirmRemovals ? { confirmRemovals: true } : {}),
      };
      await publishSync(msg);
    }
  } catch (err) {
    await forgetPending(ctx, scope.tenantId, fresh).catch(() => undefined);
    ctx.log.error('publishing a sync request failed', {
      tenantId: scope.tenantId,
      error: err instanceof Error ? err.message : String(err),
    });
    throw new ApiError('unavailable', 'the sync could not be queued; try again');
  }
  ctx.log.info('sync requested', { tenantId: scope.tenantId, by: actorOf(ctx.caller), runs: planned });
  return json(202, { runs: planned });
}

/** What a request syncs: the named mapping, or every sync the tenant has (engine/tenant-syncs.ts). */
async function mappingsToSync(
  ctx: RouteContext,
  tenantId: string,
  tenant: TenantDoc,
  mappingId: string | undefined,
): Promise<Array<Pick<Mapping, 'id'>>> {
  const { sources } = ctx.app.syncDeps();
  const notConnected = (label: string) =>
    new ApiError(
      'failed_precondition',
      tenant.status !== 'active' && label === sources.google.label
        ? `the tenant is ${tenant.status}, not active: connect Google Workspace first`
        : `${label} is not connected for this tenant`,
      [],
      {},
      { status: tenant.status },
    );
  if (mappingId) {
    const m = await readMapping(ctx.app.db, tenantId, mappingId);
    if (!m) throw notFound('mapping not found');
    if (!m.enabled)
      throw new ApiError('failed_precondition', 'the mapping is disabled; enable it to sync it');
    if (!sources[m.source].connected(tenant)) throw notConnected(sources[m.source].label);
    return [m];
  }
  const all = await tenantSyncs(ctx.app.db, tenantId, tenant, sources);
  if (all.length > 0) return all;
  if (tenant.status !== 'active' && !sources.entra.connected(tenant))
    throw notConnected(sources.google.label);
  throw new ApiError('failed_precondition', 'the tenant has no enabled mappings to sync');
}

function rateLimitRef(ctx: RouteContext, tenantId: string): DocumentReference {
  return ctx.app.db.doc(`${paths.tenant(tenantId)}/rateLimits/sync`);
}

async function plan(
  ctx: RouteContext,
  tenantId: string,
  mappings: Array<Pick<Mapping, 'id'>>,
): Promise<Planned[]> {
  const { db, clock } = ctx.app;
  const { maxRequests, windowMs } = ctx.api.syncRateLimit;
  const limitRef = rateLimitRef(ctx, tenantId);
  return db.runTransaction(async (tx) => {
    const now = clock.now();
    const stateRefs = mappings.map((m) => db.doc(paths.syncState(tenantId, m.id)));
    const [limitSnap, ...stateSnaps] = await tx.getAll(limitRef, ...stateRefs);
    const hits = ((limitSnap?.get('hits') as number[] | undefined) ?? []).filter((t) => t > now - windowMs);
    if (hits.length >= maxRequests) {
      const retryAfter = Math.max(1, Math.ceil((Math.min(...hits) + windowMs - now) / 1000));
      throw new ApiError(
        'rate_limited',
        `at most ${maxRequests} sync requests per ${windowMs / 60_000} minutes; try again in ${retryAfter} s`,
        [],
        {
          'retry-after': String(retryAfter),
        },
      );
    }
    const pending = { ...((limitSnap?.get('pending') as Record<string, Pending> | undefined) ?? {}) };
    const pendingRuns = mappings
      .map((m) => pending[m.id])
      .map((p) => (p && p.requestedAt > now - PENDING_TTL_MS ? p : undefined));
    const runSnaps = await Promise.all(
      pendingRuns.map((p) => (p ? tx.get(db.doc(paths.run(tenantId, p.runId))) : Promise.resolve(null))),
    );

    const planned = mappings.map((m, i): Planned => {
      const state = stateSnaps[i];
      if (state?.get('status') === 'running' && typeof state.get('runId') === 'string') {
        return { mappingId: m.id, runId: state.get('runId') as string, deduplicated: true };
      }
      const p = pendingRuns[i];
      const run = runSnaps[i];
      // Queued by an earlier request and not finished (or not started) yet: that run will cover this one.
      if (p && (!run?.exists || run.get('status') === 'running'))
        return { mappingId: m.id, runId: p.runId, deduplicated: true };
      const runId = newRunId(now);
      pending[m.id] = { runId, requestedAt: now };
      return { mappingId: m.id, runId, deduplicated: false };
    });
    for (const [id, p] of Object.entries(pending))
      if (p.requestedAt <= now - PENDING_TTL_MS) delete pending[id];
    tx.set(limitRef, { hits: [...hits, now], pending, updatedAt: new Date(now).toISOString() });
    return planned;
  });
}

async function forgetPending(ctx: RouteContext, tenantId: string, fresh: Planned[]): Promise<void> {
  const ref = rateLimitRef(ctx, tenantId);
  await ctx.app.db.runTransaction(async (tx) => {
    const snap = await tx.get(ref);
    const pending = { ...((snap.get('pending') as Record<string, Pending> | undefined) ?? {}) };
    for (const p of fresh) if (pending[p.mappingId]?.runId === p.runId) delete pending[p.mappingId];
    tx.update(ref, { pending });
  });
}

export const syncWebhookRoutes: Array<Route<RouteContext>> = [
  {
    method: 'POST',
    pattern: '/api/tenants/:tenantId/sync',
    access: { kind: 'tenant', need: 'write', allowHost: true },
    handle: syncNow,
  },
];

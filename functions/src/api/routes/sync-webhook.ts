import { z } from 'zod';
import type { Mapping } from '../../../../shared/mapping.js';
import { tenantSyncs } from '../../engine/tenant-syncs.js';
import { readMapping } from '../../store/mappings.js';
import type { TenantDoc } from '../../store/tenants.js';
import { ApiError, notFound } from '../api-error.js';
import { json, type ApiResult } from '../http.js';
import { PARAM_SCHEMAS } from '../path-params.js';
import { parseBody } from '../request-body.js';
import { admitRefresh, requestRefresh } from '../request-refresh.js';
import { actorOf, requireTenant, type RouteContext } from '../route-context.js';
import type { Route } from '../router.js';

export const syncBody = z.strictObject({
  mappingId: PARAM_SCHEMAS.mappingId.optional(),
  confirmRemovals: z.boolean().optional(),
});

/**
 * POST /api/tenants/:tenantId/sync — "sync now" from the console or the host product. 202 with a run id per
 * mapping: a run already going or queued (by an earlier or a concurrent call) is joined, otherwise one is
 * planned and its message published; 429 with Retry-After once the tenant's window is full. No transaction:
 * see RefreshPlanner (api/request-refresh.ts) for why a burst of calls answers at once.
 */
async function syncNow(ctx: RouteContext): Promise<ApiResult> {
  const scope = requireTenant(ctx);
  const body = parseBody(ctx.req, syncBody, { emptyAllowed: true });
  // The tenant as the access check read it (an instant ago): reading it again would cost a read per call.
  const mappings = await mappingsToSync(ctx, scope.tenantId, scope.tenant, body.mappingId);
  const planned = await requestRefresh(
    ctx,
    scope.tenantId,
    mappings.map((m) => m.id),
    body.confirmRemovals ? { confirmRemovals: true } : {},
  );
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

export const syncWebhookRoutes: Array<Route<RouteContext>> = [
  {
    method: 'POST',
    pattern: '/api/tenants/:tenantId/sync',
    access: { kind: 'tenant', need: 'write', allowHost: true },
    // Before the host signature is spent: a call refused for a full window has no effect, so it costs no write.
    admit: (ctx) => admitRefresh(ctx, requireTenant(ctx).tenantId),
    handle: syncNow,
    doc: {
      summary: 'Sync now: one mapping, or every sync the tenant has',
      description:
        "A run already going or queued is joined. 429 `rate_limited` with `Retry-After` once the tenant's window " +
        'is full (such a refusal spends no host signature). `confirmRemovals` releases a run held by the removal ' +
        'threshold.',
      body: syncBody,
      bodyOptional: true,
      responses: { 202: { description: '`{runs}`: a run id per mapping.' } },
    },
  },
];

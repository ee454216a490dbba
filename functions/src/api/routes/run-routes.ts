import { z } from 'zod';
import { notFound } from '../api-error.js';
import { json, type ApiResult } from '../http.js';
import { PARAM_SCHEMAS } from '../path-params.js';
import { parseQuery } from '../request-body.js';
import { requireTenant, type RouteContext } from '../route-context.js';
import type { Route } from '../router.js';
import { runView } from '../run-views.js';
import { listRuns, readRun } from '../../store/runs.js';

const runsQuery = z.strictObject({
  mappingId: PARAM_SCHEMAS.mappingId.optional(),
  limit: z.coerce.number().int().min(1).max(100).default(20),
});

/** GET /api/tenants/:tenantId/runs?mappingId&limit — sync history, newest first. */
async function list(ctx: RouteContext): Promise<ApiResult> {
  const { tenantId } = requireTenant(ctx);
  const q = parseQuery(ctx.req, runsQuery);
  const runs = await listRuns(ctx.app.db, tenantId, {
    limit: q.limit,
    ...(q.mappingId ? { mappingId: q.mappingId } : {}),
  });
  return json(200, { runs: runs.map((r) => runView(r.id, r.data)) });
}

async function get(ctx: RouteContext): Promise<ApiResult> {
  const { tenantId } = requireTenant(ctx);
  const run = await readRun(ctx.app.db, tenantId, ctx.params.runId!);
  if (!run) throw notFound('run not found');
  return json(200, runView(run.id, run.data));
}

export const runRoutes: Array<Route<RouteContext>> = [
  {
    method: 'GET',
    pattern: '/api/tenants/:tenantId/runs',
    access: { kind: 'tenant', need: 'read' },
    handle: list,
    doc: {
      summary: 'Sync history, newest first',
      query: runsQuery,
      responses: {
        200: { description: '`{runs}`: status, counts, pages, errors, removal decision of each run.' },
      },
    },
  },
  {
    method: 'GET',
    pattern: '/api/tenants/:tenantId/runs/:runId',
    access: { kind: 'tenant', need: 'read' },
    handle: get,
    doc: { summary: 'One run', responses: { 200: { description: 'The run.' } } },
  },
];

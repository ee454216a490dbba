import { z } from 'zod';
import { notFound } from '../api-error.js';
import { json, type ApiResult } from '../http.js';
import { PARAM_SCHEMAS } from '../path-params.js';
import { parseQuery } from '../request-body.js';
import { requireTenant, type RouteContext } from '../route-context.js';
import type { Route } from '../router.js';
import { runProgress, runView } from '../run-views.js';
import { listRuns, previousCompletedRun, readRun, type StoredRun } from '../../store/runs.js';
import type { App } from '../../app.js';

/**
 * The run as the console shows it, with `progress` while it runs (percentage and ETA against the mapping's last
 * completed run; api/run-views.ts). Every reader gets it, so any admin sees any run's progress.
 */
async function withProgress(app: App, tenantId: string, runs: StoredRun[]) {
  const previous = new Map<string, Promise<StoredRun | null>>();
  return Promise.all(
    runs.map(async (r) => {
      const view = runView(r.id, r.data);
      if (r.data.status !== 'running' || typeof r.data.mappingId !== 'string') return view;
      const key = `${r.data.mappingId}|${String(r.data.startedAt)}`;
      if (!previous.has(key))
        previous.set(
          key,
          previousCompletedRun(app.db, tenantId, r.data.mappingId, String(r.data.startedAt ?? '')),
        );
      return { ...view, progress: runProgress(r.data, await previous.get(key)!, app.clock.now()) };
    }),
  );
}

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
  return json(200, { runs: await withProgress(ctx.app, tenantId, runs) });
}

async function get(ctx: RouteContext): Promise<ApiResult> {
  const { tenantId } = requireTenant(ctx);
  const run = await readRun(ctx.app.db, tenantId, ctx.params.runId!);
  if (!run) throw notFound('run not found');
  return json(200, (await withProgress(ctx.app, tenantId, [run]))[0]);
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

import { z } from 'zod';
import { mappingInputSchema } from '../../../../shared/mapping.js';
import { withDirectoryRetry, type BackoffPolicy } from './backoff.js';
import { DirectoryCallError, InvalidGrantError } from './directory-errors.js';
import { GoogleDirectoryLister } from './directory-lister.js';
import { NotConnectedError } from './workspace-auth.js';
import { mapSourceObject } from '../../engine/record-mapper.js';
import { ApiError } from '../../api/api-error.js';
import { json, type ApiResult } from '../../api/http.js';
import { parseBody } from '../../api/request-body.js';
import { requireTenant, type RouteContext } from '../../api/route-context.js';
import type { Route } from '../../api/router.js';

const previewBody = z.strictObject({
  mapping: mappingInputSchema,
  limit: z.number().int().min(1).max(25).default(10),
});

// An admin is waiting for the answer: a few quick retries, not the sync's patient backoff.
const PREVIEW_BACKOFF: BackoffPolicy = {
  maxAttempts: 3,
  initialDelayMs: 250,
  maxDelayMs: 1000,
  multiplier: 2,
};

/**
 * POST /api/tenants/:tenantId/mappings/preview: what a mapping would write for the first N source objects, read
 * live from Google with the tenant's authorization. Nothing is written anywhere.
 */
async function preview(ctx: RouteContext): Promise<ApiResult> {
  const { tenantId } = requireTenant(ctx);
  const { mapping, limit } = parseBody(ctx.req, previewBody, { emptyAllowed: false });
  const { app } = ctx;
  let items: Array<Record<string, unknown>>;
  try {
    const lister = new GoogleDirectoryLister(app.config, await app.auth.clientFor(tenantId));
    const page = await withDirectoryRetry(
      () =>
        lister.listPage({
          entity: mapping.entity,
          pageToken: null,
          sourcePaths: mapping.fieldMap.map((f) => f.source),
          pageSize: limit,
        }),
      PREVIEW_BACKOFF,
      app.clock,
    );
    items = page.items.slice(0, limit);
  } catch (err) {
    if (err instanceof NotConnectedError)
      throw new ApiError('failed_precondition', 'connect Google Workspace before previewing a mapping');
    if (err instanceof InvalidGrantError) {
      throw new ApiError(
        'failed_precondition',
        'Google rejected the stored authorization; re-authorize the connection',
      );
    }
    if (err instanceof DirectoryCallError && err.classification.kind === 'forbidden') {
      throw new ApiError(
        'failed_precondition',
        `Google refused to list ${mapping.entity} (${err.classification.reason})`,
      );
    }
    ctx.log.warn('preview listing failed', {
      tenantId,
      error: err instanceof Error ? err.message : String(err),
    });
    throw new ApiError('unavailable', 'Google Workspace did not answer; try again');
  }

  const records: Array<Record<string, unknown>> = [];
  const skipped: Array<{ sourceId: string; reason: string }> = [];
  let outOfScope = 0;
  for (const item of items) {
    const outcome = mapSourceObject(mapping, item);
    if (outcome.kind === 'out_of_scope') outOfScope++;
    else if (outcome.kind === 'skipped') skipped.push({ sourceId: outcome.sourceId, reason: outcome.reason });
    else {
      const r = outcome.record;
      records.push({
        recordId: r.recordId,
        sourceId: r.sourceId,
        status: r.status,
        inactiveReason: r.inactiveReason,
        data: r.data,
      });
    }
  }
  return json(200, { entity: mapping.entity, seen: items.length, records, skipped, outOfScope });
}

export const previewRoutes: Array<Route<RouteContext>> = [
  {
    method: 'POST',
    pattern: '/api/tenants/:tenantId/mappings/preview',
    access: { kind: 'tenant', need: 'read' },
    handle: preview,
    doc: {
      summary: 'What a mapping would write for the first N source objects, read live; writes nothing',
      body: previewBody,
      responses: { 200: { description: '`{entity, seen, records, skipped, outOfScope}`.' } },
    },
  },
];

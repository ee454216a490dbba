import { z } from 'zod';
import { readRecordsById, type StoredRecord } from '../../store/records.js';
import {
  confirmHeldRun,
  excludedAmong,
  pageHeldRemovals,
  type HeldRemoval,
} from '../../store/removal-review.js';
import { readRun } from '../../store/runs.js';
import { ApiError, notFound } from '../api-error.js';
import { json, type ApiResult } from '../http.js';
import { PARAM_SCHEMAS } from '../path-params.js';
import { parseBody, parseQuery } from '../request-body.js';
import { requestRefresh, type Planned } from '../request-refresh.js';
import { actorOf, requireTenant, type RouteContext } from '../route-context.js';
import type { Route } from '../router.js';

/**
 * The review of a held run (store/removal-review.ts): the records it would remove, paged and searchable, and the
 * admin's confirmation with the records to keep.
 */

/** Held records looked at per request when searching: a search over a large hold pages through it. */
export const MAX_SCANNED_PER_PAGE = 500;
/** Exclusions per confirmation: they are written in the confirmation's one transaction (500 writes at most). */
export const MAX_EXCLUSIONS = 400;

const heldQuery = z.strictObject({
  query: z.string().trim().max(200).optional(),
  limit: z.coerce.number().int().min(1).max(100).default(25),
  pageToken: z.string().max(2100).optional(),
});

const confirmBody = z.strictObject({
  exclude: z.array(PARAM_SCHEMAS.recordId).max(MAX_EXCLUSIONS).default([]),
});

const encodeToken = (recordId: string) => Buffer.from(recordId, 'utf8').toString('base64url');
function decodeToken(token: string): string {
  const id = Buffer.from(token, 'base64url').toString('utf8');
  if (!PARAM_SCHEMAS.recordId.safeParse(id).success || encodeToken(id) !== token) {
    throw new ApiError('invalid_argument', 'invalid query parameter', [
      { path: 'pageToken', message: 'not a page token from this API' },
    ]);
  }
  return id;
}

/** Case-insensitive: the record id, its identifier, or any field value (nested ones too) contains the query. */
function matches(query: string, held: HeldRemoval, record: StoredRecord | undefined): boolean {
  const needle = query.toLowerCase();
  const hay = (v: unknown): boolean => {
    if (typeof v === 'string') return v.toLowerCase().includes(needle);
    if (typeof v === 'number' || typeof v === 'boolean') return String(v).toLowerCase().includes(needle);
    if (Array.isArray(v)) return v.some(hay);
    if (v !== null && typeof v === 'object') return Object.values(v).some(hay);
    return false;
  };
  return hay(held.recordId) || hay(held.identifier) || (record !== undefined && hay(record.fields));
}

async function loadHeldRun(ctx: RouteContext) {
  const { tenantId } = requireTenant(ctx);
  const run = await readRun(ctx.app.db, tenantId, ctx.params.runId!);
  if (!run) throw notFound('run not found');
  return { tenantId, run };
}

/** GET /api/tenants/:tenantId/runs/:runId/held-removals?query&limit&pageToken */
async function listHeld(ctx: RouteContext): Promise<ApiResult> {
  const { tenantId, run } = await loadHeldRun(ctx);
  const q = parseQuery(ctx.req, heldQuery);
  const { db } = ctx.app;
  const objectId = String(run.data.objectId ?? '');
  const mappingId = String(run.data.mappingId ?? '');
  let after = q.pageToken ? decodeToken(q.pageToken) : undefined;
  const found: Array<{ held: HeldRemoval; record: StoredRecord | undefined }> = [];
  let scanned = 0;
  let more = true;
  let resumeAfter: string | undefined;
  // Without a query one page of held records is the answer; with one, pages are read until `limit` match or
  // MAX_SCANNED_PER_PAGE were looked at (the answer then says how far it got and gives a token to go on).
  while (found.length < q.limit && scanned < MAX_SCANNED_PER_PAGE && more) {
    const page = await pageHeldRemovals(db, tenantId, run.id, {
      afterId: after,
      limit: Math.min(100, MAX_SCANNED_PER_PAGE - scanned),
    });
    more = page.more;
    const records = await readRecordsById(
      db,
      tenantId,
      objectId,
      page.held.map((h) => h.recordId),
    );
    for (let i = 0; i < page.held.length; i++) {
      const held = page.held[i]!;
      scanned++;
      after = held.recordId;
      const record = records.get(held.recordId);
      if (!q.query || matches(q.query, held, record)) found.push({ held, record });
      if (found.length === q.limit) {
        more = more || i < page.held.length - 1;
        break;
      }
    }
    if (page.held.length === 0) more = false;
  }
  if (more) resumeAfter = after;
  const exclusions = await excludedAmong(
    db,
    tenantId,
    mappingId,
    found.map((f) => f.held.recordId),
  );
  return json(200, {
    runId: run.id,
    mappingId,
    objectId,
    status: run.data.status ?? null,
    total: (run.data.removal as { candidates?: number } | null)?.candidates ?? 0,
    review: run.data.review ?? null,
    query: q.query ?? null,
    scanned,
    records: found.map(({ held, record }) => ({
      recordId: held.recordId,
      identifier: held.identifier,
      reason: held.reason,
      sourceId: held.sourceId,
      excluded: exclusions.has(held.recordId),
      exclusion: exclusions.get(held.recordId) ?? null,
      data: record?.fields ?? null,
      sync: record?.sync ?? null,
    })),
    nextPageToken: resumeAfter !== undefined ? encodeToken(resumeAfter) : null,
  });
}

/** POST /api/tenants/:tenantId/runs/:runId/removals/confirm {exclude} */
async function confirm(ctx: RouteContext): Promise<ApiResult> {
  const { tenantId } = requireTenant(ctx);
  const runId = ctx.params.runId!;
  const body = parseBody(ctx.req, confirmBody, { emptyAllowed: true });
  const by = actorOf(ctx.caller);
  const at = new Date(ctx.app.clock.now()).toISOString();
  const outcome = await confirmHeldRun(ctx.app.db, tenantId, runId, { exclude: body.exclude, by, at });
  switch (outcome.kind) {
    case 'not_found':
      throw notFound('run not found');
    case 'not_held':
      throw new ApiError(
        'failed_precondition',
        `run ${runId} is ${outcome.status || 'not finished'}, not held: there is nothing to confirm`,
      );
    case 'already_confirmed':
      throw new ApiError(
        'conflict',
        `run ${runId} was already confirmed by ${outcome.confirmedBy} at ${outcome.confirmedAt}`,
      );
    case 'superseded':
      throw new ApiError(
        'conflict',
        `a later run (${outcome.latestRunId}) judged these records again; review that run instead`,
        [],
        {},
        { latestRunId: outcome.latestRunId },
      );
    case 'unknown_records':
      throw new ApiError(
        'invalid_argument',
        'some excluded records are not held by this run',
        outcome.recordIds.map((id) => ({
          path: `exclude.${body.exclude.indexOf(id)}`,
          message: `${id} is not held by run ${runId}`,
        })),
      );
  }
  ctx.log.info('held removals confirmed', {
    tenantId,
    runId,
    mappingId: outcome.mappingId,
    by,
    approved: outcome.approved,
    excluded: outcome.excluded,
  });
  // The approval is stored: the next full pass applies it. Ask for that pass now; if the tenant's refresh window
  // is full, the next scheduled sync applies it instead.
  let runs: Planned[] = [];
  let note: string | null = null;
  try {
    runs = await requestRefresh(ctx, tenantId, [outcome.mappingId]);
  } catch (err) {
    if (!(err instanceof ApiError)) throw err;
    note = `confirmed, but a sync could not be started now (${err.message}); the next scheduled sync applies it`;
  }
  return json(202, {
    runId,
    mappingId: outcome.mappingId,
    review: { confirmedBy: by, confirmedAt: at, approved: outcome.approved, excluded: outcome.excluded },
    runs,
    ...(note ? { message: note } : {}),
  });
}

export const removalReviewRoutes: Array<Route<RouteContext>> = [
  {
    method: 'GET',
    pattern: '/api/tenants/:tenantId/runs/:runId/held-removals',
    access: { kind: 'tenant', need: 'read' },
    handle: listHeld,
    doc: {
      summary:
        'The records a held run would remove, a page at a time, searchable (case-insensitive, over record id, identifier and field values; at most 500 held records looked at per page)',
      query: heldQuery,
      responses: { 200: { description: '`{removals, scanned, nextPageToken}`.' } },
    },
  },
  {
    method: 'POST',
    pattern: '/api/tenants/:tenantId/runs/:runId/removals/confirm',
    access: { kind: 'tenant', need: 'write', allowHost: true },
    handle: confirm,
    doc: {
      summary:
        "Confirms a held run's removals except the records named in `exclude` (kept, and not held again while the source keeps not returning them), records who confirmed, and starts a sync that applies it",
      body: confirmBody,
      bodyOptional: true,
      responses: { 202: { description: '`{review, runs}`.' } },
    },
  },
];

import { z } from 'zod';
import { mappingInputSchema, objectIdOf } from '../../../../shared/mapping.js';
import { FirestoreMeter } from '../../engine/firestore-meter.js';
import { hashOfEntry } from '../../engine/page-plan.js';
import { identifierOfRecordId } from '../../engine/record-id.js';
import type { MappedRecord } from '../../engine/record-mapper.js';
import { loadHashIndex } from '../../store/hash-index.js';
import { readMapping } from '../../store/mappings.js';
import { readRecordsById, recordIdsBySourceId } from '../../store/records.js';
import { loadRemovalReview } from '../../store/removal-review.js';
import { sharedRequestBudget } from '../../store/request-budget.js';
import { withDirectoryRetry, type BackoffPolicy } from './backoff.js';
import { DirectoryCallError, InvalidGrantError } from './directory-errors.js';
import { GoogleDirectoryLister } from './directory-lister.js';
import { NotConnectedError } from './workspace-auth.js';
import { mapSourceObject } from '../../engine/record-mapper.js';
import { ApiError, notFound } from '../../api/api-error.js';
import { json, type ApiResult } from '../../api/http.js';
import { parseBody } from '../../api/request-body.js';
import { requireTenant, type RouteContext } from '../../api/route-context.js';
import type { Route } from '../../api/router.js';

/** Pages a next-run preview reads at most: an admin waits for it, and each page spends the tenant's budget. */
const MAX_NEXT_RUN_PAGES = 5;

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

/** A failed listing as the API's error (shared by both previews). */
function listingFailure(ctx: RouteContext, tenantId: string, entity: string, err: unknown): ApiError {
  if (err instanceof NotConnectedError)
    return new ApiError('failed_precondition', 'connect Google Workspace before previewing a mapping');
  if (err instanceof InvalidGrantError) {
    return new ApiError(
      'failed_precondition',
      'Google rejected the stored authorization; re-authorize the connection',
    );
  }
  if (err instanceof DirectoryCallError && err.classification.kind === 'forbidden') {
    return new ApiError(
      'failed_precondition',
      `Google refused to list ${entity} (${err.classification.reason})`,
    );
  }
  ctx.log.warn('preview listing failed', {
    tenantId,
    error: err instanceof Error ? err.message : String(err),
  });
  return new ApiError('unavailable', 'Google Workspace did not answer; try again');
}

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
    throw listingFailure(ctx, tenantId, mapping.entity, err);
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

const nextRunBody = z.strictObject({
  mapping: mappingInputSchema,
  /** Directory pages read at most (each takes one request of the tenant's budget). */
  maxPages: z.number().int().min(1).max(MAX_NEXT_RUN_PAGES).default(2),
  /** Objects per page; default the API's maximum (500 users). */
  pageSize: z.number().int().min(1).max(500).optional(),
});

/** Samples per bucket in a next-run preview. */
const SAMPLES = 5;

interface Sample {
  recordId: string;
  identifier: string | null;
  data?: Record<string, unknown>;
  changes?: Array<{ field: string; from: unknown; to: unknown }>;
  from?: string;
}

/**
 * POST /api/tenants/:tenantId/mappings/:mappingId/preview-next-run: what the next run would do if the draft
 * `mapping` replaced the stored one: records created, updated (with the changed fields), unchanged, re-keyed
 * (an identifier change moves a record) and removed, with samples. It compares against the records the mapping
 * holds now (its hash index), reads at most `maxPages` Directory pages, each after a slot of the tenant's request
 * budget, and writes nothing but that budget's bookkeeping. When the listing did not reach its end the answer is a
 * sample (`complete: false`): the counts cover the objects read, and removals are not known (`removed: null`).
 */
async function previewNextRun(ctx: RouteContext): Promise<ApiResult> {
  const { tenantId } = requireTenant(ctx);
  const mappingId = ctx.params.mappingId!;
  const { mapping: draft, maxPages, pageSize } = parseBody(ctx.req, nextRunBody, { emptyAllowed: false });
  const { app } = ctx;
  const current = await readMapping(app.db, tenantId, mappingId);
  if (!current) throw notFound('mapping not found');
  if (current.source !== 'google' || draft.source !== 'google')
    throw new ApiError('failed_precondition', 'a next-run preview reads Google Workspace mappings only');
  if (draft.entity !== current.entity)
    throw new ApiError('failed_precondition', 'the draft syncs another entity: every record would be new', [
      { path: 'mapping.entity', message: `the stored mapping syncs ${current.entity}` },
    ]);

  const items: Array<Record<string, unknown>> = [];
  let pages = 0;
  let next: string | null = null;
  try {
    const lister = new GoogleDirectoryLister(app.config, await app.auth.clientFor(tenantId));
    const budget = sharedRequestBudget(app.db, tenantId, app.config.sync.tenantQpm, app.clock, {
      windowMs: app.config.sync.budgetWindowMs,
    });
    do {
      await budget.acquire();
      const page = await withDirectoryRetry(
        () =>
          lister.listPage({
            entity: draft.entity,
            pageToken: next,
            sourcePaths: draft.fieldMap.map((f) => f.source),
            ...(pageSize !== undefined ? { pageSize } : {}),
          }),
        PREVIEW_BACKOFF,
        app.clock,
      );
      items.push(...page.items);
      next = page.nextPageToken;
      pages++;
    } while (next !== null && pages < maxPages);
  } catch (err) {
    throw listingFailure(ctx, tenantId, draft.entity, err);
  }
  const complete = next === null;

  const { index } = await loadHashIndex(app.db, tenantId, mappingId, new FirestoreMeter());
  const objectId = objectIdOf(current.target);
  const counts = { created: 0, updated: 0, unchanged: 0, rekeyed: 0, skipped: 0, outOfScope: 0 };
  const samples: Record<'created' | 'updated' | 'rekeyed' | 'removed', Sample[]> = {
    created: [],
    updated: [],
    rekeyed: [],
    removed: [],
  };
  const produced = new Set<string>();
  const fresh: MappedRecord[] = [];
  const updated: MappedRecord[] = [];
  for (const item of items) {
    const outcome = mapSourceObject(draft, item);
    if (outcome.kind === 'out_of_scope') counts.outOfScope++;
    else if (outcome.kind === 'skipped') counts.skipped++;
    else {
      const r = outcome.record;
      if (produced.has(r.recordId)) continue;
      produced.add(r.recordId);
      const indexed = index.get(r.recordId);
      if (indexed === undefined) fresh.push(r);
      else if (hashOfEntry(indexed) === r.hash) counts.unchanged++;
      else {
        counts.updated++;
        updated.push(r);
      }
    }
  }
  // A new id for an object the mapping already holds under another id is a move (engine/rekey.ts), not a
  // creation: the stored records are looked up by Directory id (only those the sample would create).
  const movedFrom =
    current.target.kind !== 'people' && fresh.length > 0 && draft.identifier !== current.identifier
      ? await recordIdsBySourceId(
          app.db,
          tenantId,
          objectId,
          fresh.map((r) => r.sourceId),
        )
      : new Map<string, string>();
  const movedIds = new Set<string>();
  for (const r of fresh) {
    const from = movedFrom.get(r.sourceId);
    if (from !== undefined && from !== r.recordId && index.has(from)) {
      counts.rekeyed++;
      movedIds.add(from);
      if (samples.rekeyed.length < SAMPLES)
        samples.rekeyed.push({ recordId: r.recordId, identifier: r.identifierValue, from });
    } else {
      counts.created++;
      if (samples.created.length < SAMPLES)
        samples.created.push({ recordId: r.recordId, identifier: r.identifierValue, data: r.data });
    }
  }
  const stored = await readRecordsById(
    app.db,
    tenantId,
    objectId,
    updated.slice(0, SAMPLES).map((r) => r.recordId),
  );
  for (const r of updated.slice(0, SAMPLES)) {
    const before = stored.get(r.recordId)?.fields ?? {};
    const fields = [...new Set([...Object.keys(before), ...Object.keys(r.data)])].sort();
    const changes = fields
      .filter((f) => JSON.stringify(before[f] ?? null) !== JSON.stringify(r.data[f] ?? null))
      .map((f) => ({ field: f, from: before[f] ?? null, to: r.data[f] ?? null }));
    samples.updated.push({ recordId: r.recordId, identifier: r.identifierValue, data: r.data, changes });
  }
  let removed: number | null = null;
  if (complete) {
    // Records an admin excluded from removal stay (store/removal-review.ts).
    const { exclusions } = await loadRemovalReview(app.db, tenantId, mappingId);
    const gone = [...index.keys()].filter(
      (id) => !produced.has(id) && !movedIds.has(id) && !exclusions.has(id),
    );
    removed = gone.length;
    samples.removed = gone
      .slice(0, SAMPLES)
      .map((id) => ({ recordId: id, identifier: identifierOfRecordId(id) }));
  }
  const share = removed === null || index.size === 0 ? null : (removed / index.size) * 100;
  return json(200, {
    mappingId,
    entity: draft.entity,
    complete,
    pagesRead: pages,
    objectsRead: items.length,
    currentRecords: index.size,
    identifierChange:
      draft.identifier !== current.identifier ? { from: current.identifier, to: draft.identifier } : null,
    counts: { ...counts, removed },
    wouldHold: share !== null && removed! > 0 && share > draft.removalThresholdPercent,
    samples,
    message: complete
      ? `read every ${draft.entity} object (${items.length}) in ${pages} request(s)`
      : `a sample: read the first ${items.length} ${draft.entity} objects (${pages} request(s)); counts cover those, and removals are known only from a complete listing`,
  });
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
  {
    method: 'POST',
    pattern: '/api/tenants/:tenantId/mappings/:mappingId/preview-next-run',
    access: { kind: 'tenant', need: 'read' },
    handle: previewNextRun,
    doc: {
      summary:
        'What the next run would do if the draft mapping replaced the stored one: created, updated (changed fields), unchanged, re-keyed and removed, with samples; reads at most `maxPages` Directory pages (a sample when the listing did not end: `complete: false`, `removed: null`)',
      body: nextRunBody,
      responses: { 200: { description: '`{complete, counts, samples, held, note}`; writes nothing.' } },
    },
  },
];

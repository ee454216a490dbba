import { z } from 'zod';
import { listRecords, readRecord, RECORD_STATUSES, type StoredRecord } from '../../store/records.js';
import { ApiError, notFound } from '../api-error.js';
import { json, type ApiResult } from '../http.js';
import { PARAM_SCHEMAS } from '../path-params.js';
import { parseQuery } from '../request-body.js';
import { requireTenant, type RouteContext } from '../route-context.js';
import type { Route } from '../router.js';

const recordsQuery = z.strictObject({
  status: z.enum(RECORD_STATUSES).optional(),
  limit: z.coerce.number().int().min(1).max(200).default(50),
  pageToken: z.string().max(2100).optional(),
});

/** Page tokens are the last record id, opaque to the client. */
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

/** A record as synced; `_sync` says where it came from and, for removed ones, when and why it was removed. */
function recordView(objectId: string, record: StoredRecord) {
  return { recordId: record.id, objectId, data: record.fields, sync: record.sync ?? null };
}

/** GET /api/tenants/:tenantId/objects/:objectId/records?status&limit&pageToken */
async function list(ctx: RouteContext): Promise<ApiResult> {
  const { tenantId } = requireTenant(ctx);
  const objectId = ctx.params.objectId!;
  const q = parseQuery(ctx.req, recordsQuery);
  const { records, more } = await listRecords(ctx.app.db, tenantId, objectId, {
    status: q.status,
    limit: q.limit,
    afterId: q.pageToken ? decodeToken(q.pageToken) : undefined,
  });
  return json(200, {
    records: records.map((r) => recordView(objectId, r)),
    nextPageToken: more && records.length > 0 ? encodeToken(records[records.length - 1]!.id) : null,
  });
}

async function get(ctx: RouteContext): Promise<ApiResult> {
  const { tenantId } = requireTenant(ctx);
  const objectId = ctx.params.objectId!;
  const record = await readRecord(ctx.app.db, tenantId, objectId, ctx.params.recordId!);
  if (!record) throw notFound('record not found');
  return json(200, recordView(objectId, record));
}

const base = '/api/tenants/:tenantId/objects/:objectId/records';
export const recordRoutes: Array<Route<RouteContext>> = [
  {
    method: 'GET',
    pattern: base,
    access: { kind: 'tenant', need: 'read' },
    handle: list,
    doc: {
      summary: 'Records synced into a target object, a page at a time',
      query: recordsQuery,
      responses: { 200: { description: '`{records, nextPageToken}` (null on the last page).' } },
    },
  },
  {
    method: 'GET',
    pattern: `${base}/:recordId`,
    access: { kind: 'tenant', need: 'read' },
    handle: get,
    doc: {
      summary: 'One record, with where it came from (`sync`) and, if removed, when and why',
      responses: { 200: { description: '`{recordId, objectId, data, sync}`.' } },
    },
  },
];

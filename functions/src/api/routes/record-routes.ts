import { FieldPath, type DocumentData } from '@google-cloud/firestore';
import { z } from 'zod';
import { paths } from '../../../../shared/firestore-paths.js';
import { ApiError, notFound } from '../api-error.js';
import { json, type ApiResult } from '../http.js';
import { PARAM_SCHEMAS } from '../path-params.js';
import { parseQuery } from '../request-body.js';
import { requireTenant, type RouteContext } from '../route-context.js';
import type { Route } from '../router.js';

const recordsQuery = z.strictObject({
  status: z.enum(['active', 'inactive', 'removed']).optional(),
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
function recordView(objectId: string, id: string, data: DocumentData) {
  const { _sync, ...fields } = data;
  return { recordId: id, objectId, data: fields, sync: (_sync as unknown) ?? null };
}

/** GET /api/tenants/:tenantId/objects/:objectId/records?status&limit&pageToken */
async function list(ctx: RouteContext): Promise<ApiResult> {
  const { tenantId } = requireTenant(ctx);
  const objectId = ctx.params.objectId!;
  const q = parseQuery(ctx.req, recordsQuery);
  const records = ctx.app.db.collection(paths.records(tenantId, objectId));
  const filtered = q.status ? records.where('_sync.status', '==', q.status) : records;
  let query = filtered.orderBy(FieldPath.documentId()).limit(q.limit + 1);
  if (q.pageToken) query = query.startAfter(decodeToken(q.pageToken));
  const snap = await query.get();
  const docs = snap.docs.slice(0, q.limit);
  const more = snap.docs.length > q.limit;
  return json(200, {
    records: docs.map((d) => recordView(objectId, d.id, d.data())),
    nextPageToken: more && docs.length > 0 ? encodeToken(docs[docs.length - 1]!.id) : null,
  });
}

async function get(ctx: RouteContext): Promise<ApiResult> {
  const { tenantId } = requireTenant(ctx);
  const objectId = ctx.params.objectId!;
  const snap = await ctx.app.db.doc(paths.record(tenantId, objectId, ctx.params.recordId!)).get();
  if (!snap.exists) throw notFound('record not found');
  return json(200, recordView(objectId, snap.id, snap.data()!));
}

const base = '/api/tenants/:tenantId/objects/:objectId/records';
export const recordRoutes: Array<Route<RouteContext>> = [
  { method: 'GET', pattern: base, access: { kind: 'tenant', need: 'read' }, handle: list },
  { method: 'GET', pattern: `${base}/:recordId`, access: { kind: 'tenant', need: 'read' }, handle: get },
];

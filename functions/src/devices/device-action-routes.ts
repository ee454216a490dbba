import { z } from 'zod';
import { ApiError, notFound, parseOrThrow } from '../api/api-error.js';
import { json, type ApiResult } from '../api/http.js';
import { parseBody, parseQuery } from '../api/request-body.js';
import { actorOf, requireTenant, type RouteContext } from '../api/route-context.js';
import type { Route } from '../api/router.js';
import { listDeviceActions, readDeviceAction } from '../store/device-actions.js';
import { deviceActionRequestSchema, idempotencyKeySchema, performDeviceAction } from './device-actions.js';
import { performWriteBack, writeBackRequestSchema } from './write-back.js';

/** POST /api/tenants/:tenantId/devices/actions — disable, wipe, move… devices at Google (device-actions.ts). */
async function act(ctx: RouteContext): Promise<ApiResult> {
  const scope = requireTenant(ctx);
  const header = ctx.req.header('idempotency-key');
  const idempotencyKey =
    header === undefined ? undefined : parseOrThrow(idempotencyKeySchema, header, 'Idempotency-Key header');
  const request = parseBody(ctx.req, deviceActionRequestSchema, { emptyAllowed: false });
  const { action, replayed } = await performDeviceAction(ctx, {
    tenantId: scope.tenantId,
    tenantRaw: scope.raw,
    requestedBy: actorOf(ctx.caller),
    request,
    idempotencyKey,
  });
  return json(200, { action }, replayed ? { 'idempotent-replayed': 'true' } : undefined);
}

/** POST /api/tenants/:tenantId/objects/:objectId/records/:recordId/write-back — annotations to Google (write-back.ts). */
async function writeBack(ctx: RouteContext): Promise<ApiResult> {
  const scope = requireTenant(ctx);
  const request = parseBody(ctx.req, writeBackRequestSchema, { emptyAllowed: false });
  const action = await performWriteBack(ctx, {
    tenantId: scope.tenantId,
    tenantRaw: scope.raw,
    objectId: ctx.params.objectId!,
    recordId: ctx.params.recordId!,
    requestedBy: actorOf(ctx.caller),
    request,
  });
  return json(200, { action });
}

const listQuery = z.strictObject({
  limit: z.coerce.number().int().min(1).max(100).default(20),
  after: z
    .string()
    .regex(/^[A-Za-z0-9_-]{1,100}$/)
    .optional(),
});

/** GET /api/tenants/:tenantId/devices/actions?limit&after — the audit trail, newest first. */
async function list(ctx: RouteContext): Promise<ApiResult> {
  const { tenantId } = requireTenant(ctx);
  const q = parseQuery(ctx.req, listQuery);
  const page = await listDeviceActions(ctx.app.db, tenantId, {
    limit: q.limit,
    ...(q.after ? { after: q.after } : {}),
  });
  if (page.kind === 'unknown_cursor')
    throw new ApiError('invalid_argument', 'invalid query parameter', [
      { path: 'after', message: 'no such device action' },
    ]);
  return json(200, { actions: page.actions, next: page.next });
}

async function get(ctx: RouteContext): Promise<ApiResult> {
  const { tenantId } = requireTenant(ctx);
  const action = await readDeviceAction(ctx.app.db, tenantId, ctx.params.actionId!);
  if (!action) throw notFound('device action not found');
  return json(200, { action });
}

export const deviceActionRoutes: Array<Route<RouteContext>> = [
  {
    method: 'POST',
    pattern: '/api/tenants/:tenantId/devices/actions',
    access: { kind: 'tenant', need: 'write', allowHost: true },
    handle: act,
    doc: {
      summary:
        'Act on devices at Google: disable, re-enable, wipe, move… (destructive actions need `confirm`)',
      body: deviceActionRequestSchema,
      headers: [
        {
          name: 'Idempotency-Key',
          description: 'Makes a retry return the first answer (with `Idempotent-Replayed: true`).',
          schema: idempotencyKeySchema,
        },
      ],
      responses: { 200: { description: '`{action}`: the recorded action and its outcome per device.' } },
    },
  },
  {
    method: 'POST',
    pattern: '/api/tenants/:tenantId/objects/:objectId/records/:recordId/write-back',
    access: { kind: 'tenant', need: 'write', allowHost: true },
    handle: writeBack,
    doc: {
      summary:
        'Write annotations of a synced Chrome OS device back to Google (asset id, location, user, notes)',
      body: writeBackRequestSchema,
      responses: { 200: { description: '`{action}`: the recorded write-back.' } },
    },
  },
  {
    method: 'GET',
    pattern: '/api/tenants/:tenantId/devices/actions',
    access: { kind: 'tenant', need: 'read' },
    handle: list,
    doc: {
      summary: 'The device-action audit trail, newest first',
      query: listQuery,
      responses: {
        200: { description: '`{actions, next}` (`next`: the `after` of the next page, or null).' },
      },
    },
  },
  {
    method: 'GET',
    pattern: '/api/tenants/:tenantId/devices/actions/:actionId',
    access: { kind: 'tenant', need: 'read' },
    handle: get,
    doc: { summary: 'One device action', responses: { 200: { description: '`{action}`.' } } },
  },
];

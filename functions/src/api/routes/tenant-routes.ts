import { z } from 'zod';
import { createTenantWithOwner, TENANT_ID_PATTERN } from '../../store/tenants.js';
import { parseCredentialHealth, parseGoogleAuth } from '../../store/tenants.js';
import { listMappings } from '../../store/mappings.js';
import { memberIdFor } from '../../store/members.js';
import { listRuns } from '../../store/runs.js';
import { ApiError } from '../api-error.js';
import { json, type ApiResult } from '../http.js';
import { parseBody } from '../request-body.js';
import { actorOf, requireTenant, type RouteContext } from '../route-context.js';
import type { Route } from '../router.js';
import { runSummary } from '../run-views.js';
import { tenantSchedule } from '../schedule.js';

export const createTenantBody = z.strictObject({
  tenantId: z
    .string()
    .regex(
      TENANT_ID_PATTERN,
      'lowercase letters, digits and dashes (1-40), not starting or ending with a dash',
    ),
  name: z.string().trim().min(1).max(120),
  ownerEmail: z.email().max(254),
});

/**
 * POST /api/tenants (host product, HMAC): a new tenant, pending until an admin connects Google Workspace, and
 * its first owner. Repeating the same request is harmless; a different one for an existing id is a conflict.
 */
async function createTenant(ctx: RouteContext): Promise<ApiResult> {
  const body = parseBody(ctx.req, createTenantBody, { emptyAllowed: false });
  const ownerId = memberIdFor(body.ownerEmail);
  const outcome = await createTenantWithOwner(ctx.app.db, {
    tenantId: body.tenantId,
    name: body.name,
    ownerId,
    now: new Date(ctx.app.clock.now()).toISOString(),
    by: actorOf(ctx.caller),
  });
  if (outcome === 'conflict') throw new ApiError('conflict', `tenant ${body.tenantId} already exists`);
  const created = outcome === 'created';
  if (created) ctx.log.info('tenant created', { tenantId: body.tenantId, by: actorOf(ctx.caller) });
  return json(created ? 201 : 200, {
    tenantId: body.tenantId,
    name: body.name,
    status: 'pending',
    ownerEmail: ownerId,
    created,
  });
}

const createdTenant = z.object({
  tenantId: z.string(),
  name: z.string(),
  status: z.literal('pending'),
  ownerEmail: z.string(),
  created: z.boolean(),
});

const CONNECTION_FIELDS = [
  'state',
  'customerId',
  'domain',
  'adminEmail',
  'scopes',
  'deviceManagement',
  'connectedAt',
  'connectedBy',
  'revokedAt',
  'revokedBy',
  'lastError',
  'lastErrorAt',
] as const;

/** Connection metadata, field by field: whatever else lands on the tenant document is not echoed. */
export function connectionView(raw: unknown): Record<string, unknown> | null {
  if (!raw || typeof raw !== 'object') return null;
  const src = raw as Record<string, unknown>;
  const out: Record<string, unknown> = {};
  for (const f of CONNECTION_FIELDS) if (src[f] !== undefined) out[f] = src[f];
  return out;
}

const ENTRA_FIELDS = [
  'state',
  'tenantId',
  'connectedAt',
  'connectedBy',
  'stateReason',
  'stateChangedAt',
  'disconnectedAt',
  'disconnectedBy',
] as const;

/** The Entra connection without the client id, base URLs or anything secret; null when never connected. */
export function entraView(raw: unknown): Record<string, unknown> | null {
  if (!raw || typeof raw !== 'object') return null;
  const src = raw as Record<string, unknown>;
  const out: Record<string, unknown> = {};
  for (const f of ENTRA_FIELDS) if (src[f] !== undefined) out[f] = src[f];
  return out;
}

/** GET /api/tenants/:tenantId: status, connection, mappings with their last run, next scheduled sync. */
async function tenantStatus(ctx: RouteContext): Promise<ApiResult> {
  const scope = requireTenant(ctx);
  const db = ctx.app.db;
  const stored = await listMappings(db, scope.tenantId);
  const mappings = await Promise.all(
    // From the stored fields, not the parsed mapping: a mapping that no longer validates is listed too.
    stored.map(async ({ id, data, version }) => {
      const [last] = await listRuns(db, scope.tenantId, { mappingId: id, limit: 1 });
      return {
        id,
        name: String(data.name ?? ''),
        entity: String(data.entity ?? ''),
        enabled: data.enabled === true,
        version,
        lastRun: last ? runSummary(last.id, last.data) : null,
      };
    }),
  );
  mappings.sort((a, b) => a.name.localeCompare(b.name) || a.id.localeCompare(b.id));
  return json(200, {
    tenantId: scope.tenantId,
    name: scope.tenant.name,
    status: scope.tenant.status,
    statusReason: scope.tenant.statusReason,
    role: scope.role,
    connection: connectionView(scope.raw.connection),
    entra: entraView(scope.raw.entra),
    // Issue 18: how Google is connected and whether its credential works (details: GET .../connection).
    googleAuthMode: parseGoogleAuth(scope.raw.googleAuth).mode,
    credentialHealth: parseCredentialHealth(scope.raw.credentialHealth),
    // Whether this service can connect Microsoft Entra at all (ENTRA_CLIENT_ID set).
    entraAvailable: ctx.api.entra !== null,
    mappings,
    schedule: tenantSchedule(scope.raw, scope.tenant.status, ctx.app.clock.now()),
  });
}

export const tenantRoutes: Array<Route<RouteContext>> = [
  {
    method: 'POST',
    pattern: '/api/tenants',
    access: { kind: 'host' },
    handle: createTenant,
    doc: {
      summary: 'Create a tenant and its first owner (pending until an admin connects Google Workspace)',
      description:
        'Repeating the same request is harmless (200); a different one for an existing id is a 409.',
      body: createTenantBody,
      responses: {
        201: { description: 'Created.', schema: createdTenant },
        200: { description: 'The same tenant already existed.', schema: createdTenant },
      },
    },
  },
  {
    method: 'GET',
    pattern: '/api/tenants/:tenantId',
    access: { kind: 'tenant', need: 'read' },
    handle: tenantStatus,
    doc: {
      summary:
        'The tenant: status, your role, connections, mappings with their last run, next scheduled sync',
      responses: { 200: { description: 'The tenant as the console overview shows it.' } },
    },
  },
];

import { z } from 'zod';
import { scheduleSchema, scheduleView, scheduleOfTenant } from '../../engine/tenant-schedule.js';
import { precedencePolicySchema } from '../../people/precedence-policy.js';
import {
  listSettingsAudit,
  readTenantSettings,
  updateTenantSettings,
  type StoredSettings,
} from '../../store/tenant-settings.js';
import { ApiError, notFound } from '../api-error.js';
import { json, type ApiResult } from '../http.js';
import { parseBody, parseQuery } from '../request-body.js';
import { actorOf, requireTenant, type RouteContext } from '../route-context.js';
import type { Route } from '../router.js';

/**
 * The tenant's settings (store/tenant-settings.ts): people precedence, the removal ceiling, the sync schedule and
 * its time zone. Members (and the host product) read them; owners (and the host product) change them. Every
 * change is audited: who, when, each field's old and new value. Notification targets are their own resource
 * (/api/tenants/:t/notifications).
 */

const settingsBody = z
  .strictObject({
    peoplePrecedence: precedencePolicySchema.optional(),
    /** Percent of a mapping's records one run may remove before it is held; null: each mapping's own. */
    removalThresholdPercent: z.number().min(0).max(100).nullable().optional(),
    schedule: scheduleSchema.optional(),
  })
  .refine((b) => Object.keys(b).length > 0, { message: 'name at least one setting to change' });

const etagOf = (version: number) => `"s${version}"`;

/** The version the client last saw, when it sends one (If-Match: "s<version>"). */
function ifMatchVersion(ctx: RouteContext): number | undefined {
  const raw = ctx.req.header('if-match');
  if (raw === undefined) return undefined;
  const m = /^"s(\d{1,9})"$/.exec(raw.trim());
  if (!m?.[1])
    throw new ApiError('invalid_argument', 'If-Match must be the ETag of the settings, e.g. "s3"', [
      { path: 'If-Match', message: 'expected "s<version>"' },
    ]);
  return Number(m[1]);
}

function view(ctx: RouteContext, stored: StoredSettings, raw: Record<string, unknown>) {
  const scope = requireTenant(ctx);
  const { settings } = stored;
  return {
    peoplePrecedence: settings.peoplePrecedence,
    removalThresholdPercent: settings.removalThresholdPercent,
    schedule: scheduleView(
      { ...scheduleOfTenant(raw), ...settings.schedule },
      ctx.app.clock.now(),
      scope.tenant.status === 'active',
    ),
    version: stored.version,
    // What the caller may do with them, so the console can say so before anyone fills in a form.
    canEdit: scope.role === null || scope.role === 'owner',
  };
}

async function getSettings(ctx: RouteContext): Promise<ApiResult> {
  const scope = requireTenant(ctx);
  const stored = await readTenantSettings(ctx.app.db, scope.tenantId);
  if (!stored) throw notFound('tenant not found');
  return json(200, view(ctx, stored, scope.raw), { etag: etagOf(stored.version) });
}

async function putSettings(ctx: RouteContext): Promise<ApiResult> {
  const scope = requireTenant(ctx);
  const body = parseBody(ctx.req, settingsBody, { emptyAllowed: false });
  const expectedVersion = ifMatchVersion(ctx);
  const by = actorOf(ctx.caller);
  const now = ctx.app.clock.now();
  const outcome = await updateTenantSettings(
    ctx.app.db,
    scope.tenantId,
    {
      ...(body.peoplePrecedence ? { peoplePrecedence: body.peoplePrecedence } : {}),
      ...(body.removalThresholdPercent !== undefined
        ? { removalThresholdPercent: body.removalThresholdPercent }
        : {}),
      ...(body.schedule ? { schedule: body.schedule } : {}),
    },
    { by, now, ...(expectedVersion !== undefined ? { expectedVersion } : {}) },
  );
  if (outcome.kind === 'not_found') throw notFound('tenant not found');
  if (outcome.kind === 'stale') {
    throw new ApiError(
      'precondition_failed',
      `the settings were changed by someone else (now version ${outcome.current}); reload them and apply your change again`,
      [],
      { etag: etagOf(outcome.current) },
      { currentVersion: outcome.current },
    );
  }
  if (outcome.changes.length > 0)
    ctx.log.info('tenant settings changed', {
      tenantId: scope.tenantId,
      by,
      fields: outcome.changes.map((c) => c.field),
    });
  const raw = body.schedule ? { schedule: { ...body.schedule, lastScheduledAt: now } } : scope.raw;
  return json(
    200,
    { ...view(ctx, outcome.stored, raw), changed: outcome.changes.map((c) => c.field) },
    { etag: etagOf(outcome.stored.version) },
  );
}

const auditQuery = z.strictObject({ limit: z.coerce.number().int().min(1).max(100).default(20) });

/** GET .../settings/audit: the latest changes, newest first. */
async function getAudit(ctx: RouteContext): Promise<ApiResult> {
  const scope = requireTenant(ctx);
  const { limit } = parseQuery(ctx.req, auditQuery);
  return json(200, { entries: await listSettingsAudit(ctx.app.db, scope.tenantId, limit) });
}

export const settingsRoutes: Array<Route<RouteContext>> = [
  {
    method: 'GET',
    pattern: '/api/tenants/:tenantId/settings',
    access: { kind: 'tenant', need: 'read', allowHost: true },
    handle: getSettings,
    doc: {
      summary: "The tenant's settings: people precedence, removal thresholds, schedule and time zone",
      responses: { 200: { description: 'The settings, with the schedule described in words.' } },
    },
  },
  {
    method: 'PUT',
    pattern: '/api/tenants/:tenantId/settings',
    access: { kind: 'tenant', need: 'owner', allowHost: true },
    handle: putSettings,
    doc: {
      summary: 'Changes tenant settings (validated, IANA time zone; audited with who, when and what changed)',
      body: settingsBody,
      responses: { 200: { description: 'The stored settings.' } },
    },
  },
  {
    method: 'GET',
    pattern: '/api/tenants/:tenantId/settings/audit',
    access: { kind: 'tenant', need: 'read', allowHost: true },
    handle: getAudit,
    doc: {
      summary: 'Who changed the tenant settings, when, from what to what (newest first)',
      query: auditQuery,
      responses: { 200: { description: '`{entries}`.' } },
    },
  },
];

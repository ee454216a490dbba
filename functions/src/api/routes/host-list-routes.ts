import { z } from 'zod';
import { mappingTargetSchema } from '../../../../shared/mapping.js';
import {
  hostListItemSchema,
  readHostList,
  writeHostList,
  type HostListItem,
  type HostListName,
} from '../../store/host-lists.js';
import { listEnabledMappings } from '../../store/mappings.js';
import { readSyncedOrgUnitPaths } from '../../store/org-unit-tree.js';
import { GoogleDirectoryLister } from '../../sources/google/directory-lister.js';
import { withDirectoryRetry } from '../../sources/google/backoff.js';
import { NotConnectedError } from '../../sources/google/workspace-auth.js';
import { InvalidGrantError } from '../../sources/google/directory-errors.js';
import { ApiError } from '../api-error.js';
import { json, type ApiResult } from '../http.js';
import { parseBody } from '../request-body.js';
import { actorOf, requireTenant, type RouteContext } from '../route-context.js';
import type { Route } from '../router.js';

/**
 * What the console's pickers offer instead of free text:
 * - `GET|PUT /api/tenants/:t/login-roles`: the roles login users can have in the host product (G1, G2, ...).
 *   The host product sets them with its signed API (owners may too); every member reads them. While the list
 *   is not empty, a login-users mapping's role must be one of them (mapping-routes.ts).
 * - `GET|PUT /api/tenants/:t/product-objects`: the host product's objects records can go to, set the same way.
 * - `GET /api/tenants/:t/org-units`: the tenant's org unit paths, from its synced org-units records when it
 *   syncs them, otherwise read from Google (one orgunits.list).
 */

const MAX_ITEMS = 200;

/** A list of items with unique ids; `check` adds the list's own rule for an id. */
const listBody = (key: string, check?: (id: string) => string | null) =>
  z.strictObject({
    [key]: z
      .array(hostListItemSchema)
      .max(MAX_ITEMS)
      .superRefine((items, ctx) => {
        const seen = new Set<string>();
        items.forEach((item, i) => {
          if (seen.has(item.id))
            ctx.addIssue({ code: 'custom', path: [i, 'id'], message: `${item.id} is listed twice` });
          seen.add(item.id);
          const problem = check?.(item.id);
          if (problem) ctx.addIssue({ code: 'custom', path: [i, 'id'], message: problem });
        });
      }),
  });

/** An object id is what a collection mapping's target takes (shared/mapping.ts). */
function objectIdProblem(id: string): string | null {
  const parsed = mappingTargetSchema.safeParse({ kind: 'collection', objectId: id });
  return parsed.success ? null : (parsed.error.issues[0]?.message ?? 'not an object id');
}

const LISTS: Record<HostListName, { key: string; body: z.ZodType<Record<string, HostListItem[]>> }> = {
  loginRoles: { key: 'roles', body: listBody('roles') },
  objects: { key: 'objects', body: listBody('objects', objectIdProblem) },
};

const readList = (list: HostListName) => async (ctx: RouteContext) => {
  const { tenantId } = requireTenant(ctx);
  const stored = await readHostList(ctx.app.db, tenantId, list);
  return json(200, {
    [LISTS[list].key]: stored.items,
    updatedAt: stored.updatedAt,
    updatedBy: stored.updatedBy,
  });
};

const replaceList = (list: HostListName) => async (ctx: RouteContext) => {
  const { tenantId } = requireTenant(ctx);
  const { key, body } = LISTS[list];
  const items = parseBody(ctx.req, body, { emptyAllowed: false })[key]!;
  const by = actorOf(ctx.caller);
  const stored = await writeHostList(ctx.app.db, tenantId, list, items, {
    now: new Date(ctx.app.clock.now()).toISOString(),
    by,
  });
  ctx.log.info('host list replaced', { tenantId, list, items: items.length, by });
  return json(200, { [key]: stored.items, updatedAt: stored.updatedAt, updatedBy: stored.updatedBy });
};

/** The org unit tree: synced records first (no Google request), else Google's listing. */
async function orgUnits(ctx: RouteContext): Promise<ApiResult> {
  const { tenantId } = requireTenant(ctx);
  const { app } = ctx;
  const orgUnitMappings = (await listEnabledMappings(app.db, tenantId)).filter(
    (m) => m.source === 'google' && m.entity === 'orgunits',
  );
  const synced = await readSyncedOrgUnitPaths(app.db, tenantId, orgUnitMappings);
  if (synced) {
    const paths = synced.paths.includes('/') ? synced.paths : ['/', ...synced.paths];
    return json(200, { orgUnits: paths.map(unitOf), source: 'synced', mappingId: synced.mappingId });
  }
  let items: Array<Record<string, unknown>>;
  try {
    const lister = new GoogleDirectoryLister(app.config, await app.auth.clientFor(tenantId));
    const page = await withDirectoryRetry(
      () => lister.listPage({ entity: 'orgunits', pageToken: null, sourcePaths: ['orgUnitPath', 'name'] }),
      { maxAttempts: 3, initialDelayMs: 250, maxDelayMs: 1000, multiplier: 2 },
      app.clock,
    );
    items = page.items;
  } catch (err) {
    if (err instanceof NotConnectedError)
      throw new ApiError('failed_precondition', 'connect Google Workspace to choose from its org units');
    if (err instanceof InvalidGrantError)
      throw new ApiError(
        'failed_precondition',
        'Google rejected the stored authorization; re-authorize the connection',
      );
    ctx.log.warn('org unit listing failed', {
      tenantId,
      error: err instanceof Error ? err.message : String(err),
    });
    throw new ApiError('unavailable', 'Google Workspace did not answer; try again');
  }
  const paths = new Set<string>(['/']);
  for (const ou of items) if (typeof ou.orgUnitPath === 'string') paths.add(ou.orgUnitPath);
  return json(200, { orgUnits: [...paths].sort().map(unitOf), source: 'google' });
}

/** A path with its depth and last segment, what a tree picker indents and shows. */
function unitOf(path: string) {
  const parts = path.split('/').filter(Boolean);
  return { path, name: parts.at(-1) ?? '/', depth: parts.length };
}

const tenantBase = '/api/tenants/:tenantId';
export const hostListRoutes: Array<Route<RouteContext>> = [
  {
    method: 'GET',
    pattern: `${tenantBase}/login-roles`,
    access: { kind: 'tenant', need: 'read', allowHost: true },
    handle: readList('loginRoles'),
    doc: {
      summary: 'The login-user roles the host product offers (the role picker of login-users mappings)',
      responses: { 200: { description: '`{roles, updatedAt, updatedBy}`.' } },
    },
  },
  {
    method: 'PUT',
    pattern: `${tenantBase}/login-roles`,
    access: { kind: 'tenant', need: 'owner', allowHost: true },
    handle: replaceList('loginRoles'),
    doc: {
      summary:
        'Sets the login-user roles the host product offers; while a list exists, a login-users mapping must use one of them',
      body: LISTS.loginRoles.body,
      responses: { 200: { description: 'The stored list.' } },
    },
  },
  {
    method: 'GET',
    pattern: `${tenantBase}/product-objects`,
    access: { kind: 'tenant', need: 'read', allowHost: true },
    handle: readList('objects'),
    doc: {
      summary: "The host product's objects a mapping may write to (suggested by the mapping editor)",
      responses: { 200: { description: '`{objects, updatedAt, updatedBy}`.' } },
    },
  },
  {
    method: 'PUT',
    pattern: `${tenantBase}/product-objects`,
    access: { kind: 'tenant', need: 'owner', allowHost: true },
    handle: replaceList('objects'),
    doc: {
      summary: "Sets the host product's objects offered to mappings",
      body: LISTS.objects.body,
      responses: { 200: { description: 'The stored list.' } },
    },
  },
  {
    method: 'GET',
    pattern: `${tenantBase}/org-units`,
    access: { kind: 'tenant', need: 'read' },
    handle: orgUnits,
    doc: {
      summary:
        "The tenant's org unit tree for pickers: from the synced org-unit records when the tenant syncs them, otherwise one orgunits.list at Google",
      responses: { 200: { description: '`{orgUnits, source}`.' } },
    },
  },
];

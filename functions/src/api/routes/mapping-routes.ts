import { z } from 'zod';
import { mappingInputSchema, type MappingInput } from '../../../../shared/mapping.js';
import { readHostList } from '../../store/host-lists.js';
import {
  createMapping,
  deleteMapping,
  listMappings,
  readStoredMapping,
  updateMapping,
  type LoginUsersTaken,
  type StoredMapping,
  type TargetTaken,
} from '../../store/mappings.js';
import { ApiError, notFound } from '../api-error.js';
import { etagOf, requiredIfMatch, staleVersion } from '../etag.js';
import { json, type ApiResult } from '../http.js';
import { parseBody, parseQuery } from '../request-body.js';
import { actorOf, requireTenant, type RouteContext } from '../route-context.js';
import type { Route } from '../router.js';

/**
 * Mapping CRUD with optimistic concurrency: every write names the version it was based on (If-Match), checked
 * and bumped in one transaction (store/mappings.ts). Deleting a mapping stops its syncs but keeps the records it
 * synced (the host product decides what they mean now), as well as its run history.
 */
export const MAX_MAPPINGS_PER_TENANT = 50;

function mappingView(tenantId: string, stored: StoredMapping): Record<string, unknown> {
  // A document edited by hand may no longer validate: show it, flagged, rather than hide it.
  return stored.mapping ? { ...stored.mapping } : { ...stored.data, id: stored.id, tenantId, valid: false };
}

/** Two mappings writing one target would remove each other's records in their sweeps. */
function targetTaken({ clash, objectId }: TargetTaken): ApiError {
  return new ApiError(
    'conflict',
    `mapping "${clash.name}" already writes to ${objectId}; each target can have one mapping`,
    [{ path: 'target', message: `${objectId} is already a target of mapping ${clash.id}` }],
    {},
    { conflictsWith: { id: clash.id, name: clash.name } },
  );
}

/**
 * Two login-users mappings claiming one org unit would give its users two roles; keyed by different identifiers
 * they would make one person two login users. The message says which mapping and what to do.
 */
function loginUsersTaken(conflict: LoginUsersTaken): ApiError {
  return new ApiError(
    'conflict',
    conflict.message,
    [{ path: conflict.path, message: conflict.message }],
    {},
    { conflictsWith: conflict.with },
  );
}

/**
 * While the host product lists its login roles (PUT /login-roles), a login-users mapping's role must be one of
 * them: a role the product does not know would let nobody sign in as intended.
 */
async function requireKnownRole(ctx: RouteContext, tenantId: string, input: MappingInput): Promise<void> {
  const { target } = input;
  if (target.kind !== 'loginUsers') return;
  const { items } = await readHostList(ctx.app.db, tenantId, 'loginRoles');
  if (items.length === 0 || items.some((r) => r.id === target.role)) return;
  const offered = items.map((r) => (r.label && r.label !== r.id ? `${r.id} (${r.label})` : r.id)).join(', ');
  const message = `${target.role} is not a role your product offers; choose one of ${offered}`;
  throw new ApiError('invalid_argument', message, [{ path: 'target.role', message }]);
}

async function list(ctx: RouteContext): Promise<ApiResult> {
  const { tenantId } = requireTenant(ctx);
  const mappings = (await listMappings(ctx.app.db, tenantId)).map((m) => mappingView(tenantId, m));
  return json(200, { mappings });
}

async function create(ctx: RouteContext): Promise<ApiResult> {
  const { tenantId } = requireTenant(ctx);
  const input = parseBody(ctx.req, mappingInputSchema, { emptyAllowed: false });
  await requireKnownRole(ctx, tenantId, input);
  const outcome = await createMapping(ctx.app.db, tenantId, input, {
    now: new Date(ctx.app.clock.now()).toISOString(),
    by: actorOf(ctx.caller),
    maxPerTenant: MAX_MAPPINGS_PER_TENANT,
  });
  if (outcome.kind === 'target_taken') throw targetTaken(outcome);
  if (outcome.kind === 'login_users_conflict') throw loginUsersTaken(outcome);
  if (outcome.kind === 'too_many')
    throw new ApiError('conflict', `a tenant can have at most ${MAX_MAPPINGS_PER_TENANT} mappings`);
  const { mapping } = outcome;
  ctx.log.info('mapping created', { tenantId, mappingId: mapping.id, by: mapping.updatedBy });
  return json(201, mapping, {
    etag: etagOf(1),
    location: `/api/tenants/${tenantId}/mappings/${mapping.id}`,
  });
}

async function get(ctx: RouteContext): Promise<ApiResult> {
  const { tenantId } = requireTenant(ctx);
  const stored = await readStoredMapping(ctx.app.db, tenantId, ctx.params.mappingId!);
  if (!stored) throw notFound('mapping not found');
  return json(200, mappingView(tenantId, stored), { etag: etagOf(stored.version) });
}

async function replace(ctx: RouteContext): Promise<ApiResult> {
  const { tenantId } = requireTenant(ctx);
  const id = ctx.params.mappingId!;
  const expected = requiredIfMatch(ctx.req);
  const input = parseBody(ctx.req, mappingInputSchema, { emptyAllowed: false });
  await requireKnownRole(ctx, tenantId, input);
  const identifierChange = await refuseSilentIdentifierChange(ctx, tenantId, id, expected, input);
  const outcome = await updateMapping(ctx.app.db, tenantId, id, input, expected, {
    now: new Date(ctx.app.clock.now()).toISOString(),
    by: actorOf(ctx.caller),
  });
  if (outcome.kind === 'not_found') throw notFound('mapping not found');
  if (outcome.kind === 'stale') throw staleVersion(outcome.current);
  if (outcome.kind === 'target_taken') throw targetTaken(outcome);
  if (outcome.kind === 'login_users_conflict') throw loginUsersTaken(outcome);
  const updated = outcome.mapping;
  ctx.log.info('mapping updated', {
    tenantId,
    mappingId: id,
    version: updated.version,
    by: updated.updatedBy,
    ...(identifierChange ? { identifierChange } : {}),
  });
  return json(200, updated, { etag: etagOf(updated.version) });
}

const replaceQuery = z.strictObject({
  acknowledgeIdentifierChange: z.enum(['true', 'false']).optional(),
});

/**
 * Changing a mapping's unique identifier changes every record's id. The next sync moves each record to its new
 * id (engine/rekey.ts), but a caller must say it means it: a PUT that changes the identifier without
 * `?acknowledgeIdentifierChange=true` is refused with 409 naming the change, and nothing is written. Only a
 * write based on the stored version is judged here; any other is refused as stale by the update anyway.
 */
async function refuseSilentIdentifierChange(
  ctx: RouteContext,
  tenantId: string,
  mappingId: string,
  expected: number,
  input: MappingInput,
): Promise<{ from: string; to: string } | null> {
  const { acknowledgeIdentifierChange } = parseQuery(ctx.req, replaceQuery);
  const stored = await readStoredMapping(ctx.app.db, tenantId, mappingId);
  const before = stored?.mapping;
  if (!before || stored.version !== expected || before.identifier === input.identifier) return null;
  const change = { from: before.identifier, to: input.identifier };
  if (acknowledgeIdentifierChange === 'true') return change;
  throw new ApiError(
    'conflict',
    `this changes the mapping's unique identifier from ${change.from} to ${change.to}: every record gets a new id. ` +
      'The next sync moves each record to its new id (records whose object has no ' +
      `${change.to} are judged for removal as usual). Send the same request with ?acknowledgeIdentifierChange=true to go ahead.`,
    [{ path: 'identifier', message: `changed from ${change.from} to ${change.to}` }],
    {},
    { identifierChange: change },
  );
}

async function remove(ctx: RouteContext): Promise<ApiResult> {
  const { tenantId } = requireTenant(ctx);
  const id = ctx.params.mappingId!;
  const expected = requiredIfMatch(ctx.req);
  const outcome = await deleteMapping(ctx.app.db, tenantId, id, expected);
  if (outcome.kind === 'not_found') throw notFound('mapping not found');
  if (outcome.kind === 'stale') throw staleVersion(outcome.current);
  ctx.log.info('mapping deleted', { tenantId, mappingId: id, by: actorOf(ctx.caller) });
  return json(200, {
    id,
    deleted: true,
    recordsKept: true,
    message:
      'The mapping was deleted and will not sync again. Records it synced were kept, with their last sync status.',
  });
}

const base = '/api/tenants/:tenantId/mappings';
export const mappingRoutes: Array<Route<RouteContext>> = [
  {
    method: 'GET',
    pattern: base,
    access: { kind: 'tenant', need: 'read' },
    handle: list,
    doc: {
      summary: "The tenant's mappings",
      description: 'A stored mapping that no longer validates is listed with `valid: false`.',
      responses: { 200: { description: '`{mappings}`.' } },
    },
  },
  {
    method: 'POST',
    pattern: base,
    access: { kind: 'tenant', need: 'write' },
    handle: create,
    doc: {
      summary: 'Create a mapping',
      description: 'Each target can have one mapping (409); at most 50 per tenant (409).',
      body: mappingInputSchema,
      responses: { 201: { description: 'The mapping, version 1; `ETag` and `Location` headers.' } },
    },
  },
  {
    method: 'GET',
    pattern: `${base}/:mappingId`,
    access: { kind: 'tenant', need: 'read' },
    handle: get,
    doc: { summary: 'A mapping', responses: { 200: { description: 'The mapping; `ETag: "<version>"`.' } } },
  },
  {
    method: 'PUT',
    pattern: `${base}/:mappingId`,
    access: { kind: 'tenant', need: 'write' },
    handle: replace,
    doc: {
      summary: 'Replace a mapping',
      body: mappingInputSchema,
      headers: [
        {
          name: 'If-Match',
          required: true,
          description:
            'The version it is based on, `"<version>"` (the ETag of GET); 412 when stale, 428 when missing.',
        },
      ],
      responses: { 200: { description: 'The mapping with its new version; `ETag`.' } },
    },
  },
  {
    method: 'DELETE',
    pattern: `${base}/:mappingId`,
    access: { kind: 'tenant', need: 'write' },
    handle: remove,
    doc: {
      summary: 'Delete a mapping: it stops syncing; the records it synced and its runs are kept',
      headers: [
        {
          name: 'If-Match',
          required: true,
          description:
            'The version it is based on, `"<version>"` (the ETag of GET); 412 when stale, 428 when missing.',
        },
      ],
      responses: { 200: { description: '`{id, deleted: true, recordsKept: true, message}`.' } },
    },
  },
];

import { randomBytes } from 'node:crypto';
import type { DocumentData, Firestore, Transaction } from '@google-cloud/firestore';
import { paths } from '../../../../shared/firestore-paths.js';
import {
  mappingInputSchema,
  objectIdOf,
  type Mapping,
  type MappingInput,
} from '../../../../shared/mapping.js';
import { parseStoredMapping } from '../../store/mappings.js';
import { ApiError, notFound } from '../api-error.js';
import { etagOf, requiredIfMatch, staleVersion } from '../etag.js';
import { json, type ApiResult } from '../http.js';
import { parseBody } from '../request-body.js';
import { actorOf, requireTenant, type RouteContext } from '../route-context.js';
import type { Route } from '../router.js';

/**
 * Mapping CRUD with optimistic concurrency: every write names the version it was based on (If-Match), checked
 * and bumped in one transaction. Deleting a mapping stops its syncs but keeps the records it synced (the host
 * product decides what they mean now), as well as its run history.
 */
export const MAX_MAPPINGS_PER_TENANT = 50;

function mappingView(tenantId: string, id: string, data: DocumentData): Record<string, unknown> {
  const m = parseStoredMapping(tenantId, id, data);
  // A document edited by hand may no longer validate: show it, flagged, rather than hide it.
  return m ? { ...m } : { ...data, id, tenantId, valid: false };
}

function newMappingId(name: string): string {
  const slug = name
    .toLowerCase()
    .normalize('NFKD')
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-+|-+$/g, '')
    .slice(0, 40)
    .replace(/-+$/, '');
  return `${slug || 'mapping'}-${randomBytes(3).toString('hex')}`;
}

/**
 * Two mappings writing one target would remove each other's records in their sweeps. Merged people are the
 * exception by design: each source's mapping removes only its own source's part of a person.
 */
async function assertTargetFree(
  db: Firestore,
  tx: Transaction,
  tenantId: string,
  input: MappingInput,
  selfId: string | null,
) {
  const snap = await tx.get(db.collection(paths.mappings(tenantId)));
  const objectId = objectIdOf(input.target);
  const clash = snap.docs.find(
    (d) =>
      d.id !== selfId &&
      objectIdOf((d.get('target') ?? { kind: 'collection', objectId: '' }) as Mapping['target']) ===
        objectId &&
      (input.target.kind !== 'people' || (d.get('source') ?? 'google') === input.source),
  );
  if (clash) {
    throw new ApiError(
      'conflict',
      `mapping "${String(clash.get('name') ?? clash.id)}" already writes to ${objectId}; each target can have one mapping`,
      [{ path: 'target', message: `${objectId} is already a target of mapping ${clash.id}` }],
    );
  }
  return snap.size;
}

async function list(ctx: RouteContext): Promise<ApiResult> {
  const { tenantId } = requireTenant(ctx);
  const snap = await ctx.app.db.collection(paths.mappings(tenantId)).get();
  const mappings = snap.docs.map((d) => mappingView(tenantId, d.id, d.data()));
  return json(200, { mappings });
}

async function create(ctx: RouteContext): Promise<ApiResult> {
  const { tenantId } = requireTenant(ctx);
  const input = parseBody(ctx.req, mappingInputSchema, { emptyAllowed: false });
  const db = ctx.app.db;
  const id = newMappingId(input.name);
  const now = new Date(ctx.app.clock.now()).toISOString();
  const mapping: Mapping = {
    ...input,
    id,
    tenantId,
    version: 1,
    createdAt: now,
    updatedAt: now,
    updatedBy: actorOf(ctx.caller),
  };
  await db.runTransaction(async (tx) => {
    const count = await assertTargetFree(db, tx, tenantId, input, null);
    if (count >= MAX_MAPPINGS_PER_TENANT)
      throw new ApiError('conflict', `a tenant can have at most ${MAX_MAPPINGS_PER_TENANT} mappings`);
    tx.create(db.doc(paths.mapping(tenantId, id)), mapping);
  });
  ctx.log.info('mapping created', { tenantId, mappingId: id, by: mapping.updatedBy });
  return json(201, mapping, { etag: etagOf(1), location: `/api/tenants/${tenantId}/mappings/${id}` });
}

async function get(ctx: RouteContext): Promise<ApiResult> {
  const { tenantId } = requireTenant(ctx);
  const id = ctx.params.mappingId!;
  const snap = await ctx.app.db.doc(paths.mapping(tenantId, id)).get();
  if (!snap.exists) throw notFound('mapping not found');
  const view = mappingView(tenantId, id, snap.data()!);
  return json(200, view, { etag: etagOf(Number(snap.get('version') ?? 1)) });
}

async function replace(ctx: RouteContext): Promise<ApiResult> {
  const { tenantId } = requireTenant(ctx);
  const id = ctx.params.mappingId!;
  const expected = requiredIfMatch(ctx.req);
  const input = parseBody(ctx.req, mappingInputSchema, { emptyAllowed: false });
  const db = ctx.app.db;
  const ref = db.doc(paths.mapping(tenantId, id));
  const now = new Date(ctx.app.clock.now()).toISOString();
  const updated = await db.runTransaction(async (tx) => {
    const snap = await tx.get(ref);
    if (!snap.exists) throw notFound('mapping not found');
    const current = Number(snap.get('version') ?? 1);
    if (current !== expected) throw staleVersion(current);
    // Only a changed target needs the tenant-wide check (which reads, and so locks, every mapping).
    const currentTarget = snap.get('target') as Mapping['target'] | undefined;
    if (!currentTarget || objectIdOf(currentTarget) !== objectIdOf(input.target)) {
      await assertTargetFree(db, tx, tenantId, input, id);
    }
    const next: Mapping = {
      ...input,
      id,
      tenantId,
      version: current + 1,
      createdAt: String(snap.get('createdAt') ?? now),
      updatedAt: now,
      updatedBy: actorOf(ctx.caller),
    };
    tx.set(ref, next);
    return next;
  });
  ctx.log.info('mapping updated', {
    tenantId,
    mappingId: id,
    version: updated.version,
    by: updated.updatedBy,
  });
  return json(200, updated, { etag: etagOf(updated.version) });
}

async function remove(ctx: RouteContext): Promise<ApiResult> {
  const { tenantId } = requireTenant(ctx);
  const id = ctx.params.mappingId!;
  const expected = requiredIfMatch(ctx.req);
  const db = ctx.app.db;
  const ref = db.doc(paths.mapping(tenantId, id));
  await db.runTransaction(async (tx) => {
    const snap = await tx.get(ref);
    if (!snap.exists) throw notFound('mapping not found');
    const current = Number(snap.get('version') ?? 1);
    if (current !== expected) throw staleVersion(current);
    tx.delete(ref);
  });
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
  { method: 'GET', pattern: base, access: { kind: 'tenant', need: 'read' }, handle: list },
  { method: 'POST', pattern: base, access: { kind: 'tenant', need: 'write' }, handle: create },
  { method: 'GET', pattern: `${base}/:mappingId`, access: { kind: 'tenant', need: 'read' }, handle: get },
  {
    method: 'PUT',
    pattern: `${base}/:mappingId`,
    access: { kind: 'tenant', need: 'write' },
    handle: replace,
  },
  {
    method: 'DELETE',
    pattern: `${base}/:mappingId`,
    access: { kind: 'tenant', need: 'write' },
    handle: remove,
  },
];

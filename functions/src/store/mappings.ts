import { randomBytes } from 'node:crypto';
import {
  FieldPath,
  type DocumentData,
  type Firestore,
  type QueryDocumentSnapshot,
  type Transaction,
} from '@google-cloud/firestore';
import { z } from 'zod';
import { SOURCE_KINDS, type SourceKind } from '../../../shared/entities.js';
import { paths } from '../../../shared/firestore-paths.js';
import {
  loginUsersConflict,
  mappingInputSchema,
  objectIdOf,
  type LoginUsersConflict,
  type Mapping,
  type MappingInput,
} from '../../../shared/mapping.js';

/**
 * `tenants/{t}/mappings/{mappingId}`: what a tenant syncs, and where to. Every write names the version it was
 * based on and bumps it in one transaction (optimistic concurrency; the API carries it as an ETag).
 */

/** Re-validates a stored mapping: a hand-edited or outdated document must not drive a sync. */
export function parseStoredMapping(
  tenantId: string,
  mappingId: string,
  data: Record<string, unknown>,
): Mapping | null {
  const { id: _id, tenantId: _t, version, createdAt, updatedAt, updatedBy, ...input } = data;
  const parsed = mappingInputSchema.safeParse(input);
  if (!parsed.success) return null;
  return {
    ...parsed.data,
    id: mappingId,
    tenantId,
    version: typeof version === 'number' ? version : 1,
    createdAt: String(createdAt ?? ''),
    updatedAt: String(updatedAt ?? ''),
    updatedBy: String(updatedBy ?? ''),
  };
}

export async function readMapping(
  db: Firestore,
  tenantId: string,
  mappingId: string,
): Promise<Mapping | null> {
  return (await readStoredMapping(db, tenantId, mappingId))?.mapping ?? null;
}

export async function listEnabledMappings(db: Firestore, tenantId: string): Promise<Mapping[]> {
  const snap = await db.collection(paths.mappings(tenantId)).where('enabled', '==', true).get();
  return snap.docs.flatMap((d) => parseStoredMapping(tenantId, d.id, d.data()) ?? []);
}

/**
 * The tenant's enabled login-users mappings: a login-users sync gives each user to the most specific of them
 * (shared/mapping.ts loginUsersOwner), so it needs to know them all.
 */
export async function listEnabledLoginUsersMappings(db: Firestore, tenantId: string): Promise<Mapping[]> {
  const snap = await db.collection(paths.mappings(tenantId)).where('target.kind', '==', 'loginUsers').get();
  return snap.docs.flatMap((d) => {
    const m = parseStoredMapping(tenantId, d.id, d.data());
    return m?.enabled ? [m] : [];
  });
}

/** What the fan-out needs of a mapping to decide whether it syncs (engine/tenant-syncs.ts). */
export interface MappingSummary {
  tenantId: string;
  id: string;
  source: SourceKind;
  enabled: boolean;
}

/**
 * A range of every tenant's mappings in collection-group order (tenant id, then mapping id): tenants with
 * from <= id < to, starting after mapping `after` of tenant `from` when set. `from` '' is the first tenant and
 * `to` undefined runs past the last.
 */
export interface MappingRange {
  from: string;
  after?: string;
  to?: string;
}

// The same default and kinds as the mapping schema (shared/mapping.ts): a mapping written before `source`
// existed reads Google Workspace.
const summarySchema = z.object({
  source: z.enum(SOURCE_KINDS).default('google'),
  enabled: z.boolean(),
});

/**
 * The enabled mappings of every tenant in `range`, in collection-group order; served by the collection-group
 * index on `enabled` (infra/firestore.indexes.json).
 */
function enabledMappingsIn(db: Firestore, range: MappingRange) {
  let query = db.collectionGroup('mappings').where('enabled', '==', true).orderBy(FieldPath.documentId());
  if (range.after !== undefined) query = query.startAfter(paths.mapping(range.from, range.after));
  else if (range.from !== '') query = query.startAt(paths.tenant(range.from));
  if (range.to !== undefined) query = query.endBefore(paths.tenant(range.to));
  return query;
}

/**
 * One page (about `limit`) of the enabled mappings in `range`, reading only the fields the fan-out needs.
 * `full` says the range may hold more after the page's last mapping. A page never ends inside a tenant: when
 * the limit falls among a tenant's mappings, the rest of that tenant's (at most the per-tenant maximum) join
 * the page, so the fan-out decides and records each tenant's scheduled run in one place.
 */
export async function pageEnabledMappings(
  db: Firestore,
  range: MappingRange,
  limit: number,
): Promise<{ mappings: MappingSummary[]; full: boolean }> {
  const snap = await enabledMappingsIn(db, range).select('source', 'enabled').limit(limit).get();
  const mappings = snap.docs.flatMap(summaryOf);
  const full = snap.size === limit;
  const last = snap.docs.at(-1);
  const lastTenant = last?.ref.parent.parent;
  if (full && last && lastTenant) {
    const rest = await lastTenant
      .collection('mappings')
      .where('enabled', '==', true)
      .orderBy(FieldPath.documentId())
      .startAfter(last.id)
      .select('source', 'enabled')
      .get();
    mappings.push(...rest.docs.flatMap(summaryOf));
  }
  return { mappings, full };
}

function summaryOf(d: QueryDocumentSnapshot): MappingSummary[] {
  const tenant = d.ref.parent.parent;
  // Only tenants/{t}/mappings/{m} is a mapping; a collection of that name elsewhere is not.
  if (!tenant || tenant.parent.id !== 'tenants' || tenant.parent.parent !== null) return [];
  const parsed = summarySchema.safeParse(d.data());
  return parsed.success ? [{ tenantId: tenant.id, id: d.id, ...parsed.data }] : [];
}

/** How many enabled mappings `range` holds (an aggregation: about one read per thousand). */
export async function countEnabledMappings(db: Firestore, range: MappingRange): Promise<number> {
  return (await enabledMappingsIn(db, range).count().get()).data().count;
}

/** The tenant's mappings reading one source (enabled or not). */
export async function listMappingsOfSource(
  db: Firestore,
  tenantId: string,
  source: string,
): Promise<Mapping[]> {
  const snap = await db.collection(paths.mappings(tenantId)).where('source', '==', source).get();
  return snap.docs.flatMap((d) => parseStoredMapping(tenantId, d.id, d.data()) ?? []);
}

/** Stores a new mapping under `id`, version 1; fails if the id is taken. */
export async function insertMapping(
  db: Firestore,
  tenantId: string,
  id: string,
  input: MappingInput,
  by: string,
  at: string,
): Promise<void> {
  await db.doc(paths.mapping(tenantId, id)).create({
    ...input,
    version: 1,
    createdAt: at,
    updatedAt: at,
    updatedBy: by,
  });
}

/**
 * A stored mapping for the API: `mapping` is null when the document no longer validates; the API still shows
 * it (flagged) from `data` rather than hide it, so an admin can see and fix it.
 */
export interface StoredMapping {
  id: string;
  mapping: Mapping | null;
  data: DocumentData;
  /** The stored version as the ETag states it (1 when absent). */
  version: number;
}

function storedMapping(tenantId: string, id: string, data: DocumentData): StoredMapping {
  return {
    id,
    mapping: parseStoredMapping(tenantId, id, data),
    data,
    version: Number(data.version ?? 1),
  };
}

/** Every mapping of the tenant, valid or not. */
export async function listMappings(db: Firestore, tenantId: string): Promise<StoredMapping[]> {
  const snap = await db.collection(paths.mappings(tenantId)).get();
  return snap.docs.map((d) => storedMapping(tenantId, d.id, d.data()));
}

/** One mapping, valid or not; null when absent. */
export async function readStoredMapping(
  db: Firestore,
  tenantId: string,
  mappingId: string,
): Promise<StoredMapping | null> {
  const snap = await db.doc(paths.mapping(tenantId, mappingId)).get();
  return snap.exists ? storedMapping(tenantId, mappingId, snap.data()!) : null;
}

/** A readable, unique id: the name's slug and a random suffix. */
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

/** Another mapping already writes the target: two would remove each other's records in their sweeps. */
export interface TargetTaken {
  kind: 'target_taken';
  objectId: string;
  clash: { id: string; name: string };
}

/** Another login-users mapping claims the same org unit, or keys login users by another identifier. */
export interface LoginUsersTaken extends LoginUsersConflict {
  kind: 'login_users_conflict';
}

/**
 * The clashing mapping, or the number of mappings when the target is free (read in the transaction). Two
 * mappings writing one target would remove each other's records in their sweeps; merged people are the
 * exception by design: each source's mapping removes only its own source's part of a person. Login users are
 * the other exception: several mappings share them, one per org unit (shared/mapping.ts loginUsersOwner), as
 * long as no two claim one org unit and all key them by one identifier.
 */
async function findTargetClash(
  db: Firestore,
  tx: Transaction,
  tenantId: string,
  input: MappingInput,
  selfId: string | null,
): Promise<TargetTaken | LoginUsersTaken | { kind: 'free'; count: number }> {
  const snap = await tx.get(db.collection(paths.mappings(tenantId)));
  if (input.target.kind === 'loginUsers') {
    const others = snap.docs.flatMap((d) => {
      if (d.id === selfId) return [];
      // A login-users mapping that no longer validates still claims what it names, as far as it can be read.
      const parsed = parseStoredMapping(tenantId, d.id, d.data());
      return parsed ? [parsed] : [];
    });
    const conflict = loginUsersConflict(input, others);
    if (conflict) return { kind: 'login_users_conflict', ...conflict };
    return { kind: 'free', count: snap.size };
  }
  const objectId = objectIdOf(input.target);
  const clash = snap.docs.find(
    (d) =>
      d.id !== selfId &&
      objectIdOf((d.get('target') ?? { kind: 'collection', objectId: '' }) as Mapping['target']) ===
        objectId &&
      (input.target.kind !== 'people' || (d.get('source') ?? 'google') === input.source),
  );
  if (clash)
    return {
      kind: 'target_taken',
      objectId,
      clash: { id: clash.id, name: String(clash.get('name') ?? clash.id) },
    };
  return { kind: 'free', count: snap.size };
}

interface WriteMeta {
  /** ISO time of the write. */
  now: string;
  /** Who wrote it (`updatedBy`). */
  by: string;
}

export type CreateMappingOutcome =
  { kind: 'created'; mapping: Mapping } | TargetTaken | LoginUsersTaken | { kind: 'too_many' };

/** Creates a mapping at version 1, unless its target is taken or the tenant has `maxPerTenant` already. */
export async function createMapping(
  db: Firestore,
  tenantId: string,
  input: MappingInput,
  meta: WriteMeta & { maxPerTenant: number },
): Promise<CreateMappingOutcome> {
  const id = newMappingId(input.name);
  const mapping: Mapping = {
    ...input,
    id,
    tenantId,
    version: 1,
    createdAt: meta.now,
    updatedAt: meta.now,
    updatedBy: meta.by,
  };
  return db.runTransaction(async (tx): Promise<CreateMappingOutcome> => {
    const target = await findTargetClash(db, tx, tenantId, input, null);
    if (target.kind !== 'free') return target;
    if (target.count >= meta.maxPerTenant) return { kind: 'too_many' };
    tx.create(db.doc(paths.mapping(tenantId, id)), mapping);
    return { kind: 'created', mapping };
  });
}

/** The stored version is not the one the writer based its change on. */
export interface StaleVersion {
  kind: 'stale';
  current: number;
}

export type UpdateMappingOutcome =
  | { kind: 'updated'; mapping: Mapping }
  | { kind: 'not_found' }
  | StaleVersion
  | TargetTaken
  | LoginUsersTaken;

/** Replaces the mapping with `input` as version expectedVersion + 1, if it is still at expectedVersion. */
export async function updateMapping(
  db: Firestore,
  tenantId: string,
  mappingId: string,
  input: MappingInput,
  expectedVersion: number,
  meta: WriteMeta,
): Promise<UpdateMappingOutcome> {
  const ref = db.doc(paths.mapping(tenantId, mappingId));
  return db.runTransaction(async (tx): Promise<UpdateMappingOutcome> => {
    const snap = await tx.get(ref);
    if (!snap.exists) return { kind: 'not_found' };
    const current = Number(snap.get('version') ?? 1);
    if (current !== expectedVersion) return { kind: 'stale', current };
    // Only a changed target needs the tenant-wide check (which reads, and so locks, every mapping); a
    // login-users mapping's scope and identifier can clash with its siblings', so it is checked on every write.
    const currentTarget = snap.get('target') as Mapping['target'] | undefined;
    if (
      !currentTarget ||
      objectIdOf(currentTarget) !== objectIdOf(input.target) ||
      input.target.kind === 'loginUsers'
    ) {
      const target = await findTargetClash(db, tx, tenantId, input, mappingId);
      if (target.kind !== 'free') return target;
    }
    const next: Mapping = {
      ...input,
      id: mappingId,
      tenantId,
      version: current + 1,
      createdAt: String(snap.get('createdAt') ?? meta.now),
      updatedAt: meta.now,
      updatedBy: meta.by,
    };
    tx.set(ref, next);
    return { kind: 'updated', mapping: next };
  });
}

/** Deletes the mapping if it is still at expectedVersion. Its records and run history stay. */
export async function deleteMapping(
  db: Firestore,
  tenantId: string,
  mappingId: string,
  expectedVersion: number,
): Promise<{ kind: 'deleted' } | { kind: 'not_found' } | StaleVersion> {
  const ref = db.doc(paths.mapping(tenantId, mappingId));
  return db.runTransaction(async (tx) => {
    const snap = await tx.get(ref);
    if (!snap.exists) return { kind: 'not_found' as const };
    const current = Number(snap.get('version') ?? 1);
    if (current !== expectedVersion) return { kind: 'stale' as const, current };
    tx.delete(ref);
    return { kind: 'deleted' as const };
  });
}

import type { Firestore } from '@google-cloud/firestore';
import { paths } from '../../../shared/firestore-paths.js';
import { mappingInputSchema, type Mapping, type MappingInput } from '../../../shared/mapping.js';

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
  const snap = await db.doc(paths.mapping(tenantId, mappingId)).get();
  return snap.exists ? parseStoredMapping(tenantId, mappingId, snap.data()!) : null;
}

export async function listEnabledMappings(db: Firestore, tenantId: string): Promise<Mapping[]> {
  const snap = await db.collection(paths.mappings(tenantId)).where('enabled', '==', true).get();
  return snap.docs.flatMap((d) => parseStoredMapping(tenantId, d.id, d.data()) ?? []);
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

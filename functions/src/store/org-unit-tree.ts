import type { Firestore } from '@google-cloud/firestore';
import { paths } from '../../../shared/firestore-paths.js';
import { objectIdOf, type Mapping } from '../../../shared/mapping.js';

/**
 * The org unit tree as a tenant's org-units mapping synced it (records of `tenants/{t}/objects/{objectId}`),
 * read for the console's org-unit pickers. Only the path is read: from the field the mapping maps
 * `orgUnitPath` to, else from the record's identifier when the mapping is keyed by the path.
 */

/** Where the path is kept in the records of an org-units mapping, or null when it keeps none. */
function pathFieldOf(mapping: Mapping): string | null {
  const mapped = mapping.fieldMap.find((f) => f.source === 'orgUnitPath' && f.direction !== 'none');
  if (mapped) return mapped.target;
  return mapping.identifier === 'orgUnitPath' ? '_sync.identifier.value' : null;
}

/** Enough for any real tree (Google allows a few thousand org units); a larger one is cut, not failed. */
const MAX_UNITS = 5000;

/**
 * The org unit paths the first of `mappings` (enabled Google org-units mappings) that keeps paths has synced,
 * sorted, without removed ones; null when none keeps paths or none has synced yet.
 */
export async function readSyncedOrgUnitPaths(
  db: Firestore,
  tenantId: string,
  mappings: readonly Mapping[],
): Promise<{ paths: string[]; mappingId: string } | null> {
  for (const mapping of mappings) {
    const field = pathFieldOf(mapping);
    if (!field) continue;
    const snap = await db
      .collection(paths.records(tenantId, objectIdOf(mapping.target)))
      .select(field, '_sync.status')
      .limit(MAX_UNITS)
      .get();
    const found = new Set<string>();
    for (const d of snap.docs) {
      const value: unknown = d.get(field);
      if (d.get('_sync.status') !== 'removed' && typeof value === 'string' && value.startsWith('/'))
        found.add(value);
    }
    if (found.size > 0) return { paths: [...found].sort(), mappingId: mapping.id };
  }
  return null;
}

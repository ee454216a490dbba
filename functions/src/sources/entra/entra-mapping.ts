import { randomBytes } from 'node:crypto';
import type { Db as Firestore } from '../../store/firestore.js';
import { mappingInputSchema, type MappingInput } from '../../../../shared/mapping.js';
import { insertMapping, listMappingsOfSource } from '../../store/mappings.js';

/**
 * Connecting Microsoft Entra gives the tenant an ordinary mapping (source Entra, entity users, target merged
 * people) unless it has one: Entra users then sync like any mapping, and an admin can change or disable it.
 * Person fields are named as the Google people mappings name them, so both sources fill the same field.
 */
export const DEFAULT_ENTRA_PEOPLE_MAPPING: MappingInput = mappingInputSchema.parse({
  name: 'Microsoft Entra users',
  source: 'entra',
  entity: 'users',
  identifier: 'email',
  target: { kind: 'people' },
  fieldMap: [
    { source: 'givenName', target: 'givenName' },
    { source: 'surname', target: 'familyName' },
    { source: 'displayName', target: 'fullName' },
    { source: 'jobTitle', target: 'jobTitle' },
    { source: 'department', target: 'department' },
    { source: 'phone', target: 'phone' },
    { source: 'employeeId', target: 'employeeId' },
  ],
});

/** The tenant's Entra people mapping id: the existing one, or a new one with the defaults. */
export async function ensureEntraPeopleMapping(
  db: Firestore,
  tenantId: string,
  by: string,
  at: string,
): Promise<string> {
  const existing = (await listMappingsOfSource(db, tenantId, 'entra')).find(
    (m) => m.target.kind === 'people',
  );
  if (existing) return existing.id;
  const id = `microsoft-entra-users-${randomBytes(3).toString('hex')}`;
  await insertMapping(db, tenantId, id, DEFAULT_ENTRA_PEOPLE_MAPPING, by, at);
  return id;
}

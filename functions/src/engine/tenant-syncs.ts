import type { Db as Firestore } from '../store/firestore.js';
import type { SourceKind } from '../../../shared/entities.js';
import type { Mapping } from '../../../shared/mapping.js';
import { listEnabledMappings } from '../store/mappings.js';
import type { TenantDoc } from '../store/tenants.js';
import type { Source } from './source.js';

/**
 * Which syncs a tenant has: its enabled mappings whose source it has connected. The tick fan-out and the
 * refresh webhook both ask this, so a tenant with only Microsoft Entra connected syncs like any other.
 */
export async function tenantSyncs(
  db: Firestore,
  tenantId: string,
  tenant: TenantDoc,
  sources: Record<SourceKind, Pick<Source, 'connected'>>,
): Promise<Mapping[]> {
  const mappings = await listEnabledMappings(db, tenantId);
  return mappings.filter((m) => sources[m.source].connected(tenant));
}

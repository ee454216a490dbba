import type { Db as Firestore } from '../store/firestore.js';
import type { SourceKind } from '../../../shared/entities.js';
import type { Mapping } from '../../../shared/mapping.js';
import { listEnabledMappings } from '../store/mappings.js';
import type { TenantDoc } from '../store/tenants.js';
import type { Source } from './source.js';

export type ConnectedSources = Record<SourceKind, Pick<Source, 'connected'>>;

/**
 * Which syncs a tenant has: its enabled mappings whose source it has connected (Google mappings only while
 * Google Workspace is connected, the Entra mapping only while Entra is). The one rule: the refresh webhook and
 * a tick for one tenant ask it through tenantSyncs, the fan-out over every tenant asks it page by page.
 */
export function syncsOf<M extends { source: SourceKind; enabled: boolean }>(
  tenant: TenantDoc | null | undefined,
  mappings: readonly M[],
  sources: ConnectedSources,
): M[] {
  if (!tenant) return [];
  return mappings.filter((m) => m.enabled && sources[m.source].connected(tenant));
}

/** The syncs of one tenant, read from its own mappings. */
export async function tenantSyncs(
  db: Firestore,
  tenantId: string,
  tenant: TenantDoc,
  sources: ConnectedSources,
): Promise<Mapping[]> {
  return syncsOf(tenant, await listEnabledMappings(db, tenantId), sources);
}

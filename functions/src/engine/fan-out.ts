import type { Db as Firestore } from '../store/firestore.js';
import type { SourceKind } from '../../../shared/entities.js';
import type { Logger } from '../platform/log.js';
import { listTenants, readTenant, type TenantDoc } from '../store/tenants.js';
import { tickMessageSchema, type SyncMessage } from './messages.js';
import type { Source } from './source.js';
import { tenantSyncs } from './tenant-syncs.js';

export interface FanOutDeps {
  db: Firestore;
  log: Logger;
  sources: Record<SourceKind, Pick<Source, 'connected'>>;
  publishSync(msg: SyncMessage): Promise<void>;
}

/**
 * A scheduler tick becomes one sync message per tenant and sync it has (engine/tenant-syncs.ts). The tick's
 * own message id goes into every request id, so a redelivered tick starts no second run.
 */
export async function fanOutTick(
  deps: FanOutDeps,
  payload: unknown,
  tickId: string,
): Promise<{ published: number }> {
  const parsed = tickMessageSchema.safeParse(payload);
  if (!parsed.success) {
    deps.log.warn('rejected malformed tick', { issues: parsed.error.issues.map((i) => i.message) });
    return { published: 0 };
  }
  const tick = parsed.data;
  let published = 0;
  const trigger = tick.tenantId ? 'manual' : 'schedule';
  const publishFor = async (tenantId: string, tenant: TenantDoc) => {
    for (const mapping of await tenantSyncs(deps.db, tenantId, tenant, deps.sources)) {
      await deps.publishSync({
        kind: 'sync',
        tenantId,
        mappingId: mapping.id,
        requestId: `${tick.job}:${tickId}:${mapping.id}`,
        trigger,
      });
      published++;
    }
  };

  if (tick.tenantId) {
    const tenant = await readTenant(deps.db, tick.tenantId);
    if (tenant) await publishFor(tick.tenantId, tenant);
  } else {
    for await (const { id, tenant } of listTenants(deps.db)) await publishFor(id, tenant);
  }
  deps.log.info('tick fanned out', { job: tick.job, tickId, published });
  return { published };
}

import type { DocumentData, Firestore } from '@google-cloud/firestore';
import { parseTenantEntra } from '../sources/entra/entra-connection.js';
import type { Logger } from '../platform/log.js';
import { listEnabledMappings } from '../store/mappings.js';
import { ENTRA_PEOPLE_SYNC_ID, tickMessageSchema, type SyncMessage } from './messages.js';

export interface FanOutDeps {
  db: Firestore;
  log: Logger;
  publishSync(msg: SyncMessage): Promise<void>;
}

const TENANT_PAGE = 200;

/**
 * A scheduler tick becomes one sync message per active tenant and enabled mapping, plus one Entra people sync
 * (mappingId `entra-people`) per active tenant whose Entra connection is `connected`. The tick's own message id
 * goes into every request id, so a redelivered tick starts no second run.
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
  const publishFor = async (tenantId: string, tenant: DocumentData) => {
    const mappingIds = (await listEnabledMappings(deps.db, tenantId)).map((m) => m.id);
    if (parseTenantEntra(tenant.entra)?.state === 'connected') mappingIds.push(ENTRA_PEOPLE_SYNC_ID);
    for (const mappingId of mappingIds) {
      await deps.publishSync({
        kind: 'sync',
        tenantId,
        mappingId,
        requestId: `${tick.job}:${tickId}:${mappingId}`,
        trigger,
      });
      published++;
    }
  };

  if (tick.tenantId) {
    const t = await deps.db.doc(`tenants/${tick.tenantId}`).get();
    if (t.get('status') === 'active') await publishFor(tick.tenantId, t.data() ?? {});
  } else {
    let query = deps.db
      .collection('tenants')
      .where('status', '==', 'active')
      .orderBy('__name__')
      .limit(TENANT_PAGE);
    for (;;) {
      const snap = await query.get();
      for (const doc of snap.docs) await publishFor(doc.id, doc.data());
      if (snap.size < TENANT_PAGE) break;
      query = query.startAfter(snap.docs[snap.docs.length - 1]!);
    }
  }
  deps.log.info('tick fanned out', { job: tick.job, tickId, published });
  return { published };
}

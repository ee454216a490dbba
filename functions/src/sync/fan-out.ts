import type { Firestore } from '@google-cloud/firestore';
import type { Logger } from '../platform/log.js';
import { listEnabledMappings } from './mapping-store.js';
import { tickMessageSchema, type SyncMessage } from './messages.js';

export interface FanOutDeps {
  db: Firestore;
  log: Logger;
  publishSync(msg: SyncMessage): Promise<void>;
}

const TENANT_PAGE = 200;

/**
 * A scheduler tick becomes one sync message per active tenant and enabled mapping. The tick's own message id
 * goes into every request id, so a redelivered tick starts no second run.
 */
export async function fanOutTick(deps: FanOutDeps, payload: unknown, tickId: string): Promise<{ published: number }> {
  const parsed = tickMessageSchema.safeParse(payload);
  if (!parsed.success) {
    deps.log.warn('rejected malformed tick', { issues: parsed.error.issues.map((i) => i.message) });
    return { published: 0 };
  }
  const tick = parsed.data;
  let published = 0;
  const publishFor = async (tenantId: string) => {
    for (const m of await listEnabledMappings(deps.db, tenantId)) {
      await deps.publishSync({
        kind: 'sync',
        tenantId,
        mappingId: m.id,
        requestId: `${tick.job}:${tickId}:${m.id}`,
        trigger: tick.tenantId ? 'manual' : 'schedule',
      });
      published++;
    }
  };

  if (tick.tenantId) {
    const t = await deps.db.doc(`tenants/${tick.tenantId}`).get();
    if (t.get('status') === 'active') await publishFor(tick.tenantId);
  } else {
    let query = deps.db.collection('tenants').where('status', '==', 'active').orderBy('__name__').limit(TENANT_PAGE);
    for (;;) {
      const snap = await query.get();
      for (const doc of snap.docs) await publishFor(doc.id);
      if (snap.size < TENANT_PAGE) break;
      query = query.startAfter(snap.docs[snap.docs.length - 1]!);
    }
  }
  deps.log.info('tick fanned out', { job: tick.job, tickId, published });
  return { published };
}

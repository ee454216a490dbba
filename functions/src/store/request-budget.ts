import type { Firestore } from '@google-cloud/firestore';
import { paths } from '../../../shared/firestore-paths.js';
import type { Clock } from '../platform/clock.js';

/**
 * A tenant's Directory request budget, shared by every function instance: Google's quota (2,400 queries per
 * minute per user) counts the tenant's admin, not our processes, so several mappings of one tenant syncing in
 * different instances must share one budget.
 *
 * `tenants/{t}/requestBudget/{minute}` counts the requests granted in that minute. An instance takes a block
 * of requests in one transaction and spends it locally, so the document sees one transaction per block, not
 * one per request, and a new document every minute (no hot document; old ones expire by TTL).
 */
export interface RequestBudget {
  /** Resolves when one more request may be sent. */
  acquire(): Promise<void>;
}

const MINUTE_MS = 60_000;
const DOC_TTL_MS = 3600_000;

export function sharedRequestBudget(
  db: Firestore,
  tenantId: string,
  perMinute: number,
  clock: Clock,
  opts: {
    /** Requests taken per transaction; small enough that concurrent instances share a minute fairly. */
    blockSize?: number;
    /** The quota's window; Google counts per minute. */
    windowMs?: number;
  } = {},
): RequestBudget {
  const blockSize = opts.blockSize ?? Math.max(1, Math.min(50, Math.floor(perMinute / 20)));
  const WINDOW_MS = opts.windowMs ?? MINUTE_MS;
  let window = -1;
  let granted = 0;
  let queue: Promise<void> = Promise.resolve();

  const take = async (): Promise<void> => {
    for (let attempt = 0; attempt < 1000; attempt++) {
      const now = clock.now();
      const current = Math.floor(now / WINDOW_MS);
      if (current !== window) {
        window = current;
        granted = 0;
      }
      if (granted > 0) {
        granted--;
        return;
      }
      const ref = db.doc(`${paths.requestBudget(tenantId)}/${current}`);
      const got = await db.runTransaction(async (tx) => {
        const used = Number((await tx.get(ref)).get('used') ?? 0);
        const n = Math.max(0, Math.min(blockSize, perMinute - used));
        if (n > 0) {
          tx.set(ref, {
            used: used + n,
            expireAt: new Date((current + 1) * WINDOW_MS + DOC_TTL_MS),
          });
        }
        return n;
      });
      if (got > 0) {
        granted = got - 1;
        return;
      }
      // This minute's budget is spent across all instances: wait for the next one.
      await clock.sleep((current + 1) * WINDOW_MS - now + 5);
    }
    throw new Error('request budget: gave up waiting for a request slot');
  };

  return {
    acquire() {
      // One taker at a time per instance, so concurrent page fetches do not each start a transaction.
      const next = queue.then(take);
      queue = next.catch(() => undefined);
      return next;
    },
  };
}

import { FieldValue, type Firestore } from '@google-cloud/firestore';
import { paths } from '../../../shared/firestore-paths.js';
import type { Clock } from '../platform/clock.js';

/**
 * A tenant's Directory request budget, shared by every function instance: Google's quota (2,400 queries per
 * minute per user) counts the tenant's admin, not our processes, so several mappings of one tenant syncing in
 * different instances must share one budget.
 *
 * The quota is counted over a sliding window, so a budget counted per fixed minute could spend a whole minute's
 * budget at the end of one minute and again at the start of the next: twice the budget within one of Google's
 * minutes. So the window is cut into BUCKETS buckets, `tenants/{t}/requestBudget/{bucket}` counts the requests
 * granted in one bucket, and a grant is made only while the buckets of the last window and a bit (LOOKBACK,
 * which also covers the moment between a grant and the request reaching Google) hold less than the budget.
 * Every span of one window therefore sees at most the budget; the price is that the budget is spread over
 * (BUCKETS + LOOKBACK) / BUCKETS windows.
 *
 * An instance takes a block of requests in one transaction and spends it locally within its bucket, so the
 * documents see one transaction per block, not one per request, and a new document every bucket (no hot
 * document; old ones expire by TTL). What a block has left when its bucket ends is handed back, and so is a
 * block whose transaction took so long that its bucket ended meanwhile.
 */
export interface RequestBudget {
  /** Resolves when one more request may be sent. */
  acquire(): Promise<void>;
}

const MINUTE_MS = 60_000;
const DOC_TTL_MS = 3600_000;
/** Buckets per window: a minute's are five seconds long. */
export const BUDGET_BUCKETS = 12;
/** Buckets before the window's that a grant also counts (see above). */
export const BUDGET_LOOKBACK = 2;

export function sharedRequestBudget(
  db: Firestore,
  tenantId: string,
  /** Requests per window (Google: per minute). */
  perWindow: number,
  clock: Clock,
  opts: {
    /** Requests taken per transaction; small enough that concurrent instances share a window fairly. */
    blockSize?: number;
    /** The quota's window; Google counts per minute. */
    windowMs?: number;
  } = {},
): RequestBudget {
  const blockSize = opts.blockSize ?? Math.max(1, Math.min(50, Math.floor(perWindow / 50)));
  const bucketMs = (opts.windowMs ?? MINUTE_MS) / BUDGET_BUCKETS;
  const col = db.collection(paths.requestBudget(tenantId));
  const refOf = (bucket: number) => col.doc(String(bucket));
  /** The bucket the local block was granted in, and what is left of it. */
  let bucket = -1;
  let granted = 0;
  let queue: Promise<void> = Promise.resolve();

  // A failed hand-back only wastes what was handed back.
  const handBack = (b: number, n: number) =>
    refOf(b)
      .update({ used: FieldValue.increment(-n) })
      .catch(() => undefined);

  /** One block from the shared window for `b`, in one transaction; 0 when the window is spent. */
  const grantBlock = (b: number): Promise<number> => {
    const refs = Array.from({ length: BUDGET_BUCKETS + BUDGET_LOOKBACK }, (_, i) => refOf(b - i));
    return db.runTransaction(async (tx) => {
      const snaps = await tx.getAll(...refs);
      const used = snaps.reduce((n, s) => n + Number(s.get('used') ?? 0), 0);
      const n = Math.max(0, Math.min(blockSize, perWindow - used));
      if (n > 0) {
        tx.set(refs[0]!, {
          used: Number(snaps[0]!.get('used') ?? 0) + n,
          startMs: b * bucketMs,
          expireAt: new Date((b + 1) * bucketMs + DOC_TTL_MS),
        });
      }
      return n;
    });
  };

  /**
   * The refill under way, if any. It starts when the local block runs low, so the transaction is not on the
   * request's path (a re-sync of unchanged records waits on little but the next page).
   */
  let refill: { bucket: number; promise: Promise<number> } | null = null;
  const refillFor = (b: number): Promise<number> => {
    if (refill && refill.bucket === b) return refill.promise;
    const promise = grantBlock(b)
      .then((got) => {
        if (got > 0) {
          if (bucket === b && Math.floor(clock.now() / bucketMs) === b) granted += got;
          // The transaction outlasted its bucket (contention, a slow commit): requests sent now would be
          // counted in a bucket that has already passed, so hand the block back.
          else void handBack(b, got);
        }
        return got;
      })
      .finally(() => {
        if (refill?.promise === promise) refill = null;
      });
    refill = { bucket: b, promise };
    return promise;
  };
  const lowWater = Math.ceil(blockSize / 2);

  const take = async (): Promise<void> => {
    for (let attempt = 0; attempt < 10_000; attempt++) {
      const now = clock.now();
      const current = Math.floor(now / bucketMs);
      if (current !== bucket) {
        // Not sent: hand it back so that other instances (and later buckets) may use it.
        if (granted > 0) void handBack(bucket, granted);
        bucket = current;
        granted = 0;
      }
      if (granted > 0) {
        granted--;
        if (granted < lowWater) refillFor(current).catch(() => undefined);
        return;
      }
      const got = await refillFor(current);
      if (granted > 0 || got > 0) continue;
      // The window's budget is spent across all instances: the oldest bucket leaves it at the next boundary.
      await clock.sleep((current + 1) * bucketMs - now + 5);
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

/** Google's default Admin SDK quota: 2,400 queries per minute per user per project. */
export const DEFAULT_USER_QPM = 2400;
/** Google counts the quota per minute; tests may shorten the window to see several of them quickly. */
export const DEFAULT_QUOTA_WINDOW_MS = 60_000;

/** The window is kept in this many buckets (one second each for Google's minute). */
const BUCKETS = 60;

/** Sliding window per (customer, admin) in BUCKETS buckets: `userQpm` queries per `windowMs`. */
export class QuotaTracker {
  private limit = DEFAULT_USER_QPM;
  private window = DEFAULT_QUOTA_WINDOW_MS;
  private readonly windows = new Map<string, { buckets: Uint32Array; stamps: Float64Array }>();

  /** A new `windowMs` changes the window's length (and forgets what was counted, which was in other units). */
  setUserQpm(limit: number, windowMs = DEFAULT_QUOTA_WINDOW_MS): void {
    this.limit = limit;
    if (windowMs !== this.window) {
      this.window = windowMs;
      this.windows.clear();
    }
  }

  get userQpm(): number {
    return this.limit;
  }

  get windowMs(): number {
    return this.window;
  }

  reset(): void {
    this.limit = DEFAULT_USER_QPM;
    this.window = DEFAULT_QUOTA_WINDOW_MS;
    this.windows.clear();
  }

  /** Records one query; false when the caller is over the limit of the window (the rejected call is not counted). */
  take(key: string, nowMs = Date.now()): boolean {
    let w = this.windows.get(key);
    if (!w) {
      // Stamps start far in the past so that bucket 0 is not taken for the current one at time 0.
      w = { buckets: new Uint32Array(BUCKETS), stamps: new Float64Array(BUCKETS).fill(-Infinity) };
      this.windows.set(key, w);
    }
    const bucket = Math.floor(nowMs / (this.window / BUCKETS));
    let used = 0;
    for (let i = 0; i < BUCKETS; i++) {
      if (bucket - (w.stamps[i] ?? -Infinity) < BUCKETS) used += w.buckets[i] ?? 0;
    }
    if (used >= this.limit) return false;
    const slot = bucket % BUCKETS;
    if (w.stamps[slot] !== bucket) {
      w.stamps[slot] = bucket;
      w.buckets[slot] = 0;
    }
    w.buckets[slot] = (w.buckets[slot] ?? 0) + 1;
    return true;
  }
}

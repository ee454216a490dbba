/** Google's default Admin SDK quota: 2,400 queries per minute per user per project. */
export const DEFAULT_USER_QPM = 2400;

const WINDOW_SECONDS = 60;

/** Sliding one-minute window per (customer, admin) in one-second buckets. */
export class QuotaTracker {
  private limit = DEFAULT_USER_QPM;
  private readonly windows = new Map<string, { buckets: Uint32Array; stamps: Float64Array }>();

  setUserQpm(limit: number): void {
    this.limit = limit;
  }

  get userQpm(): number {
    return this.limit;
  }

  reset(): void {
    this.limit = DEFAULT_USER_QPM;
    this.windows.clear();
  }

  /** Records one query; false when the caller is over the per-minute limit (the rejected call is not counted). */
  take(key: string, nowMs = Date.now()): boolean {
    let w = this.windows.get(key);
    if (!w) {
      w = { buckets: new Uint32Array(WINDOW_SECONDS), stamps: new Float64Array(WINDOW_SECONDS) };
      this.windows.set(key, w);
    }
    const second = Math.floor(nowMs / 1000);
    let used = 0;
    for (let i = 0; i < WINDOW_SECONDS; i++) {
      if (second - (w.stamps[i] ?? 0) < WINDOW_SECONDS) used += w.buckets[i] ?? 0;
    }
    if (used >= this.limit) return false;
    const slot = second % WINDOW_SECONDS;
    if (w.stamps[slot] !== second) {
      w.stamps[slot] = second;
      w.buckets[slot] = 0;
    }
    w.buckets[slot] = (w.buckets[slot] ?? 0) + 1;
    return true;
  }
}

import type { Clock } from '../../platform/clock.js';

/**
 * A token bucket per tenant. Google's default is 2,400 queries per minute per user, and each tenant's syncs
 * run as that tenant's admin, so each tenant gets a budget below it, shared by its concurrent entity syncs.
 */
export class RateLimiter {
  private tokens: number;
  private last: number;

  constructor(
    private readonly perMinute: number,
    private readonly clock: Clock,
    private readonly burst = Math.max(1, Math.floor(perMinute / 10)),
  ) {
    this.tokens = this.burst;
    this.last = clock.now();
  }

  async acquire(): Promise<void> {
    for (;;) {
      const now = this.clock.now();
      this.tokens = Math.min(this.burst, this.tokens + ((now - this.last) * this.perMinute) / 60_000);
      this.last = now;
      if (this.tokens >= 1) {
        this.tokens -= 1;
        return;
      }
      await this.clock.sleep(Math.ceil(((1 - this.tokens) * 60_000) / this.perMinute));
    }
  }
}

const limiters = new Map<string, RateLimiter>();

/** One limiter per tenant per instance; concurrent entity syncs of a tenant on this instance share it. */
export function tenantRateLimiter(tenantId: string, perMinute: number, clock: Clock): RateLimiter {
  let l = limiters.get(tenantId);
  if (!l) {
    l = new RateLimiter(perMinute, clock);
    limiters.set(tenantId, l);
  }
  return l;
}

export interface RouteStats {
  total: number;
  byStatus: Record<string, number>;
}

/** Delays the `latency` fault actually applied, so a benchmark can compare its wall time with their sum. */
export interface LatencyStats {
  /** Requests that were delayed. */
  requests: number;
  totalMs: number;
  byRoute: Record<string, { requests: number; totalMs: number }>;
}

export interface StatsSnapshot {
  since: string;
  total: number;
  byStatus: Record<string, number>;
  byRoute: Record<string, RouteStats>;
  appliedLatency: LatencyStats;
}

const noLatency = (): LatencyStats => ({ requests: 0, totalMs: 0, byRoute: {} });

/**
 * Request counters per route (e.g. `directory.users.list`) and per status, so tests can assert that a client
 * retried. A dropped connection is counted under the status `reset`.
 */
export class RequestStats {
  private since = new Date();
  private total = 0;
  private byStatus: Record<string, number> = {};
  private byRoute: Record<string, RouteStats> = {};
  private latency = noLatency();

  recordLatency(route: string, ms: number): void {
    this.latency.requests++;
    this.latency.totalMs += ms;
    const r = (this.latency.byRoute[route] ??= { requests: 0, totalMs: 0 });
    r.requests++;
    r.totalMs += ms;
  }

  record(route: string, status: number | 'reset'): void {
    const key = String(status);
    this.total++;
    this.byStatus[key] = (this.byStatus[key] ?? 0) + 1;
    const r = (this.byRoute[route] ??= { total: 0, byStatus: {} });
    r.total++;
    r.byStatus[key] = (r.byStatus[key] ?? 0) + 1;
  }

  snapshot(): StatsSnapshot {
    return structuredClone({
      since: this.since.toISOString(),
      total: this.total,
      byStatus: this.byStatus,
      byRoute: this.byRoute,
      appliedLatency: this.latency,
    });
  }

  reset(): void {
    this.since = new Date();
    this.total = 0;
    this.byStatus = {};
    this.byRoute = {};
    this.latency = noLatency();
  }
}

import { isJsonError, leaksInternals, type RawAnswer } from './raw-http.js';

/** Counters the suite prints: cases, failures, statuses, latency percentiles, non-JSON error answers. */
export class SoakStats {
  readonly statuses = new Map<number, number>();
  readonly latencies: number[] = [];
  readonly failures: string[] = [];
  nonJsonErrors = 0;
  leaks = 0;
  passed = 0;

  /** Every answer goes through here, whatever the case expected. */
  record(a: RawAnswer): void {
    this.statuses.set(a.status, (this.statuses.get(a.status) ?? 0) + 1);
    this.latencies.push(a.ms);
    if (a.status >= 400 && !isJsonError(a)) this.nonJsonErrors++;
    if (a.status >= 400 && leaksInternals(a)) this.leaks++;
  }

  pass(): void {
    this.passed++;
  }

  fail(what: string): void {
    this.failures.push(what);
  }

  get tried(): number {
    return this.passed + this.failures.length;
  }
}

export function percentile(values: readonly number[], p: number): number {
  if (values.length === 0) return 0;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
}

export const fmtMs = (ms: number) => `${ms.toFixed(1)} ms`;

export function statusLine(statuses: ReadonlyMap<number, number>): string {
  return [...statuses]
    .sort(([a], [b]) => a - b)
    .map(([s, n]) => `${s}×${n}`)
    .join(' ');
}

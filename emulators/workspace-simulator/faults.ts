import type { FaultKind, FaultSpec, FaultsInput } from './control-schemas.js';
import type { ApiError } from './errors.js';
import {
  backendError,
  internalError,
  quotaExceeded,
  rateLimitExceeded,
  userRateLimitExceeded,
} from './errors.js';
import type { ResetPhase } from './http-util.js';
import type { Rng } from './prng.js';
import { mulberry32 } from './prng.js';

interface ActiveFault {
  spec: FaultSpec;
  /** Remaining matching requests for count-based faults; undefined = rate-based. */
  remaining: number | undefined;
}

/** What the fault layer decided for one Directory API request. */
export interface FaultOutcome {
  latencyMs: number;
  error: ApiError | undefined;
  reset: ResetPhase | undefined;
  expirePageToken: boolean;
}

export interface FaultState {
  seed: number | undefined;
  faults: Array<FaultSpec & { remaining?: number }>;
  failTokenEndpoint: number;
}

const unseededRng = () => mulberry32((Math.random() * 2 ** 32) >>> 0);

const ERROR_FACTORIES: Partial<Record<FaultKind, (spec: FaultSpec) => ApiError>> = {
  rateLimitExceeded: () => rateLimitExceeded(),
  userRateLimitExceeded: () => userRateLimitExceeded(),
  quotaExceeded: () => quotaExceeded(),
  backendError: (spec) => backendError(spec.status ?? 503),
  internalError: () => internalError(),
};

/**
 * Scripted failures. Count-based faults fire on the next N matching requests; rate-based ones roll a die that
 * is seeded when a seed is given, so a test run is reproducible.
 */
export class FaultInjector {
  private active: ActiveFault[] = [];
  private rng: Rng = unseededRng();
  private seed: number | undefined;
  private tokenFailures = 0;

  configure(input: FaultsInput): void {
    if (input.seed !== undefined) {
      this.seed = input.seed;
      this.rng = mulberry32(input.seed);
    }
    for (const spec of input.faults ?? []) {
      this.active.push({ spec, remaining: spec.rate === undefined ? (spec.count ?? 1) : undefined });
    }
    if (input.failTokenEndpoint !== undefined) this.tokenFailures = input.failTokenEndpoint;
  }

  clear(): void {
    this.active = [];
    this.tokenFailures = 0;
    this.seed = undefined;
    this.rng = unseededRng();
  }

  state(): FaultState {
    return {
      seed: this.seed,
      faults: this.active.map((a) => ({
        ...a.spec,
        ...(a.remaining !== undefined ? { remaining: a.remaining } : {}),
      })),
      failTokenEndpoint: this.tokenFailures,
    };
  }

  /** Consumes one scripted token-endpoint failure, if any. */
  takeTokenFailure(): boolean {
    if (this.tokenFailures <= 0) return false;
    this.tokenFailures--;
    return true;
  }

  evaluate(path: string, hasPageToken: boolean): FaultOutcome {
    const outcome: FaultOutcome = {
      latencyMs: 0,
      error: undefined,
      reset: undefined,
      expirePageToken: false,
    };
    for (const fault of this.active) {
      const { spec } = fault;
      if (spec.pathContains && !path.includes(spec.pathContains)) continue;
      if (spec.kind === 'expiredPageToken' && !hasPageToken) continue;
      const isFailure = spec.kind !== 'latency';
      // Only one failure per request; later failure faults keep their budget.
      if (isFailure && (outcome.error || outcome.reset || outcome.expirePageToken)) continue;
      if (!this.fires(fault)) continue;
      switch (spec.kind) {
        case 'latency':
          outcome.latencyMs += this.drawLatency(spec);
          break;
        case 'connectionReset':
          outcome.reset = spec.phase ?? 'midBody';
          break;
        case 'expiredPageToken':
          outcome.expirePageToken = true;
          break;
        default:
          outcome.error = ERROR_FACTORIES[spec.kind]?.(spec);
      }
    }
    this.active = this.active.filter((a) => a.remaining === undefined || a.remaining > 0);
    return outcome;
  }

  /**
   * A fixed delay, or a draw between latencyMs and latencyMaxMs from the same seeded dice as the rate-based
   * faults, so a seeded run applies the same delays to the same requests.
   */
  private drawLatency(spec: FaultSpec): number {
    const min = spec.latencyMs ?? 0;
    const max = spec.latencyMaxMs;
    if (max === undefined || max <= min) return min;
    if (spec.latencyDistribution !== 'logNormal') return Math.round(min + this.rng.next() * (max - min));
    // Service latencies are skewed: most requests near the middle, a few slow ones. With [min, max] as the
    // central 95 % (±1.96 σ in log space), the median is the geometric mean. min 0 would put it at 0: use 1 ms.
    const lo = Math.log(Math.max(min, 1));
    const hi = Math.log(max);
    const z = Math.sqrt(-2 * Math.log(1 - this.rng.next())) * Math.cos(2 * Math.PI * this.rng.next());
    const drawn = Math.exp((lo + hi) / 2 + (z * (hi - lo)) / (2 * 1.96));
    return Math.round(Math.min(max, Math.max(min, drawn)));
  }

  private fires(fault: ActiveFault): boolean {
    if (fault.remaining !== undefined) {
      if (fault.remaining <= 0) return false;
      fault.remaining--;
      return true;
    }
    return this.rng.next() < (fault.spec.rate ?? 0);
  }
}

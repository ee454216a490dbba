export interface RetryOptions {
  /** Total attempts per request, first included. */
  maxAttempts?: number;
  /** First backoff step; doubles per attempt. */
  baseDelayMs?: number;
  maxDelayMs?: number;
  /** Longest Retry-After we wait for; longer requests are waited out only up to this. */
  maxRetryAfterMs?: number;
  /** Per-attempt timeout. */
  requestTimeoutMs?: number;
  random?: () => number;
  sleep?: (ms: number) => Promise<void>;
}

export type ResolvedRetryPolicy = Required<RetryOptions>;

export const DEFAULT_RETRY: ResolvedRetryPolicy = {
  maxAttempts: 5,
  baseDelayMs: 500,
  maxDelayMs: 30_000,
  maxRetryAfterMs: 120_000,
  requestTimeoutMs: 30_000,
  random: Math.random,
  sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
};

export function resolveRetryPolicy(options: RetryOptions = {}): ResolvedRetryPolicy {
  const policy = { ...DEFAULT_RETRY, ...options };
  if (!Number.isInteger(policy.maxAttempts) || policy.maxAttempts < 1) {
    throw new RangeError('retry.maxAttempts must be a positive integer');
  }
  return policy;
}

/** Statuses worth another try: throttling and transient gateway/backend failures. */
export const RETRYABLE_STATUSES: ReadonlySet<number> = new Set([429, 502, 503, 504]);

/** Exponential backoff with "equal jitter": at least half the step, so retries never collapse to zero delay. */
export function backoffDelay(policy: ResolvedRetryPolicy, attempt: number): number {
  const step = Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** (attempt - 1));
  return Math.round(step / 2 + policy.random() * (step / 2));
}

/** Retry-After as delta-seconds or HTTP-date; undefined when absent or unparseable. */
export function parseRetryAfter(header: string | null, now = Date.now()): number | undefined {
  if (header === null || header.trim() === '') return undefined;
  const trimmed = header.trim();
  if (/^\d+(\.\d+)?$/.test(trimmed)) return Math.round(Number(trimmed) * 1000);
  const date = Date.parse(trimmed);
  return Number.isNaN(date) ? undefined : Math.max(0, date - now);
}

/** Delay before the next attempt: the server's Retry-After (capped) when given, else backoff. */
export function retryDelay(
  policy: ResolvedRetryPolicy,
  attempt: number,
  retryAfterHeader: string | null,
): number {
  const retryAfter = parseRetryAfter(retryAfterHeader);
  if (retryAfter !== undefined) return Math.min(retryAfter, policy.maxRetryAfterMs);
  return backoffDelay(policy, attempt);
}

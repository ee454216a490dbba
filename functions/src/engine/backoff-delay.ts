export interface BackoffPolicy {
  maxAttempts: number;
  initialDelayMs: number;
  maxDelayMs: number;
  multiplier: number;
}

/** Google's recipe (1 s, 2 s, 4 s … plus jitter, capped); GAM caps at 60 s, we stay under one page's budget. */
export const DEFAULT_BACKOFF: BackoffPolicy = {
  maxAttempts: 8,
  initialDelayMs: 1000,
  maxDelayMs: 32_000,
  multiplier: 2,
};

/** Exponential growth with "full jitter" so many tenants throttled at once do not retry in lockstep. */
export function backoffDelay(
  policy: BackoffPolicy,
  attempt: number,
  random: () => number = Math.random,
): number {
  const ceiling = Math.min(policy.maxDelayMs, policy.initialDelayMs * policy.multiplier ** (attempt - 1));
  return Math.round(ceiling / 2 + (random() * ceiling) / 2);
}

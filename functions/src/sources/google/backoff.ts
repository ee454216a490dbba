import type { Clock } from '../../platform/clock.js';
import { classifyDirectoryError, DirectoryCallError, InvalidGrantError } from './directory-errors.js';

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

export interface RetryObserver {
  onRetry?(info: { attempt: number; delayMs: number; status: number | null; reason: string }): void;
}

/**
 * Runs one Directory call with our own retries. The client's built-in retry is switched off for these calls:
 * it does not retry 403 rate-limit answers, and two nested retry loops would multiply the attempts.
 */
export async function withDirectoryRetry<T>(
  call: () => Promise<T>,
  policy: BackoffPolicy,
  clock: Clock,
  observer: RetryObserver = {},
): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await call();
    } catch (err) {
      const c = classifyDirectoryError(err);
      if (c.kind === 'invalid_grant') throw new InvalidGrantError();
      if (c.kind !== 'retryable' || attempt >= policy.maxAttempts) {
        const detail = 'reason' in c ? `${c.status ?? 'network'} ${c.reason}` : c.kind;
        throw new DirectoryCallError(
          `Directory API call failed after ${attempt} attempt(s): ${detail}`,
          c,
          attempt,
        );
      }
      const delayMs = backoffDelay(policy, attempt);
      observer.onRetry?.({ attempt, delayMs, status: c.status, reason: c.reason });
      await clock.sleep(delayMs);
    }
  }
}

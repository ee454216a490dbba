import type { Clock } from '../../platform/clock.js';
import { backoffDelay, type BackoffPolicy } from '../../engine/backoff-delay.js';
import { classifyDirectoryError, DirectoryCallError, InvalidGrantError } from './directory-errors.js';

export { DEFAULT_BACKOFF, backoffDelay, type BackoffPolicy } from '../../engine/backoff-delay.js';

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
        const detail = `${c.status ?? 'network'} ${c.reason}`;
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

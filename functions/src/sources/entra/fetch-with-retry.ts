import { EntraError } from './entra-error.js';
import { RETRYABLE_STATUSES, backoffDelay, retryDelay, type ResolvedRetryPolicy } from './retry-policy.js';

export type FetchLike = (url: string, init: RequestInit) => Promise<Response>;

/**
 * One logical request: retries network failures, timeouts and 429/502/503/504 (Retry-After first, else
 * exponential backoff with jitter). Returns the last response, retryable or not, for the caller to interpret.
 * `label` names the request in errors and must not contain secrets.
 */
export async function fetchWithRetry(
  fetchImpl: FetchLike,
  url: string,
  init: RequestInit,
  policy: ResolvedRetryPolicy,
  label: string,
): Promise<Response> {
  for (let attempt = 1; ; attempt++) {
    let response: Response;
    try {
      response = await fetchImpl(url, { ...init, signal: AbortSignal.timeout(policy.requestTimeoutMs) });
    } catch (err) {
      const reason =
        err instanceof Error && (err.name === 'TimeoutError' || err.name === 'AbortError')
          ? `timed out after ${policy.requestTimeoutMs} ms`
          : 'network error';
      if (attempt >= policy.maxAttempts) {
        throw new EntraError('UNAVAILABLE', `${label}: ${reason} (${attempt} attempts)`, { retryable: true });
      }
      await policy.sleep(backoffDelay(policy, attempt));
      continue;
    }
    if (!RETRYABLE_STATUSES.has(response.status) || attempt >= policy.maxAttempts) return response;
    const delay = retryDelay(policy, attempt, response.headers.get('retry-after'));
    // Release the connection before waiting; an unread body pins the socket.
    await response.body?.cancel().catch(() => undefined);
    await policy.sleep(delay);
  }
}

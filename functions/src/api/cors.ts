import { ApiError } from './api-error.js';
import { errorResult, type ApiRequest, type ApiResult } from './http.js';

/**
 * Only the admin console may call the API from a browser. Requests from other origins get no CORS headers,
 * so the browser withholds the answer; server-to-server callers (the host product) send no Origin at all.
 */
// Idempotency-Key / Idempotent-Replayed: the console retries device actions safely (devices/device-actions.ts).
// X-Requested-With: the CSRF header of session-cookie requests (session-auth.ts).
const ALLOWED_HEADERS =
  'Authorization, Content-Type, If-Match, Idempotency-Key, X-WS-Key-Id, X-WS-Timestamp, X-WS-Nonce, X-WS-Signature, X-Requested-With';
const EXPOSED_HEADERS = 'ETag, Retry-After, Location, Idempotent-Replayed, X-Next-Page-Token';

export function corsHeaders(req: ApiRequest, consoleOrigin: string): Record<string, string> {
  const origin = req.header('origin');
  if (origin !== consoleOrigin) return { vary: 'Origin' };
  return {
    'access-control-allow-origin': consoleOrigin,
    'access-control-allow-credentials': 'true',
    'access-control-expose-headers': EXPOSED_HEADERS,
    vary: 'Origin',
  };
}

export function preflight(req: ApiRequest, consoleOrigin: string, methods: readonly string[]): ApiResult {
  // A JSON body like every other refusal; browsers ignore a preflight's body, other clients can read why.
  if (methods.length === 0) return errorResult(new ApiError('not_found', `no such endpoint: ${req.path}`));
  if (req.header('origin') !== consoleOrigin)
    return errorResult(
      new ApiError('permission_denied', 'cross-origin requests are only allowed from the console'),
    );
  return {
    kind: 'empty',
    status: 204,
    headers: {
      'access-control-allow-methods': [...methods, 'OPTIONS'].join(', '),
      'access-control-allow-headers': ALLOWED_HEADERS,
      'access-control-max-age': '600',
    },
  };
}

/**
 * Classifies what the Directory API (or the network under it) answered, so the retry loop and the sync can
 * decide: retry with backoff, stop the tenant (authorization gone), or fail the page.
 */
export type DirectoryErrorClass =
  | { kind: 'retryable'; status: number | null; reason: string }
  | { kind: 'invalid_grant' }
  | { kind: 'forbidden'; status: number; reason: string; message: string }
  | { kind: 'fatal'; status: number | null; reason: string; message: string };

const RETRYABLE_403_REASONS = new Set(['userRateLimitExceeded', 'rateLimitExceeded', 'quotaExceeded']);
const RETRYABLE_NETWORK_CODES = new Set([
  'ECONNRESET',
  'ECONNREFUSED',
  'ETIMEDOUT',
  'EPIPE',
  'UND_ERR_SOCKET',
  'EAI_AGAIN',
]);

interface ErrorLike {
  code?: unknown;
  status?: unknown;
  message?: unknown;
  cause?: unknown;
  response?: { status?: unknown; data?: unknown };
}

function googleReason(data: unknown): { reason: string; message: string } {
  if (data && typeof data === 'object') {
    const d = data as { error?: unknown; error_description?: unknown };
    // OAuth token endpoint: {"error":"invalid_grant","error_description":"..."}
    if (typeof d.error === 'string')
      return { reason: d.error, message: String(d.error_description ?? d.error) };
    if (d.error && typeof d.error === 'object') {
      const e = d.error as { errors?: Array<{ reason?: unknown }>; message?: unknown; status?: unknown };
      const reason = e.errors?.[0]?.reason ?? e.status ?? 'unknown';
      return { reason: String(reason), message: String(e.message ?? '') };
    }
  }
  return { reason: 'unknown', message: '' };
}

function networkCode(err: ErrorLike): string | null {
  for (let e: ErrorLike | undefined = err, i = 0; e && i < 5; e = e.cause as ErrorLike | undefined, i++) {
    if (typeof e.code === 'string' && RETRYABLE_NETWORK_CODES.has(e.code)) return e.code;
    if (
      typeof e.message === 'string' &&
      /socket hang up|other side closed|ECONNRESET|fetch failed/i.test(e.message)
    ) {
      return 'ECONNRESET';
    }
  }
  return null;
}

export function classifyDirectoryError(err: unknown): DirectoryErrorClass {
  const e = (err ?? {}) as ErrorLike;
  const status = typeof e.response?.status === 'number' ? e.response.status : null;
  const { reason, message } = googleReason(e.response?.data);
  if (reason === 'invalid_grant' || e.message === 'invalid_grant') return { kind: 'invalid_grant' };
  if (status === null) {
    const code = networkCode(e);
    if (code) return { kind: 'retryable', status: null, reason: code };
    return { kind: 'fatal', status: null, reason: 'unknown', message: String(e.message ?? err) };
  }
  if (status === 429 || status >= 500) return { kind: 'retryable', status, reason };
  if (status === 403 && RETRYABLE_403_REASONS.has(reason)) return { kind: 'retryable', status, reason };
  if (status === 401) return { kind: 'forbidden', status, reason: reason || 'authError', message };
  if (status === 403) return { kind: 'forbidden', status, reason, message };
  return { kind: 'fatal', status, reason, message };
}

export class DirectoryCallError extends Error {
  constructor(
    message: string,
    readonly classification: DirectoryErrorClass,
    readonly attempts: number,
  ) {
    super(message);
    this.name = 'DirectoryCallError';
  }
}

export class InvalidGrantError extends Error {
  constructor() {
    super('Google rejected the stored authorization (invalid_grant): the tenant must re-authorize');
    this.name = 'InvalidGrantError';
  }
}

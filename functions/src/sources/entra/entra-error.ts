export type EntraErrorCode =
  | 'INVALID_CONFIGURATION'
  | 'INVALID_ARGUMENT'
  | 'TENANT_NOT_FOUND'
  | 'INVALID_CLIENT'
  | 'CONSENT_REQUIRED'
  | 'AUTHENTICATION_FAILED'
  | 'UNAUTHENTICATED'
  | 'PERMISSION_DENIED'
  | 'RESYNC_REQUIRED'
  | 'THROTTLED'
  | 'UNAVAILABLE'
  | 'BAD_RESPONSE'
  | 'REQUEST_FAILED';

export interface EntraErrorDetails {
  httpStatus?: number;
  /** AADSTS numbers from the token endpoint. */
  aadCodes?: number[];
  /** Graph `error.code`. */
  graphCode?: string;
  /** Graph request-id / AAD trace id, what Microsoft support asks for. */
  requestId?: string;
  retryable?: boolean;
}

/**
 * The only error type that leaves the Entra client. Messages are assembled from safe parts (status, codes,
 * server text with our secret and tokens redacted) and there is never a `cause`: loggers serialise causes
 * wholesale, and a fetch error or request object could carry the client secret or a bearer token.
 */
export class EntraError extends Error {
  override readonly name = 'EntraError';

  constructor(
    readonly code: EntraErrorCode,
    message: string,
    readonly details: EntraErrorDetails = {},
  ) {
    super(message);
  }

  get retryable(): boolean {
    return this.details.retryable ?? false;
  }
}

export function isResyncRequired(err: unknown): boolean {
  return err instanceof EntraError && err.code === 'RESYNC_REQUIRED';
}

const MAX_SERVER_TEXT = 300;

/** Server-provided text, trimmed to its first line and stripped of anything secret we may have sent. */
export function safeServerText(text: string | undefined, secrets: readonly string[]): string {
  if (!text) return '';
  let out = text.split(/\r?\n/)[0] ?? '';
  for (const secret of secrets) if (secret.length >= 4) out = out.split(secret).join('[redacted]');
  // Anything shaped like a JWT is a token whether or not it is ours.
  out = out.replace(/eyJ[\w-]+\.[\w-]+\.[\w-]*/g, '[redacted-token]');
  return out.length > MAX_SERVER_TEXT ? `${out.slice(0, MAX_SERVER_TEXT)}…` : out;
}

import type { EntraConnection } from './entra-connection.js';
import { EntraError, safeServerText, type EntraErrorCode } from './entra-error.js';
import { fetchWithRetry, type FetchLike } from './fetch-with-retry.js';
import { aadErrorSchema, tokenResponseSchema } from './graph-schemas.js';
import type { ResolvedRetryPolicy } from './retry-policy.js';

export const GRAPH_DEFAULT_SCOPE = 'https://graph.microsoft.com/.default';

/** Refresh this long before expiry (capped at half the lifetime for short-lived tokens). */
const REFRESH_MARGIN_MS = 5 * 60_000;

export interface AccessTokenSource {
  getToken(): Promise<string>;
  /** Forget the cached token, e.g. after Graph answered 401 to it. */
  invalidate(): void;
}

const AAD_CODE_MEANINGS: { codes: number[]; code: EntraErrorCode; hint: string }[] = [
  {
    codes: [65001, 700016],
    code: 'CONSENT_REQUIRED',
    hint:
      'the application is not consented in this tenant (never granted or revoked); a Global Administrator must ' +
      'grant admin consent again',
  },
  { codes: [90002], code: 'TENANT_NOT_FOUND', hint: 'the tenant id or domain does not exist' },
  {
    codes: [7000215, 7000216, 7000222, 700027],
    code: 'INVALID_CLIENT',
    hint: 'the client secret is wrong or expired; create a new secret and update the connection',
  },
];

/**
 * OAuth 2.0 client credentials against the Microsoft identity platform, one cached token per instance (so per
 * tenant connection) reused until shortly before it expires, with concurrent callers sharing one request.
 */
export class ClientCredentialsTokenProvider implements AccessTokenSource {
  // Private fields: util.inspect and JSON.stringify of this object must not print the secret or token.
  readonly #connection: EntraConnection;
  readonly #policy: ResolvedRetryPolicy;
  readonly #fetch: FetchLike;
  readonly #clock: () => number;
  #cached: { token: string; refreshAt: number } | undefined;
  #inflight: Promise<string> | undefined;

  constructor(
    connection: EntraConnection,
    policy: ResolvedRetryPolicy,
    fetchImpl: FetchLike,
    clock: () => number,
  ) {
    this.#connection = connection;
    this.#policy = policy;
    this.#fetch = fetchImpl;
    this.#clock = clock;
  }

  getToken(): Promise<string> {
    if (this.#cached && this.#clock() < this.#cached.refreshAt) return Promise.resolve(this.#cached.token);
    this.#inflight ??= this.#acquire().finally(() => {
      this.#inflight = undefined;
    });
    return this.#inflight;
  }

  invalidate(): void {
    this.#cached = undefined;
  }

  async #acquire(): Promise<string> {
    const { tenantId, clientId, clientSecret, authorityBaseUrl } = this.#connection;
    const label = `Entra token request for tenant ${tenantId}`;
    const requestedAt = this.#clock();
    const response = await fetchWithRetry(
      this.#fetch,
      `${authorityBaseUrl}/${encodeURIComponent(tenantId)}/oauth2/v2.0/token`,
      {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' },
        body: new URLSearchParams({
          grant_type: 'client_credentials',
          client_id: clientId,
          client_secret: clientSecret,
          scope: GRAPH_DEFAULT_SCOPE,
        }).toString(),
      },
      this.#policy,
      label,
    );
    const body: unknown = await response.json().catch(() => undefined);
    if (!response.ok) throw this.#tokenError(response.status, body, label);

    const parsed = tokenResponseSchema.safeParse(body);
    if (!parsed.success) {
      throw new EntraError('BAD_RESPONSE', `${label}: unexpected token response shape`, {
        httpStatus: response.status,
      });
    }
    const lifetimeMs = parsed.data.expires_in * 1000;
    this.#cached = {
      token: parsed.data.access_token,
      refreshAt: requestedAt + lifetimeMs - Math.min(REFRESH_MARGIN_MS, lifetimeMs / 2),
    };
    return parsed.data.access_token;
  }

  #tokenError(status: number, body: unknown, label: string): EntraError {
    const parsed = aadErrorSchema.safeParse(body);
    const aadCodes = parsed.success ? (parsed.data.error_codes ?? []) : [];
    const requestId = parsed.success ? parsed.data.trace_id : undefined;
    const details = { httpStatus: status, aadCodes, requestId };
    const server = parsed.success
      ? ` [${parsed.data.error}: ${safeServerText(parsed.data.error_description, [this.#connection.clientSecret])}]`
      : '';

    if (status === 429)
      return new EntraError('THROTTLED', `${label}: throttled, retries exhausted${server}`, {
        ...details,
        retryable: true,
      });
    if (status >= 500)
      return new EntraError('UNAVAILABLE', `${label}: HTTP ${status}, retries exhausted${server}`, {
        ...details,
        retryable: true,
      });
    const meaning = AAD_CODE_MEANINGS.find((m) => m.codes.some((c) => aadCodes.includes(c)));
    if (meaning) return new EntraError(meaning.code, `${label} failed: ${meaning.hint}${server}`, details);
    return new EntraError('AUTHENTICATION_FAILED', `${label} failed with HTTP ${status}${server}`, details);
  }
}

import { z } from 'zod';
import { directoryClient } from './directory-client.js';
import { newOAuthClient, type OAuthClientCredentials } from './workspace-auth.js';
import type { RuntimeConfig } from '../../platform/config.js';

/**
 * The calls to Google's OAuth endpoints the connect and sign-in flows make. Errors leaving this module carry a
 * short reason only: Google's client errors hold the request (code, verifier, client secret) in their config,
 * so they are never passed on or logged.
 */

/**
 * The query Google's authorization redirect carries back: `code` and `state`, or `error` (e.g. access_denied).
 * Sign-in and connect both receive it. Loose, because Google may add parameters (scope, authuser, prompt, ...).
 */
export const googleRedirectQuery = z
  .object({
    // Sign-in's state is signed and carries returnTo (api/signin-state.ts): longer than a random id.
    state: z.string().max(2100).optional(),
    code: z.string().max(4096).optional(),
    error: z.string().max(200).optional(),
  })
  .loose();

export interface AuthorizationUrlParams {
  redirectUri: string;
  scopes: readonly string[];
  state: string;
  codeChallenge: string;
  accessType?: 'online' | 'offline';
  prompt?: string;
  includeGrantedScopes?: boolean;
  loginHint?: string;
  nonce?: string;
  /** The tenant's own OAuth client; default the service's. */
  clientId?: string;
}

export function authorizationUrl(config: RuntimeConfig, p: AuthorizationUrlParams): string {
  const url = new URL(config.google.authUrl);
  const q = url.searchParams;
  q.set('response_type', 'code');
  q.set('client_id', p.clientId ?? config.oauthClient.clientId);
  q.set('redirect_uri', p.redirectUri);
  q.set('scope', p.scopes.join(' '));
  q.set('state', p.state);
  q.set('code_challenge', p.codeChallenge);
  q.set('code_challenge_method', 'S256');
  if (p.accessType) q.set('access_type', p.accessType);
  if (p.prompt) q.set('prompt', p.prompt);
  if (p.includeGrantedScopes !== undefined) q.set('include_granted_scopes', String(p.includeGrantedScopes));
  if (p.loginHint) q.set('login_hint', p.loginHint);
  if (p.nonce) q.set('nonce', p.nonce);
  return url.toString();
}

export class GoogleOAuthError extends Error {
  override readonly name = 'GoogleOAuthError';
  constructor(
    /** Google's OAuth error code (invalid_grant, …) or `network` / `unexpected_response`. */
    readonly reason: string,
    readonly status: number | null,
  ) {
    super(`Google's token endpoint refused the request: ${reason}${status ? ` (HTTP ${status})` : ''}`);
  }
}

const tokenResponseSchema = z
  .object({
    access_token: z.string().min(1),
    refresh_token: z.string().min(1).optional().nullable(),
    id_token: z.string().min(1).optional().nullable(),
    scope: z.string().optional().nullable(),
  })
  .loose();

export interface ExchangedTokens {
  accessToken: string;
  refreshToken: string | null;
  idToken: string | null;
  scopes: string[];
}

function oauthErrorOf(err: unknown): GoogleOAuthError {
  const e = err as { response?: { status?: unknown; data?: unknown } } | null;
  const status = typeof e?.response?.status === 'number' ? e.response.status : null;
  const data = e?.response?.data as { error?: unknown } | undefined;
  const reason =
    typeof data?.error === 'string' && /^[a-z_]{1,64}$/.test(data.error)
      ? data.error
      : status
        ? 'http_error'
        : 'network';
  return new GoogleOAuthError(reason, status);
}

/** Authorization code + PKCE verifier -> tokens, with the client secret (Google web clients need both). */
export async function exchangeCode(
  config: RuntimeConfig,
  input: { code: string; codeVerifier: string; redirectUri: string },
  oauthClient?: OAuthClientCredentials,
): Promise<ExchangedTokens> {
  const client = newOAuthClient(config, oauthClient);
  let data: unknown;
  try {
    const { tokens } = await client.getToken({
      code: input.code,
      codeVerifier: input.codeVerifier,
      redirect_uri: input.redirectUri,
    });
    data = tokens;
  } catch (err) {
    throw oauthErrorOf(err);
  }
  const parsed = tokenResponseSchema.safeParse(data);
  if (!parsed.success) throw new GoogleOAuthError('unexpected_response', null);
  return {
    accessToken: parsed.data.access_token,
    refreshToken: parsed.data.refresh_token ?? null,
    idToken: parsed.data.id_token ?? null,
    scopes: (parsed.data.scope ?? '').split(/\s+/).filter(Boolean),
  };
}

export type RevokeOutcome = 'revoked' | 'already_invalid' | 'failed';

/**
 * Revokes a token at Google, which ends the whole grant (refresh and access tokens). The token goes in the
 * form body, not the URL, so no proxy or access log sees it.
 */
export async function revokeAtGoogle(config: RuntimeConfig, token: string): Promise<RevokeOutcome> {
  try {
    const res = await fetch(config.google.revokeUrl, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ token }).toString(),
      signal: AbortSignal.timeout(10_000),
    });
    if (res.ok) return 'revoked';
    const body = (await res.json().catch(() => ({}))) as { error?: unknown };
    // Google answers 400 invalid_token for a token it no longer knows: the grant is gone either way.
    if (res.status === 400 && body.error === 'invalid_token') return 'already_invalid';
    return 'failed';
  } catch {
    return 'failed';
  }
}

export interface CustomerInfo {
  customerId: string;
  domain: string;
}

/** customers.get(my_customer): which Workspace organization the authorizing admin belongs to. */
export async function fetchCustomer(
  config: RuntimeConfig,
  auth: ReturnType<typeof newOAuthClient>,
): Promise<CustomerInfo> {
  const admin = await directoryClient(config, auth);
  const res = await admin.customers.get({ customerKey: 'my_customer' }, { retry: false });
  const parsed = z
    .object({ id: z.string().min(1), customerDomain: z.string().min(1) })
    .loose()
    .safeParse(res.data);
  if (!parsed.success) throw new Error('customers.get answered without id or customerDomain');
  return { customerId: parsed.data.id, domain: parsed.data.customerDomain };
}

export function clientWithAccessToken(
  config: RuntimeConfig,
  accessToken: string,
): ReturnType<typeof newOAuthClient> {
  const client = newOAuthClient(config);
  client.setCredentials({ access_token: accessToken });
  return client;
}

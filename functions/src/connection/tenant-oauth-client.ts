import { randomBytes } from 'node:crypto';
import { z } from 'zod';
import type { App } from '../app.js';
import { ApiError } from '../api/api-error.js';
import type { RuntimeConfig } from '../platform/config.js';
import { authorizationUrl, revokeAtGoogle } from '../sources/google/google-oauth.js';
import {
  markNeedsReauthorization,
  readGoogleAuth,
  saveTenantOAuthClient,
  type TenantOAuthClient,
} from '../store/tenants.js';

/**
 * "Bring your own client": a tenant's owner enters the Client ID and Client Secret of an OAuth client created in
 * the tenant's own Google Cloud project. Before anything is stored both are tried against Google, so a typo, a
 * deleted client or a missing redirect URI is reported now, naming what to change in the Google Cloud console,
 * not after the admin has walked through Google's consent screen. The secret goes to Secret Manager only
 * (provider `google_client`); it is never stored elsewhere, logged, or sent back.
 */

export const tenantOAuthClientBody = z.strictObject({
  // Google's client ids are `<number>-<hash>.apps.googleusercontent.com`; any other shape is refused by Google.
  clientId: z
    .string()
    .min(1)
    .max(200)
    .regex(/^[A-Za-z0-9._-]+$/, 'a Client ID has only letters, digits, dots, dashes and underscores'),
  clientSecret: z
    .string()
    .min(1)
    .max(200)
    .regex(/^[\x21-\x7e]+$/, 'a Client Secret has no spaces'),
});
export type TenantOAuthClientInput = z.infer<typeof tenantOAuthClientBody>;

export type ClientProblem =
  'invalid_client' | 'redirect_uri_mismatch' | 'disabled_client' | 'invalid_client_secret' | 'unverifiable';

/** Error codes Google's authorization endpoint shows on its error page ("Error 400: redirect_uri_mismatch"). */
const AUTH_PAGE_ERRORS = ['invalid_client', 'redirect_uri_mismatch', 'disabled_client', 'deleted_client'];

/** Each problem in words naming the Google Cloud console's place to fix it. Never the secret. */
export function clientProblemMessage(problem: ClientProblem, clientId: string, redirectUri: string): string {
  switch (problem) {
    case 'invalid_client':
      return (
        `Google does not know the Client ID "${clientId}" (invalid_client). In the Google Cloud console, open ` +
        'APIs & Services > Credentials and copy the Client ID of an OAuth 2.0 client of type "Web application".'
      );
    case 'redirect_uri_mismatch':
      return (
        `The OAuth client "${clientId}" does not allow this service's redirect URI (redirect_uri_mismatch). In ` +
        'the Google Cloud console, open APIs & Services > Credentials, edit the OAuth client and add exactly ' +
        `${redirectUri} under "Authorized redirect URIs", save, and try again (Google may take a few minutes to apply it).`
      );
    case 'disabled_client':
      return (
        `The OAuth client "${clientId}" is disabled or deleted (disabled_client). In the Google Cloud console, ` +
        'open APIs & Services > Credentials and enable it, or create a new OAuth client of type "Web application".'
      );
    case 'invalid_client_secret':
      return (
        `Google refused the Client Secret of "${clientId}" (invalid_client). In the Google Cloud console, open ` +
        'APIs & Services > Credentials, open the OAuth client and copy its Client secret again (or add a new secret).'
      );
    case 'unverifiable':
      return 'Google could not be reached to check the OAuth client; nothing was saved. Try again.';
  }
}

/**
 * Google has no "check this client" call, so both halves are checked by asking what a wrong request would be
 * refused with (hand-written: no library offers it):
 * - the authorization endpoint, without a signed-in user (`prompt=none`): Google shows its error page for an
 *   unknown or disabled client or a redirect URI the client does not list, and otherwise redirects (to sign-in,
 *   or back to the redirect URI with `login_required`). No code can be issued: nobody consents.
 * - the token endpoint, with a code that does not exist: Google authenticates the client first, so a wrong
 *   secret is `invalid_client`, a right one gets as far as `invalid_grant`.
 */
export async function verifyOAuthClient(
  config: RuntimeConfig,
  client: TenantOAuthClientInput,
): Promise<ClientProblem | null> {
  const redirectUri = config.oauthClient.redirectUri;
  const probe = authorizationUrl(config, {
    clientId: client.clientId,
    redirectUri,
    scopes: ['openid'],
    state: 'client-check',
    codeChallenge: randomBytes(32).toString('base64url'),
    prompt: 'none',
  });
  try {
    const res = await fetch(probe, { redirect: 'manual', signal: AbortSignal.timeout(10_000) });
    if (res.status < 300 || res.status >= 400) {
      const page = await res.text();
      const shown = AUTH_PAGE_ERRORS.find((code) => new RegExp(`\\b${code}\\b`).test(page));
      if (shown === 'deleted_client') return 'disabled_client';
      if (shown) return shown as ClientProblem;
      if (res.status >= 400) return 'unverifiable';
    }
    const token = await fetch(config.google.tokenUrl, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({
        grant_type: 'authorization_code',
        code: 'workspace-sync-client-check',
        redirect_uri: redirectUri,
        client_id: client.clientId,
        client_secret: client.clientSecret,
      }).toString(),
      signal: AbortSignal.timeout(10_000),
    });
    const body = (await token.json().catch(() => ({}))) as { error?: unknown };
    if (body.error === 'invalid_client' || body.error === 'unauthorized_client')
      return 'invalid_client_secret';
    if (body.error === 'invalid_grant') return null;
    return 'unverifiable';
  } catch {
    return 'unverifiable';
  }
}

export interface SavedClient {
  clientId: string;
  redirectUri: string;
  savedAt: string;
  /** The connection was using the tenant's previous client: it ended, and must be authorized again. */
  reconnectNeeded: boolean;
}

/**
 * "Test and save": checks the client, then stores it. It becomes the connection's client only when an admin
 * authorizes with it (the callback then switches, revoking the previous grant). Replacing the client the
 * connection uses now is a clean re-connect: the old grant is revoked and its refresh token destroyed (it cannot
 * be refreshed with another client), and the tenant waits for an authorization with the new client.
 */
export async function testAndSaveTenantClient(
  app: App,
  tenantId: string,
  input: TenantOAuthClientInput,
  by: string,
): Promise<SavedClient> {
  const redirectUri = app.config.oauthClient.redirectUri;
  const problem = await verifyOAuthClient(app.config, input);
  if (problem) {
    app.log.warn('tenant OAuth client refused', { tenantId, problem, clientId: input.clientId });
    throw new ApiError(
      problem === 'unverifiable' ? 'unavailable' : 'invalid_argument',
      clientProblemMessage(problem, input.clientId, redirectUri),
      [],
      {},
      { reason: problem, redirectUri },
    );
  }
  const settings = await readGoogleAuth(app.db, tenantId);
  const inUse = settings.mode === 'tenant_client';
  const previousSecret = inUse ? await app.secrets.getRefreshToken(tenantId, 'google_client') : null;
  const changed =
    inUse && (settings.tenantClient?.clientId !== input.clientId || previousSecret !== input.clientSecret);

  let reconnectNeeded = false;
  if (changed) {
    const refreshToken = await app.secrets.getRefreshToken(tenantId, 'google');
    if (refreshToken) {
      const outcome = await revokeAtGoogle(app.config, refreshToken);
      if (outcome === 'failed') {
        throw new ApiError(
          'unavailable',
          'Google did not confirm the revocation of the current authorization; nothing was changed. Try again.',
        );
      }
    }
    await app.secrets.destroyRefreshToken(tenantId, 'google');
    app.auth.forget(tenantId);
    await markNeedsReauthorization(
      app.db,
      tenantId,
      'The OAuth client changed: authorize Google Workspace again with the new client',
      new Date(app.clock.now()),
    );
    reconnectNeeded = true;
  }
  await app.secrets.putRefreshToken(tenantId, input.clientSecret, 'google_client');
  const saved: TenantOAuthClient = {
    clientId: input.clientId,
    redirectUri,
    savedAt: new Date(app.clock.now()).toISOString(),
    savedBy: by,
  };
  await saveTenantOAuthClient(app.db, tenantId, saved);
  app.log.info('tenant OAuth client saved', { tenantId, clientId: input.clientId, by, reconnectNeeded });
  return { clientId: saved.clientId, redirectUri, savedAt: saved.savedAt, reconnectNeeded };
}

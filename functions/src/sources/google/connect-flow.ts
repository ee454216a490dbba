import { REQUIRED_SCOPES } from '../../../../shared/entities.js';
import type { App } from '../../app.js';
import {
  bindingCookie,
  clearedCookie,
  CONNECT_COOKIE,
  newBindingSecret,
} from '../../connection/browser-binding.js';
import { acceptBoundCallback, CallbackRejection } from '../../connection/bound-callback.js';
import { ConnectError, shortScope } from '../../connection/connect-errors.js';
import {
  authorizationUrl,
  clientWithAccessToken,
  exchangeCode,
  fetchCustomer,
  GoogleOAuthError,
  revokeAtGoogle,
  type CustomerInfo,
  type ExchangedTokens,
} from './google-oauth.js';
import { startInitialSync } from './initial-sync.js';
import { createOAuthState, STATE_TTL_MS } from '../../store/oauth-states.js';
import { readConnectedCustomerId, setTenantConnection } from '../../store/tenants.js';

/**
 * Connecting a tenant to its Google Workspace: the web-server OAuth flow with PKCE, offline access and forced
 * consent, asking for the read-only Directory scopes. `openid email` come along only to learn which Google
 * account authorized (shown as the connection's admin); they grant no data access.
 */
export const CONNECT_SCOPES: readonly string[] = [...REQUIRED_SCOPES, 'openid', 'email'];

export interface ConnectDeps {
  app: App;
  consoleOrigin: string;
  /** Verifies an id_token from Google's token endpoint (signature, issuer, audience, expiry). */
  verifyIdToken(token: string): Promise<{ email: string; sub: string }>;
  /** Whether the email is still an owner or admin of the tenant when the callback arrives. */
  canManageTenant(tenantId: string, email: string): Promise<boolean>;
}

export interface StartConnectInput {
  tenantId: string;
  adminEmail: string;
  adminSub: string;
  loginHint?: string;
}

export async function startConnect(
  deps: ConnectDeps,
  input: StartConnectInput,
): Promise<{ authorizationUrl: string; setCookie: string }> {
  const { app } = deps;
  const { secret, hash } = newBindingSecret();
  const { stateId, codeChallenge } = await createOAuthState(app.db, app.clock, {
    purpose: 'connect',
    tenantId: input.tenantId,
    adminEmail: input.adminEmail,
    adminSub: input.adminSub,
    bindingHash: hash,
  });
  const redirectUri = app.config.oauthClient.redirectUri;
  const url = authorizationUrl(app.config, {
    redirectUri,
    scopes: CONNECT_SCOPES,
    state: stateId,
    codeChallenge,
    accessType: 'offline',
    prompt: 'consent',
    includeGrantedScopes: false,
    ...(input.loginHint ? { loginHint: input.loginHint } : {}),
  });
  app.log.info('connection authorization started', { tenantId: input.tenantId, by: input.adminEmail });
  return {
    authorizationUrl: url,
    setCookie: bindingCookie(CONNECT_COOKIE, `${input.tenantId}.${secret}`, redirectUri, STATE_TTL_MS / 1000),
  };
}

export interface CallbackParams {
  state?: string | undefined;
  code?: string | undefined;
  error?: string | undefined;
}

export interface CallbackOutcome {
  location: string;
  setCookie: string;
}

function consoleUrl(consoleOrigin: string, params: Record<string, string | undefined>): string {
  const url = new URL('/', consoleOrigin);
  for (const [k, v] of Object.entries(params)) if (v !== undefined) url.searchParams.set(k, v);
  return url.toString();
}

/** GET /oauth/callback: always ends in a redirect to the console, with `connected=1` or `connectError`. */
export async function completeConnect(
  deps: ConnectDeps,
  params: CallbackParams,
  cookieHeader: string | undefined,
): Promise<CallbackOutcome> {
  const { app } = deps;
  const setCookie = clearedCookie(CONNECT_COOKIE, app.config.oauthClient.redirectUri);
  try {
    const { tenantId } = await connect(deps, params, cookieHeader);
    return { location: consoleUrl(deps.consoleOrigin, { tenant: tenantId, connected: '1' }), setCookie };
  } catch (caught) {
    // The browser is mid-redirect: even an unexpected failure answers with the console and a message.
    const err = caught instanceof ConnectError ? caught : unexpectedFailure(app, caught);
    app.log.warn('connection failed', {
      tenantId: err.tenantId,
      code: err.code,
      missingScopes: err.missingScopes,
    });
    return {
      location: consoleUrl(deps.consoleOrigin, {
        tenant: err.tenantId ?? undefined,
        connectError: err.code,
        connectMessage: err.message,
        missingScopes: err.missingScopes.length > 0 ? err.missingScopes.join(' ') : undefined,
      }),
      setCookie,
    };
  }
}

function unexpectedFailure(app: App, err: unknown): ConnectError {
  app.log.error('connection callback failed unexpectedly', {
    error: err instanceof Error ? err.message : String(err),
  });
  return new ConnectError('internal', null);
}

async function connect(deps: ConnectDeps, params: CallbackParams, cookieHeader: string | undefined) {
  const { app } = deps;
  let accepted;
  try {
    accepted = await acceptBoundCallback(
      { db: app.db, clock: app.clock, canManageTenant: deps.canManageTenant },
      params.state,
      'connect',
      cookieHeader,
    );
  } catch (err) {
    if (err instanceof CallbackRejection) throw new ConnectError(err.code, err.tenantId);
    throw err;
  }
  const { state, tenantId, admin } = accepted;

  if (params.error)
    throw new ConnectError(params.error === 'access_denied' ? 'access_denied' : 'google_error', tenantId);
  if (!params.code) throw new ConnectError('google_error', tenantId);

  let tokens: ExchangedTokens;
  try {
    tokens = await exchangeCode(app.config, {
      code: params.code,
      codeVerifier: state.codeVerifier,
      redirectUri: app.config.oauthClient.redirectUri,
    });
  } catch (err) {
    if (err instanceof GoogleOAuthError) throw new ConnectError('exchange_failed', tenantId, [], err.reason);
    throw err;
  }

  // From here on Google has issued tokens: every failure must take them back before reporting.
  const abandon = async (error: ConnectError): Promise<never> => {
    const outcome = await revokeAtGoogle(app.config, tokens.refreshToken ?? tokens.accessToken);
    if (outcome === 'failed')
      app.log.warn('could not revoke an abandoned authorization at Google', { tenantId });
    throw error;
  };

  const missing = REQUIRED_SCOPES.filter((s) => !tokens.scopes.includes(s));
  if (missing.length > 0)
    return abandon(new ConnectError('missing_scopes', tenantId, missing.map(shortScope)));
  if (!tokens.refreshToken) return abandon(new ConnectError('no_refresh_token', tenantId));

  let authorizedBy: string | null = null;
  if (tokens.idToken) {
    try {
      authorizedBy = (await deps.verifyIdToken(tokens.idToken)).email;
    } catch {
      return abandon(new ConnectError('google_error', tenantId, [], 'the identity token did not verify'));
    }
  }

  let customer: CustomerInfo;
  try {
    customer = await fetchCustomer(app.config, clientWithAccessToken(app.config, tokens.accessToken));
  } catch {
    return abandon(new ConnectError('not_workspace_admin', tenantId));
  }
  const previous = await readConnectedCustomerId(app.db, tenantId);
  if (previous !== null && previous !== customer.customerId) {
    return abandon(new ConnectError('customer_mismatch', tenantId));
  }

  try {
    await app.secrets.putRefreshToken(tenantId, tokens.refreshToken);
  } catch {
    return abandon(new ConnectError('storage_failed', tenantId));
  }
  await recordConnected(deps, tenantId, admin, customer, tokens.scopes, authorizedBy);
  app.auth.forget(tenantId);
  const started = await startInitialSync(app, tenantId, state.stateId);
  app.log.info('Google Workspace connected', {
    tenantId,
    customerId: customer.customerId,
    domain: customer.domain,
    connectedBy: admin,
    initialSyncs: started.length,
  });
  return { tenantId };
}

async function recordConnected(
  deps: ConnectDeps,
  tenantId: string,
  connectedBy: string,
  customer: CustomerInfo,
  scopes: string[],
  authorizedBy: string | null,
): Promise<void> {
  const { app } = deps;
  await setTenantConnection(
    app.db,
    tenantId,
    {
      customerId: customer.customerId,
      domain: customer.domain,
      adminEmail: authorizedBy,
      // Only the scopes we asked for are recorded; `openid email` grant no data access.
      scopes: REQUIRED_SCOPES.filter((s) => scopes.includes(s)),
      connectedBy,
    },
    new Date(app.clock.now()),
  );
}

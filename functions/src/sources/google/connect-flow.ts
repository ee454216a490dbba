import { DEVICE_MANAGEMENT_SCOPES, REQUIRED_SCOPES } from '../../../../shared/entities.js';
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
import { serviceClientOf, type OAuthClientCredentials } from './workspace-auth.js';
import { createOAuthState, STATE_TTL_MS } from '../../store/oauth-states.js';
import {
  markNarrowingFailed,
  readConnectedCustomerId,
  readGoogleAuth,
  setDeviceManagement,
  setGoogleAuthMode,
  setTenantConnection,
  type GoogleAuthSettings,
} from '../../store/tenants.js';

/**
 * Connecting a tenant to its Google Workspace: the web-server OAuth flow with PKCE, offline access and forced
 * consent, asking for the read-only Directory scopes. `openid email` come along only to learn which Google
 * account authorized (shown as the connection's admin); they grant no data access.
 */
export const CONNECT_SCOPES: readonly string[] = [...REQUIRED_SCOPES, 'openid', 'email'];

/**
 * The three consents that come back on /oauth/callback, told apart by the stored state's purpose:
 * - `connect`: the read-only connection;
 * - `devices-on`: incremental authorization (include_granted_scopes=true) adding the device-management scopes to
 *   the read-only ones; the token Google answers with covers both;
 * - `devices-off`: a new read-only consent WITHOUT include_granted_scopes, after which the wider grant is revoked.
 */
export type GoogleConsentKind = 'connect' | 'devices-on' | 'devices-off';
const CONSENT_KINDS: readonly GoogleConsentKind[] = ['connect', 'devices-on', 'devices-off'];

interface ConsentPlan {
  scopes: readonly string[];
  /** What Google must have granted for the callback to change anything. */
  required: readonly string[];
  includeGrantedScopes: boolean;
}

const CONSENTS: Record<GoogleConsentKind, ConsentPlan> = {
  connect: { scopes: CONNECT_SCOPES, required: REQUIRED_SCOPES, includeGrantedScopes: false },
  'devices-on': {
    scopes: [...CONNECT_SCOPES, ...DEVICE_MANAGEMENT_SCOPES],
    required: [...REQUIRED_SCOPES, ...DEVICE_MANAGEMENT_SCOPES],
    includeGrantedScopes: true,
  },
  'devices-off': { scopes: CONNECT_SCOPES, required: REQUIRED_SCOPES, includeGrantedScopes: false },
};

/** The Directory scopes we record as held: what we ever ask for, as Google reported it granted. */
const heldScopes = (granted: readonly string[]) =>
  [...REQUIRED_SCOPES, ...DEVICE_MANAGEMENT_SCOPES].filter((s) => granted.includes(s));

export interface ConnectDeps {
  app: App;
  consoleOrigin: string;
  /**
   * Verifies an id_token from Google's token endpoint (signature, issuer, audience, expiry). `audience`: the
   * OAuth client the token was issued to (the tenant's own client); default the service's.
   */
  verifyIdToken(token: string, audience?: string): Promise<{ email: string; sub: string }>;
  /** Whether the email is still an owner or admin of the tenant when the callback arrives. */
  canManageTenant(tenantId: string, email: string): Promise<boolean>;
}

export interface StartConnectInput {
  tenantId: string;
  adminEmail: string;
  adminSub: string;
  loginHint?: string;
  /** Default `connect`. */
  kind?: GoogleConsentKind;
  /**
   * Which OAuth client asks for consent: the service's or the tenant's own (saved beforehand). Default: the one
   * the connection uses now. Connecting with the other one switches the connection over (see exchangeAndRecord).
   */
  oauthClient?: 'service' | 'tenant';
}

/** The client id a consent of this tenant is asked for; the tenant's own must have been saved. */
async function consentClientId(deps: ConnectDeps, input: StartConnectInput): Promise<string> {
  const { app } = deps;
  const settings = await readGoogleAuth(app.db, input.tenantId);
  const which = input.oauthClient ?? (settings.mode === 'tenant_client' ? 'tenant' : 'service');
  if (which === 'service') return app.config.oauthClient.clientId;
  const clientId = settings.tenantClient?.clientId;
  if (!clientId) throw new ConnectError('no_tenant_client', input.tenantId);
  return clientId;
}

export async function startConnect(
  deps: ConnectDeps,
  input: StartConnectInput,
): Promise<{ authorizationUrl: string; setCookie: string }> {
  const { app } = deps;
  const kind = input.kind ?? 'connect';
  const plan = CONSENTS[kind];
  const clientId = await consentClientId(deps, input);
  const { secret, hash } = newBindingSecret();
  const { stateId, codeChallenge } = await createOAuthState(app.db, app.clock, {
    purpose: kind,
    tenantId: input.tenantId,
    adminEmail: input.adminEmail,
    adminSub: input.adminSub,
    bindingHash: hash,
    oauthClientId: clientId,
  });
  const redirectUri = app.config.oauthClient.redirectUri;
  const url = authorizationUrl(app.config, {
    clientId,
    redirectUri,
    scopes: plan.scopes,
    state: stateId,
    codeChallenge,
    accessType: 'offline',
    // Forced consent for every kind: Google issues a refresh token only on a first consent or a forced one.
    prompt: 'consent',
    includeGrantedScopes: plan.includeGrantedScopes,
    ...(input.loginHint ? { loginHint: input.loginHint } : {}),
  });
  app.log.info('connection authorization started', {
    tenantId: input.tenantId,
    by: input.adminEmail,
    kind,
    oauthClient: clientId === app.config.oauthClient.clientId ? 'service' : 'tenant',
  });
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
    const { tenantId, kind } = await connect(deps, params, cookieHeader);
    const outcome =
      kind === 'connect' ? { connected: '1' } : { deviceManagement: kind === 'devices-on' ? 'on' : 'off' };
    return { location: consoleUrl(deps.consoleOrigin, { tenant: tenantId, ...outcome }), setCookie };
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

async function connect(
  deps: ConnectDeps,
  params: CallbackParams,
  cookieHeader: string | undefined,
): Promise<{ tenantId: string; kind: GoogleConsentKind }> {
  const { app } = deps;
  let accepted;
  try {
    accepted = await acceptBoundCallback(
      { db: app.db, clock: app.clock, canManageTenant: deps.canManageTenant },
      params.state,
      CONSENT_KINDS,
      cookieHeader,
    );
  } catch (err) {
    if (err instanceof CallbackRejection) throw new ConnectError(err.code, err.tenantId);
    throw err;
  }
  const { state, tenantId, admin } = accepted;
  const kind = state.purpose as GoogleConsentKind;

  if (params.error)
    throw new ConnectError(params.error === 'access_denied' ? 'access_denied' : 'google_error', tenantId);
  if (!params.code) throw new ConnectError('google_error', tenantId);

  if (kind !== 'devices-off') {
    await exchangeAndRecord(deps, { tenantId, admin, kind, code: params.code, state });
    return { tenantId, kind };
  }

  /*
   * Turning device management off: the wider grant must end, and a read-only one take its place.
   *
   * Google keeps ONE grant per user and client: a consent without include_granted_scopes issues tokens for the
   * scopes asked, but the earlier, wider refresh token stays valid; only revocation takes scopes away. And
   * revocation ends the grant, not just the token presented: "If you revoke a token that represents a combined
   * authorization, access to all of that authorization's scopes on behalf of the user are revoked
   * simultaneously" (Google, "Using OAuth 2.0 for Web Server Applications", incremental authorization and
   * "Revoking a token"; RFC 7009 section 2.1: the server invalidates "other tokens based on the same
   * authorization grant"). Revoking the old token AFTER exchanging the new code would therefore kill the new
   * read-only token too, whenever the same Google account authorized both (the usual case).
   *
   * So the old grant is revoked first, and the code is exchanged afterwards: the code is not a token of the
   * revoked grant, and its exchange creates a fresh grant holding only the read-only scopes the admin just
   * consented to. If Google cannot confirm the revocation, nothing changes (the code is left to expire). If the
   * exchange then fails, the tenant holds no authorization at all and is marked for reconnection: turning a
   * privilege off fails closed, never back to the wider grant.
   */
  const old = await app.secrets.getRefreshToken(tenantId);
  if (old) {
    const outcome = await revokeAtGoogle(app.config, old);
    if (outcome === 'failed') throw new ConnectError('revoke_failed', tenantId);
    app.log.info('device-management grant revoked at Google', { tenantId, googleGrant: outcome });
  }
  try {
    await exchangeAndRecord(deps, { tenantId, admin, kind, code: params.code, state });
  } catch (err) {
    const code = err instanceof ConnectError ? err.code : 'internal';
    await app.secrets.destroyRefreshToken(tenantId);
    app.auth.forget(tenantId);
    await markNarrowingFailed(
      app.db,
      tenantId,
      admin,
      `Device management was turned off, but the read-only authorization did not complete (${code}); connect Google Workspace again`,
      new Date(app.clock.now()),
    );
    throw new ConnectError(
      'narrowing_failed',
      tenantId,
      err instanceof ConnectError ? err.missingScopes : [],
      code,
    );
  }
  return { tenantId, kind };
}

async function exchangeAndRecord(
  deps: ConnectDeps,
  input: {
    tenantId: string;
    admin: string;
    kind: GoogleConsentKind;
    code: string;
    state: { stateId: string; codeVerifier: string; oauthClientId: string | null };
  },
): Promise<void> {
  const { app } = deps;
  const { tenantId, admin, kind, state } = input;
  const plan = CONSENTS[kind];
  const previousAuth = await readGoogleAuth(app.db, tenantId);
  const client = await callbackClient(deps, tenantId, state.oauthClientId);
  let tokens: ExchangedTokens;
  try {
    tokens = await exchangeCode(
      app.config,
      {
        code: input.code,
        codeVerifier: state.codeVerifier,
        redirectUri: app.config.oauthClient.redirectUri,
      },
      client,
    );
  } catch (err) {
    if (err instanceof GoogleOAuthError) {
      if (err.reason === 'invalid_client' || err.reason === 'unauthorized_client')
        throw new ConnectError('invalid_client', tenantId);
      if (err.reason === 'redirect_uri_mismatch') throw new ConnectError('redirect_uri_mismatch', tenantId);
      throw new ConnectError('exchange_failed', tenantId, [], err.reason);
    }
    throw err;
  }

  // From here on Google has issued tokens: every failure must take them back before reporting, except after an
  // incremental consent: its tokens belong to the same grant as the live read-only connection, and revoking
  // them would end that connection too (see the revocation note in connect()). They are simply not kept.
  const abandon = async (error: ConnectError): Promise<never> => {
    if (kind !== 'devices-on') {
      const outcome = await revokeAtGoogle(app.config, tokens.refreshToken ?? tokens.accessToken);
      if (outcome === 'failed')
        app.log.warn('could not revoke an abandoned authorization at Google', { tenantId });
    }
    throw error;
  };

  const missing = plan.required.filter((s) => !tokens.scopes.includes(s));
  if (missing.length > 0)
    return abandon(new ConnectError('missing_scopes', tenantId, missing.map(shortScope)));
  if (!tokens.refreshToken) return abandon(new ConnectError('no_refresh_token', tenantId));
  const refreshToken = tokens.refreshToken;

  let authorizedBy: string | null = null;
  if (tokens.idToken) {
    try {
      authorizedBy = (await deps.verifyIdToken(tokens.idToken, client.clientId)).email;
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
  const mismatch =
    kind === 'connect'
      ? previous !== null && previous !== customer.customerId
      : previous !== customer.customerId;
  if (mismatch) return abandon(new ConnectError('customer_mismatch', tenantId));

  // The credential this one replaces, read before the new token overwrites it.
  const replacedToken = kind === 'connect' ? await app.secrets.getRefreshToken(tenantId) : null;
  try {
    await app.secrets.putRefreshToken(tenantId, refreshToken);
  } catch {
    return abandon(new ConnectError('storage_failed', tenantId));
  }
  app.auth.forget(tenantId);

  if (kind !== 'connect') {
    const enabled = kind === 'devices-on';
    const scopes = heldScopes(tokens.scopes);
    const at = new Date(app.clock.now());
    if (
      (await setDeviceManagement(app.db, tenantId, { enabled, scopes, by: admin }, at)) === 'not_connected'
    ) {
      // Revoked from our side while the admin was on Google's consent screen: the revocation stands.
      await app.secrets.destroyRefreshToken(tenantId);
      return abandon(new ConnectError('not_connected', tenantId));
    }
    app.log.info(enabled ? 'device management turned on' : 'device management turned off', {
      tenantId,
      by: admin,
      scopes: scopes.map(shortScope),
    });
    return;
  }

  await switchMode(deps, tenantId, previousAuth, client, replacedToken, refreshToken);
  await recordConnected(deps, tenantId, admin, customer, tokens.scopes, authorizedBy);
  const started = await startInitialSync(app, tenantId, state.stateId);
  app.log.info('Google Workspace connected', {
    tenantId,
    customerId: customer.customerId,
    domain: customer.domain,
    connectedBy: admin,
    initialSyncs: started.length,
  });
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

/**
 * The client the code is exchanged with: the one the consent was asked for (recorded in the state). The tenant's
 * own client must still be the one saved, with its secret, or the callback stops: its secret was replaced or
 * removed while the admin was at Google.
 */
async function callbackClient(
  deps: ConnectDeps,
  tenantId: string,
  oauthClientId: string | null,
): Promise<OAuthClientCredentials> {
  const { app } = deps;
  const service = serviceClientOf(app.config);
  if (oauthClientId === null || oauthClientId === service.clientId) return service;
  const settings = await readGoogleAuth(app.db, tenantId);
  const clientSecret = await app.secrets.getRefreshToken(tenantId, 'google_client');
  if (settings.tenantClient?.clientId !== oauthClientId || !clientSecret)
    throw new ConnectError('client_changed', tenantId);
  return { clientId: oauthClientId, clientSecret };
}

/**
 * A connection made with another client (or mode) than before is a clean re-connect: the previous credential
 * ends. Google keeps one grant per user and client, so a refresh token of ANOTHER client is another grant, and
 * revoking it leaves the one just issued alone; a previous service account's key is destroyed. Reconnecting with
 * the same client keeps Google's grant as it is (revoking would end the new token too).
 */
async function switchMode(
  deps: ConnectDeps,
  tenantId: string,
  previous: GoogleAuthSettings,
  client: OAuthClientCredentials,
  replacedToken: string | null,
  newToken: string,
): Promise<void> {
  const { app } = deps;
  const mode = client.clientId === app.config.oauthClient.clientId ? 'service_client' : 'tenant_client';
  const previousClientId =
    previous.mode === 'service_client'
      ? app.config.oauthClient.clientId
      : previous.mode === 'tenant_client'
        ? (previous.tenantClient?.clientId ?? null)
        : null;
  if (previous.mode === 'service_account') {
    await app.secrets.destroyRefreshToken(tenantId, 'google_sa');
  } else if (previousClientId !== client.clientId && replacedToken && replacedToken !== newToken) {
    const outcome = await revokeAtGoogle(app.config, replacedToken);
    if (outcome === 'failed')
      app.log.warn("could not revoke the previous client's grant at Google", { tenantId });
  }
  if (previous.mode !== mode) {
    app.log.info('Google connection mode switched', { tenantId, from: previous.mode, to: mode });
  }
  await setGoogleAuthMode(app.db, tenantId, mode);
}

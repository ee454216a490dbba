import type { App } from '../../app.js';
import { buildAdminConsentUrl, completeAdminConsent } from './entra-connection.js';
import { ensureEntraPeopleMapping } from './entra-mapping.js';
import { acceptBoundCallback, CallbackRejection } from '../../connection/bound-callback.js';
import {
  bindingCookie,
  clearedCookie,
  CONNECT_COOKIE,
  newBindingSecret,
} from '../../connection/browser-binding.js';
import { createOAuthState, STATE_TTL_MS } from '../../store/oauth-states.js';
import { markEntraDisconnected, setEntraConnectedBy } from '../../store/tenants.js';

/**
 * Connecting a tenant to its Microsoft Entra directory: a Global Administrator grants the service's own
 * multi-tenant app registration admin consent, and the directory Microsoft reports is recorded. Same security
 * model as the Google connect flow: a single-use state bound to tenant + admin (purpose `entra`) and an HttpOnly
 * browser-binding cookie scoped to the callback path.
 */
export interface EntraServiceApp {
  clientId: string;
  clientSecret: string;
  authorityBaseUrl: string;
  graphBaseUrl: string;
  redirectUri: string;
}

export interface EntraConnectDeps {
  app: App;
  consoleOrigin: string;
  entra: EntraServiceApp;
  /** Whether the email is still an owner or admin of the tenant when the callback arrives. */
  canManageTenant(tenantId: string, email: string): Promise<boolean>;
}

/** Fixed texts for the console: never a secret, a state or Microsoft's own error description. */
export const ENTRA_CONNECT_ERRORS = {
  invalid_state: 'This consent link is not valid. Start connecting Microsoft Entra again from the console.',
  state_replayed:
    'This consent link was already used. Start connecting Microsoft Entra again from the console.',
  state_expired:
    'Microsoft Entra consent was not completed within 10 minutes. Start it again from the console.',
  browser_mismatch:
    'This connection was started in another browser or by another admin. Start it again from the console, in this browser.',
  tenant_mismatch:
    'This browser has since started a connection for another tenant. Start the connection again.',
  not_authorized: 'You are no longer an owner or admin of this tenant.',
  access_denied: 'Admin consent was not granted in Microsoft Entra, so nothing was connected.',
  consent_error: 'Microsoft Entra reported an error during admin consent. Try again.',
  invalid_response: 'Microsoft Entra did not confirm admin consent for a directory. Try again.',
  verification_failed:
    'Microsoft Entra did not issue an access token after consent, so nothing was stored. Try again in a few minutes.',
  internal: 'Something went wrong on our side while connecting Microsoft Entra. Try again.',
} as const;

export type EntraConnectErrorCode = keyof typeof ENTRA_CONNECT_ERRORS;

export class EntraConnectError extends Error {
  override readonly name = 'EntraConnectError';
  constructor(
    readonly code: EntraConnectErrorCode,
    readonly tenantId: string | null,
    /** Logged only (e.g. Microsoft's error code), never shown. */
    readonly detail: string | null = null,
  ) {
    super(ENTRA_CONNECT_ERRORS[code]);
  }
}

export interface StartEntraConnectInput {
  tenantId: string;
  adminEmail: string;
  adminSub: string;
  /** Pre-selects the admin's directory on Microsoft's sign-in (a verified domain). */
  domainHint?: string;
}

export async function startEntraConnect(
  deps: EntraConnectDeps,
  input: StartEntraConnectInput,
): Promise<{ authorizationUrl: string; setCookie: string }> {
  const { app, entra } = deps;
  const { secret, hash } = newBindingSecret();
  const { stateId } = await createOAuthState(app.db, app.clock, {
    purpose: 'entra',
    tenantId: input.tenantId,
    adminEmail: input.adminEmail,
    adminSub: input.adminSub,
    bindingHash: hash,
  });
  const authorizationUrl = buildAdminConsentUrl({
    authorityBaseUrl: entra.authorityBaseUrl,
    clientId: entra.clientId,
    redirectUri: entra.redirectUri,
    state: stateId,
    ...(input.domainHint ? { domainHint: input.domainHint } : {}),
  });
  app.log.info('Microsoft Entra admin consent started', { tenantId: input.tenantId, by: input.adminEmail });
  return {
    authorizationUrl,
    setCookie: bindingCookie(
      CONNECT_COOKIE,
      `${input.tenantId}.${secret}`,
      entra.redirectUri,
      STATE_TTL_MS / 1000,
    ),
  };
}

/** The admin-consent redirect's query, as Microsoft sends it. */
export interface EntraCallbackParams {
  state?: string | undefined;
  admin_consent?: string | undefined;
  tenant?: string | undefined;
  error?: string | undefined;
  error_description?: string | undefined;
}

function consoleUrl(consoleOrigin: string, params: Record<string, string | undefined>): string {
  const url = new URL('/', consoleOrigin);
  for (const [k, v] of Object.entries(params)) if (v !== undefined) url.searchParams.set(k, v);
  return url.toString();
}

/** GET /oauth/entra/callback: always ends on the console, with `entraConnected=1` or `entraError`. */
export async function completeEntraConnect(
  deps: EntraConnectDeps,
  params: EntraCallbackParams,
  cookieHeader: string | undefined,
): Promise<{ location: string; setCookie: string }> {
  const { app } = deps;
  const setCookie = clearedCookie(CONNECT_COOKIE, deps.entra.redirectUri);
  try {
    const tenantId = await connect(deps, params, cookieHeader);
    return {
      location: consoleUrl(deps.consoleOrigin, { tenant: tenantId, entraConnected: '1' }),
      setCookie,
    };
  } catch (caught) {
    const err = caught instanceof EntraConnectError ? caught : unexpectedFailure(app, caught);
    app.log.warn('Microsoft Entra connection failed', {
      tenantId: err.tenantId,
      code: err.code,
      detail: err.detail,
    });
    return {
      location: consoleUrl(deps.consoleOrigin, {
        tenant: err.tenantId ?? undefined,
        entraError: err.code,
        entraMessage: err.message,
      }),
      setCookie,
    };
  }
}

function unexpectedFailure(app: App, err: unknown): EntraConnectError {
  app.log.error('Microsoft Entra callback failed unexpectedly', {
    error: err instanceof Error ? err.message : String(err),
  });
  return new EntraConnectError('internal', null);
}

async function connect(
  deps: EntraConnectDeps,
  params: EntraCallbackParams,
  cookieHeader: string | undefined,
): Promise<string> {
  const { app, entra } = deps;
  let accepted;
  try {
    accepted = await acceptBoundCallback(
      { db: app.db, clock: app.clock, canManageTenant: deps.canManageTenant },
      params.state,
      'entra',
      cookieHeader,
    );
  } catch (err) {
    if (err instanceof CallbackRejection) throw new EntraConnectError(err.code, err.tenantId);
    throw err;
  }
  const { state, tenantId, admin } = accepted;

  const result = await completeAdminConsent(
    { db: app.db, secrets: app.secrets, clock: app.clock, log: app.log },
    {
      tenantId,
      callback: { ...params },
      expectedState: state.stateId,
      clientId: entra.clientId,
      clientSecret: entra.clientSecret,
      authorityBaseUrl: entra.authorityBaseUrl,
      graphBaseUrl: entra.graphBaseUrl,
    },
  );
  switch (result.kind) {
    case 'denied':
      throw new EntraConnectError(
        result.error === 'access_denied' ? 'access_denied' : 'consent_error',
        tenantId,
        result.error,
      );
    case 'invalid':
      throw new EntraConnectError('invalid_response', tenantId, result.reason);
    case 'failed':
      // The message of a token failure stays in the log; the console gets the fixed text.
      throw new EntraConnectError('verification_failed', tenantId, result.code);
    case 'connected':
      await setEntraConnectedBy(app.db, tenantId, admin);
      app.log.info('Microsoft Entra connected by an admin', { tenantId, connectedBy: admin });
      // The first (full) pass starts now rather than at the next tick; the state id makes it a one-off request.
      await app.syncDeps().publishSync({
        kind: 'sync',
        tenantId,
        mappingId: await ensureEntraPeopleMapping(
          app.db,
          tenantId,
          admin,
          new Date(app.clock.now()).toISOString(),
        ),
        requestId: `entra-initial:${state.stateId}`,
        trigger: 'initial',
      });
      return tenantId;
  }
}

/**
 * Stops the tenant's Entra syncs for good: the state becomes `disconnected` (fan-out and sync skip it) and the
 * stored client secret is destroyed. Safe to repeat; the secret is destroyed again each time.
 */
export async function disconnectEntra(
  app: App,
  tenantId: string,
  actor: string,
): Promise<{ kind: 'not_connected' } | { kind: 'disconnected'; disconnectedAt: string }> {
  const outcome = await markEntraDisconnected(app.db, tenantId, actor, new Date(app.clock.now()));
  if (outcome.kind === 'disconnected') {
    await app.secrets.destroyRefreshToken(tenantId, 'entra');
    app.log.info('Microsoft Entra disconnected', { tenantId, by: actor });
  }
  return outcome;
}

import { z } from 'zod';
import { checkConnection } from './connection-check.js';
import { revokeConnection } from './connection-revoke.js';
import { completeConnect, startConnect, type ConnectDeps } from './connect-flow.js';
import { DEVICE_MANAGEMENT_SCOPES, REQUIRED_SCOPES } from '../../../../shared/entities.js';
import { heldGoogleScopes } from './require-scopes.js';
import { googleRedirectQuery } from './google-oauth.js';
import { ApiError } from '../../api/api-error.js';
import { json, redirect, type ApiResult } from '../../api/http.js';
import { canManageTenant } from '../../api/membership.js';
import { IdTokenVerifier } from '../../api/id-token-verifier.js';
import { parseBody, queryObject } from '../../api/request-body.js';
import { actorOf, requireAdmin, requireTenant, type RouteContext } from '../../api/route-context.js';
import type { Route } from '../../api/router.js';
import { ConnectError } from '../../connection/connect-errors.js';
import { checkCredentialHealth } from '../../connection/credential-health.js';
import { GOOGLE_ENTITY_KINDS } from '../../connection/entity-access.js';
import { serviceAccountKeySchema } from '../../connection/google-credentials.js';
import { connectServiceAccount } from '../../connection/service-account-connect.js';
import { tenantOAuthClientBody, testAndSaveTenantClient } from '../../connection/tenant-oauth-client.js';
import { parseCredentialHealth, parseGoogleAccess, parseGoogleAuth } from '../../store/tenants.js';

/** ID token verifiers for tenants' own OAuth clients (the audience differs), kept per client for their cert cache. */
const tenantVerifiers = new Map<string, IdTokenVerifier>();
function tenantClientVerifier(ctx: RouteContext, audience: string): IdTokenVerifier {
  const { google } = ctx.app.config;
  const key = `${google.pemCertsUrl} ${audience}`;
  let verifier = tenantVerifiers.get(key);
  if (!verifier) {
    if (tenantVerifiers.size >= 1000) tenantVerifiers.clear();
    verifier = new IdTokenVerifier({
      pemCertsUrl: google.pemCertsUrl,
      issuers: google.issuers,
      audience,
      clock: ctx.app.clock,
    });
    tenantVerifiers.set(key, verifier);
  }
  return verifier;
}

function connectDeps(ctx: RouteContext): ConnectDeps {
  return {
    app: ctx.app,
    consoleOrigin: ctx.api.consoleOrigin,
    verifyIdToken: (token, audience) =>
      audience === undefined || audience === ctx.app.config.oauthClient.clientId
        ? ctx.services.idTokens.verify(token)
        : tenantClientVerifier(ctx, audience).verify(token),
    canManageTenant: (tenantId, email) => canManageTenant(ctx.app.db, tenantId, email),
  };
}

const authorizeBody = z.strictObject({
  loginHint: z.email().max(254).optional(),
  /** Which OAuth client to authorize with; default the one the connection uses now. */
  oauthClient: z.enum(['service', 'tenant']).optional(),
});

/** startConnect's refusals before anything happened, as the API's errors. */
async function started<T>(run: () => Promise<T>): Promise<T> {
  try {
    return await run();
  } catch (err) {
    if (err instanceof ConnectError)
      throw new ApiError('failed_precondition', err.message, [], {}, { reason: err.code });
    throw err;
  }
}

/** POST /api/tenants/:tenantId/connection/authorize -> {authorizationUrl}; the browser then goes to Google. */
async function authorize(ctx: RouteContext): Promise<ApiResult> {
  const { identity } = requireAdmin(ctx);
  const { tenantId } = requireTenant(ctx);
  const body = parseBody(ctx.req, authorizeBody, { emptyAllowed: true });
  const { authorizationUrl, setCookie } = await started(() =>
    startConnect(connectDeps(ctx), {
      tenantId,
      adminEmail: identity.email,
      adminSub: identity.sub,
      ...(body.loginHint ? { loginHint: body.loginHint } : {}),
      ...(body.oauthClient ? { oauthClient: body.oauthClient } : {}),
    }),
  );
  return json(200, { authorizationUrl }, { 'set-cookie': setCookie });
}

/**
 * GET /api/tenants/:tenantId/connection: how the tenant connects (mode, the redirect URI to register, its own
 * client's id, its service account), what the authorizing admin can read, and the credential's health. Never a
 * secret: the client secret and the key are write-only.
 */
async function connectionSettings(ctx: RouteContext): Promise<ApiResult> {
  const { tenantId, raw } = requireTenant(ctx);
  const settings = parseGoogleAuth(raw.googleAuth);
  const access = parseGoogleAccess(raw.googleAccess);
  const sa = settings.serviceAccount;
  return json(200, {
    tenantId,
    mode: settings.mode,
    redirectUri: ctx.app.config.oauthClient.redirectUri,
    serviceClientId: ctx.app.config.oauthClient.clientId,
    tenantClient: settings.tenantClient
      ? {
          clientId: settings.tenantClient.clientId,
          savedAt: settings.tenantClient.savedAt,
          savedBy: settings.tenantClient.savedBy,
        }
      : null,
    serviceAccount: sa
      ? {
          clientEmail: sa.clientEmail,
          clientId: sa.clientId,
          keyId: sa.keyId,
          subject: sa.subject,
          source: sa.source,
          savedAt: sa.savedAt,
          savedBy: sa.savedBy,
        }
      : null,
    delegationScopes: REQUIRED_SCOPES,
    access: GOOGLE_ENTITY_KINDS.map((entity) => ({ entity, ...(access[entity] ?? { permitted: null }) })),
    health: parseCredentialHealth(raw.credentialHealth),
  });
}

/** PUT /api/tenants/:tenantId/connection/oauth-client {clientId, clientSecret}: test and save (owners). */
async function saveOAuthClient(ctx: RouteContext): Promise<ApiResult> {
  const { tenantId } = requireTenant(ctx);
  const body = parseBody(ctx.req, tenantOAuthClientBody, { emptyAllowed: false });
  const saved = await testAndSaveTenantClient(ctx.app, tenantId, body, actorOf(ctx.caller));
  return json(200, { tenantId, ...saved });
}

const serviceAccountBody = z.strictObject({
  /** The JSON key file, as an object or as the file's text. */
  key: z.union([
    serviceAccountKeySchema,
    z
      .string()
      .max(20_000)
      .transform((text, c) => {
        try {
          const parsed = serviceAccountKeySchema.safeParse(JSON.parse(text));
          if (parsed.success) return parsed.data;
        } catch {
          // reported below
        }
        c.addIssue({ code: 'custom', message: 'not a service account JSON key file' });
        return z.NEVER;
      }),
  ]),
  /** The admin the service account impersonates. */
  subject: z.email().max(254),
});

/**
 * POST /api/tenants/:tenantId/connection/service-account {key, subject}: connect with a service account and
 * domain-wide delegation, or rotate its key (the same call with the new key). Owners and admins upload a key;
 * the host product may provision one through its signed API.
 */
async function serviceAccount(ctx: RouteContext): Promise<ApiResult> {
  const { tenantId } = requireTenant(ctx);
  // Never echoed: a body that fails to parse is reported by path only (parseBody), not by value.
  const body = parseBody(ctx.req, serviceAccountBody, { emptyAllowed: false });
  const result = await connectServiceAccount(ctx.app, tenantId, {
    key: body.key,
    subject: body.subject.toLowerCase(),
    source: ctx.caller.kind === 'host' ? 'host' : 'uploaded',
    by: actorOf(ctx.caller),
  });
  return json(200, { tenantId, status: 'active', mode: 'service_account', ...result });
}

/** POST /api/tenants/:tenantId/connection/health-check: the periodic credential check, now. */
async function healthCheck(ctx: RouteContext): Promise<ApiResult> {
  const { tenantId } = requireTenant(ctx);
  parseBody(ctx.req, z.strictObject({}), { emptyAllowed: true });
  const health = await checkCredentialHealth(ctx.app, tenantId);
  if (!health)
    throw new ApiError('unavailable', 'Google could not be reached to check the credential. Try again.');
  return json(200, { tenantId, health });
}

const deviceManagementBody = z.strictObject({ enabled: z.boolean() });

/**
 * POST /api/tenants/:tenantId/connection/device-management {enabled} -> {authorizationUrl}. Nothing changes
 * until Google's consent comes back on /oauth/callback: `enabled: true` asks for the read-only scopes plus the
 * device-management ones (incremental authorization); `false` asks for a new read-only consent, and the callback
 * revokes the wider grant. The login hint is the account that authorized the connection, since the same
 * Workspace organization must authorize (the callback checks the customer).
 */
async function deviceManagement(ctx: RouteContext): Promise<ApiResult> {
  const { identity } = requireAdmin(ctx);
  const { tenantId, raw } = requireTenant(ctx);
  const body = parseBody(ctx.req, deviceManagementBody, { emptyAllowed: false });
  if (parseGoogleAuth(raw.googleAuth).mode === 'service_account') {
    throw new ApiError(
      'failed_precondition',
      'This tenant connects with a service account: add the device-management scopes to its domain-wide delegation instead.',
    );
  }
  const connection = (raw.connection ?? {}) as {
    state?: unknown;
    adminEmail?: unknown;
    deviceManagement?: unknown;
  };
  if (connection.state !== 'connected') {
    throw new ApiError(
      'failed_precondition',
      'Connect Google Workspace first: device management widens an existing connection.',
    );
  }
  const widened = DEVICE_MANAGEMENT_SCOPES.some((s) => heldGoogleScopes(raw).includes(s));
  const on = (connection.deviceManagement as { enabled?: unknown } | undefined)?.enabled === true;
  if (!body.enabled && !on && !widened) {
    throw new ApiError(
      'failed_precondition',
      'Device management is already off: the connection is read-only.',
    );
  }
  const { authorizationUrl, setCookie } = await started(() =>
    startConnect(connectDeps(ctx), {
      tenantId,
      adminEmail: identity.email,
      adminSub: identity.sub,
      kind: body.enabled ? 'devices-on' : 'devices-off',
      ...(typeof connection.adminEmail === 'string' ? { loginHint: connection.adminEmail } : {}),
    }),
  );
  return json(200, { authorizationUrl }, { 'set-cookie': setCookie });
}

/** GET /oauth/callback: Google sends the admin's browser here; it always ends on the console. */
async function oauthCallback(ctx: RouteContext): Promise<ApiResult> {
  // A malformed callback is still a browser mid-flow: it goes back to the console with an error, not a JSON 400.
  const parsed = googleRedirectQuery.safeParse(queryObject(ctx.req));
  const outcome = await completeConnect(
    connectDeps(ctx),
    parsed.success ? parsed.data : {},
    ctx.req.header('cookie'),
  );
  return redirect(outcome.location, { 'set-cookie': outcome.setCookie });
}

/** POST /api/tenants/:tenantId/connection/test */
async function test(ctx: RouteContext): Promise<ApiResult> {
  const { tenantId } = requireTenant(ctx);
  parseBody(ctx.req, z.strictObject({}), { emptyAllowed: true });
  return json(200, await checkConnection(ctx.app, tenantId));
}

/** POST /api/tenants/:tenantId/connection/revoke */
async function revoke(ctx: RouteContext): Promise<ApiResult> {
  const { tenantId } = requireTenant(ctx);
  parseBody(ctx.req, z.strictObject({}), { emptyAllowed: true });
  const result = await revokeConnection(ctx.app, tenantId, actorOf(ctx.caller));
  if (result.kind === 'google_unavailable') {
    throw new ApiError(
      'unavailable',
      'Google did not confirm the revocation; nothing was changed. Try again.',
    );
  }
  return json(200, {
    tenantId,
    status: 'paused',
    connection: { state: 'revoked', revokedAt: result.revokedAt, revokedBy: actorOf(ctx.caller) },
    googleGrant: result.googleGrant,
  });
}

export const connectionRoutes: Array<Route<RouteContext>> = [
  {
    method: 'POST',
    pattern: '/api/tenants/:tenantId/connection/authorize',
    access: { kind: 'tenant', need: 'write' },
    handle: authorize,
    doc: {
      summary: "Connect Google Workspace: the URL of Google's consent for the read-only Admin SDK scopes",
      description:
        'The browser goes there; Google returns it to GET /oauth/callback. Admins only (not the host).',
      body: authorizeBody,
      bodyOptional: true,
      responses: {
        200: { description: 'Where to send the browser.', schema: z.object({ authorizationUrl: z.url() }) },
      },
    },
  },
  {
    method: 'POST',
    pattern: '/api/tenants/:tenantId/connection/device-management',
    access: { kind: 'tenant', need: 'write' },
    handle: deviceManagement,
    doc: {
      summary:
        'Turn device management on or off: the URL of the Google consent that widens or narrows the grant',
      description: 'Nothing changes until the consent comes back on GET /oauth/callback.',
      body: deviceManagementBody,
      responses: {
        200: { description: 'Where to send the browser.', schema: z.object({ authorizationUrl: z.url() }) },
      },
    },
  },
  {
    method: 'GET',
    pattern: '/oauth/callback',
    access: { kind: 'public' },
    handle: oauthCallback,
    doc: {
      summary:
        "Google's OAuth redirect after consent (browser only): stores the grant, returns to the console",
      query: googleRedirectQuery,
      responses: {
        302: {
          description:
            'To the console: `?tenant=<t>&connected=1`, or `&connectError=&connectMessage=[&missingScopes=]`.',
        },
      },
    },
  },
  {
    method: 'POST',
    pattern: '/api/tenants/:tenantId/connection/test',
    access: { kind: 'tenant', need: 'write' },
    handle: test,
    doc: {
      summary: 'Check the Google Workspace connection with a live call',
      body: z.strictObject({}),
      bodyOptional: true,
      responses: { 200: { description: 'What the check found.' } },
    },
  },
  {
    method: 'POST',
    pattern: '/api/tenants/:tenantId/connection/revoke',
    access: { kind: 'tenant', need: 'write' },
    handle: revoke,
    doc: {
      summary: "Disconnect Google Workspace: revokes Google's grant and pauses the tenant",
      description: '503 `unavailable` when Google does not confirm; nothing changes then.',
      body: z.strictObject({}),
      bodyOptional: true,
      responses: { 200: { description: '`{tenantId, status: "paused", connection, googleGrant}`.' } },
    },
  },
  {
    method: 'GET',
    pattern: '/api/tenants/:tenantId/connection',
    access: { kind: 'tenant', need: 'read' },
    handle: connectionSettings,
    doc: {
      summary:
        "How the tenant connects to Google: the mode (service client, the tenant's own OAuth client, service account), the redirect URI to register, the client id or service account, the scopes to delegate, what the authorizing admin can read and the credential's health; never a secret",
      responses: { 200: { description: 'The connection settings.' } },
    },
  },
  {
    method: 'PUT',
    pattern: '/api/tenants/:tenantId/connection/oauth-client',
    access: { kind: 'tenant', need: 'owner' },
    handle: saveOAuthClient,
    doc: {
      summary:
        "Test and save the tenant's own Google OAuth client: checked at Google before anything is stored; the secret goes to Secret Manager and is never shown again",
      body: tenantOAuthClientBody,
      responses: { 200: { description: 'The saved client (id only).' } },
    },
  },
  {
    method: 'POST',
    pattern: '/api/tenants/:tenantId/connection/service-account',
    access: { kind: 'tenant', need: 'write', allowHost: true },
    handle: serviceAccount,
    doc: {
      summary:
        'Connect (or rotate the key of) a service account with domain-wide delegation, impersonating `subject`; the delegated scopes are checked first and a missing one is named',
      body: serviceAccountBody,
      responses: { 200: { description: 'The connection, with the service account and scopes.' } },
    },
  },
  {
    method: 'POST',
    pattern: '/api/tenants/:tenantId/connection/health-check',
    access: { kind: 'tenant', need: 'write', allowHost: true },
    handle: healthCheck,
    doc: {
      summary:
        "Checks the tenant's Google credential now (a fresh token and one call) and the authorizing admin's status",
      body: z.strictObject({}),
      bodyOptional: true,
      responses: { 200: { description: 'The credential health.' } },
    },
  },
];

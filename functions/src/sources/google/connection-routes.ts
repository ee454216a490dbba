import { z } from 'zod';
import { checkConnection } from './connection-check.js';
import { revokeConnection } from './connection-revoke.js';
import { completeConnect, startConnect, type ConnectDeps } from './connect-flow.js';
import { DEVICE_MANAGEMENT_SCOPES } from '../../../../shared/entities.js';
import { heldGoogleScopes } from './require-scopes.js';
import { googleRedirectQuery } from './google-oauth.js';
import { ApiError } from '../../api/api-error.js';
import { json, redirect, type ApiResult } from '../../api/http.js';
import { canManageTenant } from '../../api/membership.js';
import { parseBody, queryObject } from '../../api/request-body.js';
import { actorOf, requireAdmin, requireTenant, type RouteContext } from '../../api/route-context.js';
import type { Route } from '../../api/router.js';

function connectDeps(ctx: RouteContext): ConnectDeps {
  return {
    app: ctx.app,
    consoleOrigin: ctx.api.consoleOrigin,
    verifyIdToken: (token) => ctx.services.idTokens.verify(token),
    canManageTenant: (tenantId, email) => canManageTenant(ctx.app.db, tenantId, email),
  };
}

const authorizeBody = z.strictObject({ loginHint: z.email().max(254).optional() });

/** POST /api/tenants/:tenantId/connection/authorize -> {authorizationUrl}; the browser then goes to Google. */
async function authorize(ctx: RouteContext): Promise<ApiResult> {
  const { identity } = requireAdmin(ctx);
  const { tenantId } = requireTenant(ctx);
  const body = parseBody(ctx.req, authorizeBody, { emptyAllowed: true });
  const { authorizationUrl, setCookie } = await startConnect(connectDeps(ctx), {
    tenantId,
    adminEmail: identity.email,
    adminSub: identity.sub,
    ...(body.loginHint ? { loginHint: body.loginHint } : {}),
  });
  return json(200, { authorizationUrl }, { 'set-cookie': setCookie });
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
  const { authorizationUrl, setCookie } = await startConnect(connectDeps(ctx), {
    tenantId,
    adminEmail: identity.email,
    adminSub: identity.sub,
    kind: body.enabled ? 'devices-on' : 'devices-off',
    ...(typeof connection.adminEmail === 'string' ? { loginHint: connection.adminEmail } : {}),
  });
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
];

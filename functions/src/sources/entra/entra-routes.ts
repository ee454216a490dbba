import { z } from 'zod';
import {
  completeEntraConnect,
  disconnectEntra,
  startEntraConnect,
  type EntraConnectDeps,
} from './entra-connect-flow.js';
import { ApiError } from '../../api/api-error.js';
import { json, redirect, type ApiResult } from '../../api/http.js';
import { canManageTenant } from '../../api/membership.js';
import { parseBody, queryObject } from '../../api/request-body.js';
import { actorOf, requireAdmin, requireTenant, type RouteContext } from '../../api/route-context.js';
import type { Route } from '../../api/router.js';

/** The admin-consent redirect URI: ENTRA_REDIRECT_URI, else /oauth/entra/callback next to OAUTH_REDIRECT_URI. */
export function entraRedirectUri(ctx: RouteContext): string {
  return (
    ctx.api.entra?.redirectUri ??
    new URL('/oauth/entra/callback', ctx.app.config.oauthClient.redirectUri).toString()
  );
}

function entraDeps(ctx: RouteContext): EntraConnectDeps {
  const entra = ctx.api.entra;
  if (!entra) throw new ApiError('failed_precondition', 'Microsoft Entra is not configured for this service');
  return {
    app: ctx.app,
    consoleOrigin: ctx.api.consoleOrigin,
    entra: { ...entra, redirectUri: entraRedirectUri(ctx) },
    canManageTenant: (tenantId, email) => canManageTenant(ctx.app.db, tenantId, email),
  };
}

const domainSchema = z
  .string()
  .max(253)
  .regex(/^(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$/i, 'must be a DNS domain');
const authorizeBody = z.strictObject({ domainHint: domainSchema.optional() });

/** POST /api/tenants/:tenantId/entra/authorize -> {authorizationUrl}; the browser then goes to Microsoft. */
async function authorize(ctx: RouteContext): Promise<ApiResult> {
  const deps = entraDeps(ctx);
  const { identity } = requireAdmin(ctx);
  const scope = requireTenant(ctx);
  const body = parseBody(ctx.req, authorizeBody, { emptyAllowed: true });
  // Without a hint, the Google Workspace domain usually names the same school's Entra directory too.
  const googleDomain = domainSchema.safeParse(scope.raw.connection?.domain);
  const domainHint = body.domainHint ?? (googleDomain.success ? googleDomain.data : undefined);
  const { authorizationUrl, setCookie } = await startEntraConnect(deps, {
    tenantId: scope.tenantId,
    adminEmail: identity.email,
    adminSub: identity.sub,
    ...(domainHint ? { domainHint } : {}),
  });
  return json(200, { authorizationUrl }, { 'set-cookie': setCookie });
}

const callbackQuery = z
  .object({
    state: z.string().max(200).optional(),
    admin_consent: z.string().max(20).optional(),
    tenant: z.string().max(300).optional(),
    error: z.string().max(200).optional(),
    error_description: z.string().max(2000).optional(),
  })
  .loose();

/** GET /oauth/entra/callback: Microsoft sends the admin's browser here; it always ends on the console. */
async function entraCallback(ctx: RouteContext): Promise<ApiResult> {
  const deps = entraDeps(ctx);
  const parsed = callbackQuery.safeParse(queryObject(ctx.req));
  const p = parsed.success ? parsed.data : {};
  const outcome = await completeEntraConnect(
    deps,
    {
      state: p.state,
      admin_consent: p.admin_consent,
      tenant: p.tenant,
      error: p.error,
      error_description: p.error_description,
    },
    ctx.req.header('cookie'),
  );
  return redirect(outcome.location, { 'set-cookie': outcome.setCookie });
}

/** POST /api/tenants/:tenantId/entra/disconnect */
async function disconnect(ctx: RouteContext): Promise<ApiResult> {
  entraDeps(ctx);
  requireAdmin(ctx);
  const { tenantId } = requireTenant(ctx);
  parseBody(ctx.req, z.strictObject({}), { emptyAllowed: true });
  const actor = actorOf(ctx.caller);
  const result = await disconnectEntra(ctx.app, tenantId, actor);
  if (result.kind === 'not_connected')
    throw new ApiError('failed_precondition', 'Microsoft Entra is not connected for this tenant');
  return json(200, {
    tenantId,
    entra: { state: 'disconnected', disconnectedAt: result.disconnectedAt },
  });
}

export const entraRoutes: Array<Route<RouteContext>> = [
  {
    method: 'POST',
    pattern: '/api/tenants/:tenantId/entra/authorize',
    access: { kind: 'tenant', need: 'write' },
    handle: authorize,
    doc: {
      summary: "Connect Microsoft Entra: the URL of Microsoft's admin consent",
      description:
        'Without `domainHint`, the Google Workspace domain is the hint. 409 when Entra is not configured ' +
        '(ENTRA_CLIENT_ID unset). Admins only.',
      body: authorizeBody,
      bodyOptional: true,
      responses: {
        200: { description: 'Where to send the browser.', schema: z.object({ authorizationUrl: z.url() }) },
      },
    },
  },
  {
    method: 'GET',
    pattern: '/oauth/entra/callback',
    access: { kind: 'public' },
    handle: entraCallback,
    doc: {
      summary:
        "Microsoft's admin-consent redirect (browser only): records the connection, returns to the console",
      query: callbackQuery,
      responses: { 302: { description: 'To the console, with the outcome in the query.' } },
    },
  },
  {
    method: 'POST',
    pattern: '/api/tenants/:tenantId/entra/disconnect',
    access: { kind: 'tenant', need: 'write' },
    handle: disconnect,
    doc: {
      summary: 'Disconnect Microsoft Entra',
      description: '409 when Entra is not connected.',
      body: z.strictObject({}),
      bodyOptional: true,
      responses: { 200: { description: '`{tenantId, entra: {state: "disconnected", disconnectedAt}}`.' } },
    },
  },
];

import { randomBytes, randomUUID } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';
import { aad } from './aad-error.js';
import type { Tenant } from './graph-directory.js';
import type { Reply, SimulatorContext } from './simulator-context.js';

const GRAPH_RESOURCES = ['https://graph.microsoft.com', '00000003-0000-0000-c000-000000000000'];
const MULTI_TENANT_SEGMENTS = ['common', 'organizations'];

const b64url = (value: object) => Buffer.from(JSON.stringify(value), 'utf8').toString('base64url');

/** Client secret from the form (client_secret_post) or HTTP Basic (client_secret_basic); AAD accepts both. */
function clientCredentials(form: URLSearchParams, headers: IncomingHttpHeaders) {
  const basic = /^Basic\s+(.+)$/i.exec(headers.authorization ?? '');
  if (basic?.[1]) {
    const decoded = Buffer.from(basic[1], 'base64').toString('utf8');
    const colon = decoded.indexOf(':');
    if (colon > 0) {
      return {
        clientId: decodeURIComponent(decoded.slice(0, colon)),
        clientSecret: decodeURIComponent(decoded.slice(colon + 1)),
      };
    }
  }
  return { clientId: form.get('client_id'), clientSecret: form.get('client_secret') };
}

/** POST /{tenant}/oauth2/v2.0/token, client credentials grant only. */
export function issueToken(
  ctx: SimulatorContext,
  tenantSegment: string,
  method: string,
  rawBody: string,
  headers: IncomingHttpHeaders,
): Reply {
  if (method !== 'POST') throw aad.onlyPost(method);
  const tenant = ctx.directory.findTenant(tenantSegment);
  if (!tenant) throw aad.tenantNotFound(tenantSegment);

  const form = new URLSearchParams(rawBody);
  const grantType = form.get('grant_type');
  if (!grantType) throw aad.missingParameter('grant_type');
  if (grantType !== 'client_credentials') throw aad.unsupportedGrantType(grantType);

  const { clientId, clientSecret } = clientCredentials(form, headers);
  if (!clientId) throw aad.missingParameter('client_id');
  const app = ctx.directory.apps.get(clientId);
  if (!app) throw aad.applicationNotFound(clientId, tenant.displayName);
  if (!clientSecret) throw aad.missingClientSecret();
  if (clientSecret !== app.clientSecret) throw aad.invalidClientSecret(clientId);

  const scope = form.get('scope');
  if (!scope) throw aad.missingParameter('scope');
  if (!scope.endsWith('/.default') || scope.trim().includes(' ')) throw aad.invalidScope(scope);
  const resource = scope.slice(0, -'/.default'.length);
  if (!GRAPH_RESOURCES.includes(resource.toLowerCase()))
    throw aad.resourceNotFound(resource, tenant.displayName);

  if (!tenant.consents.has(clientId)) throw aad.consentRequired(clientId, app.displayName);

  const accessToken = mintToken(tenant, app.clientId, app.displayName, app.permissions);
  const lifetime = tenant.tokenLifetimeSeconds;
  ctx.directory.tokens.set(accessToken, {
    tenantId: tenant.tenantId,
    clientId,
    expiresAt: Date.now() + lifetime * 1000,
    roles: app.permissions,
    revoked: false,
  });
  ctx.stats.tokensIssued++;
  return {
    kind: 'json',
    status: 200,
    body: { token_type: 'Bearer', expires_in: lifetime, ext_expires_in: lifetime, access_token: accessToken },
  };
}

/** A JWT-shaped app-only token. Unsigned for real purposes: the simulator looks tokens up rather than verifying. */
function mintToken(tenant: Tenant, clientId: string, appName: string, roles: readonly string[]): string {
  const now = Math.floor(Date.now() / 1000);
  const issuer = `https://sts.windows.net/${tenant.tenantId}/`;
  const header = { typ: 'JWT', alg: 'RS256', kid: 'graph-simulator' };
  const payload = {
    aud: 'https://graph.microsoft.com',
    iss: issuer,
    iat: now,
    nbf: now,
    exp: now + tenant.tokenLifetimeSeconds,
    app_displayname: appName,
    appid: clientId,
    appidacr: '1',
    idp: issuer,
    idtyp: 'app',
    oid: randomUUID(),
    roles,
    sub: randomUUID(),
    tid: tenant.tenantId,
    uti: randomBytes(16).toString('base64url'),
    ver: '1.0',
  };
  return `${b64url(header)}.${b64url(payload)}.${randomBytes(64).toString('base64url')}`;
}

/**
 * GET /{tenant}/adminconsent (and /{tenant}/v2.0/adminconsent). The real endpoint signs an administrator in and
 * asks; the simulator answers with the tenant's scripted decision and redirects straight back.
 */
export function adminConsent(
  ctx: SimulatorContext,
  tenantSegment: string,
  query: URLSearchParams,
  v2: boolean,
): Reply {
  const segment = tenantSegment.toLowerCase();
  const hint = query.get('domain_hint');
  const tenantKey = MULTI_TENANT_SEGMENTS.includes(segment) ? hint : tenantSegment;
  const tenant = tenantKey ? ctx.directory.findTenant(tenantKey) : undefined;
  if (!tenant) throw aad.tenantNotFound(tenantKey ?? tenantSegment);

  const clientId = query.get('client_id');
  if (!clientId) throw aad.missingParameter('client_id');
  const app = ctx.directory.apps.get(clientId);
  if (!app) throw aad.applicationNotFound(clientId, tenant.displayName);

  const redirectUri = query.get('redirect_uri');
  if (!redirectUri) throw aad.missingParameter('redirect_uri');
  if (app.redirectUris.length > 0 && !app.redirectUris.includes(redirectUri)) {
    throw aad.redirectUriMismatch(redirectUri, clientId);
  }
  let target: URL;
  try {
    target = new URL(redirectUri);
  } catch {
    throw aad.redirectUriMismatch(redirectUri, clientId);
  }

  const state = query.get('state');
  if (tenant.consentDecision === 'deny') {
    target.searchParams.set('error', 'access_denied');
    target.searchParams.set('error_description', 'AADSTS65004: User declined to consent to access the app.');
  } else {
    tenant.consents.add(clientId);
    target.searchParams.set('admin_consent', 'True');
    target.searchParams.set('tenant', tenant.tenantId);
    if (v2)
      target.searchParams.set(
        'scope',
        app.permissions.map((p) => `https://graph.microsoft.com/${p}`).join(' '),
      );
  }
  if (state !== null) target.searchParams.set('state', state);
  return { kind: 'redirect', location: target.toString() };
}

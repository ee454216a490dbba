import { createHash, timingSafeEqual } from 'node:crypto';
import { consentPage, oauthErrorPage } from './consent-page.js';
import { readFormOrJson, redirect, sendHtml, sendJson } from './http-util.js';
import type { IdTokenClaims } from './id-token.js';
import { accessTokenHash } from './id-token.js';
import type { AccessTokenRecord, OAuthClient, PendingAuthRequest } from './oauth-state.js';
import { ACCESS_TOKEN_TTL_SECONDS } from './oauth-state.js';
import type { RequestContext, RouteHandler } from './request-context.js';
import { isBasicScope, isKnownScope, normalizeScope, SCOPES } from './scopes.js';
import { JWT_BEARER_GRANT, jwtBearerGrant } from './service-accounts.js';

const NO_STORE = { 'cache-control': 'no-cache, no-store, max-age=0, must-revalidate', pragma: 'no-cache' };

function oauthJson(
  ctx: RequestContext,
  status: number,
  body: Record<string, unknown>,
  headers: Record<string, string> = {},
) {
  return sendJson(ctx.req, ctx.res, status, body, { headers: { ...NO_STORE, ...headers } });
}

const oauthError = (ctx: RequestContext, status: number, error: string, description: string) =>
  oauthJson(ctx, status, { error, error_description: description });

function errorPage(ctx: RequestContext, status: number, error: string, description: string) {
  return sendHtml(ctx.req, ctx.res, status, oauthErrorPage(status, error, description));
}

function redirectWith(
  ctx: RequestContext,
  redirectUri: string,
  params: Record<string, string | undefined>,
): void {
  const target = new URL(redirectUri);
  for (const [k, v] of Object.entries(params)) if (v !== undefined) target.searchParams.set(k, v);
  redirect(ctx.res, target.toString());
}

function splitScopes(raw: string | null | undefined): string[] {
  return [...new Set((raw ?? '').split(/\s+/).filter(Boolean).map(normalizeScope))];
}

// ------------------------------------------------------------------ /o/oauth2/v2/auth

async function authorize(ctx: RequestContext): Promise<void> {
  const { state } = ctx;
  const q = ctx.url.searchParams;
  const client = state.oauth.client(q.get('client_id'));
  if (!client) return errorPage(ctx, 401, 'invalid_client', 'The OAuth client was not found.');
  const redirectUri = q.get('redirect_uri') ?? '';
  if (!redirectUri || !state.oauth.redirectAllowed(client, redirectUri)) {
    return errorPage(
      ctx,
      400,
      'redirect_uri_mismatch',
      `You can't sign in to this app because it doesn't comply with Google's OAuth 2.0 policy. ` +
        `Request details: redirect_uri=${redirectUri}`,
    );
  }
  if (q.get('response_type') !== 'code') {
    return errorPage(
      ctx,
      400,
      'invalid_request',
      `Invalid response_type: ${q.get('response_type') ?? '(missing)'}`,
    );
  }
  const requested = splitScopes(q.get('scope'));
  if (requested.length === 0)
    return errorPage(ctx, 400, 'invalid_request', 'Missing required parameter: scope');
  const invalid = requested.filter((s) => !isKnownScope(s));
  if (invalid.length > 0) {
    return errorPage(
      ctx,
      400,
      'invalid_scope',
      `Some requested scopes were invalid. {invalid=[${invalid.join(', ')}]}`,
    );
  }
  const challenge = q.get('code_challenge') ?? undefined;
  const method = q.get('code_challenge_method') ?? undefined;
  if (method && !challenge) return errorPage(ctx, 400, 'invalid_request', 'Missing code_challenge.');
  if (method && method !== 'S256' && method !== 'plain') {
    return errorPage(ctx, 400, 'invalid_request', `Invalid code_challenge_method: ${method}`);
  }
  const accessType = q.get('access_type') ?? 'online';
  if (accessType !== 'online' && accessType !== 'offline') {
    return errorPage(ctx, 400, 'invalid_request', `Invalid access_type: ${accessType}`);
  }
  const prompt = (q.get('prompt') ?? '').split(/\s+/).filter(Boolean);

  const hint = q.get('login_hint');
  const signedIn = hint ? state.findUserByEmailOrId(hint) : undefined;
  const ws = hint ? signedIn?.ws : state.latestWorkspace();
  const user = hint ? signedIn?.user : ws?.findUser(ws.adminUserId);
  if (!ws || !user) {
    return errorPage(
      ctx,
      400,
      'invalid_request',
      hint
        ? `Couldn't find your Google Account: ${hint}`
        : 'No workspace exists yet; create one via /_control/workspaces.',
    );
  }
  if (user.suspended)
    return errorPage(ctx, 403, 'access_denied', `The account ${user.primaryEmail} is disabled.`);

  const principal = { customerId: ws.customerId, userId: user.id };
  const request: Omit<PendingAuthRequest, 'id' | 'createdAt'> = {
    ...principal,
    clientId: client.clientId,
    redirectUri,
    scopes: requested,
    state: q.get('state') ?? undefined,
    codeChallenge: challenge,
    codeChallengeMethod: challenge ? ((method as 'S256' | 'plain' | undefined) ?? 'plain') : undefined,
    offline: accessType === 'offline',
    forceConsent: prompt.includes('consent'),
    includeGrantedScopes: q.get('include_granted_scopes') === 'true',
    nonce: q.get('nonce') ?? undefined,
  };

  if (prompt.includes('none')) {
    const existing = state.oauth.grantedScopes(client.clientId, principal);
    if (!requested.every((s) => existing.includes(s))) {
      return redirectWith(ctx, redirectUri, { error: 'consent_required', state: request.state });
    }
    return finish(ctx, request, 'approve', undefined);
  }
  const scripted = state.oauth.takeScriptedDecision();
  if (scripted) return finish(ctx, request, scripted.decision, scripted.grantedScopes?.map(normalizeScope));
  if (state.autoApprove) return finish(ctx, request, 'approve', undefined);

  const parked = state.oauth.park(request);
  return sendHtml(
    ctx.req,
    ctx.res,
    200,
    consentPage({
      requestId: parked.id,
      clientId: client.clientId,
      userEmail: user.primaryEmail,
      scopes: requested,
    }),
    NO_STORE,
  );
}

function finish(
  ctx: RequestContext,
  request: Omit<PendingAuthRequest, 'id' | 'createdAt'>,
  decision: 'approve' | 'deny',
  allowedScopes: readonly string[] | undefined,
): void {
  const { state } = ctx;
  if (decision === 'deny') {
    return redirectWith(ctx, request.redirectUri, { error: 'access_denied', state: request.state });
  }
  let granted = request.scopes.filter((s) => isBasicScope(s) || !allowedScopes || allowedScopes.includes(s));
  if (request.includeGrantedScopes) {
    granted = [...new Set([...state.oauth.grantedScopes(request.clientId, request), ...granted])];
  }
  // Like Google: a refresh token only on the first offline consent, or when consent is forced again.
  const issueRefreshToken =
    request.offline && (request.forceConsent || !state.oauth.hasRefreshToken(request.clientId, request));
  const code = state.oauth.issueCode({
    customerId: request.customerId,
    userId: request.userId,
    clientId: request.clientId,
    redirectUri: request.redirectUri,
    scopes: granted,
    codeChallenge: request.codeChallenge,
    codeChallengeMethod: request.codeChallengeMethod,
    issueRefreshToken,
    nonce: request.nonce,
  });
  redirectWith(ctx, request.redirectUri, {
    state: request.state,
    code: code.code,
    scope: granted.join(' '),
    authuser: '0',
    hd: state.workspace(request.customerId)?.domain,
    prompt: request.forceConsent || !state.autoApprove ? 'consent' : 'none',
  });
}

async function decide(ctx: RequestContext): Promise<void> {
  const form = await readFormOrJson(ctx.req);
  const request = ctx.state.oauth.unpark(form.get('request_id') ?? '');
  if (!request)
    return errorPage(ctx, 400, 'invalid_request', 'This sign-in request has expired. Start again.');
  const decision = form.get('decision') === 'approve' ? 'approve' : 'deny';
  return finish(ctx, request, decision, form.getAll('scope').map(normalizeScope));
}

// ------------------------------------------------------------------ /token

function authenticateClient(
  ctx: RequestContext,
  form: URLSearchParams,
): { client: OAuthClient } | { status: number; error: string; description: string } {
  let clientId = form.get('client_id');
  let secret = form.get('client_secret');
  const auth = ctx.req.headers.authorization;
  if (auth?.startsWith('Basic ')) {
    const decoded = Buffer.from(auth.slice(6), 'base64').toString('utf8');
    const colon = decoded.indexOf(':');
    clientId = decodeURIComponent(decoded.slice(0, colon));
    secret = decodeURIComponent(decoded.slice(colon + 1));
  }
  const client = ctx.state.oauth.client(clientId);
  if (!client)
    return { status: 401, error: 'invalid_client', description: 'The OAuth client was not found.' };
  if (!secret) return { status: 400, error: 'invalid_request', description: 'client_secret is missing.' };
  const a = Buffer.from(secret);
  const b = Buffer.from(client.clientSecret);
  if (a.length !== b.length || !timingSafeEqual(a, b)) {
    return { status: 401, error: 'invalid_client', description: 'Unauthorized' };
  }
  return { client };
}

function pkceMatches(verifier: string, challenge: string, method: 'S256' | 'plain'): boolean {
  const computed = method === 'S256' ? createHash('sha256').update(verifier).digest('base64url') : verifier;
  return computed === challenge;
}

function idTokenFor(ctx: RequestContext, access: AccessTokenRecord, nonce?: string): string | undefined {
  const wantsOpenId = access.scopes.some(
    (s) => s === SCOPES.openid || s === SCOPES.userinfoEmail || s === SCOPES.userinfoProfile,
  );
  const found = ctx.state.activeUser(access.customerId, access.userId);
  if (!wantsOpenId || !found) return undefined;
  const { ws, user } = found;
  const iat = Math.floor(Date.now() / 1000);
  const claims: IdTokenClaims = {
    iss: ctx.state.url,
    azp: access.clientId,
    aud: access.clientId,
    sub: user.id,
    hd: ws.domain,
    at_hash: accessTokenHash(access.token),
    iat,
    exp: iat + 3600,
  };
  if (access.scopes.includes(SCOPES.userinfoEmail)) {
    claims.email = user.primaryEmail;
    claims.email_verified = true;
  }
  if (access.scopes.includes(SCOPES.userinfoProfile)) {
    claims.name = `${user.givenName} ${user.familyName}`;
    claims.given_name = user.givenName;
    claims.family_name = user.familyName;
  }
  if (nonce) claims.nonce = nonce;
  return ctx.state.signer.sign(claims);
}

function tokenResponse(
  ctx: RequestContext,
  access: AccessTokenRecord,
  refreshToken?: string,
  nonce?: string,
) {
  const idToken = idTokenFor(ctx, access, nonce);
  return oauthJson(ctx, 200, {
    access_token: access.token,
    expires_in: ACCESS_TOKEN_TTL_SECONDS,
    ...(refreshToken ? { refresh_token: refreshToken } : {}),
    scope: access.scopes.join(' '),
    token_type: 'Bearer',
    ...(idToken ? { id_token: idToken } : {}),
  });
}

async function token(ctx: RequestContext): Promise<void> {
  const { state } = ctx;
  if (state.faults.takeTokenFailure()) return oauthError(ctx, 500, 'internal_failure', 'Backend Error');
  const form = await readFormOrJson(ctx.req);
  if (form.get('grant_type') === JWT_BEARER_GRANT) {
    // A service account authenticates by the assertion's signature, not with a client id and secret.
    const outcome = await jwtBearerGrant(state, form.get('assertion'));
    if (!outcome.ok) return oauthError(ctx, outcome.status, outcome.error, outcome.description);
    return oauthJson(ctx, 200, {
      access_token: outcome.access.token,
      expires_in: ACCESS_TOKEN_TTL_SECONDS,
      token_type: 'Bearer',
    });
  }
  const auth = authenticateClient(ctx, form);
  if (!('client' in auth)) return oauthError(ctx, auth.status, auth.error, auth.description);
  const { client } = auth;
  const grantType = form.get('grant_type');

  if (grantType === 'authorization_code') {
    const codeValue = form.get('code');
    if (!codeValue) return oauthError(ctx, 400, 'invalid_request', 'Missing required parameter: code');
    const code = state.oauth.code(codeValue);
    if (!code) return oauthError(ctx, 400, 'invalid_grant', 'Malformed auth code.');
    if (code.used || code.expiresAt < Date.now() || code.clientId !== client.clientId) {
      return oauthError(ctx, 400, 'invalid_grant', 'Bad Request');
    }
    if (form.get('redirect_uri') !== code.redirectUri)
      return oauthError(ctx, 400, 'redirect_uri_mismatch', 'Bad Request');
    if (code.codeChallenge && code.codeChallengeMethod) {
      const verifier = form.get('code_verifier');
      if (!verifier) return oauthError(ctx, 400, 'invalid_grant', 'Missing code verifier.');
      if (!pkceMatches(verifier, code.codeChallenge, code.codeChallengeMethod)) {
        return oauthError(ctx, 400, 'invalid_grant', 'Invalid code verifier.');
      }
    }
    if (!state.activeUser(code.customerId, code.userId)) {
      return oauthError(ctx, 400, 'invalid_grant', 'Token has been expired or revoked.');
    }
    code.used = true;
    const { access, refresh } = state.oauth.issueTokens(
      client.clientId,
      code,
      code.scopes,
      code.issueRefreshToken,
    );
    return tokenResponse(ctx, access, refresh?.token, code.nonce);
  }

  if (grantType === 'refresh_token') {
    const value = form.get('refresh_token');
    if (!value) return oauthError(ctx, 400, 'invalid_request', 'Missing required parameter: refresh_token');
    const refresh = state.oauth.refreshToken(value);
    if (!refresh || !state.activeUser(refresh.customerId, refresh.userId)) {
      return oauthError(ctx, 400, 'invalid_grant', 'Token has been expired or revoked.');
    }
    if (refresh.clientId !== client.clientId)
      return oauthError(ctx, 401, 'unauthorized_client', 'Unauthorized');
    let scopes = refresh.scopes;
    const narrowed = splitScopes(form.get('scope'));
    if (narrowed.length > 0) {
      if (!narrowed.every((s) => refresh.scopes.includes(s))) {
        return oauthError(ctx, 400, 'invalid_scope', 'Some requested scopes were invalid.');
      }
      scopes = narrowed;
    }
    const access = state.oauth.issueAccessToken(refresh.grantKey, client.clientId, refresh, scopes);
    return tokenResponse(ctx, access);
  }

  return oauthError(ctx, 400, 'unsupported_grant_type', `Invalid grant_type: ${grantType ?? ''}`);
}

// ------------------------------------------------------------------ revoke / certs / userinfo / tokeninfo

async function revoke(ctx: RequestContext): Promise<void> {
  const form = await readFormOrJson(ctx.req);
  const value = ctx.url.searchParams.get('token') ?? form.get('token');
  if (!value) return oauthError(ctx, 400, 'invalid_request', 'Bad Request');
  if (!ctx.state.oauth.revokeByToken(value)) {
    return oauthError(ctx, 400, 'invalid_token', 'Token expired or revoked');
  }
  return oauthJson(ctx, 200, {});
}

function bearerToken(ctx: RequestContext, form?: URLSearchParams): string | undefined {
  const auth = ctx.req.headers.authorization;
  if (auth?.startsWith('Bearer ')) return auth.slice(7).trim();
  return ctx.url.searchParams.get('access_token') ?? form?.get('access_token') ?? undefined;
}

async function userinfo(ctx: RequestContext): Promise<void> {
  const access = ctx.state.oauth.accessToken(bearerToken(ctx) ?? '');
  const found = access && ctx.state.activeUser(access.customerId, access.userId);
  const hasScope = access?.scopes.some(
    (s) => s === SCOPES.openid || s === SCOPES.userinfoEmail || s === SCOPES.userinfoProfile,
  );
  if (!access || !found || !hasScope) {
    return oauthJson(
      ctx,
      401,
      { error: 'invalid_request', error_description: 'Invalid Credentials' },
      { 'www-authenticate': 'Bearer realm="https://accounts.google.com/", error="invalid_token"' },
    );
  }
  const { ws, user } = found;
  const body: Record<string, unknown> = { sub: user.id };
  if (access.scopes.includes(SCOPES.userinfoProfile)) {
    body['name'] = `${user.givenName} ${user.familyName}`;
    body['given_name'] = user.givenName;
    body['family_name'] = user.familyName;
  }
  if (access.scopes.includes(SCOPES.userinfoEmail)) {
    body['email'] = user.primaryEmail;
    body['email_verified'] = true;
  }
  body['hd'] = ws.domain;
  return oauthJson(ctx, 200, body);
}

async function tokeninfo(ctx: RequestContext): Promise<void> {
  const form = ctx.req.method === 'POST' ? await readFormOrJson(ctx.req) : undefined;
  const value = bearerToken(ctx, form);
  const access = value ? ctx.state.oauth.accessToken(value) : undefined;
  const found = access && ctx.state.activeUser(access.customerId, access.userId);
  if (!access || !found) return oauthError(ctx, 400, 'invalid_token', 'Invalid Value');
  const expiresIn = Math.max(0, Math.floor((access.expiresAt - Date.now()) / 1000));
  const body: Record<string, unknown> = {
    azp: access.clientId,
    aud: access.clientId,
    sub: found.user.id,
    scope: access.scopes.join(' '),
    exp: String(Math.floor(access.expiresAt / 1000)),
    expires_in: String(expiresIn),
  };
  if (access.scopes.includes(SCOPES.userinfoEmail)) {
    body['email'] = found.user.primaryEmail;
    body['email_verified'] = 'true';
  }
  body['access_type'] = ctx.state.oauth.hasRefreshToken(access.clientId, access) ? 'offline' : 'online';
  return oauthJson(ctx, 200, body);
}

function openIdConfiguration(ctx: RequestContext) {
  const base = ctx.state.url;
  return sendJson(ctx.req, ctx.res, 200, {
    issuer: base,
    authorization_endpoint: `${base}/o/oauth2/v2/auth`,
    token_endpoint: `${base}/token`,
    userinfo_endpoint: `${base}/oauth2/v3/userinfo`,
    revocation_endpoint: `${base}/revoke`,
    jwks_uri: `${base}/oauth2/v3/certs`,
    response_types_supported: ['code'],
    subject_types_supported: ['public'],
    id_token_signing_alg_values_supported: ['RS256'],
    scopes_supported: ['openid', 'email', 'profile'],
    token_endpoint_auth_methods_supported: ['client_secret_post', 'client_secret_basic'],
    code_challenge_methods_supported: ['plain', 'S256'],
    grant_types_supported: ['authorization_code', 'refresh_token', JWT_BEARER_GRANT],
  });
}

const CERT_CACHE = { 'cache-control': 'public, max-age=21600, must-revalidate, no-transform' };

export const handleOAuth: RouteHandler = async (ctx) => {
  const { pathname } = ctx.url;
  const method = ctx.req.method ?? 'GET';
  const route = (name: string) => {
    ctx.route = `oauth.${name}`;
  };
  if ((pathname === '/o/oauth2/v2/auth' || pathname === '/o/oauth2/auth') && method === 'GET') {
    route('authorize');
    await authorize(ctx);
  } else if (pathname === '/o/oauth2/v2/auth/decision' && method === 'POST') {
    route('decision');
    await decide(ctx);
  } else if (['/token', '/o/oauth2/token', '/oauth2/v4/token'].includes(pathname) && method === 'POST') {
    route('token');
    await token(ctx);
  } else if (
    (pathname === '/revoke' || pathname === '/o/oauth2/revoke') &&
    (method === 'POST' || method === 'GET')
  ) {
    route('revoke');
    await revoke(ctx);
  } else if (pathname === '/oauth2/v3/certs' && method === 'GET') {
    route('certs');
    await sendJson(ctx.req, ctx.res, 200, ctx.state.signer.jwks(), { headers: CERT_CACHE });
  } else if (pathname === '/oauth2/v1/certs' && method === 'GET') {
    route('certs');
    await sendJson(ctx.req, ctx.res, 200, ctx.state.signer.pemCerts(), { headers: CERT_CACHE });
  } else if (['/oauth2/v3/userinfo', '/oauth2/v2/userinfo', '/v1/userinfo'].includes(pathname)) {
    route('userinfo');
    await userinfo(ctx);
  } else if (pathname === '/oauth2/v3/tokeninfo' || pathname === '/tokeninfo') {
    route('tokeninfo');
    await tokeninfo(ctx);
  } else if (pathname === '/.well-known/openid-configuration') {
    route('discovery');
    await openIdConfiguration(ctx);
  } else {
    return false;
  }
  return true;
};

import { z } from 'zod';
import {
  bindingCookie,
  clearedCookie,
  signinBinding,
  newBindingSecret,
  SIGNIN_COOKIE,
} from '../../connection/browser-binding.js';
import {
  authorizationUrl,
  exchangeCode,
  googleRedirectQuery,
  GoogleOAuthError,
} from '../../sources/google/google-oauth.js';
import { json, redirect, type ApiResult } from '../http.js';
import { listMembershipsOf } from '../../store/members.js';
import { readTenantSummaries } from '../../store/tenants.js';
import { parseQuery, queryObject } from '../request-body.js';
import { requireAdmin, type RouteContext } from '../route-context.js';
import type { Route } from '../router.js';
import { safeReturnTo } from '../signin-page.js';
import { assertNotCrossSite, clearedSessionCookie, sessionCookie, sessionIdFrom } from '../session-auth.js';
import { createSession, endSession, endSessionsOf } from '../../store/sessions.js';
import { IdTokenError, IdTokenVerifierUnavailable } from '../id-token-verifier.js';
import { acceptSigninState, issueSigninState, SIGNIN_STATE_TTL_MS, signinStateKey } from '../signin-state.js';

const SIGNIN_SCOPES = ['openid', 'email', 'profile'];

export function signinRedirectUri(ctx: RouteContext): string {
  return (
    ctx.api.signinRedirectUri ??
    new URL('/api/auth/callback', ctx.app.config.oauthClient.redirectUri).toString()
  );
}

const loginQuery = z.strictObject({
  returnTo: z.string().max(1000).optional(),
  loginHint: z.email().max(254).optional(),
});

/**
 * GET /api/auth/login: to Google's sign-in, with a signed state (api/signin-state.ts), PKCE and a nonce, bound to
 * this browser by a cookie (so nobody can complete their own sign-in in someone else's browser). Public, so it
 * writes nothing: every call would otherwise be a document anyone can make us store.
 */
async function login(ctx: RouteContext): Promise<ApiResult> {
  const q = parseQuery(ctx.req, loginQuery);
  const binding = newBindingSecret();
  const { state, nonce, codeChallenge } = issueSigninState(
    signinKey(ctx),
    binding.secret,
    safeReturnTo(q.returnTo),
    ctx.app.clock.now(),
  );
  const cookie = bindingCookie(
    SIGNIN_COOKIE,
    binding.secret,
    signinRedirectUri(ctx),
    SIGNIN_STATE_TTL_MS / 1000,
  );
  return redirect(
    authorizationUrl(ctx.app.config, {
      redirectUri: signinRedirectUri(ctx),
      scopes: SIGNIN_SCOPES,
      state,
      codeChallenge,
      prompt: 'select_account',
      nonce,
      ...(q.loginHint ? { loginHint: q.loginHint } : {}),
    }),
    { 'set-cookie': cookie },
  );
}

/** Derived once per client secret: HKDF on every request would be wasted work. */
let cachedKey: { secret: string; key: Buffer } | null = null;
function signinKey(ctx: RouteContext): Buffer {
  const secret = ctx.app.config.oauthClient.clientSecret;
  if (cachedKey?.secret !== secret) cachedKey = { secret, key: signinStateKey(secret) };
  return cachedKey.key;
}

function signinFailed(ctx: RouteContext, code: string): ApiResult {
  const url = new URL('/', ctx.api.consoleOrigin);
  url.searchParams.set('signinError', code);
  return redirect(url.toString());
}

/**
 * GET /api/auth/callback: code -> verified ID token -> a server session (store/sessions.ts) whose id goes to the
 * browser in an HttpOnly cookie (api/session-auth.ts), and back to the console. The ID token itself goes nowhere:
 * it expires in an hour, the session lives on. The binding cookie goes.
 */
async function callback(ctx: RouteContext): Promise<ApiResult> {
  const result = await completeSignin(ctx);
  return {
    ...result,
    cookies: [clearedCookie(SIGNIN_COOKIE, signinRedirectUri(ctx)), ...(result.cookies ?? [])],
  };
}

async function completeSignin(ctx: RouteContext): Promise<ApiResult> {
  const parsed = googleRedirectQuery.safeParse(queryObject(ctx.req));
  const q = parsed.success ? parsed.data : {};
  if (!q.state) return signinFailed(ctx, 'invalid_state');
  const accepted = acceptSigninState(
    signinKey(ctx),
    q.state,
    signinBinding(ctx.req.header('cookie')),
    ctx.app.clock.now(),
  );
  if (!accepted.ok) return signinFailed(ctx, accepted.reason);
  const signin = accepted.state;
  if (q.error) return signinFailed(ctx, q.error === 'access_denied' ? 'access_denied' : 'google_error');
  if (!q.code) return signinFailed(ctx, 'google_error');
  try {
    const tokens = await exchangeCode(ctx.app.config, {
      code: q.code,
      codeVerifier: signin.codeVerifier,
      redirectUri: signinRedirectUri(ctx),
    });
    if (!tokens.idToken) return signinFailed(ctx, 'google_error');
    const identity = await ctx.services.idTokens.verify(tokens.idToken, { nonce: signin.nonce });
    const now = ctx.app.clock.now();
    const session = await createSession(
      ctx.app.db,
      { email: identity.email, name: identity.name, sub: identity.sub },
      now,
      ctx.api.session,
    );
    ctx.log.info('admin signed in', { email: identity.email });
    const back = new URL(signin.returnTo, ctx.api.consoleOrigin).toString();
    return {
      ...redirect(back),
      cookies: [sessionCookie(session.id, ctx.api.session.maxMs / 1000, ctx.api.consoleOrigin)],
    };
  } catch (err) {
    if (err instanceof GoogleOAuthError) return signinFailed(ctx, 'exchange_failed');
    if (err instanceof IdTokenError) return signinFailed(ctx, 'invalid_id_token');
    if (err instanceof IdTokenVerifierUnavailable) return signinFailed(ctx, 'unavailable');
    throw err;
  }
}

/** GET /api/me: who is signed in and which tenants they can see. */
async function me(ctx: RouteContext): Promise<ApiResult> {
  const { identity } = requireAdmin(ctx);
  const memberships = await listMembershipsOf(ctx.app.db, identity.email);
  const summaries = await readTenantSummaries(
    ctx.app.db,
    memberships.map((m) => m.tenantId),
  );
  const tenants = memberships.flatMap((m, i) => {
    const tenant = summaries[i];
    if (!tenant) return [];
    return [{ tenantId: m.tenantId, name: tenant.name, role: m.role, status: tenant.status }];
  });
  tenants.sort((a, b) => a.name.localeCompare(b.name) || a.tenantId.localeCompare(b.tenantId));
  const session =
    ctx.caller.kind === 'admin' && ctx.caller.sessionId
      ? { expiresAt: new Date(identity.expiresAt).toISOString() }
      : null;
  return json(200, { email: identity.email, name: identity.name, tenants, session });
}

/**
 * POST /api/auth/signout: ends this browser's session and clears its cookie. Public, so a browser whose session
 * already ended can still clear its cookie; as a cookie-carrying write it must pass the CSRF check.
 */
async function signOut(ctx: RouteContext): Promise<ApiResult> {
  assertNotCrossSite(ctx.req, ctx.api.consoleOrigin);
  const sessionId = sessionIdFrom(ctx.req.header('cookie'));
  if (sessionId) await endSession(ctx.app.db, sessionId);
  return { ...json(200, { signedOut: true }), cookies: [clearedSessionCookie(ctx.api.consoleOrigin)] };
}

/** POST /api/auth/signout-everywhere: ends every session of the signed-in email, in every browser. */
async function signOutEverywhere(ctx: RouteContext): Promise<ApiResult> {
  const { identity } = requireAdmin(ctx);
  const ended = await endSessionsOf(ctx.app.db, identity.email);
  ctx.log.info('admin signed out everywhere', { email: identity.email, sessions: ended });
  return {
    ...json(200, { signedOut: true, sessionsEnded: ended }),
    cookies: [clearedSessionCookie(ctx.api.consoleOrigin)],
  };
}

export const authRoutes: Array<Route<RouteContext>> = [
  {
    method: 'GET',
    pattern: '/api/auth/login',
    access: { kind: 'public' },
    handle: login,
    doc: {
      summary:
        "Sign in: redirects to Google's sign-in (state, PKCE, nonce, bound to this browser by a cookie)",
      query: loginQuery,
      responses: { 302: { description: "To Google's sign-in page." } },
    },
  },
  {
    method: 'GET',
    pattern: '/api/auth/callback',
    access: { kind: 'public' },
    handle: callback,
    doc: {
      summary: "Google's sign-in redirect: hands the verified ID token to the console page",
      description: 'Failures return to the console with `?signinError=<code>`.',
      responses: {
        200: {
          description: 'An HTML page that stores the ID token for the console and returns to `returnTo`.',
        },
        302: { description: 'Back to the console with `signinError`.' },
      },
    },
  },
  {
    method: 'GET',
    pattern: '/api/me',
    access: { kind: 'signedIn' },
    handle: me,
    doc: {
      summary: 'Who is signed in, and the tenants they are a member of',
      responses: {
        200: {
          description: 'The admin and their tenants, by name.',
          schema: z.object({
            email: z.string(),
            name: z.string().optional(),
            tenants: z.array(
              z.object({ tenantId: z.string(), name: z.string(), role: z.string(), status: z.string() }),
            ),
          }),
        },
      },
    },
  },
  {
    method: 'POST',
    pattern: '/api/auth/signout',
    access: { kind: 'public' },
    handle: signOut,
    doc: {
      summary: 'Signs this browser out: ends its session and clears the session cookie',
      responses: { 204: { description: 'Signed out.' } },
    },
  },
  {
    method: 'POST',
    pattern: '/api/auth/signout-everywhere',
    access: { kind: 'signedIn' },
    handle: signOutEverywhere,
    doc: {
      summary: 'Ends every session of the signed-in admin, in every browser',
      responses: { 200: { description: 'How many sessions were ended.' } },
    },
  },
];

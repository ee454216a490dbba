import { createSign, generateKeyPairSync } from 'node:crypto';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../functions/src/platform/config.js';
import { signHostRequest } from '../../functions/src/api/host-hmac.js';
import { paths } from '../../shared/firestore-paths.js';
import { authorizeAgainstSimulator } from '../support/google-oauth.js';
import { CONSOLE_ORIGIN, HOST_KEY_ID, HOST_SECRET, startApiHarness, type ApiHarness } from './api-harness.js';
import { WRITABLE_CHROMEOS_FIELDS } from '../../shared/mapping.js';

let h: ApiHarness;
let owner: string;

beforeAll(async () => {
  h = await startApiHarness();
  owner = await h.signIn(h.ws.adminEmail);
  await h.createTenant('acme', h.ws.adminEmail, 'Acme School');
});
afterAll(async () => {
  await h?.close();
});
afterEach(() => {
  h.clock.offsetMs = 0;
});

const b64 = (v: unknown) => Buffer.from(JSON.stringify(v)).toString('base64url');
const statePayload = (state: string) =>
  JSON.parse(Buffer.from(state.split('.')[0]!, 'base64url').toString('utf8')) as { rt: string; exp: number };
const claimsOf = (jwt: string) =>
  JSON.parse(Buffer.from(jwt.split('.')[1]!, 'base64url').toString('utf8')) as Record<string, unknown>;

describe('sign-in', () => {
  it('login redirects to Google with state, PKCE S256 and the sign-in scopes only', async () => {
    const res = await h.request('GET', '/api/auth/login?returnTo=%2Ftenants%2Facme');
    expect(res.status).toBe(302);
    const url = new URL(res.headers.get('location')!);
    expect(`${url.origin}${url.pathname}`).toBe(`${h.simUrl}/o/oauth2/v2/auth`);
    expect(url.searchParams.get('scope')).toBe('openid email profile');
    expect(url.searchParams.get('code_challenge_method')).toBe('S256');
    expect(url.searchParams.get('redirect_uri')).toBe(`${h.url}/api/auth/callback`);
    // The state is signed, not stored: it carries returnTo and its expiry.
    const payload = statePayload(url.searchParams.get('state')!);
    expect(payload).toMatchObject({ rt: '/tenants/acme' });
    expect(payload.exp - Date.now()).toBeGreaterThan(9 * 60_000);
    expect(payload.exp - Date.now()).toBeLessThanOrEqual(10 * 60_000);
  });

  it('writes nothing however often it is called', async () => {
    const before = await h.dump();
    const logins = await Promise.all(
      Array.from({ length: 50 }, () => h.request('GET', '/api/auth/login?returnTo=%2F')),
    );
    expect(logins.map((r) => r.status)).toEqual(Array.from({ length: 50 }, () => 302));
    expect(await h.dump()).toEqual(before);
    expect((await h.db.collection('oauthStates').get()).size).toBe(0);
  });

  it('refuses a tampered, re-signed, truncated or expired state', async () => {
    const { back, cookie } = await h.startSignIn(h.ws.adminEmail, '/tenants/acme');
    const url = new URL(back);
    const state = url.searchParams.get('state')!;
    const [payload, mac] = state.split('.') as [string, string];
    const withState = (s: string) => {
      const u = new URL(back);
      u.searchParams.set('state', s);
      return u.toString();
    };
    const evilPayload = b64({ ...statePayload(state), rt: '/evil' });
    const cases: Array<[string, string]> = [
      [`${evilPayload}.${mac}`, 'invalid_state'],
      [`${payload}.${mac.slice(0, -2)}AA`, 'invalid_state'],
      [payload, 'invalid_state'],
    ];
    for (const [s, code] of cases) {
      const res = await fetch(withState(s), { redirect: 'manual', headers: { cookie } });
      expect(res.status).toBe(302);
      expect(res.headers.get('location'), s).toBe(`${CONSOLE_ORIGIN}/?signinError=${code}`);
      expect(await res.text()).not.toContain('eyJ');
    }
    // Eleven minutes later the genuine state has expired.
    h.clock.offsetMs = 11 * 60_000;
    const late = await fetch(back, { redirect: 'manual', headers: { cookie } });
    expect(late.headers.get('location')).toBe(`${CONSOLE_ORIGIN}/?signinError=state_expired`);
    h.clock.offsetMs = 0;
    // The refusals spent nothing: the genuine state and code still sign in.
    const ok = await fetch(back, { redirect: 'manual', headers: { cookie } });
    expect(ok.status).toBe(302);
    expect(ok.headers.getSetCookie().some((c) => c.startsWith('__session=ws_s_'))).toBe(true);
  });

  it('the callback starts a server session in an HttpOnly cookie and goes to returnTo, without the ID token', async () => {
    const { back, cookie } = await h.startSignIn(h.ws.adminEmail, '/tenants/acme?tab=runs');
    expect(cookie).toMatch(/^__session=[A-Za-z0-9_-]{43}$/);
    const res = await fetch(back, { redirect: 'manual', headers: { cookie } });
    const body = await res.text();
    expect(res.status).toBe(302);
    expect(res.headers.get('location')).toBe(`${CONSOLE_ORIGIN}/tenants/acme?tab=runs`);
    expect(res.headers.get('cache-control')).toBe('no-store');
    expect(body).not.toContain('eyJ');
    const cookies = res.headers.getSetCookie();
    expect(cookies).toHaveLength(2);
    expect(cookies[0]).toMatch(/^__session=; Max-Age=0; Path=\/api\/auth\/callback; HttpOnly; SameSite=Lax/);
    // A week at most; Secure, since the console origin is not this machine.
    expect(cookies[1]).toMatch(
      /^__session=ws_s_[A-Za-z0-9_-]{43}; Max-Age=604800; Path=\/api; HttpOnly; SameSite=Lax; Secure$/,
    );
    // Nothing was stored to spend, but Google's code is single-use: a replay signs nobody in.
    const again = await fetch(back, { redirect: 'manual', headers: { cookie } });
    expect(again.status).toBe(302);
    expect(again.headers.get('location')).toBe(`${CONSOLE_ORIGIN}/?signinError=exchange_failed`);
    expect(again.headers.getSetCookie().some((c) => c.startsWith('__session=ws_s_'))).toBe(false);
  });

  it('refuses to finish a sign-in in a browser that did not start it (login CSRF)', async () => {
    const victims = await h.startSignIn(h.ws.adminEmail);
    for (const headers of [{}, { cookie: victims.cookie }] as Array<Record<string, string>>) {
      // The attacker signs in up to Google's redirect and gets the victim's browser to follow it.
      const attackers = await h.startSignIn(h.ws.adminEmail);
      const res = await fetch(attackers.back, { redirect: 'manual', headers });
      expect(res.status).toBe(302);
      expect(res.headers.get('location')).toBe(`${CONSOLE_ORIGIN}/?signinError=browser_mismatch`);
      expect(await res.text()).not.toContain('eyJ');
    }
  });

  it.each([['https://evil.example/x'], ['//evil.example'], ['/\\evil.example'], ['javascript:alert(1)']])(
    'returnTo %s is replaced by /',
    async (returnTo) => {
      const login = await h.request(
        'GET',
        `/api/auth/login?returnTo=${encodeURIComponent(returnTo)}&loginHint=${encodeURIComponent(h.ws.adminEmail)}`,
      );
      const state = new URL(login.headers.get('location')!).searchParams.get('state')!;
      expect(statePayload(state).rt).toBe('/');
    },
  );

  it('refuses unknown query parameters and a denied or forged sign-in', async () => {
    const bad = await h.request('GET', '/api/auth/login?returnTo=/&extra=1');
    expect(bad.status).toBe(400);
    expect(bad.body.error.details).toEqual([{ path: 'extra', message: 'unknown field' }]);
    const forged = await h.request('GET', '/api/auth/callback?state=abc&code=4/0Afake');
    expect(forged.status).toBe(302);
    expect(forged.headers.get('location')).toBe(`${CONSOLE_ORIGIN}/?signinError=invalid_state`);
    await h.control.setNextConsentDecision({ decision: 'deny' });
    const { back, cookie } = await h.startSignIn();
    const denied = await fetch(back, { redirect: 'manual', headers: { cookie } });
    expect(denied.headers.get('location')).toBe(`${CONSOLE_ORIGIN}/?signinError=access_denied`);
  });
});

describe('admin authentication (Bearer Google ID token)', () => {
  it('/api/me answers who is signed in and their tenants', async () => {
    const res = await h.request('GET', '/api/me', { token: owner });
    expect(res.status).toBe(200);
    expect(res.body).toEqual({
      email: h.ws.adminEmail,
      name: 'Workspace Admin',
      tenants: [{ tenantId: 'acme', name: 'Acme School', role: 'owner', status: 'pending' }],
      // A bearer token is no session (sessions.test.ts).
      session: null,
    });
  });

  it('refuses a missing, malformed, expired, tampered, foreign-key or wrong-audience token', async () => {
    const expectRefused = async (headers: Record<string, string>, message: RegExp) => {
      const res = await h.request('GET', '/api/me', { headers });
      expect(res.status).toBe(401);
      expect(res.body.error.code).toBe('unauthenticated');
      expect(res.body.error.message).toMatch(message);
      expect(res.headers.get('www-authenticate')).toMatch(/^Bearer/);
    };
    await expectRefused({}, /sign in required/);
    await expectRefused({ authorization: `Basic ${Buffer.from('a:b').toString('base64')}` }, /Bearer/);
    await expectRefused({ authorization: 'Bearer not.a.jwt!' }, /not a JWT/);

    const [header, , signature] = owner.split('.');
    const claims = claimsOf(owner);
    await expectRefused(
      { authorization: `Bearer ${header}.${b64({ ...claims, email: 'someone@else.example' })}.${signature}` },
      /signature/,
    );

    // Signed with a key Google never published, under Google's key id.
    const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
    const forgedPayload = `${header}.${b64(claims)}`;
    const forgedSig = createSign('RSA-SHA256').update(forgedPayload).sign(privateKey).toString('base64url');
    await expectRefused({ authorization: `Bearer ${forgedPayload}.${forgedSig}` }, /signature/);
    const unknownKid = `${b64({ alg: 'RS256', kid: 'nope' })}.${b64(claims)}`;
    await expectRefused(
      {
        authorization: `Bearer ${unknownKid}.${createSign('RSA-SHA256').update(unknownKid).sign(privateKey).toString('base64url')}`,
      },
      /unknown key/,
    );
    const none = `${b64({ alg: 'none', kid: 'x' })}.${b64(claims)}.`;
    await expectRefused({ authorization: `Bearer ${none}x` }, /algorithm/);

    // An hour and a bit later the same token has expired.
    h.clock.offsetMs = 3600_000 + 120_000;
    await expectRefused({ authorization: `Bearer ${owner}` }, /expired/);
    h.clock.offsetMs = 0;

    // A genuine Google ID token, but issued to another application.
    const otherApp = { clientId: 'another-app.apps.googleusercontent.com', clientSecret: 'another-secret' };
    await h.control.registerOAuthClient({ ...otherApp, redirectUris: ['http://127.0.0.1:9/cb'] });
    const config = loadConfig({
      WORKSPACE_ENDPOINT: h.simUrl,
      GOOGLE_OAUTH_CLIENT_ID: otherApp.clientId,
      GOOGLE_OAUTH_CLIENT_SECRET: otherApp.clientSecret,
      OAUTH_REDIRECT_URI: 'http://127.0.0.1:9/cb',
    });
    const { idToken } = await authorizeAgainstSimulator(config, h.ws.adminEmail, []);
    expect(claimsOf(idToken!).aud).toBe(otherApp.clientId);
    await expectRefused({ authorization: `Bearer ${idToken}` }, /another application/);
  });
});

describe('host product (HMAC)', () => {
  it('creates a tenant with its owner, idempotently', async () => {
    const body = { tenantId: 'beta', name: 'Beta Academy', ownerEmail: 'Owner@Beta.example' };
    const res = await h.hostRequest('POST', '/api/tenants', body);
    expect(res.status).toBe(201);
    expect(res.body).toEqual({
      tenantId: 'beta',
      name: 'Beta Academy',
      status: 'pending',
      ownerEmail: 'owner@beta.example',
      created: true,
    });
    const tenant = (await h.db.doc(paths.tenant('beta')).get()).data()!;
    expect(tenant).toMatchObject({
      name: 'Beta Academy',
      status: 'pending',
      createdBy: `host-product:${HOST_KEY_ID}`,
    });
    expect(Date.parse(tenant.createdAt as string)).toBeGreaterThan(Date.now() - 60_000);
    expect((await h.db.doc(paths.member('beta', 'owner@beta.example')).get()).data()).toMatchObject({
      email: 'owner@beta.example',
      role: 'owner',
    });

    const again = await h.hostRequest('POST', '/api/tenants', body);
    expect(again.status).toBe(200);
    expect(again.body.created).toBe(false);
    const before = await h.dump();
    const clash = await h.hostRequest('POST', '/api/tenants', { ...body, name: 'Someone else' });
    expect(clash.status).toBe(409);
    expect(clash.body.error.code).toBe('conflict');
    // A second configured key works too (rotation).
    const rotated = await h.hostRequest('POST', '/api/tenants', body, {
      keyId: 'host-old',
      secret: 'another-shared-secret-abcdefgh',
    });
    expect(rotated.status).toBe(200);
    expect(await h.dump()).toEqual(before);
  });

  it('rejects bad signatures, stale timestamps, unknown keys and bad bodies, changing nothing', async () => {
    const before = await h.dump();
    const body = { tenantId: 'gamma', name: 'Gamma', ownerEmail: 'o@gamma.example' };
    const raw = JSON.stringify(body);
    const now = Math.floor(Date.now() / 1000);
    const send = (headers: Record<string, string>, rawBody = raw) =>
      h.request('POST', '/api/tenants', {
        rawBody,
        headers: { 'content-type': 'application/json', ...headers },
      });
    const signed = (
      ts: number,
      secret = HOST_SECRET,
      keyId = HOST_KEY_ID,
      signedBody = raw,
      signedPath = '/api/tenants',
    ) => ({
      'x-ws-key-id': keyId,
      'x-ws-timestamp': String(ts),
      'x-ws-nonce': 'nonce-0123456789abcdef',
      'x-ws-signature': signHostRequest(secret, {
        timestamp: String(ts),
        nonce: 'nonce-0123456789abcdef',
        method: 'POST',
        path: signedPath,
        rawBody: signedBody,
      }),
    });
    const cases: Array<[Record<string, string>, RegExp, string?]> = [
      [{}, /sign the request/],
      [signed(now, 'wrong-secret-wrong-secret'), /does not match/],
      [signed(now - 301), /5-minute window/],
      [signed(now + 400), /5-minute window/],
      [signed(now, HOST_SECRET, 'nobody'), /unknown key id/],
      [signed(now), /does not match/, JSON.stringify({ ...body, tenantId: 'delta' })],
      // A signature captured from another endpoint does not carry over.
      [signed(now, HOST_SECRET, HOST_KEY_ID, raw, '/api/tenants/alpha/sync'), /does not match/],
      [{ ...signed(now), 'x-ws-signature': 'md5=abc' }, /v2=/],
      [{ ...signed(now), 'x-ws-timestamp': 'yesterday' }, /unix seconds/],
    ];
    for (const [headers, message, rawBody] of cases) {
      const res = await send(headers, rawBody);
      expect(res.status, message.source).toBe(401);
      expect(res.body.error.message).toMatch(message);
    }
    // An admin's ID token is not enough to create tenants.
    const asAdmin = await h.request('POST', '/api/tenants', { token: owner, body });
    expect(asAdmin.status).toBe(401);

    const invalid = await h.hostRequest('POST', '/api/tenants', {
      tenantId: 'Bad_Id',
      name: '',
      ownerEmail: 'nope',
      plan: 'gold',
    });
    expect(invalid.status).toBe(400);
    expect(invalid.body.error.details.map((d: { path: string }) => d.path).sort()).toEqual([
      'name',
      'ownerEmail',
      'plan',
      'tenantId',
    ]);
    expect(await h.dump()).toEqual(before);
  });
});

describe('CORS', () => {
  it('allows the console origin only', async () => {
    const pre = await h.request('OPTIONS', '/api/tenants/acme/mappings', {
      headers: { origin: CONSOLE_ORIGIN, 'access-control-request-method': 'POST' },
    });
    expect(pre.status).toBe(204);
    expect(pre.headers.get('access-control-allow-origin')).toBe(CONSOLE_ORIGIN);
    expect(pre.headers.get('access-control-allow-methods')).toBe('GET, POST, OPTIONS');
    expect(pre.headers.get('access-control-allow-headers')).toMatch(/Authorization.*If-Match/);
    const me = await h.request('GET', '/api/me', { token: owner, headers: { origin: CONSOLE_ORIGIN } });
    expect(me.headers.get('access-control-allow-origin')).toBe(CONSOLE_ORIGIN);
    expect(me.headers.get('access-control-expose-headers')).toMatch(/ETag/);

    const evil = await h.request('OPTIONS', '/api/me', {
      headers: { origin: 'https://evil.example', 'access-control-request-method': 'GET' },
    });
    expect(evil.status).toBe(403);
    expect(evil.headers.get('access-control-allow-origin')).toBeNull();
    const evilGet = await h.request('GET', '/api/me', {
      token: owner,
      headers: { origin: 'https://evil.example' },
    });
    expect(evilGet.headers.get('access-control-allow-origin')).toBeNull();
  });
});

describe('routing', () => {
  it('answers unknown paths and methods with clear JSON errors', async () => {
    const missing = await h.request('GET', '/api/nothing-here', { token: owner });
    expect(missing.status).toBe(404);
    expect(missing.body.error).toEqual({
      code: 'not_found',
      message: 'no such endpoint: GET /api/nothing-here',
    });
    const method = await h.request('PATCH', '/api/tenants/acme/mappings', { token: owner, body: {} });
    expect(method.status).toBe(405);
    expect(method.headers.get('allow')).toBe('GET, POST, OPTIONS');
    expect(method.body.error.code).toBe('method_not_allowed');
  });

  it('/api/entities lists the entity descriptors for signed-in admins', async () => {
    expect((await h.request('GET', '/api/entities')).status).toBe(401);
    const res = await h.request('GET', '/api/entities', { token: owner });
    expect(res.status).toBe(200);
    expect(res.body.entities.map((e: { kind: string }) => e.kind)).toEqual([
      'users',
      'chromeos',
      'mobile',
      'orgunits',
      'groups',
    ]);
    expect(res.body.entities[0]).toMatchObject({ identifiers: ['primaryEmail', 'id'], maxPageSize: 500 });
    // Chrome OS names what a write-back may send to Google; nothing else is writable.
    expect(res.body.entities[1].writable).toEqual(WRITABLE_CHROMEOS_FIELDS);
    expect(res.body.entities.filter((e: { writable?: unknown }) => e.writable)).toHaveLength(1);
    // Every source's entities, Google's the same list as `entities`.
    expect(res.body.sources.google).toEqual(res.body.entities);
    expect(res.body.sources.entra).toEqual([
      expect.objectContaining({ kind: 'users', source: 'entra', identifiers: ['email'] }),
    ]);
    expect(res.body.requiredScopes).toContain(
      'https://www.googleapis.com/auth/admin.directory.group.readonly',
    );
  });
});

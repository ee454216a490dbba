import { afterAll, beforeAll, expect, it } from 'vitest';
import { REQUIRED_SCOPES } from '../../shared/entities.js';
import { DEFAULT_OAUTH_CLIENT } from '../../emulators/workspace-simulator/index.js';
import { HOST_SECRET, startApiHarness, usersMapping, type ApiHarness } from '../api/api-harness.js';

let h: ApiHarness;
beforeAll(async () => {
  h = await startApiHarness();
});
afterAll(async () => {
  await h?.close();
});

/**
 * One long story with everything that handles a credential: sign-in, connect (success and every failure),
 * test, Google-side revoke, re-connect, device management on and off, revoke. Every log line and every HTTP answer is kept, and none may
 * contain a refresh or access token, an authorization code, a PKCE verifier or a client/HMAC secret.
 */
it('no token, code, verifier or secret reaches a log line or an HTTP answer', async () => {
  const codes: string[] = [];
  const verifiers: string[] = [];
  const refreshTokens: string[] = [];
  const idTokens: string[] = [];
  const answers: string[] = [];
  const keep = (...texts: string[]) => answers.push(...texts);

  // Sign-in, by hand so the code and the session id can be captured: the callback answers with a redirect and
  // an HttpOnly session cookie, never the ID token itself.
  const login = await h.request('GET', `/api/auth/login?loginHint=${encodeURIComponent(h.ws.adminEmail)}`);
  keep(login.text, login.headers.get('location') ?? '');
  const signinBack = await h.consent(login.headers.get('location')!);
  codes.push(new URL(signinBack).searchParams.get('code')!);
  const page = await fetch(signinBack, {
    redirect: 'manual',
    headers: { cookie: (login.headers.get('set-cookie') ?? '').split(';')[0]! },
  });
  keep(await page.text(), page.headers.get('location') ?? '');
  const sessionCookie = page.headers
    .getSetCookie()
    .map((c) => c.split(';')[0]!)
    .find((c) => c.startsWith('__session=ws_s_'));
  expect(sessionCookie, 'the sign-in ends in a session cookie').toBeDefined();
  const sessionId = sessionCookie!.slice('__session='.length);
  keep((await h.request('GET', '/api/me', { headers: { cookie: sessionCookie! } })).text);
  // The API's other callers (hosts' tools, scripts) send a Google ID token as a bearer token.
  const idToken = await h.signIn(h.ws.adminEmail);
  idTokens.push(idToken);
  const token = idToken;

  await h.createTenant('hyg', h.ws.adminEmail);
  keep((await h.request('POST', '/api/tenants/hyg/mappings', { token, body: usersMapping() })).text);

  /** One connect attempt, capturing its verifier and code; returns the console URL it ended on. */
  const attempt = async (
    opts: {
      script?: Parameters<typeof h.control.setNextConsentDecision>[0];
      cookie?: 'none';
      replay?: boolean;
      expire?: boolean;
    } = {},
  ) => {
    const res = await h.request('POST', '/api/tenants/hyg/connection/authorize', { token, body: {} });
    keep(res.text, res.headers.get('set-cookie') ?? '');
    const { authorizationUrl } = res.body as { authorizationUrl: string };
    const state = new URL(authorizationUrl).searchParams.get('state')!;
    verifiers.push((await h.db.doc(`oauthStates/${state}`).get()).get('codeVerifier') as string);
    if (opts.script) await h.control.setNextConsentDecision(opts.script);
    const back = await h.consent(authorizationUrl);
    const code = new URL(back).searchParams.get('code');
    if (code) codes.push(code);
    if (opts.expire) h.clock.offsetMs = 11 * 60_000;
    const cookie = opts.cookie === 'none' ? undefined : (res.headers.get('set-cookie') ?? '').split(';')[0];
    const first = await h.callback(back, cookie);
    h.clock.offsetMs = 0;
    keep(first.location, first.setCookie ?? '');
    if (opts.replay) {
      const second = await h.callback(back, cookie);
      keep(second.location);
    }
    const latest = await h.secrets.getRefreshToken('hyg');
    if (latest && !refreshTokens.includes(latest)) refreshTokens.push(latest);
    return new URL(first.location);
  };

  expect((await attempt({ script: { decision: 'deny' } })).searchParams.get('connectError')).toBe(
    'access_denied',
  );
  expect(
    (
      await attempt({ script: { decision: 'approve', grantedScopes: [REQUIRED_SCOPES[0]!] } })
    ).searchParams.get('connectError'),
  ).toBe('missing_scopes');
  expect((await attempt({ cookie: 'none' })).searchParams.get('connectError')).toBe('browser_mismatch');
  expect((await attempt({ expire: true })).searchParams.get('connectError')).toBe('state_expired');
  expect((await attempt({ replay: true })).searchParams.get('connected')).toBe('1');

  // A code presented with a forged state.
  const forged = new URL(`${h.url}/oauth/callback`);
  forged.searchParams.set('state', 'Z'.repeat(43));
  forged.searchParams.set('code', codes.at(-1)!);
  keep((await h.callback(forged.toString())).location);

  keep((await h.request('POST', '/api/tenants/hyg/connection/test', { token })).text);
  await h.control.revokeGrants(h.ws.customerId);
  keep((await h.request('POST', '/api/tenants/hyg/connection/test', { token })).text);
  expect((await attempt()).searchParams.get('connected')).toBe('1');
  keep(
    (
      await h.request('POST', '/api/tenants/hyg/mappings/preview', {
        token,
        body: { mapping: usersMapping(), limit: 2 },
      })
    ).text,
  );
  keep((await h.request('POST', '/api/tenants/hyg/sync', { token })).text);
  keep((await h.request('GET', '/api/tenants/hyg', { token })).text);

  // Device management on (incremental consent) and off (read-only consent, wider grant revoked first).
  for (const enabled of [true, false]) {
    const res = await h.request('POST', '/api/tenants/hyg/connection/device-management', {
      token,
      body: { enabled },
    });
    keep(res.text, res.headers.get('set-cookie') ?? '');
    const { authorizationUrl } = res.body as { authorizationUrl: string };
    const state = new URL(authorizationUrl).searchParams.get('state')!;
    verifiers.push((await h.db.doc(`oauthStates/${state}`).get()).get('codeVerifier') as string);
    const back = await h.consent(authorizationUrl);
    codes.push(new URL(back).searchParams.get('code')!);
    const done = await h.callback(back, (res.headers.get('set-cookie') ?? '').split(';')[0]);
    keep(done.location, done.setCookie ?? '');
    expect(new URL(done.location).searchParams.get('deviceManagement')).toBe(enabled ? 'on' : 'off');
    const latest = await h.secrets.getRefreshToken('hyg');
    if (latest && !refreshTokens.includes(latest)) refreshTokens.push(latest);
    keep((await h.request('GET', '/api/tenants/hyg', { token })).text);
  }
  keep((await h.request('POST', '/api/tenants/hyg/connection/revoke', { token })).text);

  // Authentication failures must not echo what was sent either.
  const tampered = `${idToken.slice(0, -4)}AAAA`;
  keep((await h.request('GET', '/api/me', { token: tampered })).text);
  keep((await h.request('GET', '/api/me', { token: refreshTokens[0]! })).text);

  expect(refreshTokens.length).toBeGreaterThanOrEqual(4);
  expect(codes.length).toBeGreaterThanOrEqual(6);
  expect(verifiers.every((v) => typeof v === 'string' && v.length >= 43)).toBe(true);

  const secrets = [...refreshTokens, ...codes, ...verifiers, DEFAULT_OAUTH_CLIENT.clientSecret, HOST_SECRET];
  const logs = h.logLines.join('\n');
  expect(h.logLines.length).toBeGreaterThan(30);
  for (const s of secrets) {
    expect(logs.includes(s), `log contains a secret (${s.slice(0, 6)}…)`).toBe(false);
    for (const a of answers)
      expect(a.includes(s), `HTTP answer contains a secret (${s.slice(0, 6)}…)`).toBe(false);
  }
  // Token shapes we could not capture (the access tokens the server obtained), and the ID token.
  for (const text of [logs, ...answers]) {
    expect(text).not.toMatch(/ya29\.|1\/\/0|4\/0A/);
    expect(text.includes(idToken)).toBe(false);
  }
  // The session id travels only in its cookie: no log line and no answer body names it.
  for (const text of [logs, ...answers]) {
    const at = text.indexOf(sessionId);
    expect(at, `session id leaked: …${text.slice(Math.max(0, at - 120), at)}`).toBe(-1);
  }
  // Firestore holds none of them either (a verifier only until its state is used).
  for (const [path, json] of await h.dump()) {
    for (const s of [...refreshTokens, ...codes]) expect(json.includes(s), path).toBe(false);
  }
});

/**
 * The two other connection modes' secrets: the tenant's own OAuth client secret (right and wrong ones) and the
 * service account's private keys (refused, accepted, rotated), through every route that handles them.
 */
it('no tenant client secret, service-account key, or token of either mode reaches a log line, an HTTP answer or Firestore', async () => {
  const token = await h.signIn(h.ws.adminEmail);
  const t = 'hyg-modes';
  const answers: string[] = [];
  const keep = (...texts: string[]) => answers.push(...texts);
  await h.createTenant(t, h.ws.adminEmail);
  keep((await h.request('POST', `/api/tenants/${t}/mappings`, { token, body: usersMapping() })).text);

  // Mode 2: the tenant's own client: a wrong secret first, then the right one, then a connection with it.
  const tenantClient = {
    clientId: '555000111222-hygiene.apps.googleusercontent.com',
    clientSecret: 'GOCSPX-hygiene-tenant-secret-77',
  };
  const wrongSecret = 'GOCSPX-hygiene-wrong-secret-78';
  await h.control.registerOAuthClient({ ...tenantClient, redirectUris: [`${h.url}/oauth/callback`] });
  const put = (body: unknown) =>
    h.request('PUT', `/api/tenants/${t}/connection/oauth-client`, { token, body });
  const refused = await put({ ...tenantClient, clientSecret: wrongSecret });
  expect(refused.status).toBe(400);
  keep(refused.text, (await put(tenantClient)).text);
  const auth = await h.request('POST', `/api/tenants/${t}/connection/authorize`, {
    token,
    body: { oauthClient: 'tenant', loginHint: h.ws.adminEmail },
  });
  keep(auth.text, auth.headers.get('set-cookie') ?? '');
  const back = await h.consent(auth.body.authorizationUrl as string);
  const code = new URL(back).searchParams.get('code')!;
  const done = await h.callback(back, (auth.headers.get('set-cookie') ?? '').split(';')[0]);
  keep(done.location);
  expect(new URL(done.location).searchParams.get('connected')).toBe('1');
  const tenantRefreshToken = (await h.secrets.getRefreshToken(t))!;
  for (const path of ['test', 'health-check']) {
    keep((await h.request('POST', `/api/tenants/${t}/connection/${path}`, { token })).text);
  }
  keep((await h.request('GET', `/api/tenants/${t}/connection`, { token })).text);
  keep((await h.request('GET', `/api/tenants/${t}`, { token })).text);

  // Mode 3: a service account: refused (no delegation), accepted, rotated, checked, revoked.
  const saEmail = 'hygiene-bot@hygiene-project.iam.gserviceaccount.com';
  const { clientId } = await h.control.createServiceAccount({ clientEmail: saEmail });
  const key = await h.control.createServiceAccountKey(saEmail);
  const newKey = await h.control.createServiceAccountKey(saEmail);
  const connectSa = (k: unknown) =>
    h.request('POST', `/api/tenants/${t}/connection/service-account`, {
      token,
      body: { key: k, subject: h.ws.adminEmail },
    });
  keep((await connectSa(key)).text);
  await h.control.setDomainWideDelegation(h.ws.customerId, { clientId, scopes: [...REQUIRED_SCOPES] });
  const accepted = await connectSa(JSON.stringify(key));
  expect(accepted.status, accepted.text).toBe(200);
  keep(accepted.text);
  keep((await h.request('POST', `/api/tenants/${t}/connection/test`, { token })).text);
  keep((await connectSa(newKey)).text);
  await h.control.deleteServiceAccountKey(saEmail, key.private_key_id);
  keep((await connectSa(key)).text);
  keep((await h.request('POST', `/api/tenants/${t}/connection/health-check`, { token })).text);
  keep((await h.request('GET', `/api/tenants/${t}/connection`, { token })).text);
  keep(
    (
      await h.hostRequest('POST', `/api/tenants/${t}/connection/service-account`, {
        key: newKey,
        subject: h.ws.adminEmail,
      })
    ).text,
  );
  keep((await h.request('POST', `/api/tenants/${t}/connection/revoke`, { token })).text);

  // A distinctive line of each private key's base64 body, besides the PEM armour.
  const keyLines = [key, newKey].map((k) => k.private_key.trim().split('\n')[3]!);
  const secrets = [tenantClient.clientSecret, wrongSecret, tenantRefreshToken, code, ...keyLines];
  const logs = h.logLines.join('\n');
  for (const s of secrets) {
    expect(logs.includes(s), `log contains a secret (${s.slice(0, 6)}…)`).toBe(false);
    for (const a of answers)
      expect(a.includes(s), `HTTP answer contains a secret (${s.slice(0, 6)}…)`).toBe(false);
  }
  for (const text of [logs, ...answers]) {
    expect(text).not.toContain('PRIVATE KEY');
    expect(text).not.toMatch(/ya29\.|1\/\/0|4\/0A/);
  }
  for (const [path, json] of await h.dump()) {
    for (const s of secrets) expect(json.includes(s), path).toBe(false);
    expect(json.includes('PRIVATE KEY'), path).toBe(false);
  }
});

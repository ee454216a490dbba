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

  // Sign-in, by hand so the code and the ID token can be captured.
  const login = await h.request('GET', `/api/auth/login?loginHint=${encodeURIComponent(h.ws.adminEmail)}`);
  keep(login.text, login.headers.get('location') ?? '');
  const signinBack = await h.consent(login.headers.get('location')!);
  codes.push(new URL(signinBack).searchParams.get('code')!);
  const page = await fetch(signinBack, {
    redirect: 'manual',
    headers: { cookie: (login.headers.get('set-cookie') ?? '').split(';')[0]! },
  });
  const html = await page.text();
  const idToken = /"(eyJ[^"]+)"/.exec(html)![1]!;
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
  // Firestore holds none of them either (a verifier only until its state is used).
  for (const [path, json] of await h.dump()) {
    for (const s of [...refreshTokens, ...codes]) expect(json.includes(s), path).toBe(false);
  }
});

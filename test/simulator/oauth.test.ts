import type { JsonWebKey as NodeJsonWebKey } from 'node:crypto';
import { createPublicKey, verify } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { SimulatorHandle } from '../../emulators/workspace-simulator/index.js';
import {
  DEFAULT_OAUTH_CLIENT,
  READONLY_DIRECTORY_SCOPES,
  SCOPES,
  SimulatorControl,
  startWorkspaceSimulator,
} from '../../emulators/workspace-simulator/index.js';
import type { OAuth2Client } from './helpers.js';
import { directoryClient, errorOf, REDIRECT_URI, simulatorOAuthClient } from './helpers.js';

type JsonWebKeyWithKid = NodeJsonWebKey & { kid: string };

const USER_RO = 'https://www.googleapis.com/auth/admin.directory.user.readonly';

let sim: SimulatorHandle;
let control: SimulatorControl;
let ws: { customerId: string; domain: string; adminEmail: string };

beforeAll(async () => {
  sim = await startWorkspaceSimulator({ port: 0 });
  control = new SimulatorControl(sim.url);
  ws = await control.createWorkspace({ domain: 'oauth-school.example', users: 30 });
});

afterAll(async () => {
  await sim.close();
});

interface AuthorizeResult {
  status: number;
  location: URL | undefined;
  codeVerifier: string;
}

async function authorize(
  client: OAuth2Client,
  opts: {
    scope?: string[];
    state?: string;
    loginHint?: string;
    prompt?: string;
    offline?: boolean;
    includeGrantedScopes?: boolean;
  } = {},
): Promise<AuthorizeResult> {
  const { codeVerifier, codeChallenge } = await client.generateCodeVerifierAsync();
  const url = client.generateAuthUrl({
    access_type: opts.offline === false ? 'online' : 'offline',
    scope: opts.scope ?? [...READONLY_DIRECTORY_SCOPES, 'openid', 'email'],
    state: opts.state,
    login_hint: opts.loginHint,
    prompt: opts.prompt,
    ...(opts.includeGrantedScopes === undefined ? {} : { include_granted_scopes: opts.includeGrantedScopes }),
    code_challenge: codeChallenge,
    code_challenge_method: 'S256' as never,
  });
  const res = await fetch(url, { redirect: 'manual' });
  const location = res.headers.get('location');
  return { status: res.status, location: location ? new URL(location) : undefined, codeVerifier };
}

async function tokenError(promise: Promise<unknown>) {
  const e = errorOf(
    await promise.then(
      () => undefined,
      (err: unknown) => err,
    ),
  );
  return { status: e.status, ...(e.body as { error?: string; error_description?: string }) };
}

describe('authorization code flow with PKCE', () => {
  it('round-trips: authorize -> code -> tokens -> API -> refresh -> revoke -> invalid_grant', async () => {
    const client = simulatorOAuthClient(sim);
    const state = 'tenant=42&nonce=x y/ü';
    const { status, location, codeVerifier } = await authorize(client, {
      state,
      loginHint: ws.adminEmail,
      prompt: 'consent',
    });
    expect(status).toBe(302);
    expect(`${location?.origin}${location?.pathname}`).toBe(REDIRECT_URI);
    expect(location?.searchParams.get('state')).toBe(state);
    expect(location?.searchParams.get('hd')).toBe(ws.domain);
    const granted = (location?.searchParams.get('scope') ?? '').split(' ');
    expect(granted).toEqual(
      expect.arrayContaining([
        ...READONLY_DIRECTORY_SCOPES,
        'https://www.googleapis.com/auth/userinfo.email',
      ]),
    );
    const code = location?.searchParams.get('code') ?? '';

    const { tokens } = await client.getToken({ code, codeVerifier });
    expect(tokens.access_token).toMatch(/^ya29\./);
    expect(tokens.refresh_token).toBeTruthy();
    expect(tokens.token_type).toBe('Bearer');
    expect(tokens.scope?.split(' ')).toEqual(expect.arrayContaining([...READONLY_DIRECTORY_SCOPES]));
    expect((tokens.expiry_date ?? 0) - Date.now()).toBeGreaterThan(3500_000);
    client.setCredentials(tokens);

    const admin = directoryClient(sim, client);
    const users = await admin.users.list({ customer: 'my_customer', maxResults: 5 });
    expect(users.data.users).toHaveLength(5);

    const info = await client.getTokenInfo(tokens.access_token ?? '');
    expect(info.aud).toBe(DEFAULT_OAUTH_CLIENT.clientId);
    expect(info.email).toBe(ws.adminEmail);
    expect(info.scopes).toEqual(expect.arrayContaining([USER_RO]));

    const refreshed = await client.refreshAccessToken();
    expect(refreshed.credentials.access_token).not.toBe(tokens.access_token);
    expect(refreshed.credentials.scope).toBe(tokens.scope);

    await client.revokeToken(tokens.refresh_token ?? '');
    const err = await tokenError(client.refreshAccessToken());
    expect(err).toMatchObject({
      status: 400,
      error: 'invalid_grant',
      error_description: 'Token has been expired or revoked.',
    });
    // The access tokens of the revoked grant die with it.
    const dead = await fetch(`${sim.url}/admin/directory/v1/users?customer=my_customer`, {
      headers: { authorization: `Bearer ${refreshed.credentials.access_token}` },
    });
    expect(dead.status).toBe(401);
  });

  it('rejects a replayed code, a wrong or missing verifier, and a different redirect_uri', async () => {
    const client = simulatorOAuthClient(sim);
    const a = await authorize(client);
    const code = a.location?.searchParams.get('code') ?? '';
    expect(await tokenError(client.getToken({ code, codeVerifier: `${a.codeVerifier}x` }))).toMatchObject({
      error: 'invalid_grant',
      error_description: 'Invalid code verifier.',
    });
    expect(await tokenError(client.getToken({ code }))).toMatchObject({
      error: 'invalid_grant',
      error_description: 'Missing code verifier.',
    });
    expect(
      await tokenError(
        client.getToken({ code, codeVerifier: a.codeVerifier, redirect_uri: 'http://127.0.0.1:1/other' }),
      ),
    ).toMatchObject({ error: 'redirect_uri_mismatch' });
    await client.getToken({ code, codeVerifier: a.codeVerifier });
    expect(await tokenError(client.getToken({ code, codeVerifier: a.codeVerifier }))).toMatchObject({
      status: 400,
      error: 'invalid_grant',
    });
    expect(
      await tokenError(client.getToken({ code: '4/0Anonsense', codeVerifier: a.codeVerifier })),
    ).toMatchObject({
      error: 'invalid_grant',
      error_description: 'Malformed auth code.',
    });
  });

  it('authenticates the client: wrong secret -> 401 invalid_client, Basic auth works', async () => {
    const wrong = simulatorOAuthClient(sim, { clientSecret: 'nope' });
    const a = await authorize(wrong);
    expect(
      await tokenError(
        wrong.getToken({ code: a.location?.searchParams.get('code') ?? '', codeVerifier: a.codeVerifier }),
      ),
    ).toMatchObject({ status: 401, error: 'invalid_client' });

    const form = new URLSearchParams({
      grant_type: 'authorization_code',
      code: 'x',
      redirect_uri: REDIRECT_URI,
    });
    const basic = Buffer.from(
      `${DEFAULT_OAUTH_CLIENT.clientId}:${DEFAULT_OAUTH_CLIENT.clientSecret}`,
    ).toString('base64');
    const res = await fetch(`${sim.url}/token`, {
      method: 'POST',
      headers: { authorization: `Basic ${basic}`, 'content-type': 'application/x-www-form-urlencoded' },
      body: form,
    });
    // Client authenticated, so the failure is about the code, not the client.
    expect(await res.json()).toMatchObject({ error: 'invalid_grant' });
  });

  it('issues a refresh token only on first offline consent or prompt=consent', async () => {
    await control.revokeGrants(ws.customerId);
    const client = simulatorOAuthClient(sim);
    const hint = ws.adminEmail;
    const first = await authorize(client, { loginHint: hint, scope: [USER_RO] });
    const t1 = await client.getToken({
      code: first.location?.searchParams.get('code') ?? '',
      codeVerifier: first.codeVerifier,
    });
    expect(t1.tokens.refresh_token).toBeTruthy();
    const again = await authorize(client, { loginHint: hint, scope: [USER_RO] });
    const t2 = await client.getToken({
      code: again.location?.searchParams.get('code') ?? '',
      codeVerifier: again.codeVerifier,
    });
    expect(t2.tokens.refresh_token).toBeUndefined();
    const forced = await authorize(client, { loginHint: hint, scope: [USER_RO], prompt: 'consent' });
    const t3 = await client.getToken({
      code: forced.location?.searchParams.get('code') ?? '',
      codeVerifier: forced.codeVerifier,
    });
    expect(t3.tokens.refresh_token).toBeTruthy();
    const online = await authorize(client, {
      loginHint: hint,
      scope: [USER_RO],
      prompt: 'consent',
      offline: false,
    });
    const t4 = await client.getToken({
      code: online.location?.searchParams.get('code') ?? '',
      codeVerifier: online.codeVerifier,
    });
    expect(t4.tokens.refresh_token).toBeUndefined();
  });

  it('kills refresh tokens when grants are revoked for the customer or the admin is suspended', async () => {
    const client = simulatorOAuthClient(sim);
    const a = await authorize(client, { prompt: 'consent' });
    const { tokens } = await client.getToken({
      code: a.location?.searchParams.get('code') ?? '',
      codeVerifier: a.codeVerifier,
    });
    client.setCredentials(tokens);
    await client.refreshAccessToken();
    await control.revokeGrants(ws.customerId);
    expect(await tokenError(client.refreshAccessToken())).toMatchObject({ error: 'invalid_grant' });

    const b = await authorize(client, { prompt: 'consent' });
    const t2 = await client.getToken({
      code: b.location?.searchParams.get('code') ?? '',
      codeVerifier: b.codeVerifier,
    });
    client.setCredentials(t2.tokens);
    await control.suspendUser(ws.customerId, ws.adminEmail);
    try {
      expect(await tokenError(client.refreshAccessToken())).toMatchObject({ error: 'invalid_grant' });
    } finally {
      await control.unsuspendUser(ws.customerId, ws.adminEmail);
    }
  });

  it('include_granted_scopes=true: the new tokens cover every scope granted before plus the new ones; without it, only those asked for', async () => {
    await control.revokeGrants(ws.customerId);
    const client = simulatorOAuthClient(sim);
    const hint = ws.adminEmail;
    const exchange = async (a: AuthorizeResult) =>
      (
        await client.getToken({
          code: a.location?.searchParams.get('code') ?? '',
          codeVerifier: a.codeVerifier,
        })
      ).tokens;
    const first = await exchange(
      await authorize(client, { loginHint: hint, scope: [USER_RO], prompt: 'consent' }),
    );
    expect(first.scope).toBe(USER_RO);

    // Incremental: ask only for the device scopes, get a token (and refresh token) for the union.
    const widen = await authorize(client, {
      loginHint: hint,
      scope: [SCOPES.chromeos, SCOPES.mobileAction],
      prompt: 'consent',
      includeGrantedScopes: true,
    });
    expect(widen.location?.searchParams.get('scope')?.split(' ').sort()).toEqual(
      [USER_RO, SCOPES.chromeos, SCOPES.mobileAction].sort(),
    );
    const combined = await exchange(widen);
    expect(combined.scope?.split(' ').sort()).toEqual([USER_RO, SCOPES.chromeos, SCOPES.mobileAction].sort());
    expect(combined.refresh_token).toBeTruthy();
    client.setCredentials({ refresh_token: combined.refresh_token! });
    expect((await client.refreshAccessToken()).credentials.scope?.split(' ').sort()).toEqual(
      [USER_RO, SCOPES.chromeos, SCOPES.mobileAction].sort(),
    );
    // The earlier, narrower refresh token still works with its own scopes.
    client.setCredentials({ refresh_token: first.refresh_token! });
    expect((await client.refreshAccessToken()).credentials.scope).toBe(USER_RO);

    // Without include_granted_scopes the token covers what was asked only, though the grant keeps the rest.
    const narrow = await exchange(
      await authorize(client, {
        loginHint: hint,
        scope: [USER_RO],
        prompt: 'consent',
        includeGrantedScopes: false,
      }),
    );
    expect(narrow.scope).toBe(USER_RO);
    const unasked = await exchange(
      await authorize(client, {
        loginHint: hint,
        scope: [USER_RO],
        prompt: 'consent',
        includeGrantedScopes: true,
      }),
    );
    expect(unasked.scope?.split(' ').sort()).toEqual([USER_RO, SCOPES.chromeos, SCOPES.mobileAction].sort());

    // A partial grant (a box unticked) adds only what was ticked to the union.
    await control.revokeGrants(ws.customerId);
    const base = await exchange(
      await authorize(client, { loginHint: hint, scope: [USER_RO], prompt: 'consent' }),
    );
    await control.setNextConsentDecision({ decision: 'approve', grantedScopes: [SCOPES.chromeos] });
    const partial = await exchange(
      await authorize(client, {
        loginHint: hint,
        scope: [SCOPES.chromeos, SCOPES.mobileAction],
        prompt: 'consent',
        includeGrantedScopes: true,
      }),
    );
    expect(partial.scope?.split(' ').sort()).toEqual([USER_RO, SCOPES.chromeos].sort());

    // Revoking one token of the combined grant ends them all, the narrower one issued earlier included.
    await client.revokeToken(partial.refresh_token!);
    client.setCredentials({ refresh_token: partial.refresh_token! });
    expect(await tokenError(client.refreshAccessToken())).toMatchObject({ error: 'invalid_grant' });
    client.setCredentials({ refresh_token: base.refresh_token! });
    expect(await tokenError(client.refreshAccessToken())).toMatchObject({ error: 'invalid_grant' });
  });

  it('revoke of an unknown token is 400 invalid_token', async () => {
    const res = await fetch(`${sim.url}/revoke?token=bogus`, { method: 'POST' });
    expect(res.status).toBe(400);
    expect(await res.json()).toEqual({
      error: 'invalid_token',
      error_description: 'Token expired or revoked',
    });
  });
});

describe('id_token, JWKS and userinfo', () => {
  it('signs an id_token that verifies with google-auth-library and with the JWKS', async () => {
    const client = simulatorOAuthClient(sim);
    const a = await authorize(client, { scope: ['openid', 'email', 'profile'], loginHint: ws.adminEmail });
    const { tokens } = await client.getToken({
      code: a.location?.searchParams.get('code') ?? '',
      codeVerifier: a.codeVerifier,
    });
    const idToken = tokens.id_token ?? '';
    const ticket = await client.verifyIdToken({ idToken, audience: DEFAULT_OAUTH_CLIENT.clientId });
    const payload = ticket.getPayload();
    expect(payload).toMatchObject({
      iss: sim.url,
      aud: DEFAULT_OAUTH_CLIENT.clientId,
      email: ws.adminEmail,
      email_verified: true,
      hd: ws.domain,
    });
    const admin = (await control.getUser(ws.customerId, ws.adminEmail)).id;
    expect(payload?.sub).toBe(admin);

    const jwks = (await (await fetch(`${sim.url}/oauth2/v3/certs`)).json()) as {
      keys: Array<JsonWebKeyWithKid>;
    };
    const [header, body, signature] = idToken.split('.') as [string, string, string];
    const { kid } = JSON.parse(Buffer.from(header, 'base64url').toString()) as { kid: string };
    const jwk = jwks.keys.find((k) => k.kid === kid);
    expect(jwk).toBeDefined();
    const key = createPublicKey({ key: jwk as JsonWebKeyWithKid, format: 'jwk' });
    expect(
      verify('RSA-SHA256', Buffer.from(`${header}.${body}`), key, Buffer.from(signature, 'base64url')),
    ).toBe(true);

    client.setCredentials(tokens);
    const info = await client.request<Record<string, unknown>>({ url: `${sim.url}/oauth2/v3/userinfo` });
    expect(info.data).toMatchObject({
      sub: admin,
      email: ws.adminEmail,
      email_verified: true,
      hd: ws.domain,
    });
  });

  it('does not mint an id_token without openid/email/profile scopes', async () => {
    const client = simulatorOAuthClient(sim);
    const a = await authorize(client, { scope: [USER_RO] });
    const { tokens } = await client.getToken({
      code: a.location?.searchParams.get('code') ?? '',
      codeVerifier: a.codeVerifier,
    });
    expect(tokens.id_token).toBeUndefined();
  });
});

describe('authorization endpoint validation and consent', () => {
  it('renders redirect_uri_mismatch and invalid_client pages instead of redirecting', async () => {
    const base = `${sim.url}/o/oauth2/v2/auth?response_type=code&scope=openid&client_id=${DEFAULT_OAUTH_CLIENT.clientId}`;
    const mismatch = await fetch(`${base}&redirect_uri=${encodeURIComponent('https://evil.example/cb')}`, {
      redirect: 'manual',
    });
    expect(mismatch.status).toBe(400);
    expect(await mismatch.text()).toContain('redirect_uri_mismatch');
    const unknown = await fetch(
      `${sim.url}/o/oauth2/v2/auth?response_type=code&scope=openid&client_id=x&redirect_uri=${REDIRECT_URI}`,
      {
        redirect: 'manual',
      },
    );
    expect(unknown.status).toBe(401);
    const noScope = await fetch(
      `${base.replace('&scope=openid', '')}&redirect_uri=${encodeURIComponent(REDIRECT_URI)}`,
      { redirect: 'manual' },
    );
    expect(noScope.status).toBe(400);
  });

  it('follows a scripted deny and a partial grant (user unticks scopes)', async () => {
    const client = simulatorOAuthClient(sim);
    await control.setNextConsentDecision({ decision: 'deny' });
    const denied = await authorize(client, { state: 's1' });
    expect(denied.location?.searchParams.get('error')).toBe('access_denied');
    expect(denied.location?.searchParams.get('state')).toBe('s1');

    await control.setNextConsentDecision({ decision: 'approve', grantedScopes: [USER_RO] });
    const partial = await authorize(client, {
      scope: [USER_RO, 'https://www.googleapis.com/auth/admin.directory.device.chromeos.readonly', 'openid'],
    });
    expect(partial.location?.searchParams.get('scope')?.split(' ').sort()).toEqual(
      ['openid', USER_RO].sort(),
    );
    const { tokens } = await client.getToken({
      code: partial.location?.searchParams.get('code') ?? '',
      codeVerifier: partial.codeVerifier,
    });
    client.setCredentials(tokens);
    const admin = directoryClient(sim, client);
    await admin.users.list({ customer: 'my_customer', maxResults: 1 });
    const err = errorOf(
      await admin.chromeosdevices.list({ customerId: 'my_customer' }).catch((e: unknown) => e),
    );
    expect(err).toMatchObject({ status: 403, reason: 'insufficientPermissions' });
  });

  it('shows an accessible consent page when autoApprove is off, and honours Allow/Deny', async () => {
    const manual = await startWorkspaceSimulator({ port: 0, autoApprove: false });
    try {
      const ctl = new SimulatorControl(manual.url);
      await ctl.createWorkspace({ domain: 'consent.example', users: 5 });
      const client = simulatorOAuthClient(manual);
      const page = await authorize(client, { state: 'abc', scope: [USER_RO, 'openid'] });
      expect(page.status).toBe(200);
      const url = client.generateAuthUrl({ scope: [USER_RO, 'openid'], state: 'abc' });
      const html = await (await fetch(url)).text();
      expect(html).toMatch(/<html lang="en">/);
      expect(html).toMatch(/<button type="submit" name="decision" value="approve">Allow<\/button>/);
      expect(html).toMatch(/<button type="submit" name="decision" value="deny">Deny<\/button>/);
      expect(html).toMatch(/<label for="scope-0">See info about users on your domain/);
      const requestId = /name="request_id" value="([^"]+)"/.exec(html)?.[1] ?? '';

      const allow = await fetch(`${manual.url}/o/oauth2/v2/auth/decision`, {
        method: 'POST',
        redirect: 'manual',
        body: new URLSearchParams({ request_id: requestId, decision: 'approve', scope: USER_RO }),
      });
      expect(allow.status).toBe(302);
      const back = new URL(allow.headers.get('location') ?? '');
      expect(back.searchParams.get('state')).toBe('abc');
      expect(back.searchParams.get('code')).toBeTruthy();

      const html2 = await (await fetch(url)).text();
      const id2 = /name="request_id" value="([^"]+)"/.exec(html2)?.[1] ?? '';
      const deny = await fetch(`${manual.url}/o/oauth2/v2/auth/decision`, {
        method: 'POST',
        redirect: 'manual',
        body: new URLSearchParams({ request_id: id2, decision: 'deny' }),
      });
      expect(new URL(deny.headers.get('location') ?? '').searchParams.get('error')).toBe('access_denied');
    } finally {
      await manual.close();
    }
  });

  it('signs in the admin named by login_hint, across workspaces', async () => {
    const other = await control.createWorkspace({ domain: 'second-tenant.example', users: 5 });
    const client = simulatorOAuthClient(sim);
    const first = await authorize(client, { loginHint: ws.adminEmail, scope: ['openid', 'email'] });
    expect(first.location?.searchParams.get('hd')).toBe(ws.domain);
    // Without a hint the newest workspace's admin signs in.
    const dflt = await authorize(client, { scope: ['openid', 'email'] });
    expect(dflt.location?.searchParams.get('hd')).toBe(other.domain);
    const adminId = (await control.getUser(ws.customerId, ws.adminEmail)).id ?? '';
    const bySub = await authorize(client, { loginHint: adminId, scope: ['openid'] });
    expect(bySub.location?.searchParams.get('hd')).toBe(ws.domain);
    const unknown = await authorize(client, { loginHint: 'nobody@nowhere.example', scope: ['openid'] });
    expect(unknown.status).toBe(400);
  });
});

describe('group scopes', () => {
  it('grants the group scopes on consent, and they open groups.list and members.list', async () => {
    const client = simulatorOAuthClient(sim);
    const scope = [SCOPES.groupReadonly, SCOPES.groupMemberReadonly];
    const { location, codeVerifier } = await authorize(client, { scope, loginHint: ws.adminEmail });
    expect((location?.searchParams.get('scope') ?? '').split(' ').sort()).toEqual([...scope].sort());
    const { tokens } = await client.getToken({
      code: location?.searchParams.get('code') ?? '',
      codeVerifier,
    });
    client.setCredentials(tokens);
    const admin = directoryClient(sim, client);
    const groups = await admin.groups.list({ customer: 'my_customer' });
    expect(groups.data.groups?.length).toBeGreaterThan(0);
    const members = await admin.members.list({ groupKey: 'all-staff@oauth-school.example' });
    expect(members.data.members?.length).toBeGreaterThan(0);
  });
});

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_OAUTH_CLIENT } from '../../emulators/workspace-simulator/index.js';
import { paths } from '../../shared/firestore-paths.js';
import { startApiHarness, usersMapping, type ApiHarness } from '../api/api-harness.js';

/**
 * Connection modes 1 and 2: the service's own OAuth client, and "bring your own client" (the tenant's OAuth
 * client from its own Google Cloud project), with test-and-save, the errors Google gives for a wrong client id,
 * secret or redirect URI, and switching between the two clients as a clean re-connect.
 */

let h: ApiHarness;
let owner: string;
let admin: string;
const TENANT_CLIENT = {
  clientId: '408812345678-tenantowned.apps.googleusercontent.com',
  clientSecret: 'GOCSPX-tenant-owned-secret-0001',
};
const WRONG_REDIRECT_CLIENT = {
  clientId: '408812345678-wrongredirect.apps.googleusercontent.com',
  clientSecret: 'GOCSPX-wrong-redirect-secret-02',
};

beforeAll(async () => {
  h = await startApiHarness();
  owner = await h.signIn(h.ws.adminEmail);
  admin = await h.signIn(await h.addUser('gail.admin@school.example'));
  // What the tenant's IT did in its own Google Cloud console: a Web application client with our redirect URI.
  await h.control.registerOAuthClient({ ...TENANT_CLIENT, redirectUris: [`${h.url}/oauth/callback`] });
  await h.control.registerOAuthClient({
    ...WRONG_REDIRECT_CLIENT,
    redirectUris: ['https://products.example/oauth2/callback'],
  });
});
afterAll(async () => {
  await h?.close();
});

let seq = 0;
async function newTenant(): Promise<string> {
  const t = `byo-${++seq}`;
  await h.createTenant(t, h.ws.adminEmail);
  await h.addMember(t, 'gail.admin@school.example', 'admin');
  return t;
}

const tenantDoc = async (t: string) => (await h.db.doc(paths.tenant(t)).get()).data()!;

/** Whether Google still honours a refresh token (asked with the client it belongs to). */
async function refreshWorks(refreshToken: string, client: { clientId: string; clientSecret: string }) {
  const res = await fetch(`${h.simUrl}/token`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({
      grant_type: 'refresh_token',
      refresh_token: refreshToken,
      client_id: client.clientId,
      client_secret: client.clientSecret,
    }).toString(),
  });
  return { status: res.status, body: (await res.json()) as { error?: string } };
}

async function authorizeWith(t: string, oauthClient: 'service' | 'tenant') {
  const res = await h.request('POST', `/api/tenants/${t}/connection/authorize`, {
    token: owner,
    body: { loginHint: h.ws.adminEmail, oauthClient },
  });
  expect(res.status, res.text).toBe(200);
  const authorizationUrl = res.body.authorizationUrl as string;
  const cookie = (res.headers.get('set-cookie') ?? '').split(';')[0]!;
  const back = await h.consent(authorizationUrl);
  const done = await h.callback(back, cookie);
  return { authorizationUrl: new URL(authorizationUrl), done: new URL(done.location) };
}

describe('test and save: Google refuses a wrong client, and nothing is stored', () => {
  it('an unknown Client ID is invalid_client, named with where to find the right one', async () => {
    const t = await newTenant();
    const res = await h.request('PUT', `/api/tenants/${t}/connection/oauth-client`, {
      token: owner,
      body: { clientId: '1-nosuchclient.apps.googleusercontent.com', clientSecret: 'GOCSPX-whatever' },
    });
    expect(res.status, res.text).toBe(400);
    expect(res.body.error.reason).toBe('invalid_client');
    expect(res.body.error.message).toContain('APIs & Services > Credentials');
    expect(res.body.error.message).toContain('1-nosuchclient.apps.googleusercontent.com');
    expect(res.text).not.toContain('GOCSPX-whatever');
    expect(await h.secrets.getRefreshToken(t, 'google_client')).toBeNull();
    expect((await tenantDoc(t)).googleAuth).toBeUndefined();
  });

  it('a redirect URI the client does not list is redirect_uri_mismatch, naming the exact URI to add', async () => {
    const t = await newTenant();
    const res = await h.request('PUT', `/api/tenants/${t}/connection/oauth-client`, {
      token: owner,
      body: WRONG_REDIRECT_CLIENT,
    });
    expect(res.status, res.text).toBe(400);
    expect(res.body.error.reason).toBe('redirect_uri_mismatch');
    expect(res.body.error.redirectUri).toBe(`${h.url}/oauth/callback`);
    expect(res.body.error.message).toContain(`add exactly ${h.url}/oauth/callback`);
    expect(res.body.error.message).toContain('Authorized redirect URIs');
    expect(res.text).not.toContain(WRONG_REDIRECT_CLIENT.clientSecret);
    expect(await h.secrets.getRefreshToken(t, 'google_client')).toBeNull();
  });

  it('a wrong Client Secret is refused by the token endpoint (invalid_client)', async () => {
    const t = await newTenant();
    const res = await h.request('PUT', `/api/tenants/${t}/connection/oauth-client`, {
      token: owner,
      body: { clientId: TENANT_CLIENT.clientId, clientSecret: 'GOCSPX-not-the-secret' },
    });
    expect(res.status, res.text).toBe(400);
    expect(res.body.error.reason).toBe('invalid_client_secret');
    expect(res.body.error.message).toContain('copy its Client secret again');
    expect(res.text).not.toContain('GOCSPX-not-the-secret');
    expect(await h.secrets.getRefreshToken(t, 'google_client')).toBeNull();
  });

  it('only owners may enter a client; a malformed body is a 400 naming the field', async () => {
    const t = await newTenant();
    const asAdmin = await h.request('PUT', `/api/tenants/${t}/connection/oauth-client`, {
      token: admin,
      body: TENANT_CLIENT,
    });
    expect(asAdmin.status).toBe(403);
    const bad = await h.request('PUT', `/api/tenants/${t}/connection/oauth-client`, {
      token: owner,
      body: { clientId: TENANT_CLIENT.clientId, clientSecret: 'has spaces in it' },
    });
    expect(bad.status).toBe(400);
    expect(bad.text).not.toContain('has spaces in it');
  });

  it('authorizing with the tenant client before saving one is a failed precondition', async () => {
    const t = await newTenant();
    const res = await h.request('POST', `/api/tenants/${t}/connection/authorize`, {
      token: owner,
      body: { oauthClient: 'tenant' },
    });
    expect(res.status, res.text).toBe(409);
    expect(res.body.error.reason).toBe('no_tenant_client');
  });
});

describe('the connection modes of OAuth', () => {
  it('the service client is the default mode: consent and refresh use the configured client', async () => {
    const t = await newTenant();
    await h.request('POST', `/api/tenants/${t}/mappings`, { token: owner, body: usersMapping() });
    const { authorizationUrl, done } = await authorizeWith(t, 'service');
    expect(authorizationUrl.searchParams.get('client_id')).toBe(DEFAULT_OAUTH_CLIENT.clientId);
    expect(done.searchParams.get('connected'), done.toString()).toBe('1');
    expect((await tenantDoc(t)).googleAuth).toMatchObject({ mode: 'service_client' });
    const settings = await h.request('GET', `/api/tenants/${t}/connection`, { token: admin });
    expect(settings.body).toMatchObject({
      mode: 'service_client',
      redirectUri: `${h.url}/oauth/callback`,
      tenantClient: null,
    });
    const test = await h.request('POST', `/api/tenants/${t}/connection/test`, { token: owner });
    expect(test.body).toMatchObject({ ok: true });
  });

  it("the tenant's own client: saved after Google accepts it, secret only in Secret Manager, used for consent and refresh; switching clients is a clean re-connect", async () => {
    const t = await newTenant();
    await h.request('POST', `/api/tenants/${t}/mappings`, { token: owner, body: usersMapping() });
    await h.pullSyncMessages();

    // Connected first with the service's client.
    await authorizeWith(t, 'service');
    const serviceToken = (await h.secrets.getRefreshToken(t))!;

    // Test and save.
    const saved = await h.request('PUT', `/api/tenants/${t}/connection/oauth-client`, {
      token: owner,
      body: TENANT_CLIENT,
    });
    expect(saved.status, saved.text).toBe(200);
    expect(saved.body).toMatchObject({
      clientId: TENANT_CLIENT.clientId,
      redirectUri: `${h.url}/oauth/callback`,
      reconnectNeeded: false,
    });
    expect(saved.text).not.toContain(TENANT_CLIENT.clientSecret);
    expect(await h.secrets.getRefreshToken(t, 'google_client')).toBe(TENANT_CLIENT.clientSecret);
    // Saved, not yet used: the connection still runs on the service's client.
    expect((await tenantDoc(t)).googleAuth.mode).toBe('service_client');
    const settings = await h.request('GET', `/api/tenants/${t}/connection`, { token: owner });
    expect(settings.body.tenantClient).toMatchObject({ clientId: TENANT_CLIENT.clientId });
    expect(settings.text).not.toContain(TENANT_CLIENT.clientSecret);

    // Authorize with the tenant's client: the consent names it, the code is exchanged with its secret.
    const { authorizationUrl, done } = await authorizeWith(t, 'tenant');
    expect(authorizationUrl.searchParams.get('client_id')).toBe(TENANT_CLIENT.clientId);
    expect(done.searchParams.get('connected'), done.toString()).toBe('1');
    const tenantToken = (await h.secrets.getRefreshToken(t))!;
    expect(tenantToken).not.toBe(serviceToken);
    expect(await tenantDoc(t)).toMatchObject({ status: 'active', googleAuth: { mode: 'tenant_client' } });
    // The token belongs to the tenant's client (Google refuses it to another client), and the previous grant,
    // of the service's client, was revoked: a clean switch.
    expect((await refreshWorks(tenantToken, TENANT_CLIENT)).status).toBe(200);
    expect((await refreshWorks(tenantToken, DEFAULT_OAUTH_CLIENT)).body.error).toBe('unauthorized_client');
    expect((await refreshWorks(serviceToken, DEFAULT_OAUTH_CLIENT)).body.error).toBe('invalid_grant');
    // Refresh through the service uses the tenant's client.
    h.app.auth.forget(t);
    const test = await h.request('POST', `/api/tenants/${t}/connection/test`, { token: owner });
    expect(test.body, test.text).toMatchObject({ ok: true });

    // The secret is nowhere in Firestore.
    for (const [path, json] of await h.dump()) {
      expect(json.includes(TENANT_CLIENT.clientSecret), path).toBe(false);
      expect(json.includes(tenantToken), path).toBe(false);
    }

    // And back to the service's client: again a clean re-connect.
    const back = await authorizeWith(t, 'service');
    expect(back.done.searchParams.get('connected')).toBe('1');
    expect((await tenantDoc(t)).googleAuth.mode).toBe('service_client');
    expect((await refreshWorks(tenantToken, TENANT_CLIENT)).body.error).toBe('invalid_grant');
    const again = await h.request('POST', `/api/tenants/${t}/connection/test`, { token: owner });
    expect(again.body).toMatchObject({ ok: true });
  });

  it('replacing the client the connection uses ends its grant: the tenant must authorize with the new one', async () => {
    const t = await newTenant();
    await h.request('PUT', `/api/tenants/${t}/connection/oauth-client`, {
      token: owner,
      body: TENANT_CLIENT,
    });
    await authorizeWith(t, 'tenant');
    const token = (await h.secrets.getRefreshToken(t))!;
    const second = {
      clientId: '408812345678-secondclient.apps.googleusercontent.com',
      clientSecret: 'GOCSPX-second-client-secret-03',
    };
    await h.control.registerOAuthClient({ ...second, redirectUris: [`${h.url}/oauth/callback`] });
    const res = await h.request('PUT', `/api/tenants/${t}/connection/oauth-client`, {
      token: owner,
      body: second,
    });
    expect(res.status, res.text).toBe(200);
    expect(res.body.reconnectNeeded).toBe(true);
    expect(await h.secrets.getRefreshToken(t)).toBeNull();
    expect((await refreshWorks(token, TENANT_CLIENT)).body.error).toBe('invalid_grant');
    expect(await tenantDoc(t)).toMatchObject({ status: 'needs_reauth' });
    const { authorizationUrl, done } = await authorizeWith(t, 'tenant');
    expect(authorizationUrl.searchParams.get('client_id')).toBe(second.clientId);
    expect(done.searchParams.get('connected')).toBe('1');
    expect(await tenantDoc(t)).toMatchObject({ status: 'active', googleAuth: { mode: 'tenant_client' } });
  });

  it('a client secret changed at Google after saving: the callback reports invalid_client and connects nothing', async () => {
    const t = await newTenant();
    const rotating = {
      clientId: '408812345678-rotating.apps.googleusercontent.com',
      clientSecret: 'GOCSPX-rotating-secret-first-04',
    };
    await h.control.registerOAuthClient({ ...rotating, redirectUris: [`${h.url}/oauth/callback`] });
    await h.request('PUT', `/api/tenants/${t}/connection/oauth-client`, { token: owner, body: rotating });
    // The tenant's IT resets the secret in the Cloud console.
    await h.control.registerOAuthClient({
      ...rotating,
      clientSecret: 'GOCSPX-rotating-secret-new-05',
      redirectUris: [`${h.url}/oauth/callback`],
    });
    const { done } = await authorizeWith(t, 'tenant');
    expect(done.searchParams.get('connectError')).toBe('invalid_client');
    expect(done.searchParams.get('connectMessage')).toContain('APIs & Services > Credentials');
    expect(await h.secrets.getRefreshToken(t)).toBeNull();
    expect((await tenantDoc(t)).status).toBe('pending');
  });
});

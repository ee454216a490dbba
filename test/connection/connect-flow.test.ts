import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { REQUIRED_SCOPES } from '../../shared/entities.js';
import { paths } from '../../shared/firestore-paths.js';
import { startApiHarness, usersMapping, type ApiHarness } from '../api/api-harness.js';

let h: ApiHarness;
let owner: string;
let secondAdmin: string;
let viewer: string;

beforeAll(async () => {
  h = await startApiHarness();
  const adminB = await h.addUser('bea.admin@school.example');
  const viewerC = await h.addUser('carl.viewer@school.example');
  owner = await h.signIn(h.ws.adminEmail);
  secondAdmin = await h.signIn(adminB);
  viewer = await h.signIn(viewerC);
});
afterAll(async () => {
  await h?.close();
});
afterEach(() => {
  h.clock.offsetMs = 0;
});

let seq = 0;
/** A fresh pending tenant owned by the workspace admin, with bea as a second admin and carl as viewer. */
async function newTenant(): Promise<string> {
  const t = `flow-${++seq}`;
  await h.createTenant(t, h.ws.adminEmail);
  await h.addMember(t, 'bea.admin@school.example', 'admin');
  await h.addMember(t, 'carl.viewer@school.example', 'viewer');
  return t;
}

async function tenantDoc(t: string) {
  return (await h.db.doc(paths.tenant(t)).get()).data()!;
}

/** The rejected callback changed nothing but the state's own `usedAt`: no token stored, tenant untouched. */
async function expectNothingConnected(t: string, before: Record<string, unknown>) {
  expect(await tenantDoc(t)).toEqual(before);
  expect(await h.secrets.getRefreshToken(t)).toBeNull();
}

describe('connect round trip', () => {
  it('authorize -> Google consent -> callback stores the token in Secret Manager only, activates the tenant and starts the initial sync', async () => {
    const t = await newTenant();
    const people = await h.request('POST', `/api/tenants/${t}/mappings`, {
      token: owner,
      body: usersMapping(),
    });
    const ous = await h.request('POST', `/api/tenants/${t}/mappings`, {
      token: owner,
      body: {
        name: 'OUs',
        entity: 'orgunits',
        identifier: 'orgUnitId',
        target: { kind: 'collection', objectId: 'ous' },
        fieldMap: [{ source: 'name', target: 'name' }],
      },
    });
    await h.request('POST', `/api/tenants/${t}/mappings`, {
      token: owner,
      body: usersMapping({ name: 'Off', enabled: false, target: { kind: 'collection', objectId: 'off' } }),
    });
    await h.pullSyncMessages();

    const { authorizationUrl, cookie, state } = await h.authorize(t, owner);
    const auth = new URL(authorizationUrl);
    expect(`${auth.origin}${auth.pathname}`).toBe(`${h.simUrl}/o/oauth2/v2/auth`);
    const q = auth.searchParams;
    expect(q.get('access_type')).toBe('offline');
    expect(q.get('prompt')).toBe('consent');
    expect(q.get('include_granted_scopes')).toBe('false');
    expect(q.get('code_challenge_method')).toBe('S256');
    expect(q.get('code_challenge')).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(q.get('redirect_uri')).toBe(`${h.url}/oauth/callback`);
    expect(q.get('login_hint')).toBe(h.ws.adminEmail);
    const scopes = q.get('scope')!.split(' ');
    // Read-only Directory scopes, plus the sign-in scopes that name the authorizing account.
    expect(scopes.filter((s) => s.startsWith('https://'))).toEqual([...REQUIRED_SCOPES]);
    expect(scopes.filter((s) => !s.startsWith('https://')).sort()).toEqual(['email', 'openid']);
    expect(scopes.every((s) => !s.startsWith('https://') || s.endsWith('.readonly'))).toBe(true);

    // The state is bound server-side; the verifier never left the server.
    const stored = (await h.db.doc(`oauthStates/${state}`).get()).data()!;
    expect(stored).toMatchObject({
      purpose: 'connect',
      tenantId: t,
      adminEmail: h.ws.adminEmail,
      usedAt: null,
    });
    expect(authorizationUrl).not.toContain(stored.codeVerifier as string);
    expect(cookie).toMatch(new RegExp(`^__session=${t}\\.`));

    const back = await h.consent(authorizationUrl);
    const res = await h.callback(back, cookie);
    expect(res.status).toBe(302);
    expect(res.location).toBe(`http://console.test/?tenant=${t}&connected=1`);
    expect(res.setCookie).toMatch(/^__session=; Max-Age=0; Path=\/oauth\/callback; HttpOnly; SameSite=Lax/);

    const refreshToken = await h.secrets.getRefreshToken(t);
    expect(refreshToken).toMatch(/^1\/\//);
    const doc = await tenantDoc(t);
    expect(doc.status).toBe('active');
    expect(doc.connection).toMatchObject({
      state: 'connected',
      customerId: h.ws.customerId,
      domain: h.ws.domain,
      adminEmail: h.ws.adminEmail,
      scopes: [...REQUIRED_SCOPES],
      connectedBy: h.ws.adminEmail,
    });
    expect(Date.parse(doc.connection.connectedAt as string)).toBeGreaterThan(Date.now() - 60_000);

    // Never in Firestore: scan every document of the project.
    const all = await h.dump();
    for (const [path, json] of all) expect(json, path).not.toContain(refreshToken!);
    const used = (await h.db.doc(`oauthStates/${state}`).get()).data()!;
    expect(used.usedAt).not.toBeNull();
    expect(used.codeVerifier).toBeUndefined();

    const messages = await h.pullSyncMessages();
    expect(messages.map((m) => m.mappingId).sort()).toEqual([people.body.id, ous.body.id].sort());
    for (const m of messages) {
      expect(m).toEqual({
        kind: 'sync',
        tenantId: t,
        mappingId: m.mappingId,
        requestId: `initial:${state}:${m.mappingId}`,
        trigger: 'initial',
      });
    }
  });

  it('a replayed callback is rejected and leaves the connection as it was', async () => {
    const t = await newTenant();
    const { authorizationUrl, cookie } = await h.authorize(t, owner);
    const back = await h.consent(authorizationUrl);
    expect((await h.callback(back, cookie)).location).toContain('connected=1');
    const before = await tenantDoc(t);
    const token = await h.secrets.getRefreshToken(t);
    await h.pullSyncMessages();

    const again = new URL((await h.callback(back, cookie)).location);
    expect(again.searchParams.get('connectError')).toBe('state_replayed');
    expect(again.searchParams.get('tenant')).toBe(t);
    expect(again.searchParams.get('connectMessage')).toMatch(/already used/);
    expect(await tenantDoc(t)).toEqual(before);
    expect(await h.secrets.getRefreshToken(t)).toBe(token);
    expect(await h.pullSyncMessages()).toEqual([]);
  });

  it('reconnecting stores a new secret version and keeps only that one', async () => {
    const t = await newTenant();
    await h.connect(t, owner);
    const first = await h.secrets.getRefreshToken(t);
    await h.connect(t, owner);
    const second = await h.secrets.getRefreshToken(t);
    expect(second).not.toBe(first);
    expect((await tenantDoc(t)).status).toBe('active');
  });
});

describe('state validation', () => {
  it('rejects a forged (unknown) state without touching anything', async () => {
    const t = await newTenant();
    const { authorizationUrl, cookie } = await h.authorize(t, owner);
    const back = new URL(await h.consent(authorizationUrl));
    const before = await tenantDoc(t);
    for (const forged of ['A'.repeat(43), 'not-a-state', '']) {
      back.searchParams.set('state', forged);
      const res = new URL((await h.callback(back.toString(), cookie)).location);
      expect(res.searchParams.get('connectError')).toBe('invalid_state');
      expect(res.searchParams.get('connectMessage')).toMatch(/not valid/);
      expect(res.searchParams.has('tenant')).toBe(false);
    }
    back.searchParams.delete('state');
    expect(
      new URL((await h.callback(back.toString(), cookie)).location).searchParams.get('connectError'),
    ).toBe('invalid_state');
    await expectNothingConnected(t, before);
  });

  it('rejects an expired state (older than 10 minutes)', async () => {
    const t = await newTenant();
    const { authorizationUrl, cookie } = await h.authorize(t, owner);
    const back = await h.consent(authorizationUrl);
    const before = await tenantDoc(t);
    h.clock.offsetMs = 10 * 60_000 + 1000;
    const res = new URL((await h.callback(back, cookie)).location);
    expect(res.searchParams.get('connectError')).toBe('state_expired');
    expect(res.searchParams.get('connectMessage')).toMatch(/10 minutes/);
    h.clock.offsetMs = 0;
    await expectNothingConnected(t, before);
  });

  it("rejects another admin's state (their browser holds no binding for it)", async () => {
    const t = await newTenant();
    const ownersFlow = await h.authorize(t, owner);
    const beasFlow = await h.authorize(t, secondAdmin, 'bea.admin@school.example');
    const back = await h.consent(ownersFlow.authorizationUrl);
    const before = await tenantDoc(t);
    // Bea's browser follows the owner's link: her cookie binds her own state, not this one.
    const res = new URL((await h.callback(back, beasFlow.cookie)).location);
    expect(res.searchParams.get('connectError')).toBe('browser_mismatch');
    // Without any binding cookie (e.g. a link sent to a victim) it fails the same way.
    const other = await h.authorize(t, owner);
    const back2 = await h.consent(other.authorizationUrl);
    expect(new URL((await h.callback(back2)).location).searchParams.get('connectError')).toBe(
      'browser_mismatch',
    );
    await expectNothingConnected(t, before);
  });

  it('rejects a state of another tenant than the one this browser is connecting', async () => {
    const t1 = await newTenant();
    const t2 = await newTenant();
    const first = await h.authorize(t1, owner);
    const second = await h.authorize(t2, owner);
    const back = await h.consent(first.authorizationUrl);
    const before = await tenantDoc(t1);
    const res = new URL((await h.callback(back, second.cookie)).location);
    expect(res.searchParams.get('connectError')).toBe('tenant_mismatch');
    expect(res.searchParams.get('tenant')).toBe(t1);
    await expectNothingConnected(t1, before);
    expect((await tenantDoc(t2)).status).toBe('pending');
  });

  it('rejects the callback when the admin lost their role in the meantime', async () => {
    const t = await newTenant();
    const flow = await h.authorize(t, secondAdmin, 'bea.admin@school.example');
    await h.addMember(t, 'bea.admin@school.example', 'viewer');
    const before = await tenantDoc(t);
    const res = new URL((await h.callback(await h.consent(flow.authorizationUrl), flow.cookie)).location);
    expect(res.searchParams.get('connectError')).toBe('not_authorized');
    await expectNothingConnected(t, before);
  });

  it('only owners and admins of the tenant may start a connection', async () => {
    const t = await newTenant();
    const stranger = await h.signIn(await h.addUser('dora.stranger@school.example'));
    const before = await h.dump();
    const asViewer = await h.request('POST', `/api/tenants/${t}/connection/authorize`, {
      token: viewer,
      body: {},
    });
    expect(asViewer.status).toBe(403);
    expect(asViewer.body.error.code).toBe('permission_denied');
    const asStranger = await h.request('POST', `/api/tenants/${t}/connection/authorize`, {
      token: stranger,
      body: {},
    });
    expect(asStranger.status).toBe(404);
    const anonymous = await h.request('POST', `/api/tenants/${t}/connection/authorize`, { body: {} });
    expect(anonymous.status).toBe(401);
    const badHint = await h.request('POST', `/api/tenants/${t}/connection/authorize`, {
      token: owner,
      body: { loginHint: 'nope', extra: 1 },
    });
    expect(badHint.status).toBe(400);
    expect(badHint.body.error.details.map((d: { path: string }) => d.path).sort()).toEqual([
      'extra',
      'loginHint',
    ]);
    expect(await h.dump()).toEqual(before);
  });
});

describe('consent outcomes', () => {
  it('denied consent connects nothing and says so', async () => {
    const t = await newTenant();
    const flow = await h.authorize(t, owner);
    await h.control.setNextConsentDecision({ decision: 'deny' });
    const back = new URL(await h.consent(flow.authorizationUrl));
    expect(back.searchParams.get('error')).toBe('access_denied');
    const before = await tenantDoc(t);
    const res = new URL((await h.callback(back.toString(), flow.cookie)).location);
    expect(res.searchParams.get('connectError')).toBe('access_denied');
    expect(res.searchParams.get('connectMessage')).toMatch(/not granted/);
    await expectNothingConnected(t, before);
  });

  it('missing scopes: nothing stored, the grant is revoked at Google and the missing scopes are named', async () => {
    const t = await newTenant();
    const flow = await h.authorize(t, owner);
    await h.control.setNextConsentDecision({
      decision: 'approve',
      grantedScopes: [REQUIRED_SCOPES[0]!, REQUIRED_SCOPES[1]!],
    });
    const back = await h.consent(flow.authorizationUrl);
    const before = await tenantDoc(t);
    const revokesBefore = (await h.control.getStats()).byRoute['oauth.revoke']?.byStatus['200'] ?? 0;
    const res = new URL((await h.callback(back, flow.cookie)).location);
    expect(res.searchParams.get('connectError')).toBe('missing_scopes');
    expect(res.searchParams.get('missingScopes')!.split(' ')).toEqual([
      'admin.directory.device.chromeos.readonly',
      'admin.directory.device.mobile.readonly',
      'admin.directory.customer.readonly',
      'admin.directory.group.readonly',
    ]);
    await expectNothingConnected(t, before);
    expect((await h.control.getStats()).byRoute['oauth.revoke']?.byStatus['200']).toBe(revokesBefore + 1);
  });

  it('an admin of another Workspace organization cannot take over a connected tenant', async () => {
    const t = await newTenant();
    await h.connect(t, owner);
    const other = await h.control.createWorkspace({
      domain: 'other.example',
      seed: 3,
      users: 3,
      chromeos: 0,
      mobile: 0,
    });
    const before = await tenantDoc(t);
    const token = await h.secrets.getRefreshToken(t);
    const flow = await h.authorize(t, owner, other.adminEmail);
    const res = new URL((await h.callback(await h.consent(flow.authorizationUrl), flow.cookie)).location);
    expect(res.searchParams.get('connectError')).toBe('customer_mismatch');
    expect(await tenantDoc(t)).toEqual(before);
    expect(await h.secrets.getRefreshToken(t)).toBe(token);
  });
});

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEVICE_MANAGEMENT_SCOPES, REQUIRED_SCOPES } from '../../shared/entities.js';
import { paths } from '../../shared/firestore-paths.js';
import { runSync } from '../../functions/src/engine/engine.js';
import { ApiError } from '../../functions/src/api/api-error.js';
import { requireGoogleScopes } from '../../functions/src/sources/google/require-scopes.js';
import { DEFAULT_OAUTH_CLIENT } from '../../emulators/workspace-simulator/index.js';
import { startApiHarness, usersMapping, type ApiHarness } from '../api/api-harness.js';

let h: ApiHarness;
let owner: string;
let admin: string;
let viewer: string;

beforeAll(async () => {
  h = await startApiHarness();
  owner = await h.signIn(h.ws.adminEmail);
  admin = await h.signIn(await h.addUser('dana.admin@school.example'));
  viewer = await h.signIn(await h.addUser('vic.viewer@school.example'));
});
afterAll(async () => {
  await h?.close();
});

const WIDE = [...REQUIRED_SCOPES, ...DEVICE_MANAGEMENT_SCOPES];
const short = (s: string) => s.replace('https://www.googleapis.com/auth/', '');
const tenantDoc = async (t: string) => (await h.db.doc(paths.tenant(t)).get()).data()!;

let seq = 0;
/** A connected tenant (read-only) owned by the workspace admin, with an admin and a viewer, and a mapping. */
async function connectedTenant(): Promise<{ t: string; mappingId: string }> {
  const t = `dev-${++seq}`;
  await h.createTenant(t, h.ws.adminEmail);
  await h.addMember(t, 'dana.admin@school.example', 'admin');
  await h.addMember(t, 'vic.viewer@school.example', 'viewer');
  const mapping = await h.request('POST', `/api/tenants/${t}/mappings`, {
    token: owner,
    body: usersMapping(),
  });
  expect((await h.connect(t, owner)).searchParams.get('connected')).toBe('1');
  await h.pullSyncMessages();
  return { t, mappingId: mapping.body.id as string };
}

/** POST device-management, then Google's consent (optionally scripted), then the callback: the console URL. */
async function toggle(
  t: string,
  enabled: boolean,
  opts: { token?: string; script?: Parameters<typeof h.control.setNextConsentDecision>[0] } = {},
): Promise<{ url: URL; authorizationUrl: URL }> {
  const res = await h.request('POST', `/api/tenants/${t}/connection/device-management`, {
    token: opts.token ?? owner,
    body: { enabled },
  });
  expect(res.status, res.text).toBe(200);
  expect(Object.keys(res.body)).toEqual(['authorizationUrl']);
  const cookie = (res.headers.get('set-cookie') ?? '').split(';')[0]!;
  if (opts.script) await h.control.setNextConsentDecision(opts.script);
  const back = await h.consent(res.body.authorizationUrl as string);
  const cb = await h.callback(back, cookie);
  expect(cb.status).toBe(302);
  return { url: new URL(cb.location), authorizationUrl: new URL(res.body.authorizationUrl as string) };
}

/** What a sync does with the stored token: refresh it at Google; the scopes the fresh access token carries. */
async function refreshStored(t: string): Promise<{ status: number; scopes: string[]; error?: string }> {
  const token = await h.secrets.getRefreshToken(t);
  const res = await fetch(`${h.simUrl}/token`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({
      grant_type: 'refresh_token',
      refresh_token: token ?? 'none',
      client_id: DEFAULT_OAUTH_CLIENT.clientId,
      client_secret: DEFAULT_OAUTH_CLIENT.clientSecret,
    }).toString(),
  });
  const body = (await res.json()) as { scope?: string; error?: string };
  return {
    status: res.status,
    scopes: (body.scope ?? '').split(' ').filter(Boolean),
    ...(body.error ? { error: body.error } : {}),
  };
}

async function syncSucceeds(t: string, mappingId: string, requestId: string) {
  h.app.auth.forget(t);
  const outcome = await runSync(h.app.syncDeps(), {
    kind: 'sync',
    tenantId: t,
    mappingId,
    requestId,
    trigger: 'manual',
  });
  expect(outcome).toMatchObject({ status: 'completed' });
}

describe('turning device management on', () => {
  it('asks Google for the read-only plus device scopes incrementally; the callback stores the wider token and records the scopes', async () => {
    const { t, mappingId } = await connectedTenant();
    const before = await h.secrets.getRefreshToken(t);
    const { url, authorizationUrl } = await toggle(t, true, { token: admin });
    const q = authorizationUrl.searchParams;
    expect(q.get('include_granted_scopes')).toBe('true');
    expect(q.get('access_type')).toBe('offline');
    expect(q.get('prompt')).toBe('consent');
    expect(q.get('code_challenge_method')).toBe('S256');
    expect(q.get('login_hint')).toBe(h.ws.adminEmail);
    expect(
      q
        .get('scope')!
        .split(' ')
        .filter((s) => s.startsWith('https://')),
    ).toEqual(WIDE);
    expect(url.toString()).toBe(`http://console.test/?tenant=${t}&deviceManagement=on`);

    const after = await h.secrets.getRefreshToken(t);
    expect(after).not.toBe(before);
    expect((await refreshStored(t)).scopes.filter((s) => s.includes('admin.directory')).sort()).toEqual(
      [...WIDE].sort(),
    );
    const doc = await tenantDoc(t);
    expect(doc.status).toBe('active');
    expect(doc.connection.scopes).toEqual(WIDE);
    expect(doc.connection.deviceManagement).toMatchObject({
      enabled: true,
      enabledBy: 'dana.admin@school.example',
    });
    expect(Date.parse(doc.connection.deviceManagement.enabledAt as string)).toBeGreaterThan(
      Date.now() - 60_000,
    );

    const view = await h.request('GET', `/api/tenants/${t}`, { token: viewer });
    expect(view.body.connection).toMatchObject({ scopes: WIDE, deviceManagement: { enabled: true } });
    for (const [path, json] of await h.dump()) expect(json, path).not.toContain(after!);
    await syncSucceeds(t, mappingId, 'after-on');
  });

  it('a partial grant (a box unticked) switches nothing on and names the missing scope; the read-only connection keeps working', async () => {
    // Google's grant is per account and client, across our tenants: start from one without device scopes.
    await h.control.revokeGrants(h.ws.customerId);
    const { t, mappingId } = await connectedTenant();
    const before = await tenantDoc(t);
    const token = await h.secrets.getRefreshToken(t);
    const { url } = await toggle(t, true, {
      script: { decision: 'approve', grantedScopes: [...REQUIRED_SCOPES, DEVICE_MANAGEMENT_SCOPES[0]!] },
    });
    expect(url.searchParams.get('connectError')).toBe('missing_scopes');
    expect(url.searchParams.get('missingScopes')).toBe(short(DEVICE_MANAGEMENT_SCOPES[1]!));
    expect(await tenantDoc(t)).toEqual(before);
    expect(await h.secrets.getRefreshToken(t)).toBe(token);
    // The partial authorization was not revoked: it shares the grant with the live read-only token.
    expect((await refreshStored(t)).status).toBe(200);
    await syncSucceeds(t, mappingId, 'after-partial');
  });

  it('a denied consent changes nothing', async () => {
    const { t } = await connectedTenant();
    const before = await tenantDoc(t);
    const { url } = await toggle(t, true, { script: { decision: 'deny' } });
    expect(url.searchParams.get('connectError')).toBe('access_denied');
    expect(await tenantDoc(t)).toEqual(before);
  });

  it('a viewer gets 403, a tenant not yet connected 409, and an unknown body field 400', async () => {
    const { t } = await connectedTenant();
    const path = `/api/tenants/${t}/connection/device-management`;
    const denied = await h.request('POST', path, { token: viewer, body: { enabled: true } });
    expect(denied.status).toBe(403);
    expect(denied.body.error.code).toBe('permission_denied');
    expect((await h.request('POST', path, { token: owner, body: { enabled: true, x: 1 } })).status).toBe(400);
    expect((await h.request('POST', path, { token: owner, body: {} })).status).toBe(400);
    // Off while already read-only: nothing to narrow.
    const off = await h.request('POST', path, { token: owner, body: { enabled: false } });
    expect(off.status).toBe(409);
    await h.createTenant('dev-pending', h.ws.adminEmail);
    const pending = await h.request('POST', '/api/tenants/dev-pending/connection/device-management', {
      token: owner,
      body: { enabled: true },
    });
    expect(pending.status).toBe(409);
    expect(pending.body.error.code).toBe('failed_precondition');
  });
});

describe('turning device management off', () => {
  it('asks for a read-only consent, revokes the wider grant before exchanging the code, and ends read-only and able to sync', async () => {
    const { t, mappingId } = await connectedTenant();
    await toggle(t, true);
    const wide = await h.secrets.getRefreshToken(t);

    const { url, authorizationUrl } = await toggle(t, false);
    const q = authorizationUrl.searchParams;
    expect(q.get('include_granted_scopes')).toBe('false');
    expect(
      q
        .get('scope')!
        .split(' ')
        .filter((s) => s.startsWith('https://')),
    ).toEqual([...REQUIRED_SCOPES]);
    expect(url.toString()).toBe(`http://console.test/?tenant=${t}&deviceManagement=off`);

    // The wider grant is gone at Google...
    const old = await fetch(`${h.simUrl}/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({
        grant_type: 'refresh_token',
        refresh_token: wide!,
        client_id: DEFAULT_OAUTH_CLIENT.clientId,
        client_secret: DEFAULT_OAUTH_CLIENT.clientSecret,
      }).toString(),
    });
    expect(old.status).toBe(400);
    // ...and the new token, issued by the same Google account, survived that revocation and is read-only.
    const fresh = await refreshStored(t);
    expect(fresh.status).toBe(200);
    expect(fresh.scopes.filter((s) => s.includes('admin.directory')).sort()).toEqual(
      [...REQUIRED_SCOPES].sort(),
    );
    const doc = await tenantDoc(t);
    expect(doc.status).toBe('active');
    expect(doc.connection.scopes).toEqual([...REQUIRED_SCOPES]);
    expect(doc.connection.deviceManagement).toMatchObject({ enabled: false, disabledBy: h.ws.adminEmail });
    await syncSucceeds(t, mappingId, 'after-off');
    expect(() => requireGoogleScopes(doc, DEVICE_MANAGEMENT_SCOPES)).toThrow(ApiError);
  });

  it('a denied read-only consent leaves device management on and the wider token in place', async () => {
    const { t } = await connectedTenant();
    await toggle(t, true);
    const before = await tenantDoc(t);
    const wide = await h.secrets.getRefreshToken(t);
    const { url } = await toggle(t, false, { script: { decision: 'deny' } });
    expect(url.searchParams.get('connectError')).toBe('access_denied');
    expect(await tenantDoc(t)).toEqual(before);
    expect(await h.secrets.getRefreshToken(t)).toBe(wide);
    expect((await refreshStored(t)).status).toBe(200);
  });

  it('if the read-only consent is short a scope after the wider grant was revoked, the tenant holds nothing and needs reconnecting', async () => {
    const { t } = await connectedTenant();
    await toggle(t, true);
    const { url } = await toggle(t, false, {
      script: { decision: 'approve', grantedScopes: REQUIRED_SCOPES.slice(1) },
    });
    expect(url.searchParams.get('connectError')).toBe('narrowing_failed');
    expect(url.searchParams.get('missingScopes')).toBe(short(REQUIRED_SCOPES[0]!));
    const doc = await tenantDoc(t);
    expect(doc.status).toBe('needs_reauth');
    expect(doc.connection).toMatchObject({
      state: 'needs_reauth',
      scopes: [],
      deviceManagement: { enabled: false },
    });
    expect(await h.secrets.getRefreshToken(t)).toBeNull();
  });
});

describe('requireGoogleScopes', () => {
  const connected = (scopes: string[]) => ({ connection: { state: 'connected', scopes } });

  it('passes when every scope is held, and throws a 403 naming each missing scope otherwise', () => {
    expect(() => requireGoogleScopes(connected(WIDE), DEVICE_MANAGEMENT_SCOPES)).not.toThrow();
    let caught: unknown;
    try {
      requireGoogleScopes(
        connected([...REQUIRED_SCOPES, DEVICE_MANAGEMENT_SCOPES[0]!]),
        DEVICE_MANAGEMENT_SCOPES,
      );
    } catch (err) {
      caught = err;
    }
    expect(caught).toBeInstanceOf(ApiError);
    const err = caught as ApiError;
    expect(err.status).toBe(403);
    expect(err.toBody().error).toMatchObject({
      code: 'permission_denied',
      reason: 'missing_google_scopes',
      missingScopes: [short(DEVICE_MANAGEMENT_SCOPES[1]!)],
    });
    expect(err.message).toContain(short(DEVICE_MANAGEMENT_SCOPES[1]!));
    expect(err.message).not.toContain(short(DEVICE_MANAGEMENT_SCOPES[0]!));
  });

  it('a connection that is not connected holds no scope', () => {
    const revoked = { connection: { state: 'revoked', scopes: WIDE } };
    expect(() => requireGoogleScopes(revoked, DEVICE_MANAGEMENT_SCOPES)).toThrow(
      /device\.chromeos.*mobile\.action/,
    );
    expect(() => requireGoogleScopes({}, [REQUIRED_SCOPES[0]!])).toThrow(ApiError);
  });
});

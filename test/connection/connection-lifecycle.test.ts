import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { paths } from '../../shared/firestore-paths.js';
import { fanOutTick } from '../../functions/src/engine/fan-out.js';
import { runSync } from '../../functions/src/engine/engine.js';
import type { SyncMessage } from '../../functions/src/engine/messages.js';
import { DEFAULT_OAUTH_CLIENT } from '../../emulators/workspace-simulator/index.js';
import { startApiHarness, usersMapping, type ApiHarness } from '../api/api-harness.js';

let h: ApiHarness;
let owner: string;
let viewer: string;

beforeAll(async () => {
  h = await startApiHarness();
  owner = await h.signIn(h.ws.adminEmail);
  viewer = await h.signIn(await h.addUser('vic.viewer@school.example'));
});
afterAll(async () => {
  await h?.close();
});

const tenantDoc = async (t: string) => (await h.db.doc(paths.tenant(t)).get()).data()!;

/** Refreshing at Google's token endpoint: what a sync would do with the stored token. */
async function refreshAtGoogle(refreshToken: string): Promise<{ status: number; error?: string }> {
  const res = await fetch(`${h.simUrl}/token`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({
      grant_type: 'refresh_token',
      refresh_token: refreshToken,
      client_id: DEFAULT_OAUTH_CLIENT.clientId,
      client_secret: DEFAULT_OAUTH_CLIENT.clientSecret,
    }).toString(),
  });
  const body = (await res.json()) as { error?: string };
  return { status: res.status, ...(body.error ? { error: body.error } : {}) };
}

describe('test connection', () => {
  it('reports ok with the domain while the grant is alive, and needs re-authorization once Google revoked it', async () => {
    await h.createTenant('check', h.ws.adminEmail);
    const notYet = await h.request('POST', '/api/tenants/check/connection/test', { token: owner });
    expect(notYet.status).toBe(200);
    expect(notYet.body).toMatchObject({ ok: false, reason: 'Google Workspace is not connected' });

    await h.connect('check', owner);
    const ok = await h.request('POST', '/api/tenants/check/connection/test', { token: owner });
    expect(ok.status).toBe(200);
    expect(ok.body).toMatchObject({ ok: true, domain: h.ws.domain, customerId: h.ws.customerId });
    expect(Date.parse(ok.body.checkedAt)).toBeGreaterThan(Date.now() - 60_000);

    // The admin removes the app in Google's admin console.
    await h.control.revokeGrants(h.ws.customerId);
    const revoked = await h.request('POST', '/api/tenants/check/connection/test', { token: owner });
    expect(revoked.status).toBe(200);
    expect(revoked.body).toMatchObject({ ok: false, needsReauthorization: true });
    expect(revoked.body.reason).toMatch(/re-authorize/);
    const doc = await tenantDoc('check');
    expect(doc.status).toBe('needs_reauth');
    expect(doc.connection.state).toBe('needs_reauth');

    // Re-authorizing brings the tenant back.
    await h.connect('check', owner);
    expect((await tenantDoc('check')).status).toBe('active');
    expect((await h.request('POST', '/api/tenants/check/connection/test', { token: owner })).body.ok).toBe(
      true,
    );
  });

  it('viewers cannot run it (it may change the tenant status)', async () => {
    await h.addMember('check', 'vic.viewer@school.example', 'viewer');
    const before = await h.dump();
    const res = await h.request('POST', '/api/tenants/check/connection/test', { token: viewer });
    expect(res.status).toBe(403);
    expect(await h.dump()).toEqual(before);
  });
});

describe('revoke from our side', () => {
  it('revokes the grant at Google, destroys the secret, pauses the tenant and records who and when; syncs stop', async () => {
    await h.createTenant('gone', h.ws.adminEmail);
    await h.addMember('gone', 'vic.viewer@school.example', 'viewer');
    const mapping = await h.request('POST', '/api/tenants/gone/mappings', {
      token: owner,
      body: usersMapping(),
    });
    await h.connect('gone', owner);
    await h.pullSyncMessages();
    const refreshToken = (await h.secrets.getRefreshToken('gone'))!;
    expect((await refreshAtGoogle(refreshToken)).status).toBe(200);

    // A viewer cannot revoke, and the attempt changes nothing.
    const before = await h.dump();
    expect((await h.request('POST', '/api/tenants/gone/connection/revoke', { token: viewer })).status).toBe(
      403,
    );
    expect(await h.dump()).toEqual(before);

    const res = await h.request('POST', '/api/tenants/gone/connection/revoke', { token: owner });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({
      tenantId: 'gone',
      status: 'paused',
      googleGrant: 'revoked',
      connection: { state: 'revoked', revokedBy: h.ws.adminEmail },
    });

    expect(await refreshAtGoogle(refreshToken)).toEqual({ status: 400, error: 'invalid_grant' });
    expect(await h.secrets.getRefreshToken('gone')).toBeNull();
    const doc = await tenantDoc('gone');
    expect(doc.status).toBe('paused');
    expect(doc.connection).toMatchObject({
      state: 'revoked',
      revokedBy: h.ws.adminEmail,
      customerId: h.ws.customerId,
    });
    expect(Date.parse(doc.connection.revokedAt)).toBeGreaterThan(Date.now() - 60_000);

    // The scheduler's fan-out skips it, while another active tenant is still picked up.
    await h.createTenant('still-active', h.ws.adminEmail);
    await h.request('POST', '/api/tenants/still-active/mappings', { token: owner, body: usersMapping() });
    await h.db.doc(paths.tenant('still-active')).update({ status: 'active' });
    const published: SyncMessage[] = [];
    const deps = h.app.syncDeps();
    await fanOutTick(
      { ...deps, publishSync: async (m) => void published.push(m) },
      { kind: 'tick', job: 'ws-sync-tick' },
      'tick-1',
    );
    expect(published.map((m) => m.tenantId)).toEqual(['still-active']);
    await fanOutTick(
      { ...deps, publishSync: async (m) => void published.push(m) },
      { kind: 'tick', job: 'ws-sync-tick', tenantId: 'gone' },
      'tick-2',
    );
    expect(published).toHaveLength(1);

    // A sync message already queued for it is dropped.
    const outcome = await runSync(deps, {
      kind: 'sync',
      tenantId: 'gone',
      mappingId: mapping.body.id,
      requestId: 'queued-1',
      trigger: 'schedule',
    });
    expect(outcome).toEqual({ status: 'dropped', reason: 'tenant is paused' });

    // Revoking again is harmless; a sync-now request is refused while paused.
    const again = await h.request('POST', '/api/tenants/gone/connection/revoke', { token: owner });
    expect(again.status).toBe(200);
    expect(again.body.googleGrant).toBe('none');
    const syncNow = await h.request('POST', '/api/tenants/gone/sync', { token: owner });
    expect(syncNow.status).toBe(409);
    expect(syncNow.body.error).toMatchObject({ code: 'failed_precondition', status: 'paused' });
    expect(await h.pullSyncMessages()).toEqual([]);

    // Connecting again resumes.
    await h.connect('gone', owner);
    expect((await tenantDoc('gone')).status).toBe('active');
    expect((await tenantDoc('gone')).connection.revokedAt).toBeUndefined();
  });
});

import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import {
  checkCredentialHealthOnTick,
  HEALTH_CHECK_INTERVAL_MS,
} from '../../functions/src/connection/credential-health.js';
import { REQUIRED_SCOPES } from '../../shared/entities.js';
import { paths } from '../../shared/firestore-paths.js';
import { startApiHarness, type ApiHarness } from '../api/api-harness.js';

/**
 * Credential health: the periodic check (a fresh token and one users.get of the authorizing admin) finds a
 * credential that stopped working before the next sync does, marks the tenant, shows it in GET /api/tenants/:t,
 * and calls onCredentialHealthChanged (which logs, and notifies a turn to failing: notifications.test.ts) on every
 * transition.
 */

let h: ApiHarness;
let owner: string;

beforeAll(async () => {
  h = await startApiHarness();
  owner = await h.signIn(h.ws.adminEmail);
});
afterAll(async () => {
  await h?.close();
});
afterEach(() => {
  h.clock.offsetMs = 0;
});

const tenantDoc = async (t: string) => (await h.db.doc(paths.tenant(t)).get()).data()!;
const tick = () => checkCredentialHealthOnTick(h.app, { kind: 'tick', job: 'sync-tick' });
const hookLines = (t: string) =>
  h.logLines.filter(
    (l) =>
      l.includes('credential') && l.includes(`"tenantId":"${t}"`) && /health changed|stopped working/.test(l),
  );

async function connectedTenant(t: string, adminEmail: string): Promise<void> {
  await h.control.addUser(h.ws.customerId, {
    primaryEmail: adminEmail,
    givenName: 'Health',
    familyName: 'Admin',
    isAdmin: true,
  });
  await h.createTenant(t, h.ws.adminEmail);
  const back = await h.connect(t, owner, adminEmail);
  expect(back.searchParams.get('connected'), back.toString()).toBe('1');
}

describe('credential health', () => {
  it('detects a suspended authorizing admin at the next tick, before any sync: tenant marked, health shown, hook called', async () => {
    const t = 'health-suspended';
    const erin = 'erin.it@school.example';
    await connectedTenant(t, erin);

    await tick();
    const first = await h.request('GET', `/api/tenants/${t}`, { token: owner });
    expect(first.body.credentialHealth).toMatchObject({
      state: 'healthy',
      mode: 'service_client',
      admin: { email: erin, status: 'active' },
    });
    expect(first.body.googleAuthMode).toBe('service_client');
    expect(hookLines(t)).toHaveLength(1);

    // Not due again within the interval: a second tick checks nothing.
    const checkedAt = first.body.credentialHealth.checkedAt as string;
    await tick();
    expect((await tenantDoc(t)).credentialHealth.checkedAt).toBe(checkedAt);

    await h.control.suspendUser(h.ws.customerId, erin);
    h.clock.offsetMs = HEALTH_CHECK_INTERVAL_MS + 60_000;
    await tick();
    // Back to now: the console's ID token would be expired on the moved clock.
    h.clock.offsetMs = 0;
    const after = await h.request('GET', `/api/tenants/${t}`, { token: owner });
    expect(after.body.status).toBe('needs_reauth');
    expect(after.body.credentialHealth).toMatchObject({ state: 'failing', admin: { email: erin } });
    expect(after.body.credentialHealth.reason).toContain(erin);
    expect(after.body.credentialHealth.reason).toContain('suspended');
    expect(after.body.credentialHealth.lastHealthyAt).toBe(checkedAt);
    const lines = hookLines(t);
    expect(lines).toHaveLength(2);
    expect(lines[1]).toContain('Google credential stopped working');
    expect(lines[1]).toContain('"to":"failing"');
  });

  it('an admin who is no longer an admin: failing with the status named, tenant left as it is', async () => {
    const t = 'health-demoted';
    const finn = 'finn.it@school.example';
    await connectedTenant(t, finn);
    const ok = await h.request('POST', `/api/tenants/${t}/connection/health-check`, { token: owner });
    expect(ok.body.health).toMatchObject({ state: 'healthy', admin: { status: 'active' } });

    await h.control.updateUser(h.ws.customerId, finn, { isAdmin: false });
    const res = await h.request('POST', `/api/tenants/${t}/connection/health-check`, { token: owner });
    expect(res.status, res.text).toBe(200);
    expect(res.body.health).toMatchObject({ state: 'failing', admin: { email: finn, status: 'not_admin' } });
    expect(res.body.health.reason).toContain('no longer a Google Workspace administrator');
    expect((await tenantDoc(t)).status).toBe('active');
    expect(hookLines(t).at(-1)).toContain('"adminStatus":"not_admin"');

    // Made admin again: healthy, and that transition is reported too.
    await h.control.updateUser(h.ws.customerId, finn, { isAdmin: true });
    const back = await h.request('POST', `/api/tenants/${t}/connection/health-check`, { token: owner });
    expect(back.body.health).toMatchObject({ state: 'healthy', failingSince: null });
    expect(hookLines(t).at(-1)).toContain('"to":"healthy"');
  });

  it('a service account whose delegation was removed, or whose admin is suspended, is failing and stops syncs', async () => {
    const t = 'health-sa';
    const gus = 'gus.it@school.example';
    await h.control.addUser(h.ws.customerId, {
      primaryEmail: gus,
      givenName: 'Gus',
      familyName: 'It',
      isAdmin: true,
    });
    const { clientId } = await h.control.createServiceAccount({
      clientEmail: 'health@district.iam.gserviceaccount.com',
    });
    const key = await h.control.createServiceAccountKey('health@district.iam.gserviceaccount.com');
    await h.control.setDomainWideDelegation(h.ws.customerId, { clientId, scopes: [...REQUIRED_SCOPES] });
    await h.createTenant(t, h.ws.adminEmail);
    const res = await h.request('POST', `/api/tenants/${t}/connection/service-account`, {
      token: owner,
      body: { key, subject: gus },
    });
    expect(res.status, res.text).toBe(200);
    const healthy = await h.request('POST', `/api/tenants/${t}/connection/health-check`, { token: owner });
    expect(healthy.body.health).toMatchObject({
      state: 'healthy',
      mode: 'service_account',
      admin: { email: gus },
    });

    await h.control.setDomainWideDelegation(h.ws.customerId, { clientId, scopes: [] });
    const refused = await h.request('POST', `/api/tenants/${t}/connection/health-check`, { token: owner });
    expect(refused.body.health.state).toBe('failing');
    expect(refused.body.health.reason).toContain('unauthorized_client');
    expect((await tenantDoc(t)).status).toBe('needs_reauth');

    // Delegation restored and the connection re-tested... then the impersonated admin is suspended.
    await h.control.setDomainWideDelegation(h.ws.customerId, { clientId, scopes: [...REQUIRED_SCOPES] });
    const again = await h.request('POST', `/api/tenants/${t}/connection/service-account`, {
      token: owner,
      body: { key, subject: gus },
    });
    expect(again.status, again.text).toBe(200);
    await h.control.suspendUser(h.ws.customerId, gus);
    const suspended = await h.request('POST', `/api/tenants/${t}/connection/health-check`, { token: owner });
    expect(suspended.body.health.state).toBe('failing');
    expect(suspended.body.health.reason).toContain('Invalid email or User ID');
    expect((await tenantDoc(t)).status).toBe('needs_reauth');
  });
});

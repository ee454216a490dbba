import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ServiceAccountKeyFile } from '../../emulators/workspace-simulator/index.js';
import { REQUIRED_SCOPES } from '../../shared/entities.js';
import { paths } from '../../shared/firestore-paths.js';
import { startApiHarness, usersMapping, type ApiHarness } from '../api/api-harness.js';

/**
 * Connection mode 3: a service account with domain-wide delegation impersonating a named admin. The key is
 * tried against the simulator's JWT-bearer grant before anything is stored; Google's refusals come back as
 * errors naming what to fix; the key lives in Secret Manager only and can be rotated.
 */

let h: ApiHarness;
let owner: string;
const SA_EMAIL = 'workspace-sync@district-project.iam.gserviceaccount.com';
let saClientId: string;

beforeAll(async () => {
  h = await startApiHarness();
  owner = await h.signIn(h.ws.adminEmail);
  saClientId = (await h.control.createServiceAccount({ clientEmail: SA_EMAIL })).clientId;
});
afterAll(async () => {
  await h?.close();
});

let seq = 0;
async function newTenant(): Promise<string> {
  const t = `sa-${++seq}`;
  await h.createTenant(t, h.ws.adminEmail);
  return t;
}

const tenantDoc = async (t: string) => (await h.db.doc(paths.tenant(t)).get()).data()!;
const connect = (t: string, key: unknown, subject = h.ws.adminEmail, token = owner) =>
  h.request('POST', `/api/tenants/${t}/connection/service-account`, { token, body: { key, subject } });
const delegate = (scopes: readonly string[]) =>
  h.control.setDomainWideDelegation(h.ws.customerId, { clientId: saClientId, scopes: [...scopes] });

describe('service account + domain-wide delegation', () => {
  let key: ServiceAccountKeyFile;
  beforeAll(async () => {
    key = await h.control.createServiceAccountKey(SA_EMAIL);
  });

  it('without a delegation entry: unauthorized_client, naming the client id, every scope and the Admin console page', async () => {
    await delegate([]);
    const t = await newTenant();
    const res = await connect(t, key);
    expect(res.status, res.text).toBe(400);
    expect(res.body.error).toMatchObject({
      reason: 'delegation_missing_scopes',
      googleError: 'unauthorized_client',
      clientId: saClientId,
    });
    expect(res.body.error.missingScopes).toHaveLength(REQUIRED_SCOPES.length);
    expect(res.body.error.message).toContain('Manage Domain Wide Delegation');
    expect(res.body.error.message).toContain(saClientId);
    expect(res.text).not.toContain('PRIVATE KEY');
    expect(await h.secrets.getRefreshToken(t, 'google_sa')).toBeNull();
    expect((await tenantDoc(t)).status).toBe('pending');
  });

  it('a delegation lacking one scope names exactly that scope', async () => {
    const chromeos = 'https://www.googleapis.com/auth/admin.directory.device.chromeos.readonly';
    await delegate(REQUIRED_SCOPES.filter((s) => s !== chromeos));
    const t = await newTenant();
    const res = await connect(t, key);
    expect(res.status, res.text).toBe(400);
    expect(res.body.error.missingScopes).toEqual(['admin.directory.device.chromeos.readonly']);
  });

  it('an admin Google cannot impersonate is invalid_grant, and the message says to name an active admin', async () => {
    await delegate(REQUIRED_SCOPES);
    const t = await newTenant();
    const res = await connect(t, key, `nobody@${h.ws.domain}`);
    expect(res.status, res.text).toBe(400);
    expect(res.body.error.reason).toBe('invalid_subject');
    expect(res.body.error.message).toContain('Invalid email or User ID');
  });

  it('an impersonated user who is no admin cannot read the directory', async () => {
    await delegate(REQUIRED_SCOPES);
    const plain = await h.addUser('hal.teacher@school.example');
    const t = await newTenant();
    const res = await connect(t, key, plain);
    expect(res.status, res.text).toBe(400);
    expect(res.body.error.reason).toBe('not_workspace_admin');
  });

  it('a key that is not a service account key file is a 400 without echoing it', async () => {
    const t = await newTenant();
    const res = await connect(t, { ...key, type: 'authorized_user' });
    expect(res.status).toBe(400);
    expect(res.text).not.toContain('PRIVATE KEY');
    const text = await connect(t, 'not json at all');
    expect(text.status).toBe(400);
  });

  it('connects, syncs with the key, keeps it in Secret Manager only; rotation and revocation', async () => {
    await delegate(REQUIRED_SCOPES);
    const t = await newTenant();
    await h.request('POST', `/api/tenants/${t}/mappings`, { token: owner, body: usersMapping() });
    await h.pullSyncMessages();

    // The key as the file's text, the way an upload sends it.
    const res = await connect(t, JSON.stringify(key));
    expect(res.status, res.text).toBe(200);
    expect(res.body).toMatchObject({
      mode: 'service_account',
      customerId: h.ws.customerId,
      clientEmail: SA_EMAIL,
      clientId: saClientId,
      keyId: key.private_key_id,
      subject: h.ws.adminEmail,
      initialSyncs: 1,
    });
    expect(res.text).not.toContain('PRIVATE KEY');
    expect(await tenantDoc(t)).toMatchObject({
      status: 'active',
      connection: { state: 'connected', adminEmail: h.ws.adminEmail, customerId: h.ws.customerId },
      googleAuth: {
        mode: 'service_account',
        serviceAccount: { keyId: key.private_key_id, source: 'uploaded' },
      },
    });
    expect(await h.secrets.getRefreshToken(t, 'google_sa')).toContain(key.private_key.trim().split('\n')[1]);
    expect((await h.pullSyncMessages()).map((m) => m.trigger)).toEqual(['initial']);

    // Syncs read through the key: the connection test lists what the admin can read.
    const test = await h.request('POST', `/api/tenants/${t}/connection/test`, { token: owner });
    expect(test.body, test.text).toMatchObject({ ok: true });
    expect(
      Object.values(test.body.access as Record<string, { permitted: boolean }>).every((a) => a.permitted),
    ).toBe(true);
    const settings = await h.request('GET', `/api/tenants/${t}/connection`, { token: owner });
    expect(settings.body).toMatchObject({
      mode: 'service_account',
      serviceAccount: { clientEmail: SA_EMAIL, clientId: saClientId, subject: h.ws.adminEmail },
    });
    expect(settings.body.delegationScopes).toEqual([...REQUIRED_SCOPES]);
    for (const [path, json] of await h.dump()) expect(json.includes('PRIVATE KEY'), path).toBe(false);

    // Rotation: a new key, then the old one deleted in the Cloud console; syncs go on with the new one.
    const newKey = await h.control.createServiceAccountKey(SA_EMAIL);
    const rotated = await connect(t, newKey);
    expect(rotated.status, rotated.text).toBe(200);
    expect(rotated.body).toMatchObject({ keyId: newKey.private_key_id, initialSyncs: 0 });
    await h.control.deleteServiceAccountKey(SA_EMAIL, key.private_key_id);
    h.app.auth.forget(t);
    const afterRotation = await h.request('POST', `/api/tenants/${t}/connection/test`, { token: owner });
    expect(afterRotation.body).toMatchObject({ ok: true });
    expect(await h.secrets.getRefreshToken(t, 'google_sa')).toContain(newKey.private_key_id);
    // The deleted key is refused by Google with a message saying to add a new key.
    const stale = await connect(t, key);
    expect(stale.status).toBe(400);
    expect(stale.body.error.reason).toBe('invalid_key');
    expect(stale.body.error.message).toContain('Invalid JWT Signature');

    // Revoking destroys the key; the tenant is paused.
    const revoked = await h.request('POST', `/api/tenants/${t}/connection/revoke`, { token: owner });
    expect(revoked.status, revoked.text).toBe(200);
    expect(await h.secrets.getRefreshToken(t, 'google_sa')).toBeNull();
    expect(await tenantDoc(t)).toMatchObject({ status: 'paused', googleAuth: { mode: 'service_client' } });
  });

  it('the host product may provision the key through its signed API; switching from OAuth revokes the old grant', async () => {
    await delegate(REQUIRED_SCOPES);
    const t = await newTenant();
    await h.connect(t, owner);
    const oauthToken = (await h.secrets.getRefreshToken(t))!;
    const hostKey = await h.control.createServiceAccountKey(SA_EMAIL);
    const res = await h.hostRequest('POST', `/api/tenants/${t}/connection/service-account`, {
      key: hostKey,
      subject: h.ws.adminEmail,
    });
    expect(res.status, res.text).toBe(200);
    expect((await tenantDoc(t)).googleAuth.serviceAccount.source).toBe('host');
    expect(await h.secrets.getRefreshToken(t)).toBeNull();
    const refresh = await fetch(`${h.simUrl}/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({
        grant_type: 'refresh_token',
        refresh_token: oauthToken,
        client_id: 'workspace-sync-local.apps.googleusercontent.com',
        client_secret: 'local-client-secret',
      }).toString(),
    });
    expect(((await refresh.json()) as { error?: string }).error).toBe('invalid_grant');
  });
});

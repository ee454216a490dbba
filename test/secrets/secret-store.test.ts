import { inspect } from 'node:util';
import { status } from '@grpc/grpc-js';
import type { SecretManagerServiceClient } from '@google-cloud/secret-manager';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { startSecretManagerEmulator } from '../../emulators/secret-manager/index.js';
import {
  SecretManagerSecretStore,
  SecretStoreError,
  createSecretManagerClient,
  createSecretStoreFromEnv,
  secretIdForTenant,
} from '../../functions/src/secrets/index.js';

const PROJECT = 'demo-workspace-sync';

let emulator: Awaited<ReturnType<typeof startSecretManagerEmulator>>;
let client: SecretManagerServiceClient;
let store: SecretManagerSecretStore;
let seq = 0;

/** Each test gets its own tenant so tests stay independent while sharing one emulator. */
const newTenant = () => `tenant-${++seq}`;
const secretName = (tenantId: string, provider: 'google' | 'entra' = 'google') =>
  `projects/${PROJECT}/secrets/${secretIdForTenant(tenantId, provider)}`;

beforeAll(async () => {
  emulator = await startSecretManagerEmulator({ port: 0 });
  client = createSecretManagerClient({ projectId: PROJECT, emulatorHost: emulator.host });
  store = new SecretManagerSecretStore({ projectId: PROJECT, client });
});

afterAll(async () => {
  await store.close();
  await emulator.close();
});

async function versionStates(tenantId: string): Promise<Record<string, string>> {
  const states: Record<string, string> = {};
  for await (const v of client.listSecretVersionsAsync(
    { parent: secretName(tenantId) },
    { autoPaginate: false },
  )) {
    states[v.name?.split('/').at(-1) ?? ''] = String(v.state);
  }
  return states;
}

async function caught(promise: Promise<unknown>): Promise<SecretStoreError> {
  const err: unknown = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(SecretStoreError);
  return err as SecretStoreError;
}

function expectNoLeak(err: Error, token: string): void {
  expect(err.message).not.toContain(token);
  expect(err.stack ?? '').not.toContain(token);
  expect(inspect(err, { depth: 10 })).not.toContain(token);
  expect(JSON.stringify(err)).not.toContain(token);
  expect(err.cause).toBeUndefined();
}

describe('secretIdForTenant', () => {
  it('derives a valid, provider-specific secret id', () => {
    expect(secretIdForTenant('acme-01')).toBe('ws-tenant-acme-01-google-refresh');
    expect(secretIdForTenant('acme-01', 'entra')).toBe('ws-tenant-acme-01-entra-refresh');
    expect(secretIdForTenant('a'.repeat(40))).toMatch(/^[A-Za-z0-9_-]{1,255}$/);
  });

  it.each(['', 'Acme', 'acme_01', 'a'.repeat(41), 'a/b', '../etc', 'acme 01', 'ácme'])(
    'rejects tenant id %j',
    (tenantId) => {
      expect(() => secretIdForTenant(tenantId)).toThrow(SecretStoreError);
      expect(() => secretIdForTenant(tenantId)).toThrow(/Invalid tenant id/);
    },
  );

  it('rejects unknown providers at runtime', () => {
    expect(() => secretIdForTenant('acme', 'okta' as 'google')).toThrow(/Invalid identity provider/);
  });
});

describe('SecretManagerSecretStore against the emulator', () => {
  it('returns null before anything was stored', async () => {
    expect(await store.getRefreshToken(newTenant())).toBeNull();
  });

  it('stores a token and reads it back, creating a labelled secret with automatic replication', async () => {
    const tenant = newTenant();
    expect(await store.putRefreshToken(tenant, '1//refresh-token-a')).toEqual({ version: '1' });
    expect(await store.getRefreshToken(tenant)).toBe('1//refresh-token-a');

    const [secret] = await client.getSecret({ name: secretName(tenant) });
    expect(secret.labels).toEqual({ app: 'workspace-sync', tenant, provider: 'google' });
    expect(secret.replication?.automatic).toBeDefined();
  });

  it('returns the newest token after a second put and destroys the old version', async () => {
    const tenant = newTenant();
    await store.putRefreshToken(tenant, 'first-token');
    expect(await store.putRefreshToken(tenant, 'second-token')).toEqual({ version: '2' });

    expect(await store.getRefreshToken(tenant)).toBe('second-token');
    expect(await versionStates(tenant)).toEqual({ '2': 'ENABLED', '1': 'DESTROYED' });
    await expect(
      client.accessSecretVersion({ name: `${secretName(tenant)}/versions/1` }),
    ).rejects.toMatchObject({
      code: status.FAILED_PRECONDITION,
    });
  });

  it('falls back to the newest enabled version when latest is disabled', async () => {
    const tenant = newTenant();
    await store.putRefreshToken(tenant, 'good-token');
    const [newer] = await client.addSecretVersion({
      parent: secretName(tenant),
      payload: { data: Buffer.from('not-yet-live') },
    });
    await client.disableSecretVersion({ name: newer.name ?? '' });
    expect(await store.getRefreshToken(tenant)).toBe('good-token');
  });

  it('destroys every version on revocation, then reads null, idempotently', async () => {
    const tenant = newTenant();
    await store.putRefreshToken(tenant, 'revoked-token');
    await store.destroyRefreshToken(tenant);
    expect(await store.getRefreshToken(tenant)).toBeNull();
    expect(await versionStates(tenant)).toEqual({ '1': 'DESTROYED' });

    await expect(store.destroyRefreshToken(tenant)).resolves.toBeUndefined();
    await expect(store.destroyRefreshToken(newTenant())).resolves.toBeUndefined();

    expect(await store.putRefreshToken(tenant, 'reconnected-token')).toEqual({ version: '2' });
    expect(await store.getRefreshToken(tenant)).toBe('reconnected-token');
  });

  it('keeps tenants and providers isolated', async () => {
    const [a, b] = [newTenant(), newTenant()];
    await store.putRefreshToken(a, 'token-a');
    await store.putRefreshToken(b, 'token-b');
    await store.putRefreshToken(a, 'token-a-entra', 'entra');

    expect(await store.getRefreshToken(a)).toBe('token-a');
    expect(await store.getRefreshToken(b)).toBe('token-b');
    expect(await store.getRefreshToken(a, 'entra')).toBe('token-a-entra');
    expect(await store.getRefreshToken(b, 'entra')).toBeNull();

    await store.destroyRefreshToken(a);
    expect(await store.getRefreshToken(a)).toBeNull();
    expect(await store.getRefreshToken(a, 'entra')).toBe('token-a-entra');
    expect(await store.getRefreshToken(b)).toBe('token-b');
  });

  it('survives concurrent first puts for the same tenant', async () => {
    const tenant = newTenant();
    await Promise.all([store.putRefreshToken(tenant, 'racer-1'), store.putRefreshToken(tenant, 'racer-2')]);
    expect(['racer-1', 'racer-2']).toContain(await store.getRefreshToken(tenant));
    expect(Object.values(await versionStates(tenant)).filter((s) => s === 'ENABLED')).toHaveLength(1);
  });

  it('round-trips non-ASCII tokens', async () => {
    const tenant = newTenant();
    await store.putRefreshToken(tenant, 'tökèn-✓');
    expect(await store.getRefreshToken(tenant)).toBe('tökèn-✓');
  });

  it('rejects invalid tenant ids before calling Secret Manager', async () => {
    const spy = vi.spyOn(client, 'addSecretVersion');
    try {
      for (const tenantId of ['', 'UPPER', 'x'.repeat(41), 'a/b']) {
        const err = await caught(store.putRefreshToken(tenantId, 'token'));
        expect(err.code).toBe('INVALID_TENANT_ID');
        expect((await caught(store.getRefreshToken(tenantId))).code).toBe('INVALID_TENANT_ID');
        expect((await caught(store.destroyRefreshToken(tenantId))).code).toBe('INVALID_TENANT_ID');
      }
      expect(spy).not.toHaveBeenCalled();
    } finally {
      spy.mockRestore();
    }
  });
});

describe('SecretStore errors never carry the token', () => {
  const token = '1//0gSECRET-refresh-token-value-xyz';

  it('wraps a Secret Manager failure into a safe SecretStoreError', async () => {
    // The emulator rejects this project id, so the failure comes back through the real client.
    const badProjectStore = new SecretManagerSecretStore({ projectId: 'Not_A_Project', client });
    const err = await caught(badProjectStore.putRefreshToken(newTenant(), token));
    expect(err.code).toBe('INVALID_ARGUMENT');
    expect(err.details.grpcCode).toBe(status.INVALID_ARGUMENT);
    expect(err.message).toMatch(/createSecret failed for ws-tenant-.*-google-refresh \(INVALID_ARGUMENT\)/);
    expectNoLeak(err, token);
  });

  it('redacts the token if a server error were to echo it', async () => {
    const echo = Object.assign(new Error(`3 INVALID_ARGUMENT: rejected payload ${token}`), {
      code: status.INVALID_ARGUMENT,
      details: `rejected payload ${token}`,
    });
    const spy = vi.spyOn(client, 'addSecretVersion').mockRejectedValue(echo);
    try {
      const err = await caught(store.putRefreshToken(newTenant(), token));
      expect(err.message).toContain('rejected payload [REDACTED]');
      expectNoLeak(err, token);
    } finally {
      spy.mockRestore();
    }
  });

  it('does not echo a token passed where the tenant id belongs', async () => {
    const err = await caught(store.putRefreshToken(token, 'acme'));
    expect(err.code).toBe('INVALID_TENANT_ID');
    expectNoLeak(err, token);
  });

  it('rejects oversized and empty tokens without quoting them', async () => {
    const huge = `${token}${'x'.repeat(64 * 1024)}`;
    const err = await caught(store.putRefreshToken(newTenant(), huge));
    expect(err.code).toBe('INVALID_TOKEN');
    expectNoLeak(err, token);
    expect((await caught(store.putRefreshToken(newTenant(), ''))).code).toBe('INVALID_TOKEN');
  });

  it('maps an unreachable Secret Manager to a retryable UNAVAILABLE error', async () => {
    const closed = await startSecretManagerEmulator({ port: 0 });
    await closed.close();
    const offline = new SecretManagerSecretStore({
      projectId: PROJECT,
      client: createSecretManagerClient({ projectId: PROJECT, emulatorHost: closed.host }),
    });
    try {
      const err = await caught(offline.putRefreshToken(newTenant(), token));
      expect(err.code).toBe('UNAVAILABLE');
      expect(err.retryable).toBe(true);
      expectNoLeak(err, token);
    } finally {
      await offline.close();
    }
  });
});

describe('createSecretStoreFromEnv', () => {
  it('uses the emulator named by SECRET_MANAGER_EMULATOR_HOST', async () => {
    const fromEnv = createSecretStoreFromEnv({
      GOOGLE_CLOUD_PROJECT: PROJECT,
      SECRET_MANAGER_EMULATOR_HOST: emulator.host,
    });
    try {
      const tenant = newTenant();
      await fromEnv.putRefreshToken(tenant, 'env-token');
      expect(await store.getRefreshToken(tenant)).toBe('env-token');
    } finally {
      await fromEnv.close();
    }
  });

  it.each([
    [{}, /GOOGLE_CLOUD_PROJECT/],
    [{ GOOGLE_CLOUD_PROJECT: 'Bad Project' }, /GOOGLE_CLOUD_PROJECT/],
    [{ GOOGLE_CLOUD_PROJECT: PROJECT, SECRET_MANAGER_EMULATOR_HOST: 'localhost' }, /host:port/],
  ])('rejects invalid configuration %j', (env, message) => {
    let thrown: unknown;
    try {
      createSecretStoreFromEnv(env);
    } catch (err) {
      thrown = err;
    }
    expect(thrown).toBeInstanceOf(SecretStoreError);
    expect((thrown as SecretStoreError).code).toBe('INVALID_CONFIGURATION');
    expect((thrown as SecretStoreError).message).toMatch(message);
  });

  it('treats an empty SECRET_MANAGER_EMULATOR_HOST as unset', () => {
    const fromEnv = createSecretStoreFromEnv({
      GOOGLE_CLOUD_PROJECT: PROJECT,
      SECRET_MANAGER_EMULATOR_HOST: '',
    });
    expect(fromEnv).toBeInstanceOf(SecretManagerSecretStore);
  });
});

import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { status } from '@grpc/grpc-js';
import type { SecretManagerServiceClient } from '@google-cloud/secret-manager';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSecretManagerEmulator } from '../../emulators/secret-manager/index.js';
import { crc32c as emulatorCrc32c } from '../../emulators/secret-manager/crc32c.js';
import { crc32c } from '../../functions/src/secrets/crc32c.js';
import { createSecretManagerClient } from '../../functions/src/secrets/index.js';

const PROJECT = 'demo-workspace-sync';
const PARENT = `projects/${PROJECT}`;

let emulator: Awaited<ReturnType<typeof startSecretManagerEmulator>>;
let client: SecretManagerServiceClient;
let seq = 0;

beforeAll(async () => {
  emulator = await startSecretManagerEmulator({ port: 0 });
  client = createSecretManagerClient({ projectId: PROJECT, emulatorHost: emulator.host });
});

afterAll(async () => {
  await client.close();
  await emulator.close();
});

async function newSecret(labels: Record<string, string> = {}, parent = PARENT): Promise<string> {
  const [secret] = await client.createSecret({
    parent,
    secretId: `it-secret-${++seq}`,
    secret: { replication: { automatic: {} }, labels },
  });
  return secret.name ?? '';
}

async function addVersion(parent: string, text: string): Promise<string> {
  const [version] = await client.addSecretVersion({ parent, payload: { data: Buffer.from(text) } });
  return version.name ?? '';
}

async function readText(name: string): Promise<string> {
  const [response] = await client.accessSecretVersion({ name });
  return Buffer.from(response.payload?.data ?? '').toString();
}

describe('Secret Manager emulator through the real client', () => {
  it('never asks google-auth-library for credentials', async () => {
    const auth = client.auth as unknown as { getClient: () => Promise<unknown> };
    const original = auth.getClient;
    let calls = 0;
    auth.getClient = () => {
      calls++;
      return original.call(auth);
    };
    try {
      await client.listSecrets({ parent: PARENT, pageSize: 1 }, { autoPaginate: false });
    } finally {
      auth.getClient = original;
    }
    expect(calls).toBe(0);
  });

  it('creates a secret with labels, replication, create_time and etag', async () => {
    const name = await newSecret({ app: 'workspace-sync' });
    const [secret] = await client.getSecret({ name });
    expect(secret.name).toBe(name);
    expect(secret.labels).toEqual({ app: 'workspace-sync' });
    expect(secret.replication?.automatic).toBeDefined();
    expect(Number(secret.createTime?.seconds)).toBeGreaterThan(1_600_000_000);
    expect(secret.etag).toMatch(/^"[0-9a-f]+"$/);
  });

  it('adds versions, resolves latest and returns data_crc32c on access', async () => {
    const parent = await newSecret();
    expect(await addVersion(parent, 'one')).toBe(`${parent}/versions/1`);
    expect(await addVersion(parent, 'two')).toBe(`${parent}/versions/2`);

    const [latest] = await client.accessSecretVersion({ name: `${parent}/versions/latest` });
    expect(latest.name).toBe(`${parent}/versions/2`);
    const data = Buffer.from(latest.payload?.data ?? '');
    expect(data.toString()).toBe('two');
    expect(Number(latest.payload?.dataCrc32c)).toBe(crc32c(data));
    expect(await readText(`${parent}/versions/1`)).toBe('one');

    const [version] = await client.getSecretVersion({ name: `${parent}/versions/latest` });
    expect(version).toMatchObject({ name: `${parent}/versions/2`, state: 'ENABLED' });
  });

  it('disables, re-enables and destroys versions with state, etag and destroy_time', async () => {
    const parent = await newSecret();
    const name = await addVersion(parent, 'value');
    const [before] = await client.getSecretVersion({ name });

    const [disabled] = await client.disableSecretVersion({ name });
    expect(disabled.state).toBe('DISABLED');
    expect(disabled.etag).not.toBe(before.etag);
    await expect(client.accessSecretVersion({ name })).rejects.toMatchObject({
      code: status.FAILED_PRECONDITION,
      details: `Secret Version [${name}] is in DISABLED state.`,
    });

    const [enabled] = await client.enableSecretVersion({ name });
    expect(enabled.state).toBe('ENABLED');
    expect(await readText(name)).toBe('value');

    const [destroyed] = await client.destroySecretVersion({ name });
    expect(destroyed.state).toBe('DESTROYED');
    expect(Number(destroyed.destroyTime?.seconds)).toBeGreaterThan(0);
    await expect(client.accessSecretVersion({ name })).rejects.toMatchObject({
      code: status.FAILED_PRECONDITION,
      details: `Secret Version [${name}] is in DESTROYED state.`,
    });
    await expect(client.enableSecretVersion({ name })).rejects.toMatchObject({
      code: status.FAILED_PRECONDITION,
    });
    await expect(client.destroySecretVersion({ name })).rejects.toMatchObject({
      code: status.FAILED_PRECONDITION,
    });
  });

  it('points latest at the newest version even when it is disabled', async () => {
    const parent = await newSecret();
    await addVersion(parent, 'old');
    const newest = await addVersion(parent, 'new');
    await client.disableSecretVersion({ name: newest });
    await expect(client.accessSecretVersion({ name: `${parent}/versions/latest` })).rejects.toMatchObject({
      code: status.FAILED_PRECONDITION,
    });
  });

  it('rejects a stale etag with ABORTED', async () => {
    const parent = await newSecret();
    const name = await addVersion(parent, 'value');
    const [version] = await client.getSecretVersion({ name });
    await client.disableSecretVersion({ name, etag: version.etag ?? '' });
    await expect(client.enableSecretVersion({ name, etag: version.etag ?? '' })).rejects.toMatchObject({
      code: status.ABORTED,
    });
  });

  it('answers NOT_FOUND for missing secrets and versions', async () => {
    const missing = `${PARENT}/secrets/does-not-exist`;
    await expect(client.getSecret({ name: missing })).rejects.toMatchObject({
      code: status.NOT_FOUND,
      details: `Secret [${missing}] not found.`,
    });
    await expect(client.accessSecretVersion({ name: `${missing}/versions/latest` })).rejects.toMatchObject({
      code: status.NOT_FOUND,
      details: `Secret [${missing}] not found or has no versions.`,
    });
    const parent = await newSecret();
    await expect(client.accessSecretVersion({ name: `${parent}/versions/latest` })).rejects.toMatchObject({
      code: status.NOT_FOUND,
    });
    await expect(client.getSecretVersion({ name: `${parent}/versions/7` })).rejects.toMatchObject({
      code: status.NOT_FOUND,
      details: `Secret Version [${parent}/versions/7] not found.`,
    });
    await expect(
      client.addSecretVersion({ parent: missing, payload: { data: Buffer.from('x') } }),
    ).rejects.toMatchObject({ code: status.NOT_FOUND });
  });

  it('answers ALREADY_EXISTS for a duplicate secret and NOT_FOUND after deletion', async () => {
    const name = await newSecret();
    const secretId = name.split('/').at(-1);
    await expect(
      client.createSecret({ parent: PARENT, secretId, secret: { replication: { automatic: {} } } }),
    ).rejects.toMatchObject({ code: status.ALREADY_EXISTS, details: `Secret [${name}] already exists.` });

    await addVersion(name, 'gone soon');
    await client.deleteSecret({ name });
    await expect(client.getSecret({ name })).rejects.toMatchObject({ code: status.NOT_FOUND });
    await expect(client.deleteSecret({ name })).rejects.toMatchObject({ code: status.NOT_FOUND });
  });

  it('rejects bad names, bad ids, missing replication and invalid labels with INVALID_ARGUMENT', async () => {
    const invalid = { code: status.INVALID_ARGUMENT };
    await expect(client.getSecret({ name: 'secrets/nope' })).rejects.toMatchObject(invalid);
    await expect(
      client.accessSecretVersion({ name: `${PARENT}/secrets/x/versions/abc` }),
    ).rejects.toMatchObject(invalid);
    await expect(
      client.createSecret({
        parent: PARENT,
        secretId: 'has space',
        secret: { replication: { automatic: {} } },
      }),
    ).rejects.toMatchObject(invalid);
    await expect(
      client.createSecret({ parent: PARENT, secretId: 'no-replication', secret: {} }),
    ).rejects.toMatchObject(invalid);
    await expect(
      client.createSecret({
        parent: PARENT,
        secretId: 'bad-label',
        secret: { replication: { automatic: {} }, labels: { Upper: 'x' } },
      }),
    ).rejects.toMatchObject(invalid);
  });

  it('enforces the 64 KiB payload limit', async () => {
    const parent = await newSecret();
    const limit = 64 * 1024;
    await expect(
      client.addSecretVersion({ parent, payload: { data: Buffer.alloc(limit, 'a') } }),
    ).resolves.toBeDefined();
    await expect(
      client.addSecretVersion({ parent, payload: { data: Buffer.alloc(limit + 1, 'a') } }),
    ).rejects.toMatchObject({ code: status.INVALID_ARGUMENT });
    await expect(
      client.addSecretVersion({ parent, payload: { data: Buffer.alloc(0) } }),
    ).rejects.toMatchObject({
      code: status.INVALID_ARGUMENT,
    });
  });

  it('checks data_crc32c when the client provides it', async () => {
    const parent = await newSecret();
    const data = Buffer.from('checksummed');
    const [version] = await client.addSecretVersion({ parent, payload: { data, dataCrc32c: crc32c(data) } });
    expect(version.clientSpecifiedPayloadChecksum).toBe(true);
    await expect(
      client.addSecretVersion({ parent, payload: { data, dataCrc32c: (crc32c(data) + 1) % 2 ** 32 } }),
    ).rejects.toMatchObject({ code: status.INVALID_ARGUMENT });
  });

  it('pages through secrets by name and filters by label', async () => {
    const parent = 'projects/paging-project';
    for (let i = 0; i < 5; i++) await newSecret({ batch: i % 2 === 0 ? 'even' : 'odd' }, parent);

    const names: string[] = [];
    let pageToken: string | undefined;
    let pages = 0;
    do {
      const [secrets, , response] = await client.listSecrets(
        { parent, pageSize: 2, pageToken },
        { autoPaginate: false },
      );
      expect(secrets.length).toBeLessThanOrEqual(2);
      expect(response?.totalSize).toBe(5);
      names.push(...secrets.map((s) => s.name ?? ''));
      pageToken = response?.nextPageToken || undefined;
      pages++;
    } while (pageToken);
    expect(pages).toBe(3);
    expect(names).toEqual([...names].sort());
    expect(new Set(names).size).toBe(5);

    const even: string[] = [];
    for await (const secret of client.listSecretsAsync(
      { parent, filter: 'labels.batch=even' },
      { autoPaginate: false },
    )) {
      even.push(secret.name ?? '');
    }
    expect(even).toHaveLength(3);
  });

  it('pages through versions newest first and filters by state', async () => {
    const parent = await newSecret();
    for (let i = 1; i <= 5; i++) await addVersion(parent, `v${i}`);
    await client.disableSecretVersion({ name: `${parent}/versions/3` });

    const [firstPage, next] = await client.listSecretVersions(
      { parent, pageSize: 2 },
      { autoPaginate: false },
    );
    expect(firstPage.map((v) => v.name)).toEqual([`${parent}/versions/5`, `${parent}/versions/4`]);
    expect(next?.pageToken).toBeTruthy();

    const all: string[] = [];
    for await (const version of client.listSecretVersionsAsync(
      { parent, pageSize: 2 },
      { autoPaginate: false },
    ))
      all.push(version.name ?? '');
    expect(all.map((n) => n.split('/').at(-1))).toEqual(['5', '4', '3', '2', '1']);

    const [enabled] = await client.listSecretVersions({ parent, filter: 'state:ENABLED' });
    expect(enabled.map((v) => v.name?.split('/').at(-1))).toEqual(['5', '4', '2', '1']);

    await expect(
      client.listSecretVersions({ parent, pageToken: 'not-a-token' }, { autoPaginate: false }),
    ).rejects.toMatchObject({ code: status.INVALID_ARGUMENT });
  });

  it('answers UNIMPLEMENTED for RPCs it does not emulate', async () => {
    const name = await newSecret();
    await expect(
      client.updateSecret({ secret: { name, labels: { a: 'b' } }, updateMask: { paths: ['labels'] } }),
    ).rejects.toMatchObject({ code: status.UNIMPLEMENTED });
    await expect(client.getIamPolicy({ resource: name })).rejects.toMatchObject({
      code: status.UNIMPLEMENTED,
    });
  });
});

describe('CRC32C', () => {
  it('matches the Castagnoli check value in both the client and the emulator', () => {
    const check = Buffer.from('123456789');
    expect(crc32c(check)).toBe(0xe3069283);
    expect(emulatorCrc32c(check)).toBe(0xe3069283);
    expect(crc32c(new Uint8Array())).toBe(0);
  });
});

describe('emulator CLI', () => {
  it('prints SECRET_MANAGER_EMULATOR_HOST and serves on that port', async () => {
    const cli = fileURLToPath(new URL('../../emulators/secret-manager/cli.ts', import.meta.url));
    const child = spawn(process.execPath, ['--import', 'tsx', cli, '--port', '0'], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    try {
      const lines = createInterface({ input: child.stdout });
      const [line] = (await once(lines, 'line')) as [string];
      expect(line).toMatch(/^SECRET_MANAGER_EMULATOR_HOST=127\.0\.0\.1:\d+$/);
      const cliClient = createSecretManagerClient({
        projectId: PROJECT,
        emulatorHost: line.split('=')[1] ?? '',
      });
      const [secrets] = await cliClient.listSecrets({ parent: PARENT });
      expect(secrets).toEqual([]);
      await cliClient.close();
    } finally {
      child.kill('SIGTERM');
      await once(child, 'exit');
    }
  });
});

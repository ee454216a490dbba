import { afterAll, beforeAll, expect, it, vi } from 'vitest';
import { startSecretManagerEmulator } from '../../emulators/secret-manager/index.js';
import { SecretManagerSecretStore, createSecretManagerClient } from '../../functions/src/secrets/index.js';

// Its own file (hence its own worker): google-logging-utils reads GOOGLE_SDK_NODE_LOGGING once and
// caches its backend process-wide, which would make the other suites noisy.
const PROJECT = 'demo-workspace-sync';
const TOKEN = '1//0gLOGGED-refresh-token';
const tokenBytes = JSON.stringify([...Buffer.from(TOKEN)]).slice(1, -1);

let emulator: Awaited<ReturnType<typeof startSecretManagerEmulator>>;
const previous = process.env.GOOGLE_SDK_NODE_LOGGING;

beforeAll(async () => {
  process.env.GOOGLE_SDK_NODE_LOGGING = 'secret-manager';
  emulator = await startSecretManagerEmulator({ port: 0 });
});

afterAll(async () => {
  if (previous === undefined) delete process.env.GOOGLE_SDK_NODE_LOGGING;
  else process.env.GOOGLE_SDK_NODE_LOGGING = previous;
  await emulator.close();
});

function loggedText(spy: { mock: { calls: unknown[][] } }): string {
  return spy.mock.calls.map((args) => args.map(String).join(' ')).join('\n');
}

it('keeps the client library debug log from printing refresh tokens', async () => {
  const consoleError = vi.spyOn(console, 'error').mockImplementation(() => undefined);
  const rawClient = createSecretManagerClient({ projectId: PROJECT, emulatorHost: emulator.host });
  const storeClient = createSecretManagerClient({ projectId: PROJECT, emulatorHost: emulator.host });
  const store = new SecretManagerSecretStore({ projectId: PROJECT, client: storeClient });
  try {
    // Control: an unmuted client does log payload bytes, so the assertion below can fail.
    await rawClient.createSecret({
      parent: `projects/${PROJECT}`,
      secretId: 'control',
      secret: { replication: { automatic: {} } },
    });
    await rawClient.addSecretVersion({
      parent: `projects/${PROJECT}/secrets/control`,
      payload: { data: Buffer.from(TOKEN) },
    });
    expect(loggedText(consoleError)).toContain(tokenBytes);
    consoleError.mockClear();

    await store.putRefreshToken('acme', TOKEN);
    expect(await store.getRefreshToken('acme')).toBe(TOKEN);
    const logged = loggedText(consoleError);
    expect(logged).not.toContain(tokenBytes);
    expect(logged).not.toContain(TOKEN);
  } finally {
    await rawClient.close();
    await store.close();
    consoleError.mockRestore();
  }
});

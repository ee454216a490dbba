import { execFileSync } from 'node:child_process';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { describe, expect, it } from 'vitest';
import { ENTRY_POINTS } from '../../functions/src/entries/entry-points.js';

/**
 * What a cold instance of each function imports before its first request (see bench/cold-start.ts for the
 * cost). Each entry is imported in a fresh node process with a loader hook (test/support/import-recorder.mjs)
 * that records every resolved module (and the CommonJS module cache); the heavy clients must appear only once
 * something uses them.
 */
const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const src = (p: string) => pathToFileURL(`${ROOT}functions/src/${p}`).href;

const PACKAGES = {
  googleapis: '/node_modules/googleapis/',
  directoryClient: '/node_modules/@googleapis/admin/',
  pubsub: '/node_modules/@google-cloud/pubsub/',
  secretManager: '/node_modules/@google-cloud/secret-manager/',
  firestore: '/node_modules/@google-cloud/firestore/',
} as const;

interface Loaded {
  atImport: string[];
  afterUse: string[];
}

/** Imports the entry, records, then uses the lazy clients the way a request would, and records again. */
function importGraph(entry: string, env: Record<string, string> = {}): Loaded {
  const script = `
    // ESM resolutions from the hook, plus CommonJS modules loaded by require (app.ts loads Pub/Sub that way),
    // which in Node 20 bypass the hooks but all land in the one CommonJS module cache.
    const { createRequire } = await import('node:module');
    const cjsCache = createRequire(import.meta.url).cache;
    const record = async () => [...(await globalThis.__importedSoFar()), ...Object.keys(cjsCache)];
    await import(${JSON.stringify(src(entry.endsWith('.ts') ? entry : `entries/${entry}.ts`))});
    const atImport = await record();
    const { createApp } = await import(${JSON.stringify(src('app.ts'))});
    const { loadConfig } = await import(${JSON.stringify(src('platform/config.ts'))});
    const { directoryClient } = await import(${JSON.stringify(src('sources/google/directory-client.ts'))});
    const { newOAuthClient } = await import(${JSON.stringify(src('sources/google/workspace-auth.ts'))});
    const config = loadConfig({ GOOGLE_CLOUD_PROJECT: 'demo-imports' });
    // Nothing here connects: clients are built, never called.
    const app = createApp({ config });
    app.pubsub;
    await directoryClient(config, newOAuthClient(config));
    await import(${JSON.stringify(src('secrets/secret-store-from-env.ts'))});
    const afterUse = await record();
    process.stdout.write(JSON.stringify({ atImport, afterUse }));
    process.exit(0);
  `;
  const out = execFileSync(
    process.execPath,
    [
      '--import',
      'tsx',
      '--import',
      './test/support/import-recorder.mjs',
      '--input-type=module',
      '-e',
      script,
    ],
    { cwd: ROOT, encoding: 'utf8', env: { ...process.env, METADATA_SERVER_DETECTION: 'none', ...env } },
  );
  return JSON.parse(out) as Loaded;
}

const has = (urls: string[], part: string) => urls.some((u) => u.includes(part));

describe('the import graph of each function entry', () => {
  it.each(Object.keys(ENTRY_POINTS))(
    '%s loads Firestore but no Directory, Pub/Sub or Secret Manager client until one is used',
    (entry) => {
      const { atImport, afterUse } = importGraph(entry);
      // The recorder sees the entry's own modules and Firestore, which every function uses at once.
      expect(has(atImport, src(`entries/${entry}.ts`))).toBe(true);
      expect(has(atImport, PACKAGES.firestore)).toBe(true);
      for (const heavy of ['googleapis', 'directoryClient', 'pubsub', 'secretManager'] as const) {
        expect(has(atImport, PACKAGES[heavy]), `${heavy} at import`).toBe(false);
      }
      // ...and does see them once used, so their absence above is not the recorder missing them.
      for (const lazy of ['directoryClient', 'pubsub', 'secretManager'] as const) {
        expect(has(afterUse, PACKAGES[lazy]), `${lazy} after use`).toBe(true);
      }
      expect(has(afterUse, PACKAGES.googleapis)).toBe(false);
    },
  );

  it('api loads neither the sync engine nor the Pub/Sub handlers', () => {
    const { atImport } = importGraph('api');
    expect(has(atImport, src('api/api-handler.ts'))).toBe(true);
    expect(has(atImport, src('engine/engine.ts'))).toBe(false);
    expect(has(atImport, src('engine/record-sink.ts'))).toBe(false);
    expect(has(atImport, src('pubsub-handlers.ts'))).toBe(false);
  });

  it('syncEntity does load the engine (the check above can tell)', () => {
    const { atImport } = importGraph('syncEntity');
    expect(has(atImport, src('engine/engine.ts'))).toBe(true);
  });

  it("the package's main registers only the function FUNCTION_TARGET names, and all of them without one", () => {
    const only = importGraph('main.ts', { FUNCTION_TARGET: 'api' });
    expect(has(only.atImport, src('entries/api.ts'))).toBe(true);
    for (const other of ['tick', 'syncEntity', 'deadLetter']) {
      expect(has(only.atImport, src(`entries/${other}.ts`)), other).toBe(false);
    }
    const all = importGraph('main.ts', { FUNCTION_TARGET: '' });
    for (const entry of Object.keys(ENTRY_POINTS))
      expect(has(all.atImport, src(`entries/${entry}.ts`))).toBe(true);
  });
});

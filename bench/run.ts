import { spawn } from 'node:child_process';
import { performance } from 'node:perf_hooks';
import { Firestore } from '@google-cloud/firestore';
import { startEmulators } from '../emulators/launcher/launcher.js';
import { startSecretManagerEmulator } from '../emulators/secret-manager/index.js';
import { SimulatorControl } from '../emulators/workspace-simulator/index.js';
import { createApp } from '../functions/src/app.js';
import { GoogleDirectoryLister } from '../functions/src/sources/google/directory-lister.js';
import { loadConfig } from '../functions/src/platform/config.js';
import { createLogger, setLogSink } from '../functions/src/platform/log.js';
import { createSecretStore } from '../functions/src/secrets/index.js';
import { readMapping } from '../functions/src/store/mappings.js';
import { runSync, type SyncOutcome } from '../functions/src/engine/engine.js';
import { paths } from '../shared/firestore-paths.js';
import { mappingInputSchema } from '../shared/mapping.js';
import { authorizeAgainstSimulator } from '../test/support/google-oauth.js';
import { naiveSync } from './naive-baseline.js';

/**
 * `npm run bench`: one tenant with BENCH_USERS users (default 100,000) and BENCH_CHROMEOS Chromebooks (50,000)
 * in the Workspace simulator (its own process, so its memory is not counted), synced into the Firestore
 * emulator. Prints records/s, Firestore reads/writes per sync and peak memory, and compares with a naive
 * read-everything design run in the same process on the same data.
 */
const USERS = Number(process.env.BENCH_USERS ?? 100_000);
const CHROMEOS = Number(process.env.BENCH_CHROMEOS ?? 50_000);

process.env.METADATA_SERVER_DETECTION = 'none';
setLogSink(() => {}, 'ERROR');

let peakRss = 0;
const sampler = setInterval(() => (peakRss = Math.max(peakRss, process.memoryUsage().rss)), 50);

function startSimulatorProcess(): Promise<{ url: string; stop: () => void }> {
  return new Promise((resolve, reject) => {
    const child = spawn(
      process.execPath,
      ['--import', 'tsx', 'emulators/workspace-simulator/cli.ts', '--port', '0'],
      {
        stdio: ['ignore', 'pipe', 'inherit'],
      },
    );
    let out = '';
    child.stdout.on('data', (b: Buffer) => {
      out += b.toString();
      const m = /(http:\/\/127\.0\.0\.1:\d+)/.exec(out);
      if (m) resolve({ url: m[1]!, stop: () => child.kill('SIGTERM') });
    });
    child.once('exit', (code) => reject(new Error(`simulator exited (${code}): ${out}`)));
  });
}

const emulators = await startEmulators({ ports: 'auto' });
Object.assign(process.env, emulators.env);
const sim = await startSimulatorProcess();
const secretsEmu = await startSecretManagerEmulator({ port: 0 });
const projectId = 'demo-bench';
const config = loadConfig({
  GOOGLE_CLOUD_PROJECT: projectId,
  WORKSPACE_ENDPOINT: sim.url,
  SYNC_TENANT_QPM: '100000',
  SECRET_MANAGER_EMULATOR_HOST: secretsEmu.host,
});
const db = new Firestore({ projectId });
const secrets = createSecretStore(config.secrets);
const app = createApp({ config, db, secrets, log: createLogger() });
const tenantId = 'bench';

try {
  const control = new SimulatorControl(sim.url);
  const t0 = performance.now();
  const ws = await control.createWorkspace({
    domain: 'bench.example',
    seed: 1,
    users: USERS,
    chromeos: CHROMEOS,
    mobile: 10,
  });
  console.log(
    `seeded ${USERS} users + ${CHROMEOS} Chromebooks in ${((performance.now() - t0) / 1000).toFixed(1)} s`,
  );
  const { refreshToken } = await authorizeAgainstSimulator(config, ws.adminEmail);
  await secrets.putRefreshToken(tenantId, refreshToken);
  await db.doc(paths.tenant(tenantId)).set({ name: 'Bench', status: 'active' });
  const mappings = {
    people: {
      name: 'People',
      entity: 'users',
      identifier: 'primaryEmail',
      target: { kind: 'collection', objectId: 'staff' },
      fieldMap: [
        { source: 'primaryEmail', target: 'email' },
        { source: 'name.givenName', target: 'firstName' },
        { source: 'name.familyName', target: 'lastName' },
        { source: 'orgUnitPath', target: 'orgUnit' },
      ],
    },
    chromebooks: {
      name: 'Chromebooks',
      entity: 'chromeos',
      identifier: 'deviceId',
      target: { kind: 'collection', objectId: 'chromebooks' },
      fieldMap: [
        { source: 'serialNumber', target: 'serial' },
        { source: 'annotatedAssetId', target: 'assetTag' },
        { source: 'model', target: 'model' },
        { source: 'orgUnitPath', target: 'location' },
      ],
    },
  };
  for (const [id, m] of Object.entries(mappings)) {
    await db.doc(paths.mapping(tenantId, id)).set({ ...mappingInputSchema.parse(m), version: 1 });
  }

  const rows: string[][] = [];
  let seq = 0;
  const measure = async (label: string, mappingId: string) => {
    peakRss = process.memoryUsage().rss;
    const start = performance.now();
    const out: SyncOutcome = await runSync(app.syncDeps(), {
      kind: 'sync',
      tenantId,
      mappingId,
      requestId: `bench-${++seq}`,
      trigger: 'manual',
    });
    const secs = (performance.now() - start) / 1000;
    if (out.status !== 'completed') throw new Error(`${label}: ${JSON.stringify(out)}`);
    const n = out.counts.seen;
    rows.push([
      label,
      String(n),
      (n / secs).toFixed(0),
      secs.toFixed(1),
      String(out.meter.reads),
      String(out.meter.recordWrites),
      String(out.meter.bookkeepingWrites),
      (peakRss / 2 ** 20).toFixed(0),
    ]);
  };
  const measureNaive = async (label: string, mappingId: string, prefix = 'naive') => {
    const mapping = (await readMapping(db, tenantId, mappingId))!;
    const lister = new GoogleDirectoryLister(config, await app.auth.clientFor(tenantId));
    peakRss = process.memoryUsage().rss;
    const start = performance.now();
    const r = await naiveSync(db, tenantId, mapping, lister, prefix);
    const secs = (performance.now() - start) / 1000;
    const n = mappingId === 'people' ? USERS : CHROMEOS;
    rows.push([
      label,
      String(n),
      (n / secs).toFixed(0),
      secs.toFixed(1),
      String(r.reads),
      String(r.writes),
      '0',
      (peakRss / 2 ** 20).toFixed(0),
    ]);
  };

  // Warm the emulator's JVM first, so neither design pays for a cold start in its figures.
  await measureNaive('warm-up (not compared)', 'chromebooks', 'warmup');
  rows.pop();

  for (const id of ['people', 'chromebooks'] as const) {
    await measure(`${id}: first sync`, id);
    await measure(`${id}: re-sync, no changes`, id);
    await measureNaive(`${id}: BASELINE first sync (read-compare-write)`, id);
    await measureNaive(`${id}: BASELINE re-sync, no changes`, id);
  }
  // 1 % of users change between passes.
  const changed = Math.max(1, Math.floor(USERS / 100));
  await control.bulkRenameUsers(changed, ws.customerId);
  await measure('people: re-sync after changes', 'people');

  const header = [
    'sync',
    'records',
    'records/s',
    'seconds',
    'FS reads',
    'record writes',
    'bookkeeping writes',
    'peak RSS MiB',
  ];
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (r: string[]) =>
    r.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ');
  console.log(`\n${line(header)}\n${widths.map((w) => '-'.repeat(w)).join('  ')}`);
  for (const r of rows) console.log(line(r));
  console.log(
    `\nFirestore: ${emulators.mode} emulator on this machine (2 cores); Directory API: simulator in its own process.`,
  );
} finally {
  clearInterval(sampler);
  await db.terminate();
  await app.pubsub.close();
  sim.stop();
  await secretsEmu.close();
  await emulators.stop();
}

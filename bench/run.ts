import { spawn } from 'node:child_process';
import { performance } from 'node:perf_hooks';
import { Firestore } from '@google-cloud/firestore';
import { startEmulators } from '../emulators/launcher/launcher.js';
import { startSecretManagerEmulator } from '../emulators/secret-manager/index.js';
import { SimulatorControl, type StatsSnapshot } from '../emulators/workspace-simulator/index.js';
import { createApp, type App } from '../functions/src/app.js';
import { GoogleDirectoryLister } from '../functions/src/sources/google/directory-lister.js';
import { loadConfig } from '../functions/src/platform/config.js';
import { createLogger, setLogSink } from '../functions/src/platform/log.js';
import { createSecretStore } from '../functions/src/secrets/index.js';
import { readMapping } from '../functions/src/store/mappings.js';
import { runSync, type SyncOutcome } from '../functions/src/engine/engine.js';
import { paths } from '../shared/firestore-paths.js';
import { mappingInputSchema } from '../shared/mapping.js';
import { authorizeAgainstSimulator } from '../test/support/google-oauth.js';
import { buildDist, functionEntries, measureColdStart, type ColdStart } from './cold-start.js';
import { measurePushLatency, type PushLatency } from './push-latency.js';
import { measureFanOut, seedFanOutTenants, type FanOutMeasurement } from './fan-out.js';
import { naiveSync } from './naive-baseline.js';

/**
 * `npm run bench`: how the sync behaves against what limits it in production, in parts (README "Benchmark"):
 *   latency   one tenant with BENCH_USERS users and BENCH_CHROMEOS Chromebooks; every Directory request waits a
 *             seeded draw from BENCH_LATENCY_MS; the tenant request budget at its production default. Wall time
 *             against the sum of the delays applied and against the quota bound, the naive baseline in the same
 *             run, identical records and no removal.
 *   memory    BENCH_MEMORY_USERS users, no latency: peak RSS of a first sync.
 *   fan-out   BENCH_FANOUT_TENANTS tenants x 4 mappings: one tick, its shards through the tick topic, until
 *             every sync message is on a subscription of the sync topic.
 *   push      BENCH_PUSH_CHANGES users changed one after another (default 60; 0 skips): change in the simulator
 *             -> notification -> receiver -> incremental pass -> record, under the latency model; p50/p99.
 *   cold      import time and RSS of each deployed function's built entry (BENCH_COLDSTART=0 skips).
 * The simulator runs in its own process, so its memory is not counted. The last line is `bench-summary: {json}`.
 */
const int = (name: string, def: number) => {
  const v = Number(process.env[name] ?? def);
  if (!Number.isInteger(v) || v < 0)
    throw new Error(`${name} must be a whole number, got ${process.env[name]}`);
  return v;
};
const USERS = int('BENCH_USERS', 20_000);
const CHROMEOS = int('BENCH_CHROMEOS', 6_000);
const MEMORY_USERS = int('BENCH_MEMORY_USERS', 100_000);
const FANOUT_TENANTS = int('BENCH_FANOUT_TENANTS', 1_000);
const PUSH_CHANGES = int('BENCH_PUSH_CHANGES', 60);
const COLD_START = process.env.BENCH_COLDSTART !== '0';
const SKIP_BUILD = process.env.BENCH_SKIP_BUILD === '1';
const LATENCY_SEED = 2026;

/** `min-max` (ms), one number for a fixed delay, or 0 for none. */
function parseLatency(text: string): { minMs: number; maxMs: number } | null {
  const m = /^\s*(\d+)\s*(?:-\s*(\d+)\s*)?$/.exec(text);
  if (!m) throw new Error(`BENCH_LATENCY_MS must be min-max, a number, or 0; got ${text}`);
  const minMs = Number(m[1]);
  const maxMs = m[2] === undefined ? minMs : Number(m[2]);
  if (maxMs < minMs) throw new Error(`BENCH_LATENCY_MS: ${maxMs} is below ${minMs}`);
  return maxMs === 0 ? null : { minMs, maxMs };
}
const LATENCY = parseLatency(process.env.BENCH_LATENCY_MS ?? '300-900');
const LATENCY_DIST = process.env.BENCH_LATENCY_DIST === 'logNormal' ? 'logNormal' : 'uniform';

process.env.METADATA_SERVER_DETECTION = 'none';
setLogSink(() => {}, 'ERROR');
const ROOT = process.cwd();
const MiB = (bytes: number) => Math.round(bytes / 2 ** 20);
const round = (x: number, digits = 2) => Number(x.toFixed(digits));

let peakRss = 0;
const sampler = setInterval(() => (peakRss = Math.max(peakRss, process.memoryUsage().rss)), 50);

function startSimulatorProcess(): Promise<{ url: string; stop: () => void }> {
  return new Promise((resolve, reject) => {
    const child = spawn(
      process.execPath,
      ['--import', 'tsx', 'emulators/workspace-simulator/cli.ts', '--port', '0'],
      { stdio: ['ignore', 'pipe', 'inherit'] },
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

const MAPPINGS = {
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
} as const;
type MappingId = keyof typeof MAPPINGS;

/** Directory requests and the delays the simulator applied to them, from its stats since the last reset. */
function directoryTraffic(stats: StatsSnapshot) {
  const requests = Object.entries(stats.byRoute)
    .filter(([route]) => route.startsWith('directory.'))
    .reduce((n, [, r]) => n + r.total, 0);
  return { requests, appliedLatencyMs: stats.appliedLatency.totalMs };
}

interface SyncFigures {
  label: string;
  design: 'ours' | 'baseline';
  records: number;
  seconds: number;
  reads: number;
  recordWrites: number;
  bookkeepingWrites: number;
  peakRssMiB: number;
  requests: number;
  appliedLatencyMs: number;
  removed: number;
}

const emulators = await startEmulators({ ports: 'auto' });
Object.assign(process.env, emulators.env);
const sim = await startSimulatorProcess();
const secretsEmu = await startSecretManagerEmulator({ port: 0 });
const control = new SimulatorControl(sim.url);
/** Production defaults: only the project, the endpoints and the emulators are set (SYNC_TENANT_QPM is not). */
const configFor = (projectId: string) =>
  loadConfig({
    GOOGLE_CLOUD_PROJECT: projectId,
    WORKSPACE_ENDPOINT: sim.url,
    SECRET_MANAGER_EMULATOR_HOST: secretsEmu.host,
    // To try another listing concurrency than the default (README "Benchmark").
    ...(process.env.SYNC_LISTING_CONCURRENCY
      ? { SYNC_LISTING_CONCURRENCY: process.env.SYNC_LISTING_CONCURRENCY }
      : {}),
  });
const config = configFor('demo-bench');
const db = new Firestore({ projectId: config.projectId });
const secrets = createSecretStore(config.secrets);
const app = createApp({ config, db, secrets, log: createLogger() });
const extraApps: Array<{ app: App; db: Firestore }> = [];
const rows: SyncFigures[] = [];
const summary: Record<string, unknown> = {};

async function connectTenant(tenantId: string, domain: string, users: number, chromeos: number) {
  const t0 = performance.now();
  const ws = await control.createWorkspace({ domain, seed: 1, users, chromeos, mobile: 10 });
  console.log(
    `seeded ${domain}: ${users} users + ${chromeos} Chromebooks in ${((performance.now() - t0) / 1000).toFixed(1)} s`,
  );
  const { refreshToken } = await authorizeAgainstSimulator(config, ws.adminEmail);
  await secrets.putRefreshToken(tenantId, refreshToken);
  await db.doc(paths.tenant(tenantId)).set({ name: tenantId, status: 'active' });
  for (const [id, m] of Object.entries(MAPPINGS)) {
    await db.doc(paths.mapping(tenantId, id)).set({ ...mappingInputSchema.parse(m), version: 1 });
  }
  return ws;
}

/** Every Directory request waits as the latency model says (the simulator's seeded latency fault). */
async function applyLatencyModel() {
  if (!LATENCY) return;
  await control.setFaults({
    seed: LATENCY_SEED,
    faults: [
      {
        kind: 'latency',
        rate: 1,
        latencyMs: LATENCY.minMs,
        ...(LATENCY.maxMs > LATENCY.minMs
          ? { latencyMaxMs: LATENCY.maxMs, latencyDistribution: LATENCY_DIST }
          : {}),
      },
    ],
  });
}

let seq = 0;
async function ours(label: string, tenantId: string, mappingId: MappingId): Promise<SyncFigures> {
  await control.resetStats();
  peakRss = process.memoryUsage().rss;
  const start = performance.now();
  const out: SyncOutcome = await runSync(app.syncDeps(), {
    kind: 'sync',
    tenantId,
    mappingId,
    requestId: `bench-${++seq}`,
    trigger: 'manual',
  });
  const seconds = (performance.now() - start) / 1000;
  if (out.status !== 'completed') throw new Error(`${label}: ${JSON.stringify(out)}`);
  const row: SyncFigures = {
    label,
    design: 'ours',
    records: out.counts.seen,
    seconds,
    reads: out.meter.reads,
    recordWrites: out.meter.recordWrites,
    bookkeepingWrites: out.meter.bookkeepingWrites,
    peakRssMiB: MiB(peakRss),
    ...directoryTraffic(await control.getStats()),
    removed: out.counts.removed,
  };
  rows.push(row);
  return row;
}

async function baseline(label: string, tenantId: string, mappingId: MappingId, prefix = 'naive') {
  const mapping = (await readMapping(db, tenantId, mappingId))!;
  const lister = new GoogleDirectoryLister(config, await app.auth.clientFor(tenantId));
  await control.resetStats();
  peakRss = process.memoryUsage().rss;
  const start = performance.now();
  const r = await naiveSync(db, tenantId, mapping, lister, prefix);
  const seconds = (performance.now() - start) / 1000;
  const row: SyncFigures = {
    label,
    design: 'baseline',
    records: r.seen,
    seconds,
    reads: r.reads,
    recordWrites: r.writes,
    bookkeepingWrites: 0,
    peakRssMiB: MiB(peakRss),
    ...directoryTraffic(await control.getStats()),
    removed: 0,
  };
  rows.push(row);
  return row;
}

/**
 * Our records against the baseline's, field by field (the baseline keeps the hash in `_hash`, we keep it in
 * `_sync.hash`), and none of ours marked removed.
 */
async function compareRecords(tenantId: string, objectId: string) {
  const [mine, theirs] = await Promise.all([
    db.collection(paths.records(tenantId, objectId)).get(),
    db.collection(paths.records(tenantId, `naive-${objectId}`)).get(),
  ]);
  const expected = new Map(theirs.docs.map((d) => [d.id, d.data()]));
  let differing = 0;
  let removedMarks = 0;
  for (const doc of mine.docs) {
    // `_history` (the last changes of each record, store/record-history.ts) is ours alone: not compared.
    const {
      _sync: sync,
      _history,
      ...data
    } = doc.data() as {
      _sync: { status: string; hash: string };
      _history?: unknown;
    };
    if (sync.status === 'removed') removedMarks++;
    const other = expected.get(doc.id);
    expected.delete(doc.id);
    if (!other) {
      differing++;
      continue;
    }
    const { _hash: hash, ...otherData } = other;
    if (hash !== sync.hash || JSON.stringify(sortKeys(data)) !== JSON.stringify(sortKeys(otherData)))
      differing++;
  }
  return { ours: mine.size, baseline: theirs.size, differing: differing + expected.size, removedMarks };
}
const sortKeys = (o: Record<string, unknown>) =>
  Object.fromEntries(Object.entries(o).sort(([a], [b]) => (a < b ? -1 : 1)));

/**
 * `sequential` is the listing as one cursor walks it (the baseline's requests): its summed page latency is the
 * sequential-latency bound the issue names (pages x latency). A partitioned pass makes more, smaller requests;
 * the sum of its own latencies is reported too (ownLatencySeconds) but is not the bound.
 */
const boundsOf = (row: SyncFigures, sequential: SyncFigures = row) => {
  const sequentialLatencySeconds = sequential.appliedLatencyMs / 1000;
  const ownLatencySeconds = row.appliedLatencyMs / 1000;
  const quotaSeconds = (row.requests / config.sync.tenantQpm) * (config.sync.budgetWindowMs / 1000);
  return {
    wallSeconds: round(row.seconds),
    pages: row.requests,
    sequentialLatencySeconds: round(sequentialLatencySeconds),
    sequentialPages: sequential.requests,
    ownLatencySeconds: round(ownLatencySeconds),
    quotaSeconds: round(quotaSeconds),
    wallToLatencyRatio: sequentialLatencySeconds > 0 ? round(row.seconds / sequentialLatencySeconds) : null,
    wallToQuotaRatio: quotaSeconds > 0 ? round(row.seconds / quotaSeconds) : null,
  };
};

try {
  // ---------------------------------------------------------------------------------------------------------
  // latency: production-like Directory pages and the production request budget.
  let removals = 0;
  let recordsIdentical = true;
  if (USERS + CHROMEOS > 0) {
    const tenantId = 'bench';
    const ws = await connectTenant(tenantId, 'bench.example', USERS, CHROMEOS);
    // Warm the emulator's JVM first (no latency), so neither design pays for a cold start in its figures.
    await baseline('warm-up (not compared)', tenantId, 'chromebooks', 'warmup');
    rows.pop();
    if (LATENCY) await applyLatencyModel();
    const latencySection: Record<string, unknown> = {
      latencyModel: LATENCY
        ? {
            ...LATENCY,
            distribution: LATENCY.maxMs > LATENCY.minMs ? LATENCY_DIST : 'fixed',
            seed: LATENCY_SEED,
          }
        : null,
      tenantQpm: config.sync.tenantQpm,
    };
    let oursFirst = 0;
    let baseFirst = 0;
    let oursNoop = 0;
    let baseNoop = 0;
    for (const [id, count, key] of [
      ['people', USERS, 'users'],
      ['chromebooks', CHROMEOS, 'chromeos'],
    ] as const) {
      if (count === 0) continue;
      const first = await ours(`${id}: first sync`, tenantId, id);
      const noop = await ours(`${id}: re-sync, no changes`, tenantId, id);
      const bFirst = await baseline(`${id}: BASELINE first sync (read-compare-write)`, tenantId, id);
      const bNoop = await baseline(`${id}: BASELINE re-sync, no changes`, tenantId, id);
      oursFirst += first.seconds;
      baseFirst += bFirst.seconds;
      oursNoop += noop.seconds;
      baseNoop += bNoop.seconds;
      removals += first.removed + noop.removed;
      const objectId = MAPPINGS[id].target.objectId;
      const check = await compareRecords(tenantId, objectId);
      const identical = check.differing === 0 && check.ours === check.baseline && check.ours > 0;
      recordsIdentical &&= identical;
      removals += check.removedMarks;
      latencySection[key] = {
        records: count,
        firstSync: boundsOf(first, bFirst),
        noopResync: boundsOf(noop, bNoop),
        baselineFirstSync: boundsOf(bFirst),
        baselineNoopResync: boundsOf(bNoop),
        recordsIdentical: identical,
        recordCheck: check,
      };
      const ratioKey = key === 'users' ? 'usersLatencyRatio' : 'chromeosLatencyRatio';
      summary[ratioKey] = boundsOf(first, bFirst).wallToLatencyRatio;
      summary[key === 'users' ? 'usersNoopLatencyRatio' : 'chromeosNoopLatencyRatio'] = boundsOf(
        noop,
        bNoop,
      ).wallToLatencyRatio;
      summary[key === 'users' ? 'usersQuotaRatio' : 'chromeosQuotaRatio'] = boundsOf(
        first,
        bFirst,
      ).wallToQuotaRatio;
    }
    if (USERS > 0) {
      // 1 % of users change between passes.
      await control.bulkRenameUsers(Math.max(1, Math.floor(USERS / 100)), ws.customerId);
      const changed = await ours('people: re-sync after 1 % changed', tenantId, 'people');
      removals += changed.removed;
      latencySection.usersResyncAfterChanges = boundsOf(changed);
    }
    await control.clearFaults();
    summary.firstSyncVsBaseline = oursFirst > 0 ? round(baseFirst / oursFirst) : null;
    summary.noopResyncVsBaseline = oursNoop > 0 ? round(baseNoop / oursNoop) : null;
    summary.recordsIdentical = recordsIdentical;
    summary.removals = removals;
    console.log(`\nlatency: ${JSON.stringify(latencySection, null, 2)}`);
  }

  // ---------------------------------------------------------------------------------------------------------
  // memory: a large first sync without latency (latency only stretches the run; it holds no more in memory).
  let memoryPeak: number | null = null;
  if (MEMORY_USERS > 0) {
    await connectTenant('bench-memory', 'memory.example', MEMORY_USERS, 0);
    const row = await ours(
      `memory pass: people first sync (${MEMORY_USERS} users, no latency)`,
      'bench-memory',
      'people',
    );
    memoryPeak = row.peakRssMiB;
    removals += row.removed;
    summary.removals = removals;
  }
  summary.peakRssMiB = memoryPeak ?? Math.max(0, ...rows.map((r) => r.peakRssMiB));
  summary.peakRssPass =
    memoryPeak !== null ? `memory pass: ${MEMORY_USERS} users, first sync, no latency` : 'latency pass (max)';

  // ---------------------------------------------------------------------------------------------------------
  // fan-out: one tick over FANOUT_TENANTS tenants x 4 mappings, in a Firestore project of its own.
  let fanOut: (FanOutMeasurement & { tenants: number; expected: number }) | null = null;
  if (FANOUT_TENANTS > 0) {
    const fanConfig = configFor('demo-bench-fanout');
    const fanDb = new Firestore({ projectId: fanConfig.projectId });
    const fanApp = createApp({ config: fanConfig, db: fanDb, secrets, log: createLogger() });
    extraApps.push({ app: fanApp, db: fanDb });
    await seedFanOutTenants(fanDb, FANOUT_TENANTS, 4);
    const expected = FANOUT_TENANTS * 4;
    // The deployed wiring: batched publishers, shards through the tick topic back into the handler.
    const measured = await measureFanOut({
      pubsub: fanApp.pubsub,
      db: fanDb,
      sources: fanApp.syncDeps().sources,
      log: createLogger(),
      expected,
    });
    fanOut = { ...measured, tenants: FANOUT_TENANTS, expected };
    console.log(`\nfan-out: ${JSON.stringify(fanOut)}`);
    if (measured.syncMessages !== expected) {
      console.error(`fan-out delivered ${measured.syncMessages} of ${expected} sync messages`);
      process.exitCode = 1;
    }
  }
  summary.fanout1000x4Seconds = fanOut ? round(fanOut.seconds) : null;
  summary.fanoutTenants = fanOut?.tenants ?? 0;

  // ---------------------------------------------------------------------------------------------------------
  // pushLatency: a user changed in the simulator -> notification -> receiver -> incremental pass -> record,
  // with Directory calls under the same latency model as the listing.
  let pushLatency: (PushLatency & { latencyModel: string }) | null = null;
  if (PUSH_CHANGES > 0) {
    if (LATENCY) await applyLatencyModel();
    pushLatency = {
      ...(await measurePushLatency({
        control,
        simulatorUrl: sim.url,
        secretManagerHost: secretsEmu.host,
        secrets,
        users: 500,
        changes: PUSH_CHANGES,
      })),
      latencyModel: LATENCY ? `${LATENCY.minMs}-${LATENCY.maxMs} ms ${LATENCY_DIST}` : 'none',
    };
    await control.clearFaults();
    if (pushLatency.refused > 0) {
      console.error(`push: the receiver refused ${pushLatency.refused} notifications`);
      process.exitCode = 1;
    }
  }
  console.log(`\npushLatency: ${JSON.stringify(pushLatency)}`);
  summary.pushP99Seconds = pushLatency ? round(pushLatency.p99Seconds) : null;
  summary.pushP50Seconds = pushLatency ? round(pushLatency.p50Seconds) : null;

  // ---------------------------------------------------------------------------------------------------------
  // cold start: each deployed function's built entry, in fresh processes.
  let coldStarts: ColdStart[] = [];
  if (COLD_START) {
    if (!SKIP_BUILD) buildDist(ROOT);
    const entries = functionEntries(ROOT);
    coldStarts = entries.map((e) => measureColdStart(ROOT, e));
    console.log('\ncold start (median of 5 fresh processes):');
    for (const c of coldStarts)
      console.log(`  ${c.name.padEnd(12)} ${c.module}  ${c.importMs} ms  ${c.rssMiB} MiB`);
  }
  const slowest = coldStarts.reduce<ColdStart | null>(
    (a, c) => (a && a.importMs >= c.importMs ? a : c),
    null,
  );
  summary.coldStartMs = slowest?.importMs ?? null;
  summary.coldStartFunction = slowest?.name ?? null;
  summary.coldStartRssMiB = slowest?.rssMiB ?? null;

  // ---------------------------------------------------------------------------------------------------------
  const header = [
    'sync',
    'records',
    'seconds',
    'pages',
    'latency s',
    'FS reads',
    'rec writes',
    'bk writes',
    'RSS MiB',
  ];
  const table = rows.map((r) => [
    r.label,
    String(r.records),
    r.seconds.toFixed(1),
    String(r.requests),
    (r.appliedLatencyMs / 1000).toFixed(1),
    String(r.reads),
    String(r.recordWrites),
    String(r.bookkeepingWrites),
    String(r.peakRssMiB),
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...table.map((r) => r[i]!.length)));
  const line = (r: string[]) =>
    r.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ');
  console.log(`\n${line(header)}\n${widths.map((w) => '-'.repeat(w)).join('  ')}`);
  for (const r of table) console.log(line(r));
  console.log(
    `\nFirestore: ${emulators.mode} emulator on this machine; Directory API: simulator in its own process; ` +
      `tenant budget ${config.sync.tenantQpm} requests per ${config.sync.budgetWindowMs / 1000} s (production default).`,
  );
  if (!recordsIdentical || removals > 0) {
    console.error(`CHECK FAILED: recordsIdentical=${recordsIdentical} removals=${removals}`);
    process.exitCode = 1;
  }
  console.log(`bench-summary: ${JSON.stringify(summary)}`);
} finally {
  clearInterval(sampler);
  for (const x of extraApps) {
    await x.db.terminate();
    await x.app.pubsub.close();
  }
  await db.terminate();
  await app.pubsub.close();
  sim.stop();
  await secretsEmu.close();
  await emulators.stop();
}

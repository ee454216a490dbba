import { fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { API_ROUTES } from '../functions/src/api/routes/index.js';
import { hostSignatureHeaders } from '../functions/src/api/host-hmac.js';
import { SimulatorControl } from '../emulators/workspace-simulator/index.js';
import { startLocalStack } from './local-stack.js';
import { LOCAL_HMAC_KEY, signInAs } from './demo-tenant.js';
import { casesFor, fillPattern, type CaseWorld } from './soak/cases.js';
import { isJsonError, leaksInternals, rawRequest, type RawAnswer, type RawRequest } from './soak/raw-http.js';
import type { Answer as BurstAnswer } from './refresh-burst.js';
import { diffSnapshots, fullSnapshot, quickSnapshot } from './soak/snapshot.js';
import { fmtMs, percentile, SoakStats, statusLine } from './soak/stats.js';

/**
 * `npm run soak`: a hostile client against a local stack this script starts itself (emulators, simulators, the
 * api served by the Functions Framework as in `npm start`, with a connected and synced demo tenant).
 *   1. bad bodies, paths, headers and signatures against EVERY route of the router table; each must be refused
 *      with its status, in the JSON error shape, without a stack trace, and change no Firestore document;
 *   2. concurrent reads by the admins of two tenants: no answer may carry the other tenant's data;
 *   3. the refresh-webhook burst: concurrent POST /api/tenants/:t/sync, measured (statuses, p50/p99); a 5xx or
 *      a non-JSON answer fails it.
 * SOAK_SCALE=ci bounds the burst and the reads for CI. Ends with `N passed, M failed`; exits 1 on failures.
 */
const CI = process.env.SOAK_SCALE === 'ci';
const SCALE = CI ? { burst: 60, reads: 120 } : { burst: 300, reads: 1200 };
const log = (line: string) => console.log(line);
// A line per API request would bury the report; warnings and errors still show.
process.env.LOG_LEVEL ??= 'WARNING';

const stack = await startLocalStack({
  ports: 'auto',
  demo: true,
  demoSize: { users: 40, chromeos: 12, mobile: 6 },
  log: (l) => log(`  [stack] ${l}`),
});
const stats = new SoakStats();
let exitCode = 1;
try {
  const api = stack.apiUrl;
  const send = async (r: RawRequest) => {
    const a = await rawRequest(api, r);
    stats.record(a);
    return a;
  };
  const db = stack.app.db;
  const demo = stack.demo!;

  // A second tenant with its own Workspace, owner and mapping: the cross-tenant reads need someone else's data.
  const control = new SimulatorControl(stack.simulatorUrl);
  const other = await control.createWorkspace({
    domain: 'other-school.example',
    seed: 7,
    users: 12,
    chromeos: 2,
    mobile: 1,
  });
  const createOther = JSON.stringify({
    tenantId: 'soak-b',
    name: 'Other School',
    ownerEmail: other.adminEmail,
  });
  const created = await rawRequest(api, {
    method: 'POST',
    path: '/api/tenants',
    headers: {
      'content-type': 'application/json',
      ...hostSignatureHeaders(LOCAL_HMAC_KEY, { method: 'POST', path: '/api/tenants', rawBody: createOther }),
    },
    body: createOther,
  });
  if (created.status !== 201) throw new Error(`creating tenant soak-b: ${created.status} ${created.text}`);
  const otherToken = await signInAs(stack.app, other.adminEmail);
  const mapping = JSON.stringify({
    name: 'Other staff',
    entity: 'users',
    identifier: 'primaryEmail',
    target: { kind: 'collection', objectId: 'other-staff' },
    fieldMap: [{ source: 'primaryEmail', target: 'email' }],
  });
  const mapped = await rawRequest(api, {
    method: 'POST',
    path: '/api/tenants/soak-b/mappings',
    headers: { authorization: `Bearer ${otherToken}`, 'content-type': 'application/json' },
    body: mapping,
  });
  if (mapped.status !== 201) throw new Error(`creating soak-b's mapping: ${mapped.status} ${mapped.text}`);

  // Real ids for every path parameter, so a request that slipped through would reach real documents.
  const mappings = (await db.collection(`tenants/${demo.tenantId}/mappings`).get()).docs;
  const firstMapping = mappings[0]!;
  const objectId = (firstMapping.get('target') as { objectId?: string }).objectId ?? 'staff';
  const record = (await db.collection(`tenants/${demo.tenantId}/objects/${objectId}/records`).limit(1).get())
    .docs[0];
  const run = (await db.collection(`tenants/${demo.tenantId}/runs`).limit(1).get()).docs[0];
  const world: CaseWorld = {
    params: {
      tenantId: demo.tenantId,
      mappingId: firstMapping.id,
      runId: run?.id ?? 'run-1',
      objectId,
      recordId: record?.id ?? 'record-1',
      actionId: 'action-1',
      memberEmail: demo.adminEmail,
    },
    bearer: demo.idToken,
    hostKey: LOCAL_HMAC_KEY,
    send,
  };

  // 1. Hostile requests against every route.
  const { collectionIds, snapshot: startSnapshot } = await fullSnapshot(db);
  log(`\n1. hostile requests against ${API_ROUTES.length} routes (${startSnapshot.size} documents watched)`);
  let rejected = 0;
  for (const route of API_ROUTES) {
    for (const c of casesFor(route as never, world)) {
      if (c.prepare) await c.prepare();
      const before = await quickSnapshot(db, collectionIds);
      let answer;
      try {
        answer = await send(c.request);
      } catch (err) {
        stats.fail(`${c.name}: no answer (${err instanceof Error ? err.message : String(err)})`);
        continue;
      }
      const changed = diffSnapshots(before, await quickSnapshot(db, collectionIds));
      const problems = [
        answer.status !== c.expectStatus ? `answered ${answer.status}, expected ${c.expectStatus}` : null,
        !isJsonError(answer) ? `not the JSON error shape: ${answer.text.slice(0, 120)}` : null,
        leaksInternals(answer) ? 'leaks a stack trace or internal path' : null,
        changed.length > 0 ? `changed Firestore: ${changed.slice(0, 5).join(', ')}` : null,
        c.check?.(answer) ?? null,
      ].filter((p): p is string => p !== null);
      rejected++;
      if (problems.length === 0) stats.pass();
      else stats.fail(`${c.name}: ${problems.join('; ')}`);
    }
  }
  const endDiff = diffSnapshots(startSnapshot, (await fullSnapshot(db)).snapshot);
  if (endDiff.length > 0)
    stats.fail(`full snapshot after the hostile requests differs: ${endDiff.slice(0, 5).join(', ')}`);
  else stats.pass();
  const caseMs = stats.latencies.slice();
  log(`   ${rejected} cases; p50 ${fmtMs(percentile(caseMs, 50))}, p99 ${fmtMs(percentile(caseMs, 99))}`);

  // 2. Concurrent reads across two tenants.
  const readRoutes = API_ROUTES.filter(
    (r) => r.method === 'GET' && r.pattern.startsWith('/api/tenants/:tenantId'),
  );
  const tenants = [
    {
      id: demo.tenantId,
      token: demo.idToken,
      foreign: ['soak-b', other.domain, other.adminEmail],
      params: world.params,
    },
    {
      id: 'soak-b',
      token: otherToken,
      foreign: [`"${demo.tenantId}"`, 'demo-school.example', demo.adminEmail],
      params: { ...world.params, tenantId: 'soak-b', objectId: 'other-staff', memberEmail: other.adminEmail },
    },
  ];
  log(`\n2. ${SCALE.reads} concurrent reads over ${readRoutes.length} routes by the admins of two tenants`);
  const readsBefore = stats.tried;
  const readsFrom = stats.latencies.length;
  const reads = Array.from({ length: SCALE.reads }, (_, i) => {
    const me = tenants[i % 2]!;
    const them = tenants[(i + 1) % 2]!;
    const route = readRoutes[Math.floor(i / 2) % readRoutes.length]!;
    // Every fourth read asks for the other tenant's path with one's own token: it must be 404.
    const cross = i % 4 >= 2;
    const path = fillPattern(route.pattern, cross ? them.params : me.params);
    return (async () => {
      const a = await send({ method: 'GET', path, headers: { authorization: `Bearer ${me.token}` } });
      const name = `GET ${path} as ${me.id}`;
      if (cross) {
        if (a.status !== 404) return stats.fail(`${name}: another tenant's path answered ${a.status}`);
      } else {
        if (a.status >= 500) return stats.fail(`${name}: ${a.status}`);
        const leaked = me.foreign.find((f) => a.text.includes(f));
        if (leaked) return stats.fail(`${name}: answer carries the other tenant's ${leaked}`);
      }
      if (a.status >= 400 && !isJsonError(a)) return stats.fail(`${name}: non-JSON error`);
      stats.pass();
    })();
  });
  await Promise.all(reads);
  const readMs = stats.latencies.slice(readsFrom);
  log(
    `   ${stats.tried - readsBefore} reads checked; p50 ${fmtMs(percentile(readMs, 50))}, p99 ${fmtMs(percentile(readMs, 99))}`,
  );

  // 3. The refresh-webhook burst: measured; a 5xx or non-JSON answer fails it. Fired as a host product would, with
  // a fresh signature per call, from a process of its own (scripts/refresh-burst.ts): a webhook's caller is not in
  // the API's process, and 300 fetches sharing its event loop would measure the client as much as the server.
  log(`\n3. burst: ${SCALE.burst} concurrent POST /api/tenants/${demo.tenantId}/sync (host-signed)`);
  const burst = await burstFromChild(api, demo.tenantId, SCALE.burst).then(
    (answers) => answers.map(asRawAnswer),
    (err: unknown) => [err instanceof Error ? err : new Error(String(err))],
  );
  const burstStatuses = new Map<number, number>();
  const burstMs: number[] = [];
  for (const a of burst) {
    if (a instanceof Error) {
      stats.fail(`burst: no answer (${a.message})`);
      continue;
    }
    stats.record(a);
    burstStatuses.set(a.status, (burstStatuses.get(a.status) ?? 0) + 1);
    burstMs.push(a.ms);
    if (a.status >= 500 || (a.status >= 400 && !isJsonError(a)) || leaksInternals(a))
      stats.fail(`burst: ${a.status} ${a.text.slice(0, 120)}`);
    else stats.pass();
  }
  log(
    `   statuses ${statusLine(burstStatuses)}; p50 ${fmtMs(percentile(burstMs, 50))}, p99 ${fmtMs(percentile(burstMs, 99))}`,
  );

  // Summary.
  log('\nsummary');
  log(`   cases tried        ${stats.tried}`);
  log(`   misbehaved         ${stats.failures.length}`);
  log(`   status counts      ${statusLine(stats.statuses)}`);
  log(
    `   latency            p50 ${fmtMs(percentile(stats.latencies, 50))}, p99 ${fmtMs(percentile(stats.latencies, 99))}`,
  );
  log(`   non-JSON errors    ${stats.nonJsonErrors}`);
  log(`   stack traces       ${stats.leaks}`);
  for (const f of stats.failures.slice(0, 40)) log(`   ✗ ${f}`);
  if (stats.failures.length > 40) log(`   … and ${stats.failures.length - 40} more`);
  log(`\n${stats.passed} passed, ${stats.failures.length} failed`);
  exitCode = stats.failures.length === 0 ? 0 : 1;
} catch (err) {
  console.error(`soak could not run: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
} finally {
  await stack.stop();
}
process.exit(exitCode);

/** Runs scripts/refresh-burst.ts as a client process against `apiUrl`; its answers come back over IPC. */
function burstFromChild(apiUrl: string, tenantId: string, calls: number): Promise<BurstAnswer[]> {
  const client = fork(
    fileURLToPath(new URL('./refresh-burst.ts', import.meta.url)),
    ['--url', apiUrl, '--tenant', tenantId, '--calls', String(calls)],
    { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] },
  );
  return new Promise<BurstAnswer[]>((resolve, reject) => {
    client.once('message', (m) => resolve(m as BurstAnswer[]));
    client.once('exit', (code) => reject(new Error(`the burst client exited (${code}) without answers`)));
  });
}

function asRawAnswer(a: BurstAnswer): RawAnswer {
  let json: unknown;
  try {
    json = JSON.parse(a.text);
  } catch {
    json = undefined;
  }
  return { status: a.status, headers: { 'content-type': a.contentType }, text: a.text, json, ms: a.ms };
}

import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { paths } from '../../shared/firestore-paths.js';
import { runSync } from '../../functions/src/engine/engine.js';
import { googleSource } from '../../functions/src/sources/google/google-source.js';
import type { SyncMessage } from '../../functions/src/engine/messages.js';
import { RefreshPlanner } from '../../functions/src/api/request-refresh.js';
import { hostSignatureHeaders } from '../../functions/src/api/host-hmac.js';
import {
  HOST_KEY_ID,
  HOST_SECRET,
  startApiHarness,
  usersMapping,
  type ApiHarness,
  type HttpResult,
} from './api-harness.js';

let h: ApiHarness;
let owner: string;
let viewer: string;
let staffId: string;
let ousId: string;

beforeAll(async () => {
  h = await startApiHarness({ users: 30 });
  owner = await h.signIn(h.ws.adminEmail);
  viewer = await h.signIn(await h.addUser('vera.viewer@school.example'));
  await h.createTenant('acme', h.ws.adminEmail);
  await h.addMember('acme', 'vera.viewer@school.example', 'viewer');
  staffId = (await h.request('POST', '/api/tenants/acme/mappings', { token: owner, body: usersMapping() }))
    .body.id;
  ousId = (
    await h.request('POST', '/api/tenants/acme/mappings', {
      token: owner,
      body: {
        name: 'OUs',
        entity: 'orgunits',
        identifier: 'orgUnitId',
        target: { kind: 'collection', objectId: 'ous' },
        fieldMap: [{ source: 'name', target: 'name' }],
      },
    })
  ).body.id;
  await h.connect('acme', owner);
  // The initial syncs, run for real.
  for (const m of await h.pullSyncMessages()) await runSync(h.app.syncDeps(), m);
});
afterAll(async () => {
  await h?.close();
});

const syncNow = (body: unknown = {}, token = owner) =>
  h.request('POST', '/api/tenants/acme/sync', { token, body });

describe('sync now', () => {
  it('answers 202 with a planned run id, publishes it, and the run uses that id', async () => {
    const res = await syncNow({ mappingId: staffId });
    expect(res.status).toBe(202);
    expect(res.body.runs).toEqual([
      { mappingId: staffId, runId: expect.stringMatching(/^\d{14}-[0-9a-f]{8}$/), deduplicated: false },
    ]);
    const runId = res.body.runs[0].runId as string;

    const [msg, ...rest] = await h.pullSyncMessages();
    expect(rest).toEqual([]);
    expect(msg).toEqual({
      kind: 'sync',
      tenantId: 'acme',
      mappingId: staffId,
      requestId: `manual:${runId}`,
      trigger: 'manual',
      plannedRunId: runId,
    });

    // Asked again before the message is picked up: the queued run covers it.
    const queued = await syncNow({ mappingId: staffId });
    expect(queued.body.runs).toEqual([{ mappingId: staffId, runId, deduplicated: true }]);
    expect(await h.pullSyncMessages()).toEqual([]);

    const outcome = await runSync(h.app.syncDeps(), msg);
    expect(outcome).toMatchObject({ status: 'completed', runId });
    const run = await h.request('GET', `/api/tenants/acme/runs/${runId}`, { token: viewer });
    expect(run.body).toMatchObject({ runId, mappingId: staffId, status: 'succeeded', trigger: 'manual' });

    // Finished: the next request starts a new run.
    const next = await syncNow({ mappingId: staffId });
    expect(next.body.runs[0]).toMatchObject({ mappingId: staffId, deduplicated: false });
    expect(next.body.runs[0].runId).not.toBe(runId);
    const [nextMsg] = await h.pullSyncMessages();
    await runSync(h.app.syncDeps(), nextMsg!);
  });

  it('is deduplicated while a run is in progress, and covers every enabled mapping without mappingId', async () => {
    const res = await syncNow({ mappingId: staffId });
    const [msg] = await h.pullSyncMessages();
    const during: HttpResult[] = [];
    const deps = h.app.syncDeps();
    const outcome = await runSync(
      {
        ...deps,
        config: { ...deps.config, pageSize: 10 },
        afterPageCommitted: async ({ pageNo }) => {
          if (pageNo === 1) during.push(await syncNow({ confirmRemovals: true }));
        },
      },
      msg!,
    );
    expect(outcome).toMatchObject({ status: 'completed', runId: res.body.runs[0].runId });
    expect(during.map((r) => r.status)).toEqual([202]);
    const planned = during[0]!.body.runs as Array<{
      mappingId: string;
      runId: string;
      deduplicated: boolean;
    }>;
    const byMapping = Object.fromEntries(planned.map((r) => [r.mappingId, r]));
    expect(byMapping[staffId]).toEqual({
      mappingId: staffId,
      runId: res.body.runs[0].runId,
      deduplicated: true,
    });
    expect(byMapping[ousId]).toMatchObject({ deduplicated: false });
    const published = await h.pullSyncMessages();
    expect(published).toEqual([
      {
        kind: 'sync',
        tenantId: 'acme',
        mappingId: ousId,
        requestId: `manual:${byMapping[ousId]!.runId}`,
        trigger: 'manual',
        plannedRunId: byMapping[ousId]!.runId,
        confirmRemovals: true,
      },
    ]);
    await runSync(h.app.syncDeps(), published[0] as SyncMessage);
  });

  it('accepts the host product signature', async () => {
    const res = await h.hostRequest('POST', '/api/tenants/acme/sync', { mappingId: ousId });
    expect(res.status).toBe(202);
    expect(res.body.runs[0]).toMatchObject({ mappingId: ousId, deduplicated: false });
    const [msg] = await h.pullSyncMessages();
    expect(msg!.plannedRunId).toBe(res.body.runs[0].runId);
    await runSync(h.app.syncDeps(), msg!);
  });

  it('refuses viewers, unknown or disabled mappings, bad bodies and inactive tenants, changing nothing', async () => {
    const disabled = await h.request('POST', '/api/tenants/acme/mappings', {
      token: owner,
      body: usersMapping({ name: 'Off', enabled: false, target: { kind: 'collection', objectId: 'off' } }),
    });
    await h.createTenant('pending-one', h.ws.adminEmail);
    await h.request('POST', '/api/tenants/pending-one/mappings', { token: owner, body: usersMapping() });
    const before = await h.dump();
    const cases: Array<
      [Promise<{ status: number; body: { error: Record<string, unknown> } }>, number, string]
    > = [
      [syncNow({}, viewer), 403, 'permission_denied'],
      [syncNow({ mappingId: 'no-such-mapping' }), 404, 'not_found'],
      [syncNow({ mappingId: disabled.body.id }), 409, 'failed_precondition'],
      [syncNow({ mappingId: 42 }), 400, 'invalid_argument'],
      [syncNow({ force: true }), 400, 'invalid_argument'],
      [syncNow({ confirmRemovals: 'yes' }), 400, 'invalid_argument'],
      [
        h.request('POST', '/api/tenants/pending-one/sync', { token: owner, body: {} }),
        409,
        'failed_precondition',
      ],
      [h.request('POST', '/api/tenants/acme/sync'), 401, 'unauthenticated'],
    ];
    for (const [pending, status, code] of cases) {
      const res = await pending;
      expect(res.status, code).toBe(status);
      expect(res.body.error.code).toBe(code);
    }
    const inactive = await h.request('POST', '/api/tenants/pending-one/sync', { token: owner, body: {} });
    expect(inactive.body.error).toMatchObject({
      status: 'pending',
      message: expect.stringMatching(/not active/),
    });
    expect(await h.dump()).toEqual(before);
    expect(await h.pullSyncMessages()).toEqual([]);
  });
});

const WINDOW_MS = 600_000;
let windowsUsed = 0;
/**
 * Moves the test clock to just after the start of a rate-limit window no earlier test used (the owner's ID
 * token stays valid: a few windows are well inside its hour).
 */
function moveToFreshWindow(): number {
  windowsUsed += 1;
  const now = Date.now();
  h.clock.offsetMs = (Math.floor(now / WINDOW_MS) + windowsUsed) * WINDOW_MS + 1000 - now;
  return Math.floor(h.clock.now() / WINDOW_MS);
}

describe('rate limit', () => {
  afterEach(() => {
    h.clock.offsetMs = 0;
  });

  it('allows 10 requests per tenant per 10-minute window, then answers 429 with Retry-After', async () => {
    await h.createTenant('busy', h.ws.adminEmail);
    await h.request('POST', '/api/tenants/busy/mappings', { token: owner, body: usersMapping() });
    await h.db.doc(paths.tenant('busy')).update({ status: 'active' });
    moveToFreshWindow();
    for (let i = 0; i < 10; i++)
      expect((await h.request('POST', '/api/tenants/busy/sync', { token: owner, body: {} })).status).toBe(
        202,
      );
    // Only the first one queued a run; the other nine were covered by it.
    expect(await h.pullSyncMessages()).toHaveLength(1);

    const before = await h.dump();
    const asked = h.clock.now();
    const limited = await h.request('POST', '/api/tenants/busy/sync', { token: owner, body: {} });
    const answered = h.clock.now();
    expect(limited.status).toBe(429);
    expect(limited.body.error.code).toBe('rate_limited');
    // Until the window ends.
    const endsAt = (Math.floor(asked / WINDOW_MS) + 1) * WINDOW_MS;
    const retryAfter = Number(limited.headers.get('retry-after'));
    expect(retryAfter).toBeGreaterThanOrEqual(Math.ceil((endsAt - answered) / 1000));
    expect(retryAfter).toBeLessThanOrEqual(Math.ceil((endsAt - asked) / 1000));
    expect(await h.dump()).toEqual(before);

    // Another tenant has its own budget; and in the next window the tenant may ask again.
    expect((await syncNow({ mappingId: ousId })).status).toBe(202);
    h.clock.offsetMs += WINDOW_MS;
    expect((await h.request('POST', '/api/tenants/busy/sync', { token: owner, body: {} })).status).toBe(202);
    await h.pullSyncMessages();
  });
});

type PlannedRun = { mappingId: string; runId: string; deduplicated: boolean };

describe('a burst of calls', () => {
  afterEach(() => {
    h.clock.offsetMs = 0;
  });

  it('answers each call 202 or 429, the 202s naming the same runs, and a running sync keeps its lease', async () => {
    const window = moveToFreshWindow();
    const scheduled: SyncMessage = {
      kind: 'sync',
      tenantId: 'acme',
      mappingId: staffId,
      requestId: `schedule:burst-test`,
      trigger: 'schedule',
    };
    // A full pass, so the run has several pages.
    await h.db.doc(paths.syncState('acme', staffId)).update({ resumeCursor: null });
    let burst: HttpResult[] = [];
    const pagesAfterBurst: number[] = [];
    const deps = h.app.syncDeps();
    const { app } = h;
    const config = { ...app.config, sync: { ...app.config.sync, pageSize: 10 } };
    // The burst arrives while the staff sync holds its lease; its later checkpoints are guarded by the sync
    // state's update time, so any write to that document by the burst would fail the run.
    const outcome = await runSync(
      {
        ...deps,
        sources: {
          ...deps.sources,
          google: googleSource({ db: app.db, config, auth: app.auth, clock: app.clock }),
        },
        afterPageCommitted: async ({ pageNo }) => {
          if (pageNo === 1) burst = await Promise.all(Array.from({ length: 100 }, () => syncNow({})));
          else pagesAfterBurst.push(pageNo);
        },
      },
      scheduled,
    );
    expect(outcome).toMatchObject({ status: 'completed' });
    const staffRun = (outcome as { runId: string }).runId;
    const run = (await h.db.doc(paths.run('acme', staffRun)).get()).data();
    expect(run).toMatchObject({ status: 'succeeded', invocations: 1, errors: [] });
    // Pages were committed after the burst, under the same lease.
    expect(pagesAfterBurst.length).toBeGreaterThan(0);

    expect(burst).toHaveLength(100);
    const accepted = burst.filter((r) => r.status === 202);
    const limited = burst.filter((r) => r.status === 429);
    expect(accepted.length + limited.length).toBe(100);
    // Exactly the limit's calls get through, each with its own slot document.
    expect(accepted).toHaveLength(10);
    const slots = await h.db.collection(paths.refreshSlots('acme')).get();
    expect(slots.docs.map((d) => d.id).filter((id) => id.startsWith(`${window}:`))).toHaveLength(10);
    for (const r of limited) {
      expect(r.body.error.code).toBe('rate_limited');
      const retryAfter = Number(r.headers.get('retry-after'));
      expect(retryAfter).toBeGreaterThanOrEqual(1);
      expect(retryAfter).toBeLessThanOrEqual(WINDOW_MS / 1000);
    }

    // Every 202 names the same run per mapping: the running staff sync, and one new OUs run.
    const runIdsOf = (r: HttpResult) =>
      Object.fromEntries((r.body.runs as PlannedRun[]).map((p) => [p.mappingId, p.runId]));
    const first = runIdsOf(accepted[0]!);
    for (const r of accepted) expect(runIdsOf(r)).toEqual(first);
    expect(first[staffId]).toBe(staffRun);
    const fresh = accepted.flatMap((r) => (r.body.runs as PlannedRun[]).filter((p) => !p.deduplicated));
    expect(fresh).toEqual([{ mappingId: ousId, runId: first[ousId], deduplicated: false }]);

    // One run starts: the OUs run, once.
    const published = await h.pullSyncMessages();
    expect(published).toEqual([
      {
        kind: 'sync',
        tenantId: 'acme',
        mappingId: ousId,
        requestId: `manual:${first[ousId]}`,
        trigger: 'manual',
        plannedRunId: first[ousId],
      },
    ]);
    expect(await runSync(h.app.syncDeps(), published[0]!)).toMatchObject({
      status: 'completed',
      runId: first[ousId],
    });
  });

  it('instances that do not share memory converge on one run through the pending document', async () => {
    moveToFreshWindow();
    const published: SyncMessage[] = [];
    const instances = [new RefreshPlanner(h.db), new RefreshPlanner(h.db), new RefreshPlanner(h.db)];
    const outcomes = await Promise.all(
      Array.from({ length: 60 }, (_, i) =>
        instances[i % instances.length]!.request({
          tenantId: 'acme',
          mappingIds: [ousId],
          limit: { maxRequests: 7, windowMs: WINDOW_MS },
          now: h.clock.now(),
          publish: async (msg) => {
            published.push(msg);
          },
          log: h.app.log,
        }),
      ),
    );
    const planned = outcomes.flatMap((o) => (o.kind === 'planned' ? [o.planned] : []));
    expect(planned).toHaveLength(7);
    expect(outcomes.filter((o) => o.kind === 'rate_limited')).toHaveLength(53);
    const runIds = new Set(planned.flat().map((p) => p.runId));
    expect(runIds.size).toBe(1);
    expect(planned.flat().filter((p) => !p.deduplicated)).toHaveLength(1);
    expect(published.map((m) => m.plannedRunId)).toEqual([...runIds]);
    // The queued run covers the next call too, and once it has run, a call plans the next one.
    const later = await instances[0]!.request({
      tenantId: 'acme',
      mappingIds: [ousId],
      limit: { maxRequests: 8, windowMs: WINDOW_MS },
      now: h.clock.now(),
      publish: async (msg) => {
        published.push(msg);
      },
      log: h.app.log,
    });
    expect(later).toEqual({
      kind: 'planned',
      planned: [{ mappingId: ousId, runId: [...runIds][0], deduplicated: true }],
    });
    await runSync(h.app.syncDeps(), published[0]!);
    const next = await instances[1]!.request({
      tenantId: 'acme',
      mappingIds: [ousId],
      limit: { maxRequests: 9, windowMs: WINDOW_MS },
      now: h.clock.now(),
      publish: async (msg) => {
        published.push(msg);
      },
      log: h.app.log,
    });
    expect(next).toMatchObject({ kind: 'planned', planned: [{ mappingId: ousId, deduplicated: false }] });
    expect(published).toHaveLength(2);
    await runSync(h.app.syncDeps(), published[1]!);
  });
});

describe('host-signed refresh calls', () => {
  afterEach(() => {
    h.clock.offsetMs = 0;
  });

  const path = '/api/tenants/acme/sync';
  /** A host-signed call as a webhook builds it, at the test clock's time; `send` sends the very same bytes. */
  function signedCall() {
    const raw = '{}';
    const headers = {
      'content-type': 'application/json',
      ...hostSignatureHeaders(
        { keyId: HOST_KEY_ID, secret: HOST_SECRET },
        { method: 'POST', path, rawBody: raw },
        h.clock.now(),
      ),
    };
    return { send: () => h.request('POST', path, { headers, rawBody: raw }) };
  }
  const spentSignatures = async () => (await h.db.collection('hostSignatures').get()).size;

  it('a replayed signature starts nothing, and the 429s of a full window spend no signature', async () => {
    moveToFreshWindow();
    const first = signedCall();
    expect((await first.send()).status).toBe(202);
    const published = await h.pullSyncMessages();
    expect(published.length).toBeGreaterThan(0);
    const before = await h.dump();
    const replay = await first.send();
    expect(replay.status).toBe(401);
    expect(replay.body.error).toMatchObject({ code: 'unauthenticated', message: /already used/ });
    expect(await h.dump()).toEqual(before);
    expect(await h.pullSyncMessages()).toEqual([]);

    // A burst fills the window: only the calls that got a slot spent their signature.
    const spentBefore = await spentSignatures();
    const burst = await Promise.all(Array.from({ length: 30 }, () => signedCall().send()));
    const statuses = burst.map((r) => r.status);
    expect(statuses.filter((s) => s === 202)).toHaveLength(9);
    expect(statuses.filter((s) => s === 429)).toHaveLength(21);
    expect((await spentSignatures()) - spentBefore).toBe(9);
    await h.pullSyncMessages();

    // A refused call had no effect, so its signature may be sent again; it is refused the same way, changing nothing.
    const refused = signedCall();
    const full = await h.dump();
    expect((await refused.send()).status).toBe(429);
    expect((await refused.send()).status).toBe(429);
    expect(await h.dump()).toEqual(full);
    for (const m of published) await runSync(h.app.syncDeps(), m);
  });
});

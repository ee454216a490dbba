import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { paths } from '../../shared/firestore-paths.js';
import { runSync } from '../../functions/src/engine/engine.js';
import type { SyncMessage } from '../../functions/src/engine/messages.js';
import { startApiHarness, usersMapping, type ApiHarness, type HttpResult } from './api-harness.js';

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

describe('rate limit', () => {
  it('allows 10 requests per tenant per 10 minutes, then answers 429 with Retry-After', async () => {
    await h.createTenant('busy', h.ws.adminEmail);
    await h.request('POST', '/api/tenants/busy/mappings', { token: owner, body: usersMapping() });
    await h.db.doc(paths.tenant('busy')).update({ status: 'active' });
    for (let i = 0; i < 10; i++)
      expect((await h.request('POST', '/api/tenants/busy/sync', { token: owner, body: {} })).status).toBe(
        202,
      );
    // Only the first one queued a run; the other nine were covered by it.
    expect(await h.pullSyncMessages()).toHaveLength(1);

    const before = await h.dump();
    const limited = await h.request('POST', '/api/tenants/busy/sync', { token: owner, body: {} });
    expect(limited.status).toBe(429);
    expect(limited.body.error.code).toBe('rate_limited');
    const retryAfter = Number(limited.headers.get('retry-after'));
    expect(retryAfter).toBeGreaterThan(590);
    expect(retryAfter).toBeLessThanOrEqual(600);
    expect(await h.dump()).toEqual(before);

    // Another tenant has its own budget; and after the window the tenant may ask again.
    expect((await syncNow({ mappingId: ousId })).status).toBe(202);
    h.clock.offsetMs = 601_000;
    expect((await h.request('POST', '/api/tenants/busy/sync', { token: owner, body: {} })).status).toBe(202);
    h.clock.offsetMs = 0;
    await h.pullSyncMessages();
  });
});

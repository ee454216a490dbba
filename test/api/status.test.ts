import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_SCHEDULE } from '../../functions/src/engine/tenant-schedule.js';
import { nextCronTime } from '../../infra/cron.js';
import { runSync } from '../../functions/src/engine/engine.js';
import { startApiHarness, usersMapping, type ApiHarness } from './api-harness.js';

let h: ApiHarness;
let owner: string;
let viewer: string;
let staffId: string;
const USERS = 30;

beforeAll(async () => {
  h = await startApiHarness({ users: USERS });
  owner = await h.signIn(h.ws.adminEmail);
  viewer = await h.signIn(await h.addUser('vin.viewer@school.example'));
  await h.createTenant('acme', h.ws.adminEmail, 'Acme School');
  await h.addMember('acme', 'vin.viewer@school.example', 'viewer');
  staffId = (
    await h.request('POST', '/api/tenants/acme/mappings', {
      token: owner,
      body: usersMapping({ removalThresholdPercent: 50 }),
    })
  ).body.id;
  await h.connect('acme', owner);
  for (const m of await h.pullSyncMessages()) await runSync(h.app.syncDeps(), m);
});
afterAll(async () => {
  await h?.close();
});

async function syncAndRun(): Promise<string> {
  const res = await h.request('POST', '/api/tenants/acme/sync', {
    token: owner,
    body: { mappingId: staffId },
  });
  for (const m of await h.pullSyncMessages()) await runSync(h.app.syncDeps(), m);
  return res.body.runs[0].runId as string;
}

describe('tenant status', () => {
  it('shows status, connection without secrets, mappings with their last run and the next scheduled sync', async () => {
    const res = await h.request('GET', '/api/tenants/acme', { token: viewer });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({
      tenantId: 'acme',
      name: 'Acme School',
      status: 'active',
      statusReason: null,
      role: 'viewer',
      connection: {
        state: 'connected',
        customerId: h.ws.customerId,
        domain: h.ws.domain,
        adminEmail: h.ws.adminEmail,
      },
      // The tenant's own schedule: the default (several times a day) until an owner sets one.
      schedule: {
        cron: DEFAULT_SCHEDULE.cron,
        timeZone: DEFAULT_SCHEDULE.timeZone,
        description: 'At 06:00, 12:00 and 18:00',
        custom: false,
      },
    });
    expect(Object.keys(res.body.connection).sort()).toEqual([
      'adminEmail',
      'connectedAt',
      'connectedBy',
      'customerId',
      'domain',
      'scopes',
      'state',
    ]);
    const expectedNext = nextCronTime(
      DEFAULT_SCHEDULE.cron,
      new Date(),
      DEFAULT_SCHEDULE.timeZone,
    )!.toISOString();
    expect(res.body.schedule.nextRunAt).toBe(expectedNext);
    expect(res.body.mappings).toEqual([
      {
        id: staffId,
        name: 'Staff',
        entity: 'users',
        enabled: true,
        version: 1,
        lastRun: expect.objectContaining({
          status: 'succeeded',
          trigger: 'initial',
          counts: expect.objectContaining({ seen: expect.any(Number), created: expect.any(Number) }),
        }),
      },
    ]);
    expect(res.body.mappings[0].lastRun.counts.created).toBe(res.body.mappings[0].lastRun.counts.seen);
  });
});

describe('runs', () => {
  it('lists runs newest first, filters by mapping, limits, and shows one run', async () => {
    const second = await syncAndRun();
    const list = await h.request('GET', `/api/tenants/acme/runs?mappingId=${staffId}`, { token: viewer });
    expect(list.status).toBe(200);
    expect(list.body.runs).toHaveLength(2);
    expect(list.body.runs[0]).toMatchObject({
      runId: second,
      mappingId: staffId,
      status: 'succeeded',
      trigger: 'manual',
      pages: 1,
    });
    expect(list.body.runs[1].trigger).toBe('initial');
    for (const key of ['startedAt', 'finishedAt', 'counts', 'errors', 'removal'])
      expect(list.body.runs[0]).toHaveProperty(key);
    expect(list.body.runs[0].counts).toEqual({
      seen: USERS + 1,
      created: 0,
      updated: 0,
      unchanged: USERS + 1,
      removed: 0,
      failed: 0,
      skipped: 0,
      outOfScope: 0,
    });

    const one = await h.request('GET', '/api/tenants/acme/runs?limit=1', { token: viewer });
    expect(one.body.runs.map((r: { runId: string }) => r.runId)).toEqual([second]);
    const run = await h.request('GET', `/api/tenants/acme/runs/${second}`, { token: viewer });
    expect(run.body).toEqual(list.body.runs[0]);
    expect(
      (await h.request('GET', '/api/tenants/acme/runs/20260101000000-deadbeef', { token: viewer })).status,
    ).toBe(404);
    for (const q of ['limit=0', 'limit=101', 'limit=ten', 'mappingId=a%2Fb', 'order=asc']) {
      const bad = await h.request('GET', `/api/tenants/acme/runs?${q}`, { token: viewer });
      expect(bad.status, q).toBe(400);
      expect(bad.body.error.code).toBe('invalid_argument');
    }
  });
});

describe('records', () => {
  it('pages through records, filters by status, and explains removals', async () => {
    const all: Array<{ recordId: string; data: Record<string, unknown>; sync: Record<string, unknown> }> = [];
    let pageToken: string | null = null;
    let pages = 0;
    do {
      const q: string = `limit=7${pageToken ? `&pageToken=${pageToken}` : ''}`;
      const res = await h.request('GET', `/api/tenants/acme/objects/staff/records?${q}`, { token: viewer });
      expect(res.status).toBe(200);
      all.push(...res.body.records);
      pageToken = res.body.nextPageToken;
      pages++;
    } while (pageToken);
    expect(all).toHaveLength(USERS + 1);
    expect(pages).toBe(Math.ceil((USERS + 1) / 7));
    expect(new Set(all.map((r) => r.recordId)).size).toBe(USERS + 1);
    const first = all[0]!;
    expect(Object.keys(first.data).sort()).toEqual(['email', 'fullName', 'orgUnit']);
    expect(first.sync).toMatchObject({
      source: 'google',
      entity: 'users',
      mappingId: staffId,
      status: 'active',
    });

    // A user deleted in Google Workspace is marked removed by the next sync, with the why.
    const victim = all.find((r) => r.data.email !== h.ws.adminEmail)!;
    await h.control.deleteUser(h.ws.customerId, victim.data.email as string);
    const runId = await syncAndRun();
    const removed = await h.request('GET', '/api/tenants/acme/objects/staff/records?status=removed', {
      token: viewer,
    });
    expect(removed.body.records.map((r: { recordId: string }) => r.recordId)).toEqual([victim.recordId]);
    expect(removed.body.nextPageToken).toBeNull();
    const one = await h.request(
      'GET',
      `/api/tenants/acme/objects/staff/records/${encodeURIComponent(victim.recordId)}`,
      { token: viewer },
    );
    expect(one.status).toBe(200);
    expect(one.body.sync).toMatchObject({
      status: 'removed',
      removedRunId: runId,
      removedReason: expect.stringMatching(/not returned by Google Workspace/),
    });
    expect(Date.parse(one.body.sync.removedAt)).toBeGreaterThan(Date.now() - 60_000);
    const active = await h.request('GET', '/api/tenants/acme/objects/staff/records?status=active&limit=200', {
      token: viewer,
    });
    const inactive = await h.request(
      'GET',
      '/api/tenants/acme/objects/staff/records?status=inactive&limit=200',
      { token: viewer },
    );
    // Suspended and archived users are synced as inactive.
    expect(
      inactive.body.records.every((r: { sync: { inactiveReason: string } }) =>
        ['suspended', 'archived'].includes(r.sync.inactiveReason),
      ),
    ).toBe(true);
    expect(active.body.records.length + inactive.body.records.length).toBe(USERS);

    expect(
      (
        await h.request('GET', '/api/tenants/acme/objects/staff/records/nobody%2540school%252Eexample', {
          token: viewer,
        })
      ).status,
    ).toBe(404);
    for (const q of ['status=deleted', 'limit=201', 'pageToken=%25%25%25', 'pageToken=Li4', 'sort=name']) {
      const bad = await h.request('GET', `/api/tenants/acme/objects/staff/records?${q}`, { token: viewer });
      expect(bad.status, q).toBe(400);
    }
  });
});

describe('Microsoft Entra not configured', () => {
  it('the Entra routes answer failed_precondition and the tenant view says Entra is unavailable', async () => {
    for (const path of ['/api/tenants/acme/entra/authorize', '/api/tenants/acme/entra/disconnect']) {
      const res = await h.request('POST', path, { token: owner });
      expect(res.status, path).toBe(409);
      expect(res.body.error).toEqual({
        code: 'failed_precondition',
        message: 'Microsoft Entra is not configured for this service',
      });
    }
    const callback = await h.request('GET', '/oauth/entra/callback?state=x');
    expect(callback.status).toBe(409);
    const view = await h.request('GET', '/api/tenants/acme', { token: viewer });
    expect(view.body).toMatchObject({ entra: null, entraAvailable: false });
  });
});

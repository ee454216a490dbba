import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runSync } from '../../functions/src/engine/engine.js';
import { recordIdFor } from '../../functions/src/engine/record-id.js';
import { rejectedUnchanged, startApiHarness, usersMapping, type ApiHarness } from './api-harness.js';

let h: ApiHarness;
let owner: string;
let viewer: string;
let staffId: string;
const USERS = 40;
/** Records an admin excluded from removal while their users are gone: kept under their id. */
const excludedIds = new Set<string>();

interface ApiRecord {
  recordId: string;
  data: Record<string, unknown>;
  sync: Record<string, unknown>;
}

beforeAll(async () => {
  h = await startApiHarness({ users: USERS });
  owner = await h.signIn(h.ws.adminEmail);
  viewer = await h.signIn(await h.addUser('rita.viewer@school.example'));
  await h.createTenant('acme', h.ws.adminEmail, 'Acme School');
  await h.addMember('acme', 'rita.viewer@school.example', 'viewer');
  staffId = (await h.request('POST', '/api/tenants/acme/mappings', { token: owner, body: usersMapping() }))
    .body.id;
  await h.connect('acme', owner);
  for (const m of await h.pullSyncMessages()) await runSync(h.app.syncDeps(), m);
});
afterAll(async () => {
  await h?.close();
});

async function runQueued(): Promise<void> {
  for (const m of await h.pullSyncMessages()) await runSync(h.app.syncDeps(), m);
}

async function syncAndRun(): Promise<string> {
  const res = await h.request('POST', '/api/tenants/acme/sync', {
    token: owner,
    body: { mappingId: staffId },
  });
  expect(res.status, res.text).toBe(202);
  await runQueued();
  return res.body.runs[0].runId as string;
}

async function allRecords(): Promise<ApiRecord[]> {
  const all: ApiRecord[] = [];
  let pageToken: string | null = null;
  do {
    const res = await h.request(
      'GET',
      `/api/tenants/acme/objects/staff/records?limit=200${pageToken ? `&pageToken=${pageToken}` : ''}`,
      { token: viewer },
    );
    all.push(...(res.body.records as ApiRecord[]));
    pageToken = res.body.nextPageToken as string | null;
  } while (pageToken);
  return all;
}

const held = (runId: string, query = '') =>
  h.request('GET', `/api/tenants/acme/runs/${runId}/held-removals${query}`, { token: viewer });

describe('reviewing held removals', () => {
  let heldRunId: string;
  let victims: ApiRecord[];

  it('lists what a held run would remove, paged and searchable by identifier and field value', async () => {
    const before = await allRecords();
    victims = before
      .filter((r) => r.data.email !== h.ws.adminEmail && r.data.email !== 'rita.viewer@school.example')
      .slice(0, 8);
    for (const v of victims) await h.control.deleteUser(h.ws.customerId, v.data.email as string);
    heldRunId = await syncAndRun();
    const run = await h.request('GET', `/api/tenants/acme/runs/${heldRunId}`, { token: viewer });
    expect(run.body).toMatchObject({ status: 'held', removal: { candidates: 8, held: true } });

    const seen: string[] = [];
    let token: string | null = null;
    let pages = 0;
    do {
      const res = await held(heldRunId, `?limit=3${token ? `&pageToken=${token}` : ''}`);
      expect(res.status, res.text).toBe(200);
      expect(res.body).toMatchObject({ runId: heldRunId, mappingId: staffId, status: 'held', total: 8 });
      seen.push(...res.body.records.map((r: { recordId: string }) => r.recordId));
      token = res.body.nextPageToken;
      pages++;
    } while (token);
    expect(pages).toBe(3);
    expect(seen.sort()).toEqual(victims.map((v) => v.recordId).sort());

    const first = await held(heldRunId, '?limit=1');
    expect(first.body.records[0]).toMatchObject({
      identifier: expect.any(String),
      reason: expect.stringMatching(/not returned by Google Workspace/),
      excluded: false,
      data: { email: expect.any(String), fullName: expect.any(String) },
    });

    // By identifier (any case), and by a field value only the record holds.
    const target = victims[3]!;
    const byEmail = await held(
      heldRunId,
      `?query=${encodeURIComponent(String(target.data.email).toUpperCase())}`,
    );
    expect(byEmail.body.records.map((r: { recordId: string }) => r.recordId)).toEqual([target.recordId]);
    expect(byEmail.body.nextPageToken).toBeNull();
    const byName = await held(heldRunId, `?query=${encodeURIComponent(String(target.data.fullName))}`);
    expect(byName.body.records.map((r: { recordId: string }) => r.recordId)).toContain(target.recordId);
    const none = await held(heldRunId, '?query=no-such-person-anywhere');
    expect(none.body).toMatchObject({ records: [], nextPageToken: null, scanned: 8 });

    const bad = await held(heldRunId, '?pageToken=not-a-token');
    expect(bad.status).toBe(400);
    const missing = await held('20260101000000-deadbeef');
    expect(missing.status).toBe(404);
  });

  it('refuses a viewer, an exclusion the run did not hold, and changes nothing', async () => {
    const url = `/api/tenants/acme/runs/${heldRunId}/removals/confirm`;
    await rejectedUnchanged(
      h,
      () => h.request('POST', url, { token: viewer, body: {} }),
      403,
      'permission_denied',
    );
    const res = await rejectedUnchanged(
      h,
      () => h.request('POST', url, { token: owner, body: { exclude: [victims[0]!.recordId, 'not-held'] } }),
      400,
      'invalid_argument',
    );
    expect(res.body.error.details).toEqual([
      { path: 'exclude.1', message: expect.stringMatching(/not held/) },
    ]);
    await rejectedUnchanged(
      h,
      () => h.request('POST', url, { token: owner, body: { exclude: 'x' } }),
      400,
      'invalid_argument',
    );
  });

  it('confirms the rest, audited; excluded records are kept and not held again', async () => {
    const keep = [victims[0]!.recordId, victims[1]!.recordId];
    for (const id of keep) excludedIds.add(id);
    const res = await h.request('POST', `/api/tenants/acme/runs/${heldRunId}/removals/confirm`, {
      token: owner,
      body: { exclude: keep },
    });
    expect(res.status, res.text).toBe(202);
    expect(res.body).toMatchObject({
      runId: heldRunId,
      mappingId: staffId,
      review: { confirmedBy: h.ws.adminEmail, approved: 6, excluded: 2 },
      runs: [{ mappingId: staffId, deduplicated: false }],
    });
    const run = await h.request('GET', `/api/tenants/acme/runs/${heldRunId}`, { token: viewer });
    expect(run.body.review).toMatchObject({
      confirmedBy: h.ws.adminEmail,
      confirmedAt: expect.any(String),
      approved: 6,
      excluded: 2,
      excludedRecordIds: keep,
    });
    const listed = await held(heldRunId, '?limit=100');
    const excludedFlags = Object.fromEntries(
      listed.body.records.map((r: { recordId: string; excluded: boolean }) => [r.recordId, r.excluded]),
    );
    expect(Object.values(excludedFlags).filter(Boolean)).toHaveLength(2);
    expect(excludedFlags[keep[0]!]).toBe(true);

    // Confirmed once only.
    const again = await h.request('POST', `/api/tenants/acme/runs/${heldRunId}/removals/confirm`, {
      token: owner,
      body: {},
    });
    expect(again.status).toBe(409);

    const applyRunId = res.body.runs[0].runId as string;
    await runQueued();
    const applied = await h.request('GET', `/api/tenants/acme/runs/${applyRunId}`, { token: viewer });
    expect(applied.body).toMatchObject({
      status: 'succeeded',
      counts: { removed: 6 },
      removal: { held: false, approved: 6, excluded: 2 },
    });
    const after = new Map((await allRecords()).map((r) => [r.recordId, r]));
    for (const v of victims) {
      expect(after.get(v.recordId)!.sync.status).toBe(keep.includes(v.recordId) ? 'active' : 'removed');
    }

    // The next pass keeps the excluded records without holding or removing anything.
    const nextRunId = await syncAndRun();
    const next = await h.request('GET', `/api/tenants/acme/runs/${nextRunId}`, { token: viewer });
    expect(next.body).toMatchObject({
      status: 'succeeded',
      counts: { removed: 0 },
      removal: { candidates: 0, held: false, excluded: 2 },
    });
  });

  it('a confirmation of a run that a later run superseded is refused', async () => {
    const more = (await allRecords()).filter(
      (r) =>
        r.sync.status === 'active' &&
        r.data.email !== h.ws.adminEmail &&
        r.data.email !== 'rita.viewer@school.example' &&
        !victims.some((v) => v.recordId === r.recordId),
    );
    for (const v of more.slice(0, 6)) await h.control.deleteUser(h.ws.customerId, v.data.email as string);
    const first = await syncAndRun();
    const second = await syncAndRun();
    expect((await h.request('GET', `/api/tenants/acme/runs/${second}`, { token: viewer })).body.status).toBe(
      'held',
    );
    const res = await rejectedUnchanged(
      h,
      () => h.request('POST', `/api/tenants/acme/runs/${first}/removals/confirm`, { token: owner, body: {} }),
      409,
      'conflict',
    );
    expect(res.body.error.latestRunId).toBe(second);
    // The latest one is confirmed (with nothing excluded) and applied.
    const ok = await h.request('POST', `/api/tenants/acme/runs/${second}/removals/confirm`, {
      token: owner,
      body: {},
    });
    expect(ok.status, ok.text).toBe(202);
    await runQueued();
    const applied = await h.request('GET', `/api/tenants/acme/runs/${ok.body.runs[0].runId}`, {
      token: viewer,
    });
    expect(applied.body).toMatchObject({ status: 'succeeded', counts: { removed: 6 } });
  });
});

describe('next-run preview', () => {
  const draftOf = async (change: Record<string, unknown>) => {
    const current = await h.request('GET', `/api/tenants/acme/mappings/${staffId}`, { token: owner });
    const {
      id: _id,
      tenantId: _t,
      version: _v,
      createdAt: _c,
      updatedAt: _u,
      updatedBy: _b,
      ...input
    } = current.body;
    return { ...input, ...change };
  };
  const previewNext = (body: unknown) =>
    h.request('POST', `/api/tenants/acme/mappings/${staffId}/preview-next-run`, { token: viewer, body });
  /** Everything but the request budget's bookkeeping, which each Directory request spends. */
  const snapshot = async () =>
    [...(await h.dump())].filter(([path]) => !path.includes('/requestBudget/')).sort();

  it('counts what a field-map change would create, update and remove, with samples, writing nothing', async () => {
    const live = (await allRecords()).filter(
      (r) => r.sync.status !== 'removed' && !excludedIds.has(r.recordId),
    );
    const before = await snapshot();
    const draft = await draftOf({
      fieldMap: [...(await draftOf({})).fieldMap, { source: 'name.givenName', target: 'givenName' }],
    });
    const res = await previewNext({ mapping: draft });
    expect(res.status, res.text).toBe(200);
    expect(res.body).toMatchObject({
      complete: true,
      pagesRead: 1,
      identifierChange: null,
      wouldHold: false,
      counts: { created: 0, updated: live.length, unchanged: 0, rekeyed: 0, removed: 0 },
    });
    expect(res.body.samples.updated).toHaveLength(5);
    expect(res.body.samples.updated[0].changes).toEqual([
      { field: 'givenName', from: null, to: expect.any(String) },
    ]);
    expect(await snapshot()).toEqual(before);
  });

  it('says when it is a sample, and shows an identifier change as moves', async () => {
    const sample = await previewNext({ mapping: await draftOf({}), pageSize: 10, maxPages: 2 });
    expect(sample.body).toMatchObject({
      complete: false,
      pagesRead: 2,
      objectsRead: 20,
      counts: { removed: null, created: 0, updated: 0, unchanged: 20 },
      message: expect.stringMatching(/sample/),
    });
    const live = (await allRecords()).filter(
      (r) => r.sync.status !== 'removed' && !excludedIds.has(r.recordId),
    );
    const rekey = await previewNext({ mapping: await draftOf({ identifier: 'id' }) });
    expect(rekey.body).toMatchObject({
      complete: true,
      identifierChange: { from: 'primaryEmail', to: 'id' },
      counts: { created: 0, rekeyed: live.length, removed: 0 },
    });
    expect(rekey.body.samples.rekeyed[0]).toMatchObject({
      from: expect.any(String),
      recordId: expect.any(String),
    });
    const bad = await previewNext({ mapping: await draftOf({}), maxPages: 50 });
    expect(bad.status).toBe(400);
  });
});

describe('changing the unique identifier', () => {
  it('is refused unless acknowledged, then re-keys every record in place: no duplicates, nothing held', async () => {
    const current = await h.request('GET', `/api/tenants/acme/mappings/${staffId}`, { token: owner });
    const {
      id: _id,
      tenantId: _t,
      version: _v,
      createdAt: _c,
      updatedAt: _u,
      updatedBy: _b,
      ...input
    } = current.body;
    const body = { ...input, identifier: 'id' };
    const refused = await rejectedUnchanged(
      h,
      () =>
        h.request('PUT', `/api/tenants/acme/mappings/${staffId}`, {
          token: owner,
          body,
          headers: { 'if-match': current.headers.get('etag')! },
        }),
      409,
      'conflict',
    );
    expect(refused.body.error).toMatchObject({
      identifierChange: { from: 'primaryEmail', to: 'id' },
      details: [{ path: 'identifier' }],
    });
    expect(refused.body.error.message).toMatch(/acknowledgeIdentifierChange=true/);

    const before = (await allRecords()).filter((r) => r.sync.status !== 'removed');
    const saved = await h.request(
      'PUT',
      `/api/tenants/acme/mappings/${staffId}?acknowledgeIdentifierChange=true`,
      {
        token: owner,
        body,
        headers: { 'if-match': current.headers.get('etag')! },
      },
    );
    expect(saved.status, saved.text).toBe(200);
    expect(saved.body.identifier).toBe('id');

    const runId = await syncAndRun();
    const run = await h.request('GET', `/api/tenants/acme/runs/${runId}`, { token: viewer });
    // The excluded records' users are gone from Google: they stay excluded, and are not re-keyed.
    const live = before.filter((r) => !excludedIds.has(r.recordId));
    expect(run.body).toMatchObject({
      status: 'succeeded',
      counts: { created: 0, removed: 0 },
      removal: { held: false, candidates: 0, rekeyed: live.length },
    });
    const after = (await allRecords()).filter((r) => r.sync.status !== 'removed');
    expect(after).toHaveLength(before.length);
    for (const r of before) {
      if (excludedIds.has(r.recordId)) continue;
      const moved = after.find((a) => a.sync.sourceId === r.sync.sourceId)!;
      expect(moved.recordId).toBe(recordIdFor('id', String(r.sync.sourceId)));
      expect(moved.data).toEqual(r.data);
      expect(moved.sync).toMatchObject({
        identifier: { field: 'id' },
        rekeyedFrom: { recordId: r.recordId, identifier: { field: 'primaryEmail' } },
      });
    }
    // One record per Directory user.
    const bySource = new Map<string, number>();
    for (const r of after)
      bySource.set(String(r.sync.sourceId), (bySource.get(String(r.sync.sourceId)) ?? 0) + 1);
    expect([...bySource.values()].every((n) => n === 1)).toBe(true);

    // And the next sync changes nothing.
    const nextId = await syncAndRun();
    const next = await h.request('GET', `/api/tenants/acme/runs/${nextId}`, { token: viewer });
    expect(next.body).toMatchObject({ status: 'succeeded', counts: { created: 0, updated: 0, removed: 0 } });
  });
});

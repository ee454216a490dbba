import { afterAll, beforeAll, expect, it } from 'vitest';
import { startApiHarness, usersMapping, type ApiHarness } from './api-harness.js';

let h: ApiHarness;
let owner: string;
let viewer: string;

beforeAll(async () => {
  h = await startApiHarness({ users: 40, chromeos: 12 });
  owner = await h.signIn(h.ws.adminEmail);
  viewer = await h.signIn(await h.addUser('vi.viewer@school.example'));
  await h.createTenant('acme', h.ws.adminEmail);
  await h.addMember('acme', 'vi.viewer@school.example', 'viewer');
  await h.connect('acme', owner);
  await h.pullSyncMessages();
});
afterAll(async () => {
  await h?.close();
});

const preview = (body: unknown, token = viewer) =>
  h.request('POST', '/api/tenants/acme/mappings/preview', { token, body });

it('shows what the first N source objects would become, writing nothing', async () => {
  const before = await h.dump();
  const res = await preview({ mapping: usersMapping(), limit: 5 });
  expect(res.status).toBe(200);
  expect(res.body).toMatchObject({ entity: 'users', seen: 5, skipped: [], outOfScope: 0 });
  expect(res.body.records).toHaveLength(5);
  for (const r of res.body.records) {
    expect(Object.keys(r.data).sort()).toEqual(['email', 'fullName', 'orgUnit']);
    expect(r.recordId).toBe(encodeURIComponent(r.data.email).replace(/\./g, '%2E').replace(/_/g, '%5F'));
    expect(['active', 'inactive']).toContain(r.status);
  }
  const users = await h.request('POST', '/api/tenants/acme/mappings/preview', {
    token: owner,
    body: { mapping: usersMapping() },
  });
  expect(users.body.records).toHaveLength(10);
  expect(await h.dump()).toEqual(before);
});

it('counts objects outside the org-unit scope and skips those without the identifier', async () => {
  const scoped = await preview({
    mapping: usersMapping({ orgUnitScope: { paths: ['/Nowhere'] } }),
    limit: 25,
  });
  expect(scoped.body).toMatchObject({ seen: 25, records: [], outOfScope: 25 });
  const devices = await preview({
    mapping: {
      name: 'Chromebooks',
      entity: 'chromeos',
      identifier: 'annotatedAssetId',
      target: { kind: 'collection', objectId: 'chromebooks' },
      fieldMap: [{ source: 'serialNumber', target: 'serial' }],
    },
    limit: 12,
  });
  expect(devices.status).toBe(200);
  expect(devices.body.records.length + devices.body.skipped.length).toBe(12);
  for (const s of devices.body.skipped)
    expect(s).toEqual({ sourceId: expect.any(String), reason: 'no annotatedAssetId' });
});

it('validates the mapping and the limit with field paths', async () => {
  const before = await h.dump();
  const bad = await preview({
    mapping: usersMapping({ fieldMap: [{ source: 'nope', target: 'x' }] }),
    limit: 26,
  });
  expect(bad.status).toBe(400);
  expect(bad.body.error.details).toEqual([
    { path: 'mapping.fieldMap.0.source', message: 'nope is not a field of Users' },
    { path: 'limit', message: expect.any(String) },
  ]);
  const badField = await preview({ mapping: usersMapping({ fieldMap: [{ source: 'nope', target: 'x' }] }) });
  expect(badField.body.error.details).toEqual([
    { path: 'mapping.fieldMap.0.source', message: 'nope is not a field of Users' },
  ]);
  const missing = await preview({ limit: 3 });
  expect(missing.body.error.details).toEqual([{ path: 'mapping', message: expect.any(String) }]);
  expect(await h.dump()).toEqual(before);
});

it('needs a connected tenant', async () => {
  await h.createTenant('fresh', h.ws.adminEmail);
  const res = await h.request('POST', '/api/tenants/fresh/mappings/preview', {
    token: owner,
    body: { mapping: usersMapping() },
  });
  expect(res.status).toBe(409);
  expect(res.body.error).toMatchObject({
    code: 'failed_precondition',
    message: expect.stringMatching(/connect Google Workspace/),
  });
});

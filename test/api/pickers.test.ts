import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runSync } from '../../functions/src/engine/engine.js';
import { paths } from '../../shared/firestore-paths.js';
import { rejectedUnchanged, startApiHarness, usersMapping, type ApiHarness } from './api-harness.js';

/**
 * What the console's pickers offer: the login roles and objects the host product lists, the org unit tree,
 * and the labels identifiers and fields are shown by.
 */

let h: ApiHarness;
let owner: string;
let admin: string;
let viewer: string;
const t = '/api/tenants/t1';

beforeAll(async () => {
  h = await startApiHarness({ users: 30, chromeos: 0, mobile: 0 });
  owner = await h.signIn(h.ws.adminEmail);
  admin = await h.signIn(await h.addUser('ada.admin@school.example'));
  viewer = await h.signIn(await h.addUser('val.viewer@school.example'));
  await h.createTenant('t1', h.ws.adminEmail);
  await h.addMember('t1', 'ada.admin@school.example', 'admin');
  await h.addMember('t1', 'val.viewer@school.example', 'viewer');
});
afterAll(async () => {
  await h?.close();
});

describe('labels', () => {
  it('GET /api/entities labels identifiers and fields as Asset Panda does', async () => {
    const res = await h.request('GET', '/api/entities', { token: viewer });
    expect(res.status).toBe(200);
    const byKind = Object.fromEntries(
      res.body.entities.map((e: { kind: string; labels: Record<string, string> }) => [e.kind, e.labels]),
    );
    expect(byKind.users).toMatchObject({ primaryEmail: 'Email', id: 'User ID', customerId: 'Customer ID' });
    expect(byKind.chromeos).toMatchObject({
      serialNumber: 'Serial Number',
      annotatedAssetId: 'Asset ID',
      deviceId: 'Directory API ID',
      macAddress: 'WiFi MAC',
    });
    expect(byKind.mobile).toMatchObject({ deviceId: 'Device ID', imei: 'IMEI', wifiMacAddress: 'WiFi MAC' });
    // Every identifier and listed field of every source has a label.
    for (const list of Object.values(res.body.sources) as Array<
      Array<{ identifiers: string[]; fields: string[]; labels: Record<string, string> }>
    >)
      for (const e of list)
        for (const f of [...e.identifiers, ...e.fields.filter((x) => !x.endsWith('.*'))])
          expect(e.labels[f], f).toBeTruthy();
  });
});

describe('login roles the host product lists', () => {
  const roles = [{ id: 'G1', label: 'Staff' }, { id: 'G2', label: 'Teachers' }, { id: 'G3' }];

  it('starts empty; the host product sets the list with a signed request, members read it', async () => {
    expect((await h.request('GET', `${t}/login-roles`, { token: viewer })).body).toEqual({
      roles: [],
      updatedAt: null,
      updatedBy: null,
    });
    const put = await h.hostRequest('PUT', `${t}/login-roles`, { roles });
    expect(put.status, put.text).toBe(200);
    expect(put.body).toMatchObject({ roles, updatedBy: 'host-product:host-1' });
    const read = await h.request('GET', `${t}/login-roles`, { token: viewer });
    expect(read.body.roles).toEqual(roles);
    expect((await h.hostRequest('GET', `${t}/login-roles`, undefined)).body.roles).toEqual(roles);
  });

  it('owners may set it too; admins and viewers may not; bad lists change nothing', async () => {
    const ok = await h.request('PUT', `${t}/login-roles`, { token: owner, body: { roles } });
    expect(ok.status).toBe(200);
    expect(ok.body.updatedBy).toBe(h.ws.adminEmail);
    for (const token of [admin, viewer])
      await rejectedUnchanged(
        h,
        () => h.request('PUT', `${t}/login-roles`, { token, body: { roles: [] } }),
        403,
        'permission_denied',
      );
    await rejectedUnchanged(
      h,
      () => h.request('PUT', `${t}/login-roles`, { body: { roles } }),
      401,
      'unauthenticated',
    );
    const dup = await rejectedUnchanged(
      h,
      () =>
        h.request('PUT', `${t}/login-roles`, { token: owner, body: { roles: [{ id: 'G1' }, { id: 'G1' }] } }),
      400,
      'invalid_argument',
    );
    expect(dup.body.error.details).toEqual([{ path: 'roles.1.id', message: 'G1 is listed twice' }]);
    for (const body of [{ roles: [{ id: '' }] }, { roles: [{ id: 'G1', color: 'red' }] }, { list: [] }, {}])
      await rejectedUnchanged(
        h,
        () => h.request('PUT', `${t}/login-roles`, { token: owner, body }),
        400,
        'invalid_argument',
      );
  });

  it('a login-users mapping must take one of the listed roles', async () => {
    const body = (role: string) =>
      usersMapping({
        name: 'Logins',
        target: { kind: 'loginUsers', role },
        fieldMap: [{ source: 'name.fullName', target: 'displayName' }],
      });
    const refused = await rejectedUnchanged(
      h,
      () => h.request('POST', `${t}/mappings`, { token: admin, body: body('G9') }),
      400,
      'invalid_argument',
    );
    expect(refused.body.error.details).toEqual([
      {
        path: 'target.role',
        message: 'G9 is not a role your product offers; choose one of G1 (Staff), G2 (Teachers), G3',
      },
    ]);
    const created = await h.request('POST', `${t}/mappings`, { token: admin, body: body('G2') });
    expect(created.status, created.text).toBe(201);
  });
});

describe('product objects the host product lists', () => {
  it('takes object ids as mappings do, and refuses what a mapping could not target', async () => {
    const objects = [{ id: 'chromebooks', label: 'Chromebooks' }, { id: 'assets' }];
    const put = await h.hostRequest('PUT', `${t}/product-objects`, { objects });
    expect(put.status, put.text).toBe(200);
    expect((await h.request('GET', `${t}/product-objects`, { token: viewer })).body.objects).toEqual(objects);
    const bad = await rejectedUnchanged(
      h,
      () =>
        h.request('PUT', `${t}/product-objects`, {
          token: owner,
          body: { objects: [{ id: 'Bad Object' }, { id: 'login-users' }] },
        }),
      400,
      'invalid_argument',
    );
    expect(bad.body.error.details.map((d: { path: string }) => d.path)).toEqual([
      'objects.0.id',
      'objects.1.id',
    ]);
    expect(bad.body.error.details[1].message).toMatch(/reserved for login users/);
  });
});

describe('the org unit tree', () => {
  it('needs a connection, then reads the tree from Google', async () => {
    await rejectedUnchanged(
      h,
      () => h.request('GET', `${t}/org-units`, { token: viewer }),
      409,
      'failed_precondition',
    );
    await h.connect('t1', owner);
    const res = await h.request('GET', `${t}/org-units`, { token: viewer });
    expect(res.status, res.text).toBe(200);
    expect(res.body.source).toBe('google');
    const unitPaths = res.body.orgUnits.map((u: { path: string }) => u.path);
    expect(unitPaths[0]).toBe('/');
    expect(unitPaths).toEqual(expect.arrayContaining(['/Staff', '/Staff/Teachers', '/Contractors']));
    expect(res.body.orgUnits.find((u: { path: string }) => u.path === '/Staff/Teachers')).toEqual({
      path: '/Staff/Teachers',
      name: 'Teachers',
      depth: 2,
    });
  });

  it('comes from the synced org units once the tenant syncs them', async () => {
    const created = await h.request('POST', `${t}/mappings`, {
      token: admin,
      body: {
        name: 'Org units',
        entity: 'orgunits',
        identifier: 'orgUnitId',
        target: { kind: 'collection', objectId: 'org-units' },
        fieldMap: [{ source: 'orgUnitPath', target: 'path' }],
      },
    });
    expect(created.status, created.text).toBe(201);
    const google = (await h.request('GET', `${t}/org-units`, { token: viewer })).body.orgUnits;
    const out = await runSync(
      { ...h.app.syncDeps(), publishSync: async () => {} },
      { kind: 'sync', tenantId: 't1', mappingId: created.body.id, requestId: 'pickers-1', trigger: 'manual' },
    );
    expect(out.status).toBe('completed');
    // A unit removed from the synced records is no longer offered.
    const records = await h.db.collection(paths.records('t1', 'org-units')).get();
    const contractors = records.docs.find((d) => d.get('path') === '/Contractors')!;
    await contractors.ref.update({ '_sync.status': 'removed' });
    const res = await h.request('GET', `${t}/org-units`, { token: viewer });
    expect(res.body).toMatchObject({ source: 'synced', mappingId: created.body.id });
    expect(res.body.orgUnits).toEqual(google.filter((u: { path: string }) => u.path !== '/Contractors'));
  });
});

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { paths } from '../../shared/firestore-paths.js';
import {
  rejectedUnchanged,
  startApiHarness,
  usersMapping,
  type ApiHarness,
  type HttpResult,
} from './api-harness.js';

let h: ApiHarness;
let owner: string;
let admin: string;
let viewer: string;
let outsider: string;

beforeAll(async () => {
  h = await startApiHarness();
  owner = await h.signIn(h.ws.adminEmail);
  admin = await h.signIn(await h.addUser('ada.admin@school.example'));
  viewer = await h.signIn(await h.addUser('val.viewer@school.example'));
  outsider = await h.signIn(await h.addUser('otto.other@school.example'));
  await h.createTenant('t1', h.ws.adminEmail);
  await h.addMember('t1', 'ada.admin@school.example', 'admin');
  await h.addMember('t1', 'val.viewer@school.example', 'viewer');
  await h.createTenant('t2', 'otto.other@school.example');
});
afterAll(async () => {
  await h?.close();
});

const base = '/api/tenants/t1/mappings';

const rejected = (run: () => Promise<HttpResult>, status: number, code: string) =>
  rejectedUnchanged(h, run, status, code);

describe('mapping CRUD', () => {
  it('creates, reads, lists, replaces and deletes with ETags', async () => {
    const created = await h.request('POST', base, { token: admin, body: usersMapping() });
    expect(created.status).toBe(201);
    expect(created.headers.get('etag')).toBe('"1"');
    const id = created.body.id as string;
    expect(id).toMatch(/^staff-[0-9a-f]{6}$/);
    expect(created.headers.get('location')).toBe(`${base}/${id}`);
    expect(created.body).toMatchObject({
      id,
      tenantId: 't1',
      version: 1,
      name: 'Staff',
      enabled: true,
      orgUnitScope: null,
      removalThresholdPercent: 10,
      updatedBy: 'ada.admin@school.example',
    });
    const stored = (await h.db.doc(paths.mapping('t1', id)).get()).data()!;
    expect(stored).toEqual(created.body);

    const got = await h.request('GET', `${base}/${id}`, { token: viewer });
    expect(got.status).toBe(200);
    expect(got.headers.get('etag')).toBe('"1"');
    expect(got.body).toEqual(created.body);
    const list = await h.request('GET', base, { token: viewer });
    expect(list.body.mappings.map((m: { id: string }) => m.id)).toContain(id);

    const put = await h.request('PUT', `${base}/${id}`, {
      token: owner,
      headers: { 'if-match': '"1"' },
      body: usersMapping({ name: 'Staff (renamed)', orgUnitScope: { paths: ['/Staff'] } }),
    });
    expect(put.status).toBe(200);
    expect(put.headers.get('etag')).toBe('"2"');
    expect(put.body).toMatchObject({
      version: 2,
      name: 'Staff (renamed)',
      orgUnitScope: { paths: ['/Staff'], includeChildren: true },
      createdAt: created.body.createdAt,
    });

    // Records synced by the mapping survive its deletion.
    await h.db
      .doc(paths.record('t1', 'staff', 'x%40school%2Eexample'))
      .set({ email: 'x@school.example', _sync: { status: 'active' } });
    const del = await h.request('DELETE', `${base}/${id}`, { token: owner, headers: { 'if-match': '"2"' } });
    expect(del.status).toBe(200);
    expect(del.body).toMatchObject({ id, deleted: true, recordsKept: true });
    expect((await h.db.doc(paths.mapping('t1', id)).get()).exists).toBe(false);
    expect((await h.db.doc(paths.record('t1', 'staff', 'x%40school%2Eexample')).get()).exists).toBe(true);
    expect((await h.request('GET', `${base}/${id}`, { token: owner })).status).toBe(404);
  });

  it('turns schema problems into a details list naming each field', async () => {
    const res = await rejected(
      () =>
        h.request('POST', base, {
          token: owner,
          body: usersMapping({
            identifier: 'serialNumber',
            target: { kind: 'loginUsers' },
            fieldMap: [
              { source: 'primaryEmail', target: 'email' },
              { source: 'noSuchField', target: 'x' },
              { source: 'primaryEmail', target: 'email' },
              { source: 'id', target: '_syncId' },
            ],
            removalThresholdPercent: 'ten',
            color: 'blue',
          }),
        }),
      400,
      'invalid_argument',
    );
    const details = res.body as {
      error: { message: string; details: Array<{ path: string; message: string }> };
    };
    expect(details.error.message).toBe('invalid request body');
    const byPath = Object.fromEntries(details.error.details.map((d) => [d.path, d.message]));
    expect(Object.keys(byPath).sort()).toEqual(
      ['color', 'fieldMap.3.target', 'removalThresholdPercent', 'target.role'].sort(),
    );
    expect(byPath.color).toBe('unknown field');
    expect(byPath['fieldMap.3.target']).toMatch(/reserved/);

    const semantic = await rejected(
      () =>
        h.request('POST', base, {
          token: owner,
          body: usersMapping({
            identifier: 'serialNumber',
            fieldMap: [
              { source: 'primaryEmail', target: 'a' },
              { source: 'noSuchField', target: 'a' },
            ],
          }),
        }),
      400,
      'invalid_argument',
    );
    const semanticDetails = semantic.body.error.details;
    expect(semanticDetails).toEqual([
      { path: 'identifier', message: 'Users can be identified by primaryEmail, id' },
      { path: 'fieldMap.1.source', message: 'noSuchField is not a field of Users' },
      { path: 'fieldMap.1.target', message: 'a is mapped twice' },
    ]);
  });

  it('refuses an org unit scope where the entity has no org unit (groups, mobile devices, Entra users)', async () => {
    const scope = { paths: ['/Staff'] };
    const cases: Array<[Record<string, unknown>, RegExp]> = [
      [
        {
          name: 'Groups',
          entity: 'groups',
          identifier: 'email',
          target: { kind: 'collection', objectId: 'groups' },
          fieldMap: [{ source: 'email', target: 'email' }],
        },
        /^Groups have no org unit, so an org unit scope cannot apply/,
      ],
      [
        {
          name: 'Phones',
          entity: 'mobile',
          identifier: 'deviceId',
          target: { kind: 'collection', objectId: 'phones' },
          fieldMap: [{ source: 'model', target: 'model' }],
        },
        /^Mobile devices have no org unit/,
      ],
      [
        {
          name: 'Entra people',
          source: 'entra',
          entity: 'users',
          identifier: 'email',
          target: { kind: 'people' },
          fieldMap: [{ source: 'displayName', target: 'fullName' }],
        },
        /^Users \(Microsoft Entra\) have no org unit/,
      ],
    ];
    for (const [body, message] of cases) {
      const res = await rejected(
        () => h.request('POST', base, { token: owner, body: { ...body, orgUnitScope: scope } }),
        400,
        'invalid_argument',
      );
      expect(res.body.error.details).toEqual([
        { path: 'orgUnitScope', message: expect.stringMatching(message) },
      ]);
    }
    // The same mappings without a scope are fine; Google users and Chromebooks keep theirs.
    const groups = await h.request('POST', base, { token: owner, body: cases[0]![0] });
    expect(groups.status).toBe(201);
    const scopedUsers = await h.request('POST', base, {
      token: owner,
      body: usersMapping({
        name: 'Scoped',
        target: { kind: 'collection', objectId: 'scoped' },
        orgUnitScope: scope,
      }),
    });
    expect(scopedUsers.status).toBe(201);
  });

  it('refuses malformed, mistyped, oversize and empty bodies', async () => {
    // Malformed JSON is refused by the Functions Framework's body parser before the handler runs.
    const before = await h.dump();
    const malformed = await h.request('POST', base, {
      token: owner,
      rawBody: '{"name": "x",',
      headers: { 'content-type': 'application/json' },
    });
    expect(malformed.status).toBe(400);
    expect(await h.dump()).toEqual(before);

    const text = await rejected(
      () =>
        h.request('POST', base, {
          token: owner,
          rawBody: JSON.stringify(usersMapping()),
          headers: { 'content-type': 'text/plain' },
        }),
      415,
      'unsupported_media_type',
    );
    expect(text.body.error.message).toMatch(/application\/json/);
    await rejected(
      () =>
        h.request('POST', base, {
          token: owner,
          rawBody: 'name=x',
          headers: { 'content-type': 'application/x-www-form-urlencoded' },
        }),
      415,
      'unsupported_media_type',
    );
    await rejected(
      () => h.request('POST', base, { token: owner, body: [usersMapping()] }),
      400,
      'invalid_argument',
    );
    // A JSON scalar is refused by the framework's strict JSON parser, also before the handler.
    expect((await h.request('POST', base, { token: owner, body: 'a string' })).status).toBe(400);
    expect(await h.dump()).toEqual(before);
    await rejected(() => h.request('POST', base, { token: owner }), 400, 'invalid_argument');
    const big = usersMapping({ name: 'x'.repeat(70 * 1024) });
    const tooBig = await rejected(
      () => h.request('POST', base, { token: owner, body: big }),
      413,
      'payload_too_large',
    );
    expect(tooBig.body.error.message).toMatch(/64 KB/);
  });

  it('refuses bad path parameters', async () => {
    const badTenant = await rejected(
      () => h.request('GET', '/api/tenants/Not_A_Tenant/mappings', { token: owner }),
      400,
      'invalid_argument',
    );
    expect(badTenant.body.error.details[0]!.path).toBe('tenantId');
    await rejected(() => h.request('GET', `${base}/bad%2Fid`, { token: owner }), 400, 'invalid_argument');
    await rejected(
      () => h.request('GET', `${base}/${'x'.repeat(101)}`, { token: owner }),
      400,
      'invalid_argument',
    );
    await rejected(() => h.request('GET', `${base}/__name__`, { token: owner }), 400, 'invalid_argument');
    await rejected(
      () => h.request('GET', '/api/tenants/t1/objects/people/records/__x__', { token: owner }),
      400,
      'invalid_argument',
    );
    await rejected(
      () => h.request('GET', '/api/tenants/t1/objects/People/records', { token: owner }),
      400,
      'invalid_argument',
    );
    await rejected(
      () => h.request('GET', '/api/tenants/t1/runs/bad%20run', { token: owner }),
      400,
      'invalid_argument',
    );
  });
});

describe('who may do what', () => {
  it('viewers read but cannot write', async () => {
    const created = await h.request('POST', base, {
      token: owner,
      body: usersMapping({ target: { kind: 'collection', objectId: 'viewers-test' } }),
    });
    const id = created.body.id as string;
    expect((await h.request('GET', `${base}/${id}`, { token: viewer })).status).toBe(200);
    await rejected(
      () =>
        h.request('POST', base, {
          token: viewer,
          body: usersMapping({ target: { kind: 'collection', objectId: 'v2' } }),
        }),
      403,
      'permission_denied',
    );
    await rejected(
      () =>
        h.request('PUT', `${base}/${id}`, {
          token: viewer,
          headers: { 'if-match': '"1"' },
          body: usersMapping(),
        }),
      403,
      'permission_denied',
    );
    await rejected(
      () => h.request('DELETE', `${base}/${id}`, { token: viewer, headers: { 'if-match': '"1"' } }),
      403,
      'permission_denied',
    );
  });

  it('a member of t2 cannot see or touch t1, and cannot tell t1 exists', async () => {
    const created = await h.request('POST', base, {
      token: owner,
      body: usersMapping({ target: { kind: 'collection', objectId: 'cross' } }),
    });
    const id = created.body.id as string;
    const notFound = { error: { code: 'not_found', message: 'tenant not found' } };
    for (const [method, path, extra] of [
      ['GET', '/api/tenants/t1', {}],
      ['GET', base, {}],
      ['GET', `${base}/${id}`, {}],
      ['POST', base, { body: usersMapping({ target: { kind: 'collection', objectId: 'evil' } }) }],
      ['PUT', `${base}/${id}`, { headers: { 'if-match': '"1"' }, body: usersMapping() }],
      ['DELETE', `${base}/${id}`, { headers: { 'if-match': '"1"' } }],
      ['POST', '/api/tenants/t1/sync', { body: {} }],
      ['POST', '/api/tenants/t1/connection/revoke', {}],
      ['GET', '/api/tenants/t1/runs', {}],
      ['GET', '/api/tenants/t1/objects/people/records', {}],
    ] as const) {
      const res = await rejected(
        () => h.request(method, path, { token: outsider, ...extra }),
        404,
        'not_found',
      );
      expect(res.body).toEqual(notFound);
    }
    // Same answer as for a tenant that does not exist at all.
    expect((await h.request('GET', '/api/tenants/no-such-tenant', { token: outsider })).body).toEqual(
      notFound,
    );
    // And their own tenant works.
    expect((await h.request('GET', '/api/tenants/t2/mappings', { token: outsider })).status).toBe(200);
  });
});

describe('optimistic concurrency', () => {
  it('requires If-Match, refuses stale versions, and lets exactly one of two concurrent writers win', async () => {
    const created = await h.request('POST', base, {
      token: owner,
      body: usersMapping({ target: { kind: 'collection', objectId: 'occ' } }),
    });
    const id = created.body.id as string;
    const url = `${base}/${id}`;
    const body = usersMapping({ target: { kind: 'collection', objectId: 'occ' } });

    const missing = await rejected(
      () => h.request('PUT', url, { token: owner, body }),
      428,
      'precondition_required',
    );
    expect(missing.body.error.message).toMatch(/If-Match/);
    await rejected(() => h.request('DELETE', url, { token: owner }), 428, 'precondition_required');
    await rejected(
      () => h.request('PUT', url, { token: owner, headers: { 'if-match': 'W/"1"' }, body }),
      400,
      'invalid_argument',
    );
    const stale = await rejected(
      () => h.request('PUT', url, { token: owner, headers: { 'if-match': '"7"' }, body }),
      412,
      'precondition_failed',
    );
    expect(stale.headers.get('etag')).toBe('"1"');
    expect(stale.body.error.currentVersion).toBe(1);

    const [a, b] = await Promise.all([
      h.request('PUT', url, { token: owner, headers: { 'if-match': '"1"' }, body: { ...body, name: 'A' } }),
      h.request('PUT', url, { token: admin, headers: { 'if-match': '"1"' }, body: { ...body, name: 'B' } }),
    ]);
    // The loser sees the new version (412), or, if Firestore gave up on its contended transaction, a 409.
    expect([
      [200, 409],
      [200, 412],
    ]).toContainEqual([a.status, b.status].sort());
    const winner = a.status === 200 ? 'A' : 'B';
    const doc = (await h.db.doc(paths.mapping('t1', id)).get()).data()!;
    expect(doc).toMatchObject({ version: 2, name: winner });

    await rejected(
      () => h.request('DELETE', url, { token: owner, headers: { 'if-match': '"1"' } }),
      412,
      'precondition_failed',
    );
    await rejected(
      () =>
        h.request('PUT', `${base}/no-such-mapping`, { token: owner, headers: { 'if-match': '"1"' }, body }),
      404,
      'not_found',
    );
  });

  it('refuses a second mapping writing the same target', async () => {
    const first = await h.request('POST', base, {
      token: owner,
      body: usersMapping({ target: { kind: 'collection', objectId: 'twice' } }),
    });
    expect(first.status).toBe(201);
    const res = await rejected(
      () =>
        h.request('POST', base, {
          token: owner,
          body: usersMapping({ name: 'Again', target: { kind: 'collection', objectId: 'twice' } }),
        }),
      409,
      'conflict',
    );
    expect(res.body.error.details[0]!.path).toBe('target');
    expect(res.body.error.conflictsWith).toEqual({ id: first.body.id, name: 'Staff' });
    // Several login-users mappings are the exception (test/api/login-users.test.ts).
  });
});

import { get as httpGet } from 'node:http';
import type { admin_directory_v1 } from 'googleapis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { SimFixture } from './helpers.js';
import { authFor, directoryClient, expectApiError, rawGet, startFixture } from './helpers.js';

type User = admin_directory_v1.Schema$User;

let f: SimFixture;

async function listAll(
  params: admin_directory_v1.Params$Resource$Users$List,
): Promise<{ users: User[]; pages: number }> {
  const users: User[] = [];
  let pageToken: string | undefined;
  let pages = 0;
  do {
    const res = await f.admin.users.list({ customer: 'my_customer', ...params, pageToken });
    pages++;
    users.push(...(res.data.users ?? []));
    pageToken = res.data.nextPageToken ?? undefined;
  } while (pageToken);
  return { users, pages };
}

beforeAll(async () => {
  f = await startFixture({ domain: 'lincoln-schools.example', users: 1234, chromeos: 5, mobile: 5, seed: 7 });
});

afterAll(async () => {
  await f.sim.close();
});

describe('users.list paging', () => {
  it('pages 1,234 users at maxResults=500 in three pages with unique ids', async () => {
    const { users, pages } = await listAll({ maxResults: 500 });
    expect(pages).toBe(3);
    expect(users).toHaveLength(1234);
    expect(new Set(users.map((u) => u.id)).size).toBe(1234);
    expect(users.every((u) => u.kind === 'admin#directory#user' && u.customerId === f.customerId)).toBe(true);
  });

  it('defaults to 100 per page and clamps maxResults above 500', async () => {
    const small = await f.admin.users.list({ customer: 'my_customer' });
    expect(small.data.users).toHaveLength(100);
    const clamped = await f.admin.users.list({ customer: 'my_customer', maxResults: 5000 });
    expect(clamped.data.users).toHaveLength(500);
    const zero = await expectApiError(f.admin.users.list({ customer: 'my_customer', maxResults: 0 }));
    expect(zero.status).toBe(400);
  });

  it('omits nextPageToken on the last page and the users key on an empty result', async () => {
    const res = await f.admin.users.list({ customer: 'my_customer', query: 'email:nobody-here*' });
    expect(res.data.kind).toBe('admin#directory#users');
    expect(res.data.etag).toMatch(/^".+\/.+"$/);
    expect(res.data).not.toHaveProperty('users');
    expect(res.data).not.toHaveProperty('nextPageToken');
  });

  it('keeps paging stable while users are added and deleted between pages', async () => {
    const first = await f.admin.users.list({ customer: 'my_customer', maxResults: 500, orderBy: 'email' });
    const seen = new Set((first.data.users ?? []).map((u) => u.id));
    // Deleting an already-served user and adding one that sorts first must not shift the next page.
    const victim = first.data.users?.[10];
    await f.control.deleteUser(f.customerId, victim?.id ?? '');
    await f.control.addUser(f.customerId, {
      primaryEmail: `aaaa.first@${f.domain}`,
      givenName: 'Aaron',
      familyName: 'First',
    });
    let token = first.data.nextPageToken ?? undefined;
    while (token) {
      const page = await f.admin.users.list({
        customer: 'my_customer',
        maxResults: 500,
        orderBy: 'email',
        pageToken: token,
      });
      for (const u of page.data.users ?? []) {
        expect(seen.has(u.id ?? '')).toBe(false);
        seen.add(u.id ?? '');
      }
      token = page.data.nextPageToken ?? undefined;
    }
    expect(seen.size).toBe(1234);
    await f.control.undeleteUser(f.customerId, victim?.id ?? '');
    await f.control.deleteUser(f.customerId, `aaaa.first@${f.domain}`);
  });

  it('sorts by email, familyName and givenName in both directions, ignoring case', async () => {
    const asc = await f.admin.users.list({ customer: 'my_customer', orderBy: 'email', maxResults: 300 });
    const emails = (asc.data.users ?? []).map((u) => (u.primaryEmail ?? '').toLowerCase());
    expect(emails).toEqual([...emails].sort());
    const desc = await f.admin.users.list({
      customer: 'my_customer',
      orderBy: 'familyName',
      sortOrder: 'DESCENDING',
    });
    const names = (desc.data.users ?? []).map((u) => (u.name?.familyName ?? '').toLowerCase());
    expect(names).toEqual([...names].sort().reverse());
  });

  it("rejects a garbled or foreign page token with Google's generic Invalid Input", async () => {
    const res = await rawGet(
      f.sim,
      '/admin/directory/v1/users?customer=my_customer&pageToken=not-a-token',
      f.accessToken,
    );
    expect(res.status).toBe(400);
    expect(res.body).toEqual({
      error: {
        code: 400,
        message: 'Invalid Input',
        errors: [{ message: 'Invalid Input', domain: 'global', reason: 'invalid' }],
        status: 'INVALID_ARGUMENT',
      },
    });
    // A users token is not valid for another ordering.
    const page = await f.admin.users.list({ customer: 'my_customer', maxResults: 10 });
    const err = await expectApiError(
      f.admin.users.list({
        customer: 'my_customer',
        orderBy: 'email',
        pageToken: page.data.nextPageToken ?? '',
      }),
    );
    expect(err).toMatchObject({ status: 400, reason: 'invalid' });
    expect(err.body).toMatchObject({ error: { message: 'Invalid Input' } });
  });

  it('gzips the body only when the client accepts gzip (googleapis always does)', async () => {
    const fetchRaw = (acceptEncoding: string | undefined) =>
      new Promise<{ encoding: string | undefined; body: Buffer }>((resolve, reject) => {
        const headers: Record<string, string> = { authorization: `Bearer ${f.accessToken}` };
        if (acceptEncoding) headers['accept-encoding'] = acceptEncoding;
        httpGet(
          `${f.sim.url}/admin/directory/v1/users?customer=my_customer&maxResults=50`,
          { headers },
          (res) => {
            const chunks: Buffer[] = [];
            res.on('data', (c: Buffer) => chunks.push(c));
            res.on('end', () =>
              resolve({ encoding: res.headers['content-encoding'], body: Buffer.concat(chunks) }),
            );
          },
        ).on('error', reject);
      });
    const zipped = await fetchRaw('gzip');
    expect(zipped.encoding).toBe('gzip');
    expect(zipped.body.subarray(0, 2)).toEqual(Buffer.from([0x1f, 0x8b]));
    const plain = await fetchRaw(undefined);
    expect(plain.encoding).toBeUndefined();
    expect(JSON.parse(plain.body.toString('utf8'))).toHaveProperty('users');
  });

  it('requires customer or domain, and honours domain=', async () => {
    const err = await expectApiError(f.admin.users.list({ maxResults: 5 }));
    expect(err).toMatchObject({ status: 400, reason: 'badRequest' });
    const byDomain = await f.admin.users.list({ domain: f.domain, maxResults: 5 });
    expect(byDomain.data.users).toHaveLength(5);
  });
});

describe('users.list query', () => {
  let all: User[];
  beforeAll(async () => {
    all = (await listAll({ maxResults: 500, projection: 'full' })).users;
  });

  it('filters by isSuspended / isArchived / isAdmin', async () => {
    const suspended = await listAll({ query: 'isSuspended=true', maxResults: 500 });
    expect(suspended.users.length).toBe(all.filter((u) => u.suspended).length);
    expect(suspended.users.length).toBeGreaterThan(10);
    expect(suspended.users.every((u) => u.suspended && u.suspensionReason === 'ADMIN')).toBe(true);
    const archived = await listAll({ query: 'isArchived=true' });
    expect(archived.users.length).toBe(all.filter((u) => u.archived).length);
    const admins = await listAll({ query: 'isAdmin=true' });
    expect(admins.users.map((u) => u.primaryEmail)).toContain(f.adminEmail);
    expect(admins.users.every((u) => u.isAdmin)).toBe(true);
  });

  it("matches orgUnitPath='/A/B' against the OU and its descendants", async () => {
    const res = await listAll({ query: "orgUnitPath='/Schools/Lincoln High'", maxResults: 500 });
    const expected = all.filter((u) => u.orgUnitPath?.startsWith('/Schools/Lincoln High'));
    expect(res.users.length).toBe(expected.length);
    expect(res.users.length).toBeGreaterThan(50);
    expect(new Set(res.users.map((u) => u.orgUnitPath)).size).toBeGreaterThan(1);
  });

  it('supports email prefix/exact, names and AND-ed clauses with quoted unicode values', async () => {
    const prefix = await listAll({ query: 'email:admin*' });
    expect(prefix.users.map((u) => u.primaryEmail)).toContain(f.adminEmail);
    const exact = await listAll({ query: `email:${f.adminEmail}` });
    expect(exact.users).toHaveLength(1);

    const unicode = all.find((u) => /[^ -~]/.test(u.name?.familyName ?? '') && !u.suspended);
    expect(unicode).toBeDefined();
    const family = unicode?.name?.familyName ?? '';
    const byFamily = await listAll({
      query: `familyName:'${family.replace(/'/g, "\\'")}' isSuspended=false`,
    });
    expect(byFamily.users.length).toBe(
      all.filter((u) => u.name?.familyName === family && !u.suspended).length,
    );

    const full = all.find((u) => (u.name?.fullName ?? '').includes("'"));
    if (full) {
      const byName = await listAll({ query: `name:"${full.name?.fullName}"` });
      expect(byName.users.map((u) => u.id)).toContain(full.id);
    }
    const given = await listAll({ query: 'givenName:Zo*' });
    expect(given.users.every((u) => (u.name?.givenName ?? '').toLowerCase().startsWith('zo'))).toBe(true);
  });

  it('answers an unknown search field with 400 Invalid Input', async () => {
    const err = await expectApiError(f.admin.users.list({ customer: 'my_customer', query: 'shoeSize=42' }));
    expect(err).toMatchObject({ status: 400, reason: 'invalid' });
  });
});

describe('users: projections, fields, deleted users, get', () => {
  it('includes customSchemas only for projection full/custom', async () => {
    const basic = await f.admin.users.list({ customer: 'my_customer', maxResults: 200 });
    expect((basic.data.users ?? []).some((u) => u.customSchemas)).toBe(false);
    const full = await f.admin.users.list({ customer: 'my_customer', maxResults: 200, projection: 'full' });
    const withSchema = (full.data.users ?? []).filter((u) => u.customSchemas);
    expect(withSchema.length).toBeGreaterThan(50);
    expect(Object.keys(withSchema[0]?.customSchemas ?? {})).toEqual(['EmployeeData']);
    const custom = await f.admin.users.list({
      customer: 'my_customer',
      maxResults: 200,
      projection: 'custom',
      customFieldMask: 'EmployeeData',
    });
    expect((custom.data.users ?? []).filter((u) => u.customSchemas).length).toBe(withSchema.length);
    const otherMask = await f.admin.users.list({
      customer: 'my_customer',
      maxResults: 200,
      projection: 'custom',
      customFieldMask: 'SomethingElse',
    });
    expect((otherMask.data.users ?? []).some((u) => u.customSchemas)).toBe(false);
    // The etag is a fingerprint of the user, not of the projection.
    expect(basic.data.users?.[0]?.etag).toBe(full.data.users?.[0]?.etag);
  });

  it('applies fields masks to the whole response', async () => {
    const res = await f.admin.users.list({
      customer: 'my_customer',
      maxResults: 3,
      fields: 'nextPageToken,users(id,primaryEmail,name/givenName)',
    });
    expect(Object.keys(res.data).sort()).toEqual(['nextPageToken', 'users']);
    for (const u of res.data.users ?? []) {
      expect(Object.keys(u).sort()).toEqual(['id', 'name', 'primaryEmail']);
      expect(Object.keys(u.name ?? {})).toEqual(['givenName']);
    }
    const star = await f.admin.users.get({ userKey: f.adminEmail, fields: 'name(*),kind' });
    expect(Object.keys(star.data).sort()).toEqual(['kind', 'name']);
    expect(Object.keys(star.data.name ?? {}).sort()).toEqual(['familyName', 'fullName', 'givenName']);
    const bad = await expectApiError(f.admin.users.list({ customer: 'my_customer', fields: 'users(id' }));
    expect(bad).toMatchObject({ status: 400, reason: 'invalidParameter' });
  });

  it('showDeleted=true lists only deleted users, with deletionTime', async () => {
    const target = (
      await f.admin.users.list({ customer: 'my_customer', maxResults: 1, orderBy: 'givenName' })
    ).data.users?.[0];
    const before = await listAll({ showDeleted: 'true' });
    expect(before.users.length).toBeGreaterThan(0);
    expect(before.users.every((u) => typeof u.deletionTime === 'string')).toBe(true);
    await f.control.deleteUser(f.customerId, target?.id ?? '');
    const after = await listAll({ showDeleted: 'true' });
    expect(after.users.map((u) => u.id)).toContain(target?.id);
    const live = await listAll({ maxResults: 500 });
    expect(live.users.map((u) => u.id)).not.toContain(target?.id);
    expect((await expectApiError(f.admin.users.get({ userKey: target?.id ?? '' }))).status).toBe(404);
    await f.control.undeleteUser(f.customerId, target?.id ?? '');
    expect((await f.admin.users.get({ userKey: target?.id ?? '' })).data.deletionTime).toBeUndefined();
  });

  it('gets a user by primary email, alias (any case) and id; 404 otherwise', async () => {
    const all = (await listAll({ maxResults: 500 })).users;
    const withAlias = all.find((u) => u.aliases?.length);
    expect(withAlias).toBeDefined();
    const byAlias = await f.admin.users.get({ userKey: (withAlias?.aliases?.[0] ?? '').toUpperCase() });
    expect(byAlias.data.id).toBe(withAlias?.id);
    const byId = await f.admin.users.get({ userKey: withAlias?.id ?? '', projection: 'full' });
    expect(byId.data.primaryEmail).toBe(withAlias?.primaryEmail);
    const missing = await expectApiError(f.admin.users.get({ userKey: `ghost@${f.domain}` }));
    expect(missing).toMatchObject({ status: 404, reason: 'notFound' });
    expect((missing.body as { error: { message: string } }).error.message).toBe(
      'Resource Not Found: userKey',
    );
  });

  it('changes the etag when a user changes, and moves users with their org unit', async () => {
    const user = (
      await f.admin.users.list({ customer: 'my_customer', query: "orgUnitPath='/Staff/IT'", maxResults: 1 })
    ).data.users?.[0];
    await f.control.updateUser(f.customerId, user?.id ?? '', { name: { givenName: 'Renamed' } });
    const renamed = await f.admin.users.get({ userKey: user?.id ?? '' });
    expect(renamed.data.name?.givenName).toBe('Renamed');
    expect(renamed.data.etag).not.toBe(user?.etag);
    await f.control.updateOrgUnit(f.customerId, { orgUnitPath: '/Staff/IT', name: 'Technology' });
    const moved = await f.admin.users.get({ userKey: user?.id ?? '' });
    expect(moved.data.orgUnitPath).toBe('/Staff/Technology');
    await f.control.updateOrgUnit(f.customerId, { orgUnitPath: '/Staff/Technology', name: 'IT' });
  });
});

describe('determinism and tenancy', () => {
  it('generates identical users for two workspaces with the same seed', async () => {
    const a = await f.control.createWorkspace({ domain: 'twin-a.example', seed: 99, users: 120 });
    const b = await f.control.createWorkspace({ domain: 'twin-b.example', seed: 99, users: 120 });
    const list = async (customerId: string, domain: string) => {
      const { auth } = await authFor(f.sim, f.control, customerId, [
        'https://www.googleapis.com/auth/admin.directory.user.readonly',
      ]);
      const res = await directoryClient(f.sim, auth).users.list({
        customer: 'my_customer',
        maxResults: 500,
        projection: 'full',
      });
      return (res.data.users ?? []).map((u) =>
        JSON.parse(JSON.stringify(u).split(domain).join('<domain>').split(customerId).join('<customer>')),
      );
    };
    const usersA = await list(a.customerId, a.domain);
    const usersB = await list(b.customerId, b.domain);
    expect(usersA).toHaveLength(120);
    expect(usersA.map(({ etag: _e, ...u }) => u)).toEqual(usersB.map(({ etag: _e, ...u }) => u));
  });

  it('denies another customer and resolves my_customer to the token’s customer', async () => {
    const other = await f.control.createWorkspace({ domain: 'other-district.example', users: 10 });
    const err = await expectApiError(f.admin.users.list({ customer: other.customerId }));
    expect(err).toMatchObject({ status: 403, reason: 'forbidden' });
    expect((err.body as { error: { message: string } }).error.message).toBe(
      'Not Authorized to access this resource/api',
    );
    const byDomain = await expectApiError(f.admin.users.list({ domain: other.domain }));
    expect(byDomain.status).toBe(403);
    const foreignUser = await expectApiError(f.admin.users.get({ userKey: other.adminEmail }));
    expect(foreignUser.status).toBe(403);
    const mine = await f.admin.users.list({ customer: f.customerId, maxResults: 1 });
    expect(mine.data.users?.[0]?.customerId).toBe(f.customerId);
  });
});

import type { admin_directory_v1 } from 'googleapis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SCOPES } from '../../emulators/workspace-simulator/index.js';
import type { SimFixture } from './helpers.js';
import { authFor, directoryClient, expectApiError, rawGet, startFixture } from './helpers.js';

let f: SimFixture;

beforeAll(async () => {
  // 900 users ⇒ 90 groups by default; All Staff then has more than 200 members.
  f = await startFixture({ domain: 'groups.example', users: 900, chromeos: 0, mobile: 0, seed: 11 }, [
    SCOPES.groupReadonly,
  ]);
});

afterAll(async () => {
  await f.sim.close();
});

async function allGroups(params: admin_directory_v1.Params$Resource$Groups$List = {}) {
  const groups: admin_directory_v1.Schema$Group[] = [];
  let pageToken: string | undefined;
  let pages = 0;
  do {
    const res = await f.admin.groups.list({ customer: 'my_customer', ...params, pageToken });
    groups.push(...(res.data.groups ?? []));
    pageToken = res.data.nextPageToken ?? undefined;
    pages++;
  } while (pageToken);
  return { groups, pages };
}

async function allMembers(groupKey: string, params: admin_directory_v1.Params$Resource$Members$List = {}) {
  const members: admin_directory_v1.Schema$Member[] = [];
  let pageToken: string | undefined;
  let pages = 0;
  do {
    const res = await f.admin.members.list({ groupKey, ...params, pageToken });
    members.push(...(res.data.members ?? []));
    pageToken = res.data.nextPageToken ?? undefined;
    pages++;
  } while (pageToken);
  return { members, pages };
}

describe('groups.list', () => {
  it('seeds about one group per ten users and pages to the end with small pages', async () => {
    const { groups, pages } = await allGroups({ maxResults: 7 });
    expect(groups).toHaveLength(90);
    expect(pages).toBe(13);
    expect(new Set(groups.map((g) => g.id)).size).toBe(90);
    const one = await f.admin.groups.list({ customer: 'my_customer' });
    expect(one.data.groups).toHaveLength(90);
    expect(one.data.nextPageToken).toBeUndefined();
    expect(one.data.kind).toBe('admin#directory#groups');
  });

  it('serves directMembersCount as an int64 string and every documented group field', async () => {
    const { groups } = await allGroups();
    for (const g of groups) {
      expect(typeof g.directMembersCount).toBe('string');
      expect(g.directMembersCount).toMatch(/^\d+$/);
      expect(g.kind).toBe('admin#directory#group');
      expect(g.id).toMatch(/^0[a-z0-9]{14}$/);
      expect(g.email).toMatch(/@groups\.example$/);
      expect(typeof g.adminCreated).toBe('boolean');
    }
    expect(groups.some((g) => g.directMembersCount === '0')).toBe(true);
  });

  it('caps maxResults at 200 instead of rejecting a larger value', async () => {
    const big = await f.control.createWorkspace({ domain: 'big-groups.example', users: 30, groups: 250 });
    const { auth } = await authFor(f.sim, f.control, big.customerId, [SCOPES.group]);
    const admin = directoryClient(f.sim, auth);
    const first = await admin.groups.list({ customer: 'my_customer', maxResults: 500 });
    expect(first.data.groups).toHaveLength(200);
    const rest = await admin.groups.list({
      customer: 'my_customer',
      maxResults: 500,
      pageToken: first.data.nextPageToken ?? '',
    });
    expect(rest.data.groups).toHaveLength(50);
    expect(rest.data.nextPageToken).toBeUndefined();
    const dflt = await admin.groups.list({ customer: 'my_customer' });
    expect(dflt.data.groups).toHaveLength(200);
  });

  it('orders by email in both directions', async () => {
    const asc = (await allGroups({ orderBy: 'email', maxResults: 25 })).groups.map((g) => g.email ?? '');
    expect(asc).toEqual([...asc].sort());
    const desc = (await allGroups({ orderBy: 'email', sortOrder: 'DESCENDING', maxResults: 25 })).groups.map(
      (g) => g.email ?? '',
    );
    expect(desc).toEqual([...asc].reverse());
  });

  it('applies a fields mask like the other list endpoints', async () => {
    const res = await rawGet(
      f.sim,
      '/admin/directory/v1/groups?customer=my_customer&maxResults=3&fields=nextPageToken,groups(email,directMembersCount)',
      f.accessToken,
    );
    expect(res.status).toBe(200);
    expect(Object.keys(res.body).sort()).toEqual(['groups', 'nextPageToken']);
    for (const g of res.body['groups'] as Array<Record<string, unknown>>) {
      expect(Object.keys(g).sort()).toEqual(['directMembersCount', 'email']);
    }
  });

  it('filters with query email:prefix* and by userKey', async () => {
    const res = await f.admin.groups.list({ customer: 'my_customer', query: 'email:chess*' });
    const emails = (res.data.groups ?? []).map((g) => g.email ?? '');
    expect(emails.length).toBeGreaterThan(0);
    expect(emails.every((e) => e.startsWith('chess'))).toBe(true);

    const { groups } = await allGroups();
    const withMembers = groups.find(
      (g) => Number(g.directMembersCount) > 3,
    ) as admin_directory_v1.Schema$Group;
    const { members } = await allMembers(withMembers.id ?? '');
    const user = members.find((m) => m.type === 'USER') as admin_directory_v1.Schema$Member;
    const mine = await f.admin.groups.list({ userKey: user.email ?? '' });
    expect((mine.data.groups ?? []).map((g) => g.id)).toContain(withMembers.id);
    for (const g of mine.data.groups ?? []) {
      const inIt = (await allMembers(g.id ?? '')).members.some((m) => m.id === user.id);
      expect(inIt, g.email ?? '').toBe(true);
    }
  });

  it('gets a group by id or by email, and 404s an unknown one like Google', async () => {
    const { groups } = await allGroups();
    const g = groups[5] as admin_directory_v1.Schema$Group;
    expect((await f.admin.groups.get({ groupKey: g.id ?? '' })).data).toEqual(g);
    expect((await f.admin.groups.get({ groupKey: g.email ?? '' })).data).toEqual(g);
    const res = await rawGet(f.sim, '/admin/directory/v1/groups/no-such-group@groups.example', f.accessToken);
    expect(res.status).toBe(404);
    expect(res.body).toMatchObject({
      error: {
        code: 404,
        message: 'Resource Not Found: groupKey',
        errors: [{ message: 'Resource Not Found: groupKey', domain: 'global', reason: 'notFound' }],
      },
    });
    const members = await expectApiError(f.admin.members.list({ groupKey: 'nope@groups.example' }));
    expect(members).toMatchObject({ status: 404, reason: 'notFound' });
  });

  it('answers a foreign page token with the generic 400 Invalid Input', async () => {
    const { groups } = await allGroups();
    const big = groups.find((g) => Number(g.directMembersCount) > 2) as admin_directory_v1.Schema$Group;
    const membersPage = await f.admin.members.list({ groupKey: big.id ?? '', maxResults: 1 });
    const res = await rawGet(
      f.sim,
      `/admin/directory/v1/groups?customer=my_customer&pageToken=${membersPage.data.nextPageToken ?? ''}`,
      f.accessToken,
    );
    expect(res.status).toBe(400);
    expect(res.body).toMatchObject({
      error: {
        code: 400,
        message: 'Invalid Input',
        errors: [{ message: 'Invalid Input', domain: 'global', reason: 'invalid' }],
      },
    });
  });
});

describe('members.list', () => {
  it('pages the All Staff list to the end with small pages', async () => {
    const staff = (await f.admin.groups.get({ groupKey: 'all-staff@groups.example' })).data;
    const count = Number(staff.directMembersCount);
    expect(count).toBeGreaterThan(200);
    const { members, pages } = await allMembers('all-staff@groups.example', { maxResults: 50 });
    expect(members).toHaveLength(count);
    expect(pages).toBe(Math.ceil(count / 50));
    expect(new Set(members.map((m) => m.id)).size).toBe(count);
    const capped = await f.admin.members.list({ groupKey: staff.id ?? '', maxResults: 1000 });
    expect(capped.data.members).toHaveLength(200);
    expect(capped.data.nextPageToken).toBeTruthy();
  });

  it('serves Google member shapes: roles, types and statuses', async () => {
    const { groups } = await allGroups();
    const all: admin_directory_v1.Schema$Member[] = [];
    for (const g of groups) all.push(...(await allMembers(g.id ?? '')).members);
    expect(new Set(all.map((m) => m.type))).toEqual(new Set(['USER', 'GROUP', 'EXTERNAL', 'CUSTOMER']));
    expect(new Set(all.map((m) => m.role))).toEqual(new Set(['OWNER', 'MANAGER', 'MEMBER']));
    expect(all.filter((m) => m.role === 'MEMBER').length).toBeGreaterThan(all.length / 2);
    for (const m of all) {
      expect(m.kind).toBe('admin#directory#member');
      if (m.type === 'CUSTOMER') expect(m.email).toBeUndefined();
      else expect(m.email).toMatch(/@/);
    }
    const nested = all.find((m) => m.type === 'GROUP') as admin_directory_v1.Schema$Member;
    expect((await f.admin.groups.get({ groupKey: nested.id ?? '' })).data.email).toBe(nested.email);
    expect(all.some((m) => m.type === 'USER' && m.status === 'SUSPENDED')).toBe(true);
  });

  it('filters by roles', async () => {
    const { members } = await allMembers('all-staff@groups.example');
    const owners = await allMembers('all-staff@groups.example', { roles: 'OWNER,MANAGER' });
    expect(owners.members.length).toBeGreaterThan(0);
    expect(owners.members.every((m) => m.role === 'OWNER' || m.role === 'MANAGER')).toBe(true);
    expect(owners.members).toHaveLength(members.filter((m) => m.role !== 'MEMBER').length);
    const onlyMembers = await allMembers('all-staff@groups.example', { roles: 'MEMBER', maxResults: 40 });
    expect(onlyMembers.members).toHaveLength(members.filter((m) => m.role === 'MEMBER').length);
  });

  it('omits the members key for an empty group, as Google does', async () => {
    const { groups } = await allGroups();
    const empty = groups.find((g) => g.directMembersCount === '0') as admin_directory_v1.Schema$Group;
    const res = await rawGet(f.sim, `/admin/directory/v1/groups/${empty.id}/members`, f.accessToken);
    expect(res.status).toBe(200);
    expect(Object.keys(res.body).sort()).toEqual(['etag', 'kind']);
    expect(res.body['kind']).toBe('admin#directory#members');
  });
});

describe('faults', () => {
  it('expiredPageToken and 429s hit group listings like the others', async () => {
    const first = await f.admin.members.list({ groupKey: 'all-staff@groups.example', maxResults: 10 });
    await f.control.setFaults({ faults: [{ kind: 'expiredPageToken', count: 1, pathContains: '/members' }] });
    const err = await expectApiError(
      f.admin.members.list({
        groupKey: 'all-staff@groups.example',
        maxResults: 10,
        pageToken: first.data.nextPageToken ?? '',
      }),
    );
    expect(err).toMatchObject({ status: 400, reason: 'invalid' });
    expect(err.body).toMatchObject({ error: { message: 'Invalid Input' } });

    await f.control.resetStats();
    await f.control.setFaults({ faults: [{ kind: 'rateLimitExceeded', count: 1, pathContains: '/groups' }] });
    // googleapis retries the 429 on its own.
    await f.admin.groups.list({ customer: 'my_customer', maxResults: 1 });
    const stats = await f.control.getStats();
    expect(stats.byRoute['directory.groups.list']?.byStatus).toEqual({ '200': 1, '429': 1 });
    await f.control.clearFaults();
  });
});

describe('scopes', () => {
  it('needs a group scope; members.list also takes the member scopes', async () => {
    const users = await authFor(f.sim, f.control, f.customerId, [
      'https://www.googleapis.com/auth/admin.directory.user.readonly',
    ]);
    const noGroups = directoryClient(f.sim, users.auth);
    // Made one at a time: a request started early could be refused before anything awaits it (unhandled).
    for (const call of [
      () => noGroups.groups.list({ customer: 'my_customer' }),
      () => noGroups.groups.get({ groupKey: 'all-staff@groups.example' }),
      () => noGroups.members.list({ groupKey: 'all-staff@groups.example' }),
    ]) {
      expect(await expectApiError(call())).toMatchObject({ status: 403, reason: 'insufficientPermissions' });
    }
    const memberOnly = directoryClient(
      f.sim,
      (await authFor(f.sim, f.control, f.customerId, [SCOPES.groupMemberReadonly])).auth,
    );
    const listed = await memberOnly.members.list({ groupKey: 'all-staff@groups.example', maxResults: 1 });
    expect(listed.data.members).toHaveLength(1);
    expect(await expectApiError(memberOnly.groups.list({ customer: 'my_customer' }))).toMatchObject({
      status: 403,
      reason: 'insufficientPermissions',
    });
  });
});

describe('control API changes show up between syncs', () => {
  it('adds, renames and deletes groups and memberships', async () => {
    const ws = f.customerId;
    const created = await f.control.addGroup(ws, {
      email: 'new-team@groups.example',
      name: 'New Team',
      description: 'made by a test',
    });
    expect(created).toMatchObject({ email: 'new-team@groups.example', directMembersCount: '0' });
    const user = await f.control.addUser(ws, {
      primaryEmail: 'joiner@groups.example',
      givenName: 'Jo',
      familyName: 'Iner',
    });
    await f.control.addGroupMember(ws, 'new-team@groups.example', { email: 'joiner@groups.example' });
    await f.control.addGroupMember(ws, 'new-team@groups.example', {
      email: 'all-staff@groups.example',
      role: 'MANAGER',
    });
    await f.control.addGroupMember(ws, 'new-team@groups.example', { email: 'guest@elsewhere.example' });
    let members = (await allMembers('new-team@groups.example')).members;
    expect(members.map((m) => [m.email, m.type, m.role]).sort()).toEqual([
      ['all-staff@groups.example', 'GROUP', 'MANAGER'],
      ['guest@elsewhere.example', 'EXTERNAL', 'MEMBER'],
      ['joiner@groups.example', 'USER', 'MEMBER'],
    ]);
    expect((await f.admin.groups.get({ groupKey: created.id ?? '' })).data.directMembersCount).toBe('3');

    // A cycle is refused, as the API does.
    await expect(
      f.control.addGroupMember(ws, 'all-staff@groups.example', { email: 'new-team@groups.example' }),
    ).rejects.toMatchObject({ status: 400 });

    await f.control.updateGroupMember(ws, 'new-team@groups.example', 'joiner@groups.example', {
      role: 'OWNER',
    });
    await f.control.updateUser(ws, user.id ?? '', { primaryEmail: 'jo.iner@groups.example' });
    const owners = await allMembers('new-team@groups.example', { roles: 'OWNER' });
    expect(owners.members.map((m) => m.email)).toEqual(['jo.iner@groups.example']);

    await f.control.removeGroupMember(ws, 'new-team@groups.example', 'guest@elsewhere.example');
    await f.control.updateGroup(ws, 'new-team@groups.example', { email: 'renamed-team@groups.example' });
    const renamed = (await f.admin.groups.get({ groupKey: 'new-team@groups.example' })).data;
    expect(renamed).toMatchObject({
      email: 'renamed-team@groups.example',
      aliases: ['new-team@groups.example'],
    });
    expect(renamed.directMembersCount).toBe('2');
    expect(renamed.etag).not.toBe(created.etag);

    // Deleting a user drops their memberships.
    await f.control.deleteUser(ws, 'jo.iner@groups.example');
    members = (await allMembers(created.id ?? '')).members;
    expect(members.map((m) => m.type)).toEqual(['GROUP']);

    await f.control.deleteGroup(ws, created.id ?? '');
    expect(await expectApiError(f.admin.groups.get({ groupKey: created.id ?? '' }))).toMatchObject({
      status: 404,
    });
    expect((await allGroups()).groups).toHaveLength(90);
  });

  it('rejects bad control input with zod issues', async () => {
    await expect(f.control.addGroup(f.customerId, { email: 'not-an-email' })).rejects.toMatchObject({
      status: 400,
    });
    await expect(
      f.control.addGroupMember(f.customerId, 'all-staff@groups.example', {
        type: 'CUSTOMER',
        email: 'a@b.example',
      }),
    ).rejects.toMatchObject({ status: 400 });
    await expect(
      f.control.addGroup(f.customerId, { email: 'all-staff@groups.example' }),
    ).rejects.toMatchObject({ status: 409 });
  });
});

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { recordIdFor } from '../../functions/src/engine/record-id.js';
import { recordsOf, startSyncHarness, type SyncHarness } from '../support/sync-harness.js';

/**
 * Several login-users mappings, one per org unit with its own role (Asset Panda's login access): each user is
 * the most specific mapping's, and no mapping undoes another's login users, whichever runs first.
 */

const loginMapping = (name: string, role: string, paths: string[] | null) => ({
  name,
  entity: 'users',
  identifier: 'primaryEmail',
  target: { kind: 'loginUsers', role },
  fieldMap: [{ source: 'name.fullName', target: 'displayName' }],
  orgUnitScope: paths ? { paths, includeChildren: true } : null,
  removalThresholdPercent: 50,
});

describe('several login-users mappings, one per org unit', () => {
  let h: SyncHarness;
  const loginUser = async (email: string) =>
    (await recordsOf(h.db, h.tenantId, 'login-users')).get(recordIdFor('primaryEmail', email))?.data;
  const syncAll = async (...ids: string[]) => {
    for (const id of ids) expect((await h.sync(id)).status).toBe('completed');
  };

  /** Two /Staff/IT users the second test moves; the first ends in /Staff/Teachers, handed over by Staff. */
  let first: { primaryEmail: string } | undefined;
  let second: { primaryEmail: string } | undefined;

  beforeAll(async () => {
    h = await startSyncHarness({ users: 160, chromeos: 0, mobile: 0 });
    await h.addMapping('staff', loginMapping('Staff', 'G1', ['/Staff']));
    await h.addMapping('teachers', loginMapping('Teachers', 'G2', ['/Staff/Teachers']));
  });
  afterAll(() => h.close());

  it('gives a user in two scopes the most specific org unit’s role, whichever mapping syncs first', async () => {
    await syncAll('teachers', 'staff');
    const users = await h.ws.listUsers();
    const records = await recordsOf(h.db, h.tenantId, 'login-users');
    const teachers = users.filter((u) => u.orgUnitPath.startsWith('/Staff/Teachers'));
    const otherStaff = users.filter(
      (u) => u.orgUnitPath.startsWith('/Staff') && !u.orgUnitPath.startsWith('/Staff/Teachers'),
    );
    const nonStaff = users.filter((u) => !u.orgUnitPath.startsWith('/Staff'));
    expect(teachers.length).toBeGreaterThan(0);
    expect(otherStaff.length).toBeGreaterThan(0);
    expect(nonStaff.length).toBeGreaterThan(0);
    for (const u of teachers) {
      const r = records.get(recordIdFor('primaryEmail', u.primaryEmail))!.data;
      expect(r).toMatchObject({ role: 'G2', _sync: { mappingId: 'teachers' } });
    }
    for (const u of otherStaff) {
      const r = records.get(recordIdFor('primaryEmail', u.primaryEmail))!.data;
      expect(r).toMatchObject({ role: 'G1', _sync: { mappingId: 'staff' } });
    }
    // A user whose org unit no login-users mapping takes in is no login user.
    for (const u of nonStaff) expect(records.has(recordIdFor('primaryEmail', u.primaryEmail))).toBe(false);
    expect(records.size).toBe(teachers.length + otherStaff.length);

    // Synced again in the other order, nothing changes: neither mapping writes or removes the other's users.
    const staffAgain = await h.sync('staff');
    const teachersAgain = await h.sync('teachers');
    for (const out of [staffAgain, teachersAgain]) {
      expect(out.status).toBe('completed');
      if (out.status !== 'completed') return;
      expect(out.counts).toMatchObject({ created: 0, updated: 0, removed: 0 });
    }
    if (staffAgain.status === 'completed')
      expect(staffAgain.counts.outOfScope).toBeGreaterThanOrEqual(teachers.length);
  });

  it('moves a user’s login to the mapping of the org unit they move to, in either order of syncs', async () => {
    const users = await h.ws.listUsers();
    [first, second] = users.filter((u) => u.orgUnitPath === '/Staff/IT' && !u.suspended && !u.archived);
    expect(first && second).toBeTruthy();

    // Into the deeper scope; the mapping losing the user syncs first and hands the login user over.
    await h.ws.updateUser(first!.primaryEmail, { orgUnitPath: '/Staff/Teachers' });
    await syncAll('staff');
    expect(await loginUser(first!.primaryEmail)).toMatchObject({
      role: 'G2',
      active: true,
      _sync: { mappingId: 'teachers', status: 'active', removedAt: null },
    });
    await syncAll('teachers');
    expect(await loginUser(first!.primaryEmail)).toMatchObject({ role: 'G2', active: true });

    // Into the deeper scope; the mapping gaining the user syncs first.
    await h.ws.updateUser(second!.primaryEmail, { orgUnitPath: '/Staff/Teachers' });
    await syncAll('teachers', 'staff');
    expect(await loginUser(second!.primaryEmail)).toMatchObject({
      role: 'G2',
      active: true,
      _sync: { mappingId: 'teachers', status: 'active' },
    });

    // Back out of the deeper scope: the mapping gaining the user writes first, and the one losing the user does
    // not remove (deactivate) the login user the other mapping now holds.
    await h.ws.updateUser(second!.primaryEmail, { orgUnitPath: '/Staff/IT' });
    await syncAll('staff', 'teachers');
    expect(await loginUser(second!.primaryEmail)).toMatchObject({
      role: 'G1',
      active: true,
      _sync: { mappingId: 'staff', status: 'active', removedAt: null },
    });

    // Further syncs settle nothing more: both agree on every login user.
    for (const id of ['teachers', 'staff']) {
      const out = await h.sync(id);
      expect(out.status === 'completed' && out.counts).toMatchObject({ created: 0, updated: 0, removed: 0 });
    }
  });

  it('removes the login user of someone who moves to an org unit no mapping takes in', async () => {
    const users = await h.ws.listUsers();
    const teacher = users.find((u) => u.orgUnitPath === '/Staff/Teachers' && !u.suspended && !u.archived)!;
    const worker = users.find(
      (u) => u.orgUnitPath === '/Staff/Administration' && !u.suspended && !u.archived,
    )!;
    await h.ws.updateUser(teacher.primaryEmail, { orgUnitPath: '/Contractors' });
    await h.ws.updateUser(worker.primaryEmail, { orgUnitPath: '/Contractors' });
    // The first moved user is in Staff's index since Staff handed them over, but Teachers wrote them last: Staff
    // finds them gone from its scope and must not mark them removed; that is Teachers' to do.
    await h.ws.updateUser(first!.primaryEmail, { orgUnitPath: '/Contractors' });
    await syncAll('staff');
    expect(await loginUser(first!.primaryEmail)).toMatchObject({
      role: 'G2',
      active: true,
      _sync: { mappingId: 'teachers', status: 'active', removedAt: null },
    });
    expect(await loginUser(worker.primaryEmail)).toMatchObject({
      active: false,
      _sync: { status: 'removed' },
    });
    await syncAll('teachers');
    for (const u of [teacher, worker, first!]) {
      const r = await loginUser(u.primaryEmail);
      expect(r).toMatchObject({ active: false, _sync: { status: 'removed' } });
      expect(String(r!._sync.removedReason)).not.toBe('');
    }
  });

  it('a user suspended in the deeper scope stays that mapping’s, inactive, untouched by the wider one', async () => {
    const users = await h.ws.listUsers();
    const teacher = users.find((u) => u.orgUnitPath === '/Staff/Teachers' && !u.suspended && !u.archived)!;
    await h.ws.suspendUser(teacher.primaryEmail);
    await syncAll('staff', 'teachers', 'staff');
    expect(await loginUser(teacher.primaryEmail)).toMatchObject({
      role: 'G2',
      active: false,
      _sync: { mappingId: 'teachers', status: 'inactive', inactiveReason: 'suspended' },
    });
  });
});

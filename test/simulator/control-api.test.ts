import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SimulatorControlError } from '../../emulators/workspace-simulator/index.js';
import type { SimFixture } from './helpers.js';
import { startFixture } from './helpers.js';

let f: SimFixture;

beforeAll(async () => {
  f = await startFixture({ domain: 'control.example', users: 40, chromeos: 3, mobile: 3, seed: 11 });
});

afterAll(async () => {
  await f.sim.close();
});

async function controlError(promise: Promise<unknown>): Promise<SimulatorControlError> {
  const err = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  if (!(err instanceof SimulatorControlError))
    throw new Error(`expected a SimulatorControlError, got ${String(err)}`);
  return err;
}

describe('control API', () => {
  it('lists workspaces and refuses duplicates', async () => {
    const [summary] = await f.control.listWorkspaces();
    expect(summary).toMatchObject({
      customerId: f.customerId,
      domain: f.domain,
      adminEmail: f.adminEmail,
      users: 40,
      chromeos: 3,
    });
    expect(summary?.customerId).toMatch(/^C0[a-z0-9]{7}$/);
    expect((await controlError(f.control.createWorkspace({ domain: f.domain }))).status).toBe(409);
    expect((await controlError(f.control.getWorkspace('nope.example'))).status).toBe(404);
  });

  it('validates bodies with zod: 400 with issues', async () => {
    const err = await controlError(f.control.createWorkspace({ domain: 'not a domain', users: -1 }));
    expect(err.status).toBe(400);
    expect(JSON.stringify(err.body)).toContain('users');
    const addBad = await controlError(
      f.control.addUser(f.customerId, {
        primaryEmail: 'x@elsewhere.example',
        givenName: 'X',
        familyName: 'Y',
      }),
    );
    expect(addBad.status).toBe(400);
  });

  it('adds, updates, suspends, archives, deletes and undeletes users', async () => {
    const created = await f.control.addUser(f.customerId, {
      primaryEmail: `new.hire@${f.domain}`,
      givenName: 'Zoë',
      familyName: "D'Angelo",
      orgUnitPath: '/Staff/Teachers',
      customSchemas: { EmployeeData: { employeeNumber: 'E999' } },
    });
    expect(created).toMatchObject({
      orgUnitPath: '/Staff/Teachers',
      customSchemas: { EmployeeData: { employeeNumber: 'E999' } },
    });
    expect(created.phones).toBeUndefined();
    const key = created.id ?? '';
    const renamed = await f.control.updateUser(f.customerId, key, {
      primaryEmail: `zoe.dangelo@${f.domain}`,
      phones: [{ value: '+1 555 0100', type: 'work' }],
    });
    expect(renamed.aliases).toEqual([`new.hire@${f.domain}`]);
    expect(renamed.phones).toEqual([{ value: '+1 555 0100', type: 'work' }]);
    expect((await f.admin.users.get({ userKey: `new.hire@${f.domain}` })).data.id).toBe(key);

    expect((await f.control.suspendUser(f.customerId, key)).suspended).toBe(true);
    expect((await f.control.unsuspendUser(f.customerId, key)).suspended).toBe(false);
    expect((await f.control.archiveUser(f.customerId, key)).archived).toBe(true);
    const deleted = await f.control.deleteUser(f.customerId, key);
    expect(deleted.deletionTime).toBeTruthy();
    const restored = await f.control.undeleteUser(f.customerId, key, { orgUnitPath: '/Contractors' });
    expect(restored).toMatchObject({ orgUnitPath: '/Contractors', archived: true });
    expect(restored.deletionTime).toBeUndefined();
  });

  it('manages mobile devices', async () => {
    const added = await f.control.addMobileDevice(f.customerId, { type: 'IOS_SYNC', email: [f.adminEmail] });
    expect(added.name).toEqual(['Workspace Admin']);
    const updated = await f.control.updateMobileDevice(f.customerId, added.resourceId ?? '', {
      status: 'BLOCKED',
    });
    expect(updated.status).toBe('BLOCKED');
    await f.control.removeMobileDevice(f.customerId, added.resourceId ?? '');
    expect(
      (await controlError(f.control.removeMobileDevice(f.customerId, added.resourceId ?? ''))).status,
    ).toBe(404);
  });

  it('bulk-renames users and changes their etags', async () => {
    const before = await f.admin.users.list({ customer: 'my_customer', maxResults: 500 });
    const result = await f.control.bulkRenameUsers(4, f.customerId);
    expect(result.renamed).toBe(4);
    const after = await f.admin.users.list({ customer: 'my_customer', maxResults: 500 });
    const etags = new Map((before.data.users ?? []).map((u) => [u.id, u.etag]));
    const changed = (after.data.users ?? []).filter((u) => etags.get(u.id) !== u.etag);
    expect(changed).toHaveLength(4);
    expect(changed.every((u) => / v1$/.test(u.name?.familyName ?? ''))).toBe(true);
  });

  it('reports and resets stats, and resets everything', async () => {
    await f.control.resetStats();
    await f.admin.orgunits.list({ customerId: 'my_customer' });
    await fetch(`${f.sim.url}/admin/directory/v1/users?customer=my_customer`);
    const stats = await f.control.getStats();
    expect(stats.byRoute['directory.orgunits.list']).toEqual({ total: 1, byStatus: { '200': 1 } });
    expect(stats.byRoute['directory.users.list']?.byStatus).toEqual({ '401': 1 });
    expect(stats.total).toBe(2);
    expect((await f.control.resetStats()).total).toBe(0);

    const scratch = await f.control.createWorkspace({ domain: 'scratch.example', users: 3 });
    expect((await f.control.listWorkspaces()).map((w) => w.customerId)).toContain(scratch.customerId);
    await f.control.reset();
    expect(await f.control.listWorkspaces()).toEqual([]);
    const res = await fetch(`${f.sim.url}/admin/directory/v1/users?customer=my_customer`, {
      headers: { authorization: `Bearer ${f.accessToken}` },
    });
    expect(res.status).toBe(401);
  });
});

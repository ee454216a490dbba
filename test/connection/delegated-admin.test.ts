import { afterAll, beforeAll, expect, it } from 'vitest';
import { runSync } from '../../functions/src/engine/engine.js';
import type { SyncMessage } from '../../functions/src/engine/messages.js';
import { paths } from '../../shared/firestore-paths.js';
import { startApiHarness, usersMapping, type ApiHarness } from '../api/api-harness.js';

/**
 * A delegated admin whose custom role may read users and org units but not Chrome OS devices authorizes the
 * connection. Google answers the devices listing 403 forbidden: that mapping is "not permitted for this admin",
 * with the missing privilege named, while the users mapping syncs; the connection page lists what the admin can
 * read; once the privilege is granted, the next sync of the devices mapping works and the mark is gone.
 */

let h: ApiHarness;
let owner: string;
const HELPDESK = 'dana.helpdesk@school.example';

beforeAll(async () => {
  h = await startApiHarness({ chromeos: 6 });
  owner = await h.signIn(h.ws.adminEmail);
  await h.control.addUser(h.ws.customerId, {
    primaryEmail: HELPDESK,
    givenName: 'Dana',
    familyName: 'Helpdesk',
    isDelegatedAdmin: true,
    adminPrivileges: ['USERS_RETRIEVE', 'ORGANIZATION_UNITS_RETRIEVE'],
  });
});
afterAll(async () => {
  await h?.close();
});

let seq = 0;
const sync = (tenantId: string, mappingId: string) => {
  const msg: SyncMessage = {
    kind: 'sync',
    tenantId,
    mappingId,
    requestId: `delegated-${++seq}`,
    trigger: 'manual',
  };
  return runSync(h.app.syncDeps(), msg);
};
const runOf = async (t: string, runId: string) =>
  (await h.db.doc(paths.run(t, runId)).get()).data() as { status: string; errors: unknown[] };

it('users sync; the devices mapping reports the missing privilege; the connection page lists what the admin can read', async () => {
  const t = 'district-delegated';
  await h.createTenant(t, h.ws.adminEmail);
  const users = await h.request('POST', `/api/tenants/${t}/mappings`, { token: owner, body: usersMapping() });
  const devices = await h.request('POST', `/api/tenants/${t}/mappings`, {
    token: owner,
    body: {
      name: 'Chromebooks',
      entity: 'chromeos',
      identifier: 'deviceId',
      target: { kind: 'collection', objectId: 'chromebooks' },
      fieldMap: [{ source: 'serialNumber', target: 'serial' }],
    },
  });
  expect(devices.status, devices.text).toBe(201);
  const connected = await h.connect(t, owner, HELPDESK);
  expect(connected.searchParams.get('connected'), connected.toString()).toBe('1');
  expect((await h.db.doc(paths.tenant(t)).get()).get('connection.adminEmail')).toBe(HELPDESK);

  const usersRun = await sync(t, users.body.id as string);
  expect(usersRun.status).toBe('completed');
  const staff = await h.db.collection(paths.records(t, 'staff')).get();
  expect(staff.size).toBeGreaterThan(10);

  const devicesRun = await sync(t, devices.body.id as string);
  expect(devicesRun.status).toBe('failed');
  const reason = devicesRun.status === 'failed' ? devicesRun.reason : '';
  expect(reason).toContain('not permitted for this admin');
  expect(reason).toContain('Manage ChromeOS Devices (read only)');
  expect(reason).toContain('403 forbidden');
  const run = await runOf(t, (devicesRun as { runId: string }).runId);
  expect(JSON.stringify(run.errors)).toContain('Manage ChromeOS Devices (read only)');

  // The tenant stays active (other mappings keep syncing) and the mapping's entity is marked.
  const doc = (await h.db.doc(paths.tenant(t)).get()).data()!;
  expect(doc.status).toBe('active');
  expect(doc.googleAccess.chromeos).toMatchObject({ permitted: false });
  expect(doc.googleAccess.chromeos.missingPrivilege).toContain('Manage ChromeOS Devices (read only)');
  expect((await sync(t, users.body.id as string)).status).toBe('completed');

  // The connection page: the test probes every entity.
  const test = await h.request('POST', `/api/tenants/${t}/connection/test`, { token: owner });
  expect(test.body, test.text).toMatchObject({ ok: true });
  const settings = await h.request('GET', `/api/tenants/${t}/connection`, { token: owner });
  const access = Object.fromEntries(
    (settings.body.access as Array<{ entity: string; permitted: boolean; missingPrivilege?: string }>).map(
      (a) => [a.entity, a],
    ),
  );
  expect(access.users!.permitted).toBe(true);
  expect(access.orgunits!.permitted).toBe(true);
  expect(access.chromeos!.permitted).toBe(false);
  expect(access.chromeos!.missingPrivilege).toContain('Manage ChromeOS Devices (read only)');
  expect(access.mobile!.permitted).toBe(false);
  expect(access.mobile!.missingPrivilege).toContain('Mobile Device Management');
  expect(access.groups!.missingPrivilege).toContain('GROUPS_RETRIEVE');

  // The privilege granted in the Admin console: the next sync works and the mark is cleared.
  await h.control.updateUser(h.ws.customerId, HELPDESK, {
    adminPrivileges: ['USERS_RETRIEVE', 'ORGANIZATION_UNITS_RETRIEVE', 'CHROME_OS_DEVICES_READ'],
  });
  const again = await sync(t, devices.body.id as string);
  expect(again.status).toBe('completed');
  expect((await h.db.collection(paths.records(t, 'chromebooks')).get()).size).toBeGreaterThan(0);
  expect((await h.db.doc(paths.tenant(t)).get()).get('googleAccess.chromeos.permitted')).toBe(true);
});

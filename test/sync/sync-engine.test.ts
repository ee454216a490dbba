import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { paths } from '../../shared/firestore-paths.js';
import { recordIdFor } from '../../functions/src/engine/record-id.js';
import { recordsOf, runDoc, startSyncHarness, type SyncHarness } from '../support/sync-harness.js';

const PEOPLE = {
  name: 'People',
  entity: 'users',
  identifier: 'primaryEmail',
  target: { kind: 'collection', objectId: 'staff' },
  fieldMap: [
    { source: 'primaryEmail', target: 'email' },
    { source: 'name.givenName', target: 'firstName' },
    { source: 'name.familyName', target: 'lastName' },
    { source: 'orgUnitPath', target: 'orgUnit' },
    { source: 'customSchemas.EmployeeData.employeeNumber', target: 'employeeNumber' },
  ],
  removalThresholdPercent: 10,
};

const LOGINS = {
  name: 'Staff logins',
  entity: 'users',
  identifier: 'primaryEmail',
  target: { kind: 'loginUsers', role: 'technician' },
  fieldMap: [{ source: 'name.fullName', target: 'displayName' }],
  removalThresholdPercent: 50,
};

describe('sync engine against the Workspace simulator and the Firestore emulator', () => {
  let h: SyncHarness;
  beforeAll(async () => {
    h = await startSyncHarness({ users: 240, chromeos: 60, mobile: 30, env: { SYNC_PAGE_SIZE: '50' } });
    await h.addMapping('people', PEOPLE);
    await h.addMapping('logins', LOGINS);
  });
  afterAll(() => h.close());

  it('first sync writes every live user, paged, with mapped fields and a run record', async () => {
    const expected = await h.ws.listUsers();
    const out = await h.sync('people');
    expect(out.status).toBe('completed');
    if (out.status !== 'completed') return;
    expect(out.counts.created).toBe(expected.length);
    expect(out.counts.unchanged).toBe(0);

    const records = await recordsOf(h.db, h.tenantId, 'staff');
    expect(records.size).toBe(expected.length);
    const sample = expected.find((u) => u.name?.givenName && u.customSchemas)!;
    const rec = records.get(recordIdFor('primaryEmail', sample.primaryEmail))!;
    expect(rec.data.email).toBe(sample.primaryEmail);
    expect(rec.data.firstName).toBe(sample.name.givenName);
    expect(rec.data.employeeNumber ?? null).toEqual(
      (sample.customSchemas?.EmployeeData as Record<string, unknown> | undefined)?.employeeNumber ?? null,
    );
    expect(rec.data._sync).toMatchObject({
      source: 'google',
      entity: 'users',
      sourceId: sample.id,
      removedAt: null,
    });

    const run = await runDoc(h.db, h.tenantId, out.runId);
    expect(run.status).toBe('succeeded');
    // Users are listed in email-prefix partitions (partitioned-listing.test.ts): a page at least per partition.
    expect(run.pages).toBeGreaterThanOrEqual(Math.ceil(expected.length / 50));
    expect(run.counts.created).toBe(expected.length);
  });

  it('a re-sync of unchanged data writes no record and reads only a few index documents', async () => {
    const before = await recordsOf(h.db, h.tenantId, 'staff');
    const out = await h.sync('people');
    expect(out.status).toBe('completed');
    if (out.status !== 'completed') return;
    expect(out.counts.unchanged).toBe(before.size);
    expect(out.counts.created + out.counts.updated + out.counts.removed).toBe(0);
    expect(out.meter.recordWrites).toBe(0);
    expect(out.meter.reads).toBeLessThan(15);
    const after = await recordsOf(h.db, h.tenantId, 'staff');
    for (const [id, r] of before) expect(after.get(id)!.updateTime).toBe(r.updateTime);
  });

  it('picks up a changed name and writes only that record', async () => {
    const [u] = await h.ws.listUsers();
    await h.ws.updateUser(u!.primaryEmail, { name: { givenName: 'Renée' } });
    const out = await h.sync('people');
    if (out.status !== 'completed') throw new Error(out.status);
    expect(out.counts.updated).toBe(1);
    expect(out.meter.recordWrites).toBe(1);
    const rec = (
      await h.db.doc(paths.record(h.tenantId, 'staff', recordIdFor('primaryEmail', u!.primaryEmail))).get()
    ).data()!;
    expect(rec.firstName).toBe('Renée');
  });

  it('deactivates the login user of a suspended or archived user', async () => {
    await h.sync('logins');
    const users = (await h.ws.listUsers()).filter((u) => !u.suspended && !u.archived);
    const [a, b] = users;
    await h.ws.suspendUser(a!.primaryEmail);
    await h.ws.archiveUser(b!.primaryEmail);
    const out = await h.sync('logins');
    if (out.status !== 'completed') throw new Error(out.status);
    expect(out.counts.updated).toBe(2);
    const la = (
      await h.db
        .doc(paths.record(h.tenantId, 'login-users', recordIdFor('primaryEmail', a!.primaryEmail)))
        .get()
    ).data()!;
    const lb = (
      await h.db
        .doc(paths.record(h.tenantId, 'login-users', recordIdFor('primaryEmail', b!.primaryEmail)))
        .get()
    ).data()!;
    expect(la).toMatchObject({
      active: false,
      role: 'technician',
      _sync: { status: 'inactive', inactiveReason: 'suspended' },
    });
    expect(lb).toMatchObject({ active: false, _sync: { status: 'inactive', inactiveReason: 'archived' } });
  });

  it('marks a user deleted in Google as removed after a complete pass, with when and why, never deleting it', async () => {
    const [u] = await h.ws.listUsers();
    await h.ws.deleteUser(u!.primaryEmail);
    const out = await h.sync('people');
    if (out.status !== 'completed') throw new Error(out.status);
    expect(out.counts.removed).toBe(1);
    const snap = await h.db
      .doc(paths.record(h.tenantId, 'staff', recordIdFor('primaryEmail', u!.primaryEmail)))
      .get();
    expect(snap.exists).toBe(true);
    expect(snap.get('_sync.status')).toBe('removed');
    expect(snap.get('_sync.removedRunId')).toBe(out.runId);
    expect(String(snap.get('_sync.removedReason'))).toMatch(/not returned by Google Workspace/);
    expect(snap.get('email')).toBe(u!.primaryEmail);

    // A second pass does not remove it again.
    const again = await h.sync('people');
    if (again.status !== 'completed') throw new Error(again.status);
    expect(again.counts.removed).toBe(0);
  });

  it('stops and flags a run that would remove more than the safety threshold, and applies it once confirmed', async () => {
    const users = await h.ws.listUsers();
    const victims = users.slice(0, Math.ceil(users.length * 0.2));
    for (const v of victims) await h.ws.deleteUser(v.primaryEmail);
    const out = await h.sync('people');
    if (out.status !== 'completed') throw new Error(out.status);
    expect(out.held).toBe(true);
    expect(out.counts.removed).toBe(0);
    const run = await runDoc(h.db, h.tenantId, out.runId);
    expect(run.status).toBe('held');
    expect(run.removal).toMatchObject({ candidates: victims.length, held: true });
    expect(run.removal!.message).toMatch(/safety threshold/);
    const victimDoc = await h.db
      .doc(paths.record(h.tenantId, 'staff', recordIdFor('primaryEmail', victims[0]!.primaryEmail)))
      .get();
    expect(victimDoc.get('_sync.status')).not.toBe('removed');

    const confirmed = await h.sync('people', { confirmRemovals: true });
    if (confirmed.status !== 'completed') throw new Error(confirmed.status);
    expect(confirmed.held).toBe(false);
    expect(confirmed.counts.removed).toBe(victims.length);
  });

  it('syncs Chrome OS devices by serial number, reporting duplicate serials instead of flapping', async () => {
    await h.addMapping('chromebooks', {
      name: 'Chromebooks',
      entity: 'chromeos',
      identifier: 'serialNumber',
      target: { kind: 'collection', objectId: 'chromebooks' },
      fieldMap: [
        { source: 'serialNumber', target: 'serial' },
        { source: 'annotatedAssetId', target: 'assetTag' },
        { source: 'model', target: 'model' },
        { source: 'orgUnitPath', target: 'location' },
      ],
    });
    const devices = await h.ws.listChromeOs();
    const serials = new Set(devices.map((d) => d.serialNumber));
    const out = await h.sync('chromebooks');
    if (out.status !== 'completed') throw new Error(out.status);
    expect(out.counts.created).toBe(serials.size);
    expect(out.counts.failed).toBe(devices.length - serials.size);
    const run = await runDoc(h.db, h.tenantId, out.runId);
    if (devices.length > serials.size)
      expect(run.errors.some((e) => /duplicate serialNumber/.test(e.message))).toBe(true);
    const again = await h.sync('chromebooks');
    if (again.status !== 'completed') throw new Error(again.status);
    expect(again.meter.recordWrites).toBe(0);
  });

  it('limits a mapping to an org unit subtree and removes records that move out of it', async () => {
    const users = (await h.ws.listUsers()).filter((u) => u.orgUnitPath.split('/').length > 2);
    const ou = '/' + users[0]!.orgUnitPath.split('/')[1]!;
    await h.addMapping('scoped', {
      ...PEOPLE,
      name: 'Scoped',
      target: { kind: 'collection', objectId: 'scoped' },
      orgUnitScope: { paths: [ou], includeChildren: true },
      removalThresholdPercent: 100,
    });
    const all = await h.ws.listUsers();
    const inScope = all.filter((u) => u.orgUnitPath === ou || u.orgUnitPath.startsWith(`${ou}/`));
    const out = await h.sync('scoped');
    if (out.status !== 'completed') throw new Error(out.status);
    expect(out.counts.created).toBe(inScope.length);
    expect(out.counts.outOfScope).toBe(all.length - inScope.length);

    await h.ws.updateUser(inScope[0]!.primaryEmail, { orgUnitPath: '/' });
    const moved = await h.sync('scoped');
    if (moved.status !== 'completed') throw new Error(moved.status);
    expect(moved.counts.removed).toBe(1);
  });

  it('syncs mobile devices and org units', async () => {
    await h.addMapping('mobiles', {
      name: 'Phones',
      entity: 'mobile',
      identifier: 'deviceId',
      target: { kind: 'collection', objectId: 'mobile-devices' },
      fieldMap: [
        { source: 'model', target: 'model' },
        { source: 'email', target: 'owners' },
        { source: 'status', target: 'status' },
      ],
    });
    await h.addMapping('ous', {
      name: 'Org units',
      entity: 'orgunits',
      identifier: 'orgUnitId',
      target: { kind: 'collection', objectId: 'org-units' },
      fieldMap: [
        { source: 'orgUnitPath', target: 'path' },
        { source: 'name', target: 'name' },
      ],
    });
    const mobiles = await h.ws.listMobile();
    const m = await h.sync('mobiles');
    if (m.status !== 'completed') throw new Error(m.status);
    expect(m.counts.created + m.counts.failed + m.counts.skipped).toBe(mobiles.length);
    const o = await h.sync('ous');
    if (o.status !== 'completed') throw new Error(o.status);
    expect(o.counts.created).toBeGreaterThan(3);
    const ouRecords = await recordsOf(h.db, h.tenantId, 'org-units');
    expect([...ouRecords.values()].every((r) => String(r.data.path).startsWith('/'))).toBe(true);
  });

  it('rejects a malformed message without touching anything', async () => {
    const out = await h.sync('people', { tenantId: 'Not A Tenant!' } as never);
    expect(out).toEqual({ status: 'dropped', reason: 'malformed message' });
  });
});

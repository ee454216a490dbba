import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { READONLY_DIRECTORY_SCOPES, SCOPES } from '../../emulators/workspace-simulator/index.js';
import type { SimFixture } from './helpers.js';
import { authFor, directoryClient, expectApiError, startFixture } from './helpers.js';

const DISABLE = 'CHANGE_CHROME_OS_DEVICE_STATUS_ACTION_DISABLE';
const REENABLE = 'CHANGE_CHROME_OS_DEVICE_STATUS_ACTION_REENABLE';
const DEPROVISION = 'CHANGE_CHROME_OS_DEVICE_STATUS_ACTION_DEPROVISION';

let f: SimFixture;
let n = 0;

beforeAll(async () => {
  f = await startFixture({ domain: 'devices-write.example', users: 20, chromeos: 0, mobile: 0, seed: 11 }, [
    ...READONLY_DIRECTORY_SCOPES,
    SCOPES.chromeos,
    SCOPES.mobileAction,
  ]);
  await f.control.addOrgUnit(f.customerId, { name: 'Carts' });
  await f.control.addOrgUnit(f.customerId, { name: 'Lost' });
});

afterAll(async () => {
  await f.sim.close();
});

async function chromebook(status: 'ACTIVE' | 'DISABLED' | 'DEPROVISIONED' | 'PROVISIONED' = 'ACTIVE') {
  n++;
  const d = await f.control.addChromeOsDevice(f.customerId, {
    serialNumber: `SN${n}`,
    status,
    annotatedUser: `user${n}`,
    annotatedLocation: 'Room 1',
    notes: 'seeded',
  });
  return d.deviceId as string;
}

const statusOf = async (id: string) => (await f.control.getChromeOsDevice(f.customerId, id)).status;

async function batch(deviceIds: string[], action: string, deprovisionReason?: string) {
  const res = await f.admin.customer.devices.chromeos.batchChangeStatus({
    customerId: 'my_customer',
    requestBody: {
      deviceIds,
      changeChromeOsDeviceStatusAction: action,
      ...(deprovisionReason ? { deprovisionReason } : {}),
    },
  });
  return res.data.changeChromeOsDeviceStatusResults ?? [];
}

describe('customer.devices.chromeos.batchChangeStatus', () => {
  it('disables, re-enables and deprovisions along the documented transitions', async () => {
    const id = await chromebook();
    expect(await batch([id], DISABLE)).toEqual([{ deviceId: id, response: {} }]);
    expect(await statusOf(id)).toBe('DISABLED');
    expect(await batch([id], REENABLE)).toEqual([{ deviceId: id, response: {} }]);
    expect(await statusOf(id)).toBe('ACTIVE');
    expect(await batch([id], DEPROVISION, 'DEPROVISION_REASON_RETIRING_DEVICE')).toEqual([
      { deviceId: id, response: {} },
    ]);
    const after = await f.control.getChromeOsDevice(f.customerId, id);
    expect(after.status).toBe('DEPROVISIONED');
    expect(after.deprovisionReason).toBe('DEPROVISION_REASON_RETIRING_DEVICE');
  });

  it('answers per device: partial success with errors for bad transitions and unknown ids', async () => {
    const active = await chromebook('ACTIVE');
    const disabled = await chromebook('DISABLED');
    const gone = await chromebook('DEPROVISIONED');
    const results = await batch([active, disabled, gone, 'no-such-device'], REENABLE);
    expect(results.map((r) => [r.deviceId, r.error?.code ?? 'ok'])).toEqual([
      [active, 9],
      [disabled, 'ok'],
      [gone, 9],
      ['no-such-device', 5],
    ]);
    for (const r of results.filter((x) => x.error)) expect(r.error?.message).toBeTruthy();
    expect(await statusOf(disabled)).toBe('ACTIVE');
    expect(await statusOf(active)).toBe('ACTIVE');

    const again = await batch([gone, active], DEPROVISION, 'DEPROVISION_REASON_UPGRADE');
    expect(again.map((r) => r.error?.code ?? 'ok')).toEqual([9, 'ok']);
  });

  it('requires a deprovision reason, a known action and at most 50 devices', async () => {
    const id = await chromebook();
    expect(await expectApiError(batch([id], DEPROVISION))).toMatchObject({ status: 400 });
    expect(await expectApiError(batch([id], 'CHANGE_CHROME_OS_DEVICE_STATUS_ACTION_EXPLODE'))).toMatchObject({
      status: 400,
      reason: 'invalid',
    });
    const ids = Array.from({ length: 51 }, (_, i) => `dev-${i}`);
    expect(await expectApiError(batch(ids, DISABLE))).toMatchObject({ status: 400, reason: 'invalid' });
    expect(await statusOf(id)).toBe('ACTIVE');
    // Exactly 50 is accepted (unknown ids fail per device).
    const fifty = await batch([id, ...ids.slice(0, 49)], DISABLE);
    expect(fifty).toHaveLength(50);
    expect(fifty[0]).toEqual({ deviceId: id, response: {} });
  });
});

describe('chromeosdevices.action (deprecated)', () => {
  it('disables one device and refuses an illegal transition with 412', async () => {
    const id = await chromebook();
    await f.admin.chromeosdevices.action({
      customerId: 'my_customer',
      resourceId: id,
      requestBody: { action: 'disable' },
    });
    expect(await statusOf(id)).toBe('DISABLED');
    const err = await expectApiError(
      f.admin.chromeosdevices.action({
        customerId: 'my_customer',
        resourceId: id,
        requestBody: { action: 'disable' },
      }),
    );
    expect(err).toMatchObject({ status: 412, reason: 'conditionNotMet' });
  });
});

describe('chromeosdevices.update / patch / moveDevicesToOu', () => {
  it('PATCH changes only the given fields, PUT clears the writable ones it omits; etags move', async () => {
    const id = await chromebook();
    const before = await f.control.getChromeOsDevice(f.customerId, id);
    const patched = await f.admin.chromeosdevices.patch({
      customerId: 'my_customer',
      deviceId: id,
      requestBody: { annotatedAssetId: 'ASSET-1', notes: 'patched' },
    });
    expect(patched.data).toMatchObject({
      annotatedAssetId: 'ASSET-1',
      notes: 'patched',
      annotatedUser: before.annotatedUser,
      annotatedLocation: 'Room 1',
    });
    expect(patched.data.etag).not.toBe(before.etag);

    const put = await f.admin.chromeosdevices.update({
      customerId: 'my_customer',
      deviceId: id,
      requestBody: { annotatedUser: 'new-owner', status: 'DISABLED', serialNumber: 'HACKED' },
    });
    expect(put.data.annotatedUser).toBe('new-owner');
    expect(put.data).not.toHaveProperty('annotatedAssetId');
    expect(put.data).not.toHaveProperty('notes');
    expect(put.data).not.toHaveProperty('annotatedLocation');
    // Read-only fields in the body are ignored.
    expect(put.data.status).toBe('ACTIVE');
    expect(put.data.serialNumber).toBe(before.serialNumber);
    expect(put.data.etag).not.toBe(patched.data.etag);
    expect(put.data.orgUnitPath).toBe('/');
  });

  it('moves by orgUnitId; an id and path that disagree get the inconsistent org unit 400; unknown ids fail', async () => {
    const id = await chromebook();
    const carts = await f.admin.orgunits.get({ customerId: 'my_customer', orgUnitPath: 'Carts' });
    const cartsId = (carts.data.orgUnitId ?? '').replace(/^id:/, '');
    const moved = await f.admin.chromeosdevices.patch({
      customerId: 'my_customer',
      deviceId: id,
      requestBody: { orgUnitId: cartsId },
    });
    expect(moved.data).toMatchObject({ orgUnitPath: '/Carts', orgUnitId: cartsId, notes: 'seeded' });

    const err = await expectApiError(
      f.admin.chromeosdevices.patch({
        customerId: 'my_customer',
        deviceId: id,
        requestBody: { orgUnitId: cartsId, orgUnitPath: '/Lost' },
      }),
    );
    expect(err).toMatchObject({ status: 400, reason: 'invalid' });
    expect(JSON.stringify(err.body)).toContain('Inconsistent Orgunit id and path in request');

    const unknown = await expectApiError(
      f.admin.chromeosdevices.patch({
        customerId: 'my_customer',
        deviceId: id,
        requestBody: { orgUnitId: '03ph8a2z9999' },
      }),
    );
    expect(unknown).toMatchObject({ status: 400, reason: 'invalid' });
    expect((await f.control.getChromeOsDevice(f.customerId, id)).orgUnitPath).toBe('/Carts');

    const missing = await expectApiError(
      f.admin.chromeosdevices.patch({
        customerId: 'my_customer',
        deviceId: 'nope',
        requestBody: { notes: 'x' },
      }),
    );
    expect(missing).toMatchObject({ status: 404, reason: 'notFound' });
  });

  it('moveDevicesToOu moves up to 50 devices and is all-or-nothing', async () => {
    const a = await chromebook();
    const b = await chromebook();
    const res = await f.admin.chromeosdevices.moveDevicesToOu({
      customerId: 'my_customer',
      orgUnitPath: '/Lost',
      requestBody: { deviceIds: [a, b] },
    });
    expect(res.status).toBe(204);
    expect((await f.control.getChromeOsDevice(f.customerId, a)).orgUnitPath).toBe('/Lost');
    expect((await f.control.getChromeOsDevice(f.customerId, b)).orgUnitPath).toBe('/Lost');

    const c = await chromebook();
    const err = await expectApiError(
      f.admin.chromeosdevices.moveDevicesToOu({
        customerId: 'my_customer',
        orgUnitPath: '/Carts',
        requestBody: { deviceIds: [c, 'nope'] },
      }),
    );
    expect(err.status).toBe(400);
    expect((await f.control.getChromeOsDevice(f.customerId, c)).orgUnitPath).toBe('/');
    const tooMany = await expectApiError(
      f.admin.chromeosdevices.moveDevicesToOu({
        customerId: 'my_customer',
        orgUnitPath: '/Carts',
        requestBody: { deviceIds: Array.from({ length: 51 }, () => c) },
      }),
    );
    expect(tooMany.status).toBe(400);
    const badOu = await expectApiError(
      f.admin.chromeosdevices.moveDevicesToOu({
        customerId: 'my_customer',
        orgUnitPath: '/Nowhere',
        requestBody: { deviceIds: [c] },
      }),
    );
    expect(badOu).toMatchObject({ status: 400, reason: 'invalid' });
  });
});

describe('mobiledevices.action', () => {
  it('walks approve / block / wipe / cancel and refuses what the state does not allow', async () => {
    const m = await f.control.addMobileDevice(f.customerId, {
      type: 'ANDROID',
      email: [f.adminEmail],
      status: 'PENDING',
    });
    const rid = m.resourceId as string;
    const act = (action: string) =>
      f.admin.mobiledevices.action({ customerId: 'my_customer', resourceId: rid, requestBody: { action } });
    const status = async () => (await f.control.getMobileDevice(f.customerId, rid)).status;

    expect((await act('approve')).status).toBe(204);
    expect(await status()).toBe('APPROVED');
    await act('block');
    expect(await status()).toBe('BLOCKED');
    expect(await expectApiError(act('cancel_remote_wipe_then_activate'))).toMatchObject({ status: 412 });
    await act('admin_remote_wipe');
    expect(await status()).toBe('WIPING');
    expect(await expectApiError(act('approve'))).toMatchObject({ status: 412, reason: 'conditionNotMet' });
    await act('cancel_remote_wipe_then_block');
    expect(await status()).toBe('BLOCKED');
    await act('admin_account_wipe');
    expect(await status()).toBe('ACCOUNT_WIPING');
    await act('cancel_remote_wipe_then_activate');
    expect(await status()).toBe('APPROVED');

    expect(await expectApiError(act('self_destruct'))).toMatchObject({ status: 400, reason: 'invalid' });
    expect(
      await expectApiError(
        f.admin.mobiledevices.action({
          customerId: 'my_customer',
          resourceId: 'nope',
          requestBody: { action: 'block' },
        }),
      ),
    ).toMatchObject({ status: 404 });
  });
});

describe('scopes', () => {
  it('a read-only token gets the 403 insufficient-scope answer on every write; mobile.action alone suffices for mobile', async () => {
    const id = await chromebook();
    const ro = directoryClient(
      f.sim,
      (await authFor(f.sim, f.control, f.customerId, READONLY_DIRECTORY_SCOPES)).auth,
    );
    const calls = [
      ro.customer.devices.chromeos.batchChangeStatus({
        customerId: 'my_customer',
        requestBody: { deviceIds: [id], changeChromeOsDeviceStatusAction: DISABLE },
      }),
      ro.chromeosdevices.patch({ customerId: 'my_customer', deviceId: id, requestBody: { notes: 'x' } }),
      ro.chromeosdevices.update({ customerId: 'my_customer', deviceId: id, requestBody: {} }),
      ro.chromeosdevices.moveDevicesToOu({
        customerId: 'my_customer',
        orgUnitPath: '/',
        requestBody: { deviceIds: [id] },
      }),
      ro.mobiledevices.action({
        customerId: 'my_customer',
        resourceId: 'x',
        requestBody: { action: 'block' },
      }),
    ];
    for (const call of calls) {
      expect(await expectApiError(call)).toMatchObject({ status: 403, reason: 'insufficientPermissions' });
    }
    expect(await statusOf(id)).toBe('ACTIVE');

    const m = await f.control.addMobileDevice(f.customerId, { type: 'IOS_SYNC', email: [f.adminEmail] });
    const mobileOnly = directoryClient(
      f.sim,
      (await authFor(f.sim, f.control, f.customerId, [SCOPES.mobileAction])).auth,
    );
    await mobileOnly.mobiledevices.action({
      customerId: 'my_customer',
      resourceId: m.resourceId as string,
      requestBody: { action: 'block' },
    });
    expect((await f.control.getMobileDevice(f.customerId, m.resourceId as string)).status).toBe('BLOCKED');
  });
});

import type { admin_directory_v1 } from 'googleapis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { SimFixture } from './helpers.js';
import { expectApiError, startFixture } from './helpers.js';

let f: SimFixture;

beforeAll(async () => {
  f = await startFixture({ domain: 'roosevelt.example', users: 80, chromeos: 700, mobile: 230, seed: 3 });
});

afterAll(async () => {
  await f.sim.close();
});

async function allChromeOs(params: admin_directory_v1.Params$Resource$Chromeosdevices$List) {
  const devices: admin_directory_v1.Schema$ChromeOsDevice[] = [];
  let pageToken: string | undefined;
  let pages = 0;
  do {
    const res = await f.admin.chromeosdevices.list({ customerId: 'my_customer', ...params, pageToken });
    devices.push(...(res.data.chromeosdevices ?? []));
    pageToken = res.data.nextPageToken ?? undefined;
    pages++;
  } while (pageToken);
  return { devices, pages };
}

describe('chromeosdevices', () => {
  it('pages 700 devices at the 300 cap and rejects maxResults=301', async () => {
    const { devices, pages } = await allChromeOs({ maxResults: 300 });
    expect(pages).toBe(3);
    expect(devices).toHaveLength(700);
    expect(new Set(devices.map((d) => d.deviceId)).size).toBe(700);
    const err = await expectApiError(
      f.admin.chromeosdevices.list({ customerId: 'my_customer', maxResults: 301 }),
    );
    expect(err).toMatchObject({ status: 400, reason: 'invalid' });
  });

  it('contains re-enrolled duplicates: same serial, different deviceId', async () => {
    const { devices } = await allChromeOs({ maxResults: 300, projection: 'BASIC' });
    const bySerial = new Map<string, number>();
    for (const d of devices)
      bySerial.set(d.serialNumber ?? '', (bySerial.get(d.serialNumber ?? '') ?? 0) + 1);
    expect([...bySerial.values()].some((n) => n > 1)).toBe(true);
    expect(devices.some((d) => d.annotatedAssetId === undefined)).toBe(true);
    expect(new Set(devices.map((d) => d.status))).toEqual(
      new Set(['ACTIVE', 'DISABLED', 'DEPROVISIONED', 'PROVISIONED']),
    );
  });

  it('serves report fields only with projection FULL', async () => {
    const basic = await f.admin.chromeosdevices.list({
      customerId: 'my_customer',
      projection: 'BASIC',
      query: 'status:ACTIVE',
    });
    const full = await f.admin.chromeosdevices.list({
      customerId: 'my_customer',
      projection: 'FULL',
      query: 'status:ACTIVE',
    });
    expect(
      basic.data.chromeosdevices?.some((d) => d.activeTimeRanges || d.recentUsers || d.cpuStatusReports),
    ).toBe(false);
    expect(full.data.chromeosdevices?.some((d) => d.activeTimeRanges && d.cpuStatusReports)).toBe(true);
    expect(basic.data.chromeosdevices?.[0]?.etag).toBe(full.data.chromeosdevices?.[0]?.etag);
  });

  it('filters by query and org unit, with and without children', async () => {
    const disabled = await allChromeOs({ query: 'status:disabled', maxResults: 300 });
    expect(disabled.devices.length).toBeGreaterThan(0);
    expect(disabled.devices.every((d) => d.status === 'DISABLED')).toBe(true);

    const sample = (await allChromeOs({ maxResults: 300 })).devices.find(
      (d) => d.annotatedAssetId && d.annotatedUser,
    );
    const bySerial = await f.admin.chromeosdevices.list({
      customerId: 'my_customer',
      query: `id:${sample?.serialNumber?.slice(0, 6)}`,
    });
    expect(bySerial.data.chromeosdevices?.map((d) => d.deviceId)).toContain(sample?.deviceId);
    const byAsset = await f.admin.chromeosdevices.list({
      customerId: 'my_customer',
      query: `asset_id:${sample?.annotatedAssetId}`,
    });
    expect(byAsset.data.chromeosdevices?.map((d) => d.deviceId)).toContain(sample?.deviceId);
    const byUser = await f.admin.chromeosdevices.list({
      customerId: 'my_customer',
      query: `user:${sample?.annotatedUser}`,
    });
    expect(byUser.data.chromeosdevices?.map((d) => d.deviceId)).toContain(sample?.deviceId);

    const exact = await allChromeOs({ orgUnitPath: 'Devices/Chromebooks', maxResults: 300 });
    expect(exact.devices.every((d) => d.orgUnitPath === '/Devices/Chromebooks')).toBe(true);
    const subtree = await allChromeOs({
      orgUnitPath: '/Devices/Chromebooks',
      includeChildOrgunits: true,
      maxResults: 300,
    });
    expect(subtree.devices.length).toBeGreaterThan(exact.devices.length);
    expect(subtree.devices.every((d) => d.orgUnitPath?.startsWith('/Devices/Chromebooks'))).toBe(true);
    const needsPath = await expectApiError(
      f.admin.chromeosdevices.list({ customerId: 'my_customer', includeChildOrgunits: true }),
    );
    expect(needsPath.status).toBe(400);
  });

  it('orders by lastSync descending and gets a single device', async () => {
    const res = await f.admin.chromeosdevices.list({
      customerId: 'my_customer',
      orderBy: 'lastSync',
      sortOrder: 'DESCENDING',
      maxResults: 50,
    });
    const syncs = (res.data.chromeosdevices ?? []).map((d) => d.lastSync ?? '');
    expect(syncs).toEqual([...syncs].sort().reverse());
    const one = await f.admin.chromeosdevices.get({
      customerId: 'my_customer',
      deviceId: res.data.chromeosdevices?.[0]?.deviceId ?? '',
    });
    expect(one.data.kind).toBe('admin#directory#chromeosdevice');
    const missing = await expectApiError(
      f.admin.chromeosdevices.get({ customerId: 'my_customer', deviceId: 'nope' }),
    );
    expect(missing).toMatchObject({ status: 404, reason: 'notFound' });
  });

  it('reflects control-API device changes', async () => {
    const added = await f.control.addChromeOsDevice(f.customerId, {
      serialNumber: 'ZZTEST001',
      orgUnitPath: '/Devices/Chromebooks/Loaners',
      annotatedAssetId: 'LOAN-1',
    });
    const got = await f.admin.chromeosdevices.get({
      customerId: f.customerId,
      deviceId: added.deviceId ?? '',
    });
    expect(got.data.orgUnitPath).toBe('/Devices/Chromebooks/Loaners');
    await f.control.updateChromeOsDevice(f.customerId, added.deviceId ?? '', {
      status: 'DISABLED',
      annotatedAssetId: null,
    });
    const updated = await f.admin.chromeosdevices.get({
      customerId: f.customerId,
      deviceId: added.deviceId ?? '',
    });
    expect(updated.data.status).toBe('DISABLED');
    expect(updated.data.annotatedAssetId).toBeUndefined();
    expect(updated.data.etag).not.toBe(got.data.etag);
    await f.control.removeChromeOsDevice(f.customerId, added.deviceId ?? '');
    expect(
      (
        await expectApiError(
          f.admin.chromeosdevices.get({ customerId: f.customerId, deviceId: added.deviceId ?? '' }),
        )
      ).status,
    ).toBe(404);
  });
});

describe('mobiledevices', () => {
  it('pages 230 devices at the 100 cap and rejects larger pages', async () => {
    const ids = new Set<string>();
    let pageToken: string | undefined;
    let pages = 0;
    do {
      const res = await f.admin.mobiledevices.list({ customerId: 'my_customer', maxResults: 100, pageToken });
      for (const d of res.data.mobiledevices ?? []) ids.add(d.resourceId ?? '');
      pageToken = res.data.nextPageToken ?? undefined;
      pages++;
    } while (pageToken);
    expect(pages).toBe(3);
    expect(ids.size).toBe(230);
    const err = await expectApiError(
      f.admin.mobiledevices.list({ customerId: 'my_customer', maxResults: 101 }),
    );
    expect(err.status).toBe(400);
  });

  it('filters by email/status/serial, projects BASIC and gets one', async () => {
    const all = await f.admin.mobiledevices.list({ customerId: 'my_customer', maxResults: 100 });
    const android = all.data.mobiledevices?.find((d) => d.type === 'ANDROID' && d.serialNumber);
    const byEmail = await f.admin.mobiledevices.list({
      customerId: 'my_customer',
      query: `email:${android?.email?.[0]}`,
    });
    expect(byEmail.data.mobiledevices?.map((d) => d.resourceId)).toContain(android?.resourceId);
    const bySerial = await f.admin.mobiledevices.list({
      customerId: 'my_customer',
      query: `serial:${android?.serialNumber?.slice(0, 4)}*`,
    });
    expect(bySerial.data.mobiledevices?.map((d) => d.resourceId)).toContain(android?.resourceId);
    const blocked = await f.admin.mobiledevices.list({
      customerId: 'my_customer',
      query: 'status:blocked',
      maxResults: 100,
    });
    expect(blocked.data.mobiledevices?.every((d) => d.status === 'BLOCKED')).toBe(true);
    const basic = await f.admin.mobiledevices.get({
      customerId: 'my_customer',
      resourceId: android?.resourceId ?? '',
      projection: 'BASIC',
    });
    expect(basic.data.applications).toBeUndefined();
    expect(basic.data.imei).toBeUndefined();
    const full = await f.admin.mobiledevices.get({
      customerId: 'my_customer',
      resourceId: android?.resourceId ?? '',
      projection: 'FULL',
    });
    expect(full.data.applications?.length).toBeGreaterThan(0);
  });
});

describe('orgunits and customer', () => {
  it('lists children by default, all, and allIncludingParent, without paging', async () => {
    const children = await f.admin.orgunits.list({ customerId: 'my_customer' });
    const top = (children.data.organizationUnits ?? []).map((o) => o.orgUnitPath);
    expect(top).toEqual(['/Contractors', '/Devices', '/Schools', '/Staff', '/Suspended Accounts']);
    expect(children.data.kind).toBe('admin#directory#orgUnits');
    expect(children.data).not.toHaveProperty('nextPageToken');

    const all = await f.admin.orgunits.list({ customerId: 'my_customer', type: 'all' });
    const paths = (all.data.organizationUnits ?? []).map((o) => o.orgUnitPath);
    expect(paths).toContain('/Schools/Lincoln High/Students/Class of 2027');
    expect(paths).not.toContain('/');
    const sub = await f.admin.orgunits.list({
      customerId: 'my_customer',
      orgUnitPath: '/Schools/Lincoln High',
      type: 'allIncludingParent',
    });
    const subPaths = (sub.data.organizationUnits ?? []).map((o) => o.orgUnitPath);
    expect(subPaths[0]).toBe('/Schools/Lincoln High');
    expect(subPaths).toHaveLength(6);
    const nested = (all.data.organizationUnits ?? []).find((o) => o.orgUnitPath === '/Staff/Café & Kitchen');
    expect(nested?.parentOrgUnitPath).toBe('/Staff');
    expect(nested?.orgUnitId).toMatch(/^id:/);
  });

  it('gets an org unit by path (as the client sends it) or by id', async () => {
    const byPath = await f.admin.orgunits.get({
      customerId: 'my_customer',
      orgUnitPath: 'Schools/Lincoln High/Students',
    });
    expect(byPath.data.name).toBe('Students');
    const byId = await f.admin.orgunits.get({
      customerId: 'my_customer',
      orgUnitPath: byPath.data.orgUnitId ?? '',
    });
    expect(byId.data.orgUnitPath).toBe('/Schools/Lincoln High/Students');
    const missing = await expectApiError(
      f.admin.orgunits.get({ customerId: 'my_customer', orgUnitPath: 'Nowhere' }),
    );
    expect(missing.status).toBe(404);
  });

  it('moves and renames org units; descendants follow', async () => {
    await f.control.addOrgUnit(f.customerId, { name: 'Annex', parentOrgUnitPath: '/Schools' });
    await f.control.updateOrgUnit(f.customerId, {
      orgUnitPath: '/Schools/Roosevelt Middle',
      parentOrgUnitPath: '/Schools/Annex',
    });
    const all = await f.admin.orgunits.list({
      customerId: 'my_customer',
      type: 'all',
      orgUnitPath: '/Schools/Annex',
    });
    expect((all.data.organizationUnits ?? []).map((o) => o.orgUnitPath)).toContain(
      '/Schools/Annex/Roosevelt Middle/Students/Grade 7',
    );
    const bad = await f.control
      .updateOrgUnit(f.customerId, { orgUnitPath: '/Schools', parentOrgUnitPath: '/Schools/Annex' })
      .catch((e: unknown) => e);
    expect((bad as { status: number }).status).toBe(400);
  });

  it('gets the customer as my_customer or by id', async () => {
    const res = await f.admin.customers.get({ customerKey: 'my_customer' });
    expect(res.data).toMatchObject({
      kind: 'admin#directory#customer',
      id: f.customerId,
      customerDomain: f.domain,
    });
    const byId = await f.admin.customers.get({ customerKey: f.customerId });
    expect(byId.data.etag).toBe(res.data.etag);
  });
});

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, Page } from 'playwright-core';
import {
  hasChromium,
  CHROMIUM_PATH,
  launchBrowser,
  signIn,
  viaGoogle,
  watchPageErrors,
} from './support/browser.js';
import { startConsoleStack, type ConsoleStack } from './support/console-stack.js';
import { emulatorEnv } from '../support/emulator-clients.js';

/**
 * Device management in the admin console, in headless Chromium against the real local stack (emulators,
 * Workspace simulator, API and sync functions). Written to the device action API contract
 * (POST/GET /api/tenants/:t/devices/actions): the walk through actions needs that API.
 */
describe('admin console: device management', () => {
  let cs: ConsoleStack;
  let browser: Browser;
  let page: Page;
  let pageErrors: string[];
  /** An active Chrome OS device's record: its record id, Directory deviceId and serial number. */
  let device: { recordId: string; deviceId: string; serial: string };
  const objectId = 'chromebooks';

  const api = async (method: string, path: string, body?: unknown) => {
    const token = await page.evaluate(() => sessionStorage.getItem('ws.idToken'));
    const res = await fetch(`${cs.consoleUrl}/api/tenants/${cs.tenantId}${path}`, {
      method,
      headers: {
        authorization: `Bearer ${token}`,
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    // eslint-disable-next-line @typescript-eslint/no-explicit-any -- JSON answers, read field by field
    return { status: res.status, body: (await res.json()) as Record<string, any> };
  };

  beforeAll(async () => {
    if (!hasChromium())
      throw new Error(`needs Chromium at ${CHROMIUM_PATH} (apt-get install chromium, or set CHROMIUM_PATH)`);
    [cs, browser] = await Promise.all([
      startConsoleStack({ emulators: emulatorEnv(), size: { users: 12, chromeos: 10, mobile: 3 } }),
      launchBrowser(),
    ]);
    page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
    page.setDefaultTimeout(20_000);
    pageErrors = watchPageErrors(page);

    // The owner signs in and connects Google Workspace (read-only: device management stays off).
    await signIn(page, cs.consoleUrl);
    await viaGoogle(
      page,
      cs.consoleUrl,
      () => page.getByRole('button', { name: 'Connect Google Workspace' }).first().click(),
      'approve',
    );
    await page.locator('#notice', { hasText: 'Google Workspace is connected' }).waitFor();

    // A Chrome OS mapping, synced once.
    const created = await api('POST', '/mappings', {
      name: 'Chromebooks',
      entity: 'chromeos',
      identifier: 'serialNumber',
      target: { kind: 'collection', objectId },
      fieldMap: [
        { source: 'serialNumber', target: 'serial' },
        { source: 'status', target: 'googleStatus' },
        { source: 'model', target: 'model' },
      ],
    });
    expect(created.status).toBe(201);
    expect((await api('POST', '/sync', { mappingId: created.body.id })).status).toBeLessThan(300);
    let records: Array<{ recordId: string; data: Record<string, unknown>; sync: Record<string, string> }> =
      [];
    // expect.poll is for tests only: a bounded wait for the first sync's records.
    for (let i = 0; i < 120 && records.length < 4; i++) {
      await new Promise((r) => setTimeout(r, 500));
      records = (await api('GET', `/objects/${objectId}/records?limit=50`)).body.records ?? [];
    }
    const r = records.find((x) => x.data.googleStatus === 'ACTIVE');
    if (!r) throw new Error(`no active Chrome OS device among ${records.length} synced records`);
    device = { recordId: r.recordId, deviceId: String(r.sync.sourceId), serial: String(r.data.serial) };
  }, 240_000);

  afterAll(async () => {
    await browser?.close();
    await cs?.stop();
  });

  const heading = (p: Page = page) => p.getByRole('heading', { level: 1 });
  const dialog = () => page.getByRole('dialog');
  const open = async (p: Page, route: string, title: string | RegExp) => {
    await p.goto('about:blank');
    await p.goto(`${cs.consoleUrl}/#/t/${cs.tenantId}${route}`);
    await expect.poll(() => heading(p).textContent()).toMatch(title);
  };
  const openDevice = (p: Page = page) =>
    open(p, `/records/${objectId}/${encodeURIComponent(device.recordId)}`, device.serial);
  const statusCard = () => page.getByRole('region', { name: 'Sync status' });

  it('with device management off, an owner sees the actions disabled, with why and where to turn it on', async () => {
    await openDevice();
    expect(await statusCard().locator('[data-status]').first().textContent()).toBe('Active');
    for (const name of ['Disable', 'Re-enable', 'Deprovision', 'Move to org unit'])
      expect(await page.getByRole('button', { name, exact: true }).isDisabled(), name).toBe(true);
    const why = page.locator('.device-off');
    expect(await why.textContent()).toContain('Device management is off');
    expect(await why.getByRole('link', { name: 'overview' }).getAttribute('href')).toBe(`#/t/${cs.tenantId}`);
  });

  it('an owner turns device management on, disables a Chromebook and re-enables it', async () => {
    await open(page, '', cs.tenantName);
    await viaGoogle(
      page,
      cs.consoleUrl,
      () => page.getByRole('button', { name: 'Turn on device management' }).click(),
      'approve',
    );
    await expect.poll(() => page.locator('#notice').textContent()).toContain('Device management is on');

    await openDevice();
    await page.getByRole('button', { name: 'Disable', exact: true }).click();
    expect(await dialog().textContent()).toContain(device.serial);
    expect(await dialog().textContent()).toContain('Nobody can use a disabled device');
    await dialog().getByRole('button', { name: 'Disable', exact: true }).click();
    await expect.poll(() => dialog().textContent()).toContain('1 succeeded, 0 failed');
    expect(await dialog().locator(`li[data-device-id="${device.deviceId}"]`).textContent()).toContain(
      'Succeeded',
    );
    expect((await cs.control.getChromeOsDevice(cs.workspace.domain, device.deviceId)).status).toBe(
      'DISABLED',
    );
    await dialog().getByRole('button', { name: 'Close' }).click();
    // The API syncs the mapping again; the page polls the record until the new status shows.
    await expect
      .poll(() => statusCard().locator('[data-status]').first().textContent(), { timeout: 30_000 })
      .toBe('Inactive');
    expect(await statusCard().locator('[data-reason]').textContent()).toContain('disabled');

    await page.getByRole('button', { name: 'Re-enable', exact: true }).click();
    await dialog().getByRole('button', { name: 'Re-enable', exact: true }).click();
    await expect.poll(() => dialog().textContent()).toContain('1 succeeded, 0 failed');
    await dialog().getByRole('button', { name: 'Close' }).click();
    await expect
      .poll(() => statusCard().locator('[data-status]').first().textContent(), { timeout: 30_000 })
      .toBe('Active');
    expect((await cs.control.getChromeOsDevice(cs.workspace.domain, device.deviceId)).status).toBe('ACTIVE');

    await open(page, '/devices/actions', 'Device actions');
    const rows = page.locator('tr[data-action-id]');
    await expect.poll(() => rows.count()).toBe(2);
    expect(await rows.first().textContent()).toContain('Re-enable');
    expect(await rows.nth(1).textContent()).toContain('Disable');
  });

  it('deprovisioning selected devices needs the exact typed phrase before it can be sent', async () => {
    await open(page, `/records/${objectId}`, 'Records');
    const boxes = page.locator('tbody input[type="checkbox"]');
    for (let i = 0; i < 3; i++) await boxes.nth(i).check();
    await page.getByRole('button', { name: 'Deprovision', exact: true }).click();
    expect(await dialog().textContent()).toContain('These 3 devices');
    await dialog().getByLabel('Reason').selectOption('DEPROVISION_REASON_RETIRING_DEVICE');
    const go = dialog().getByRole('button', { name: 'Deprovision (3)' });
    expect(await go.isDisabled()).toBe(true);
    const phrase = dialog().getByLabel(/to confirm/);
    await phrase.fill('deprovision 3 device');
    expect(await go.isDisabled()).toBe(true);
    await phrase.fill('deprovision 3 devices');
    expect(await go.isDisabled()).toBe(false);
    // Cancelled: nothing is sent to Google.
    await dialog().getByRole('button', { name: 'Cancel' }).click();
    expect(await dialog().isVisible()).toBe(false);
    expect((await api('GET', '/devices/actions')).body.actions).toHaveLength(2);
  });

  it('a viewer sees the device but no actions', async () => {
    const email = `viewer@${cs.workspace.domain}`;
    await cs.control.addUser(cs.workspace.domain, {
      primaryEmail: email,
      givenName: 'Vera',
      familyName: 'Viewer',
    });
    expect(
      (await api('PUT', `/members/${encodeURIComponent(email)}`, { role: 'viewer' })).status,
    ).toBeLessThan(300);

    const context = await browser.newContext({ viewport: { width: 390, height: 844 } });
    const viewer = await context.newPage();
    viewer.setDefaultTimeout(20_000);
    const errors = watchPageErrors(viewer);
    const login = `${cs.consoleUrl}/api/auth/login?loginHint=${encodeURIComponent(email)}`;
    await viaGoogle(viewer, cs.consoleUrl, async () => void (await viewer.goto(login)), 'approve');
    await viewer.getByRole('button', { name: 'Sign out' }).waitFor();

    await openDevice(viewer);
    expect(await viewer.getByRole('region', { name: 'Sync status' }).isVisible()).toBe(true);
    expect(await viewer.locator('[data-action]').count()).toBe(0);
    expect(await viewer.getByRole('region', { name: 'Actions' }).count()).toBe(0);
    await open(viewer, `/records/${objectId}`, 'Records');
    expect(await viewer.locator('tbody input[type="checkbox"]').count()).toBe(0);
    await context.close();
    expect(errors).toEqual([]);
  });

  it('had no uncaught errors in the page', () => {
    expect(pageErrors).toEqual([]);
  });
});

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, Page } from 'playwright-core';
import {
  hasChromium,
  CHROMIUM_PATH,
  launchBrowser,
  signIn,
  viaGoogle,
  sessionHeaders,
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
  let mappingId: string;
  const objectId = 'chromebooks';

  const api = async (method: string, path: string, body?: unknown) => {
    const session = await sessionHeaders(page, cs.consoleUrl);
    const res = await fetch(`${cs.consoleUrl}/api/tenants/${cs.tenantId}${path}`, {
      method,
      headers: {
        ...session,
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
    mappingId = created.body.id as string;
    expect((await api('POST', '/sync', { mappingId })).status).toBeLessThan(300);
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

  it('an owner turns on write-back in the mapping editor, then writes an asset ID and a note from the device page', async () => {
    await open(page, `/mappings/${encodeURIComponent(mappingId)}`, 'Chromebooks');
    for (const [row, source, target, writeBack] of [
      [4, 'annotatedAssetId', 'assetTag', true],
      [5, 'notes', 'notes', true],
    ] as const) {
      await page.getByRole('button', { name: 'Add field' }).click();
      await page.getByLabel(`Google Workspace field, row ${row}`).selectOption(source);
      await page.getByLabel(`Field in your product, row ${row}`).fill(target);
      if (writeBack) await page.locator(`#wb-${row - 1}`).check();
    }
    // Only fields Google lets us write offer write-back.
    expect(await page.locator('label[for="wb-0"]').isHidden()).toBe(true);
    await page.getByRole('button', { name: 'Save changes' }).click();
    await expect.poll(() => page.locator('#notice').textContent()).toContain('were saved');
    const saved = await api('GET', `/mappings/${encodeURIComponent(mappingId)}`);
    expect(saved.body.fieldMap.slice(3)).toEqual([
      { source: 'annotatedAssetId', target: 'assetTag', direction: 'toGoogle' },
      { source: 'notes', target: 'notes', direction: 'toGoogle' },
    ]);

    // A sync fills the new fields from Google, which write-back compares against.
    const atGoogle = await cs.control.getChromeOsDevice(cs.workspace.domain, device.deviceId);
    expect((await api('POST', '/sync', { mappingId })).status).toBeLessThan(300);
    const recordPath = `/objects/${objectId}/records/${encodeURIComponent(device.recordId)}`;
    await expect
      .poll(async () => (await api('GET', recordPath)).body.data?.assetTag ?? null, { timeout: 30_000 })
      .toBe(atGoogle.annotatedAssetId ?? null);

    await openDevice();
    const form = page.getByRole('form', { name: 'Write back to Google' });
    await form.getByLabel('Asset ID (assetTag)').fill('AP-000123');
    await form.getByLabel('Add a note (notes)').fill('Screen replaced');
    await form.getByRole('button', { name: 'Write to Google' }).click();
    await expect.poll(() => form.getByRole('status').textContent()).toContain('Written to Google');
    const written = await cs.control.getChromeOsDevice(cs.workspace.domain, device.deviceId);
    expect(written.annotatedAssetId).toBe('AP-000123');
    expect(String(written.notes).split('\n').at(-1)).toMatch(/^\[\d{4}-\d{2}-\d{2} .+@.+\] Screen replaced$/);
    if (atGoogle.notes) expect(String(written.notes).startsWith(String(atGoogle.notes))).toBe(true);
    const fields = page.getByRole('region', { name: 'Fields' });
    await expect.poll(() => fields.textContent()).toContain('AP-000123');
    expect(await form.getByLabel('Add a note (notes)').inputValue()).toBe('');

    // Changed at Google meanwhile: the page says so in words and writes nothing.
    await cs.control.updateChromeOsDevice(cs.workspace.domain, device.deviceId, {
      annotatedAssetId: 'AP-GOOGLE',
    });
    await form.getByLabel('Asset ID (assetTag)').fill('AP-000124');
    await form.getByRole('button', { name: 'Write to Google' }).click();
    await expect
      .poll(() => form.getByRole('alert').textContent())
      .toContain('changed at Google since the last sync: assetTag');
    expect((await cs.control.getChromeOsDevice(cs.workspace.domain, device.deviceId)).annotatedAssetId).toBe(
      'AP-GOOGLE',
    );
  });

  it('deprovisioning selected devices needs the exact typed phrase before it can be sent', async () => {
    const actionsBefore = (await api('GET', '/devices/actions')).body.actions as unknown[];
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
    expect((await api('GET', '/devices/actions')).body.actions).toEqual(actionsBefore);
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
    expect(await viewer.getByRole('form', { name: 'Write back to Google' }).count()).toBe(0);
    await open(viewer, `/records/${objectId}`, 'Records');
    expect(await viewer.locator('tbody input[type="checkbox"]').count()).toBe(0);
    await context.close();
    expect(errors).toEqual([]);
  });

  it('had no uncaught errors in the page', () => {
    expect(pageErrors).toEqual([]);
  });
});

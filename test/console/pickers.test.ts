import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, Page } from 'playwright-core';
import { hostSignatureHeaders } from '../../functions/src/api/host-hmac.js';
import { LOCAL_HMAC_KEY } from '../../scripts/local-stack.js';
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
 * Login users per org unit and the editor's pickers, in headless Chromium against the real local stack: an
 * owner maps two org units to two roles the host product listed, picks org units from the tree, is told in
 * words when a second mapping claims an org unit another has (and keeps what they filled in), and reads
 * identifiers and fields by the product's names.
 */
describe('admin console: login users per org unit, pickers and labels', () => {
  let cs: ConsoleStack;
  let browser: Browser;
  let page: Page;
  let pageErrors: string[];

  /** A signed host-product request, as the host product sends it. */
  const host = async (method: string, path: string, body: unknown) => {
    const rawBody = JSON.stringify(body);
    const res = await fetch(`${cs.consoleUrl}${path}`, {
      method,
      body: rawBody,
      headers: {
        'content-type': 'application/json',
        ...hostSignatureHeaders(LOCAL_HMAC_KEY, { method, path, rawBody }),
      },
    });
    expect(res.status, await res.clone().text()).toBe(200);
  };
  const heading = () => page.getByRole('heading', { level: 1 });
  const goto = async (route: string, title: string | RegExp) => {
    await page.goto('about:blank');
    await page.goto(`${cs.consoleUrl}/#/t/${cs.tenantId}${route}`);
    await expect.poll(() => heading().textContent()).toMatch(title);
  };
  const optionTexts = (label: string) =>
    page.getByLabel(label, { exact: true }).locator('option').allTextContents();

  beforeAll(async () => {
    if (!hasChromium())
      throw new Error(`needs Chromium at ${CHROMIUM_PATH} (apt-get install chromium, or set CHROMIUM_PATH)`);
    [cs, browser] = await Promise.all([
      startConsoleStack({ emulators: emulatorEnv(), size: { users: 20, chromeos: 4, mobile: 2 } }),
      launchBrowser(),
    ]);
    page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
    page.setDefaultTimeout(20_000);
    pageErrors = watchPageErrors(page);
    await signIn(page, cs.consoleUrl);
    await viaGoogle(
      page,
      cs.consoleUrl,
      () => page.getByRole('button', { name: 'Connect Google Workspace' }).first().click(),
      'approve',
    );
    await page.locator('#notice', { hasText: 'Google Workspace is connected' }).waitFor();
    // The host product lists its login roles and objects for this tenant.
    await host('PUT', `/api/tenants/${cs.tenantId}/login-roles`, {
      roles: [
        { id: 'G1', label: 'Staff' },
        { id: 'G2', label: 'Teachers' },
      ],
    });
    await host('PUT', `/api/tenants/${cs.tenantId}/product-objects`, {
      objects: [{ id: 'chromebooks', label: 'Chromebooks' }, { id: 'assets' }],
    });
  }, 240_000);

  afterAll(async () => {
    await browser?.close();
    await cs?.stop();
  });

  /** Fills a new login-users mapping: name, role from the product's list, org units ticked in the tree. */
  const fillLoginMapping = async (name: string, role: string, orgUnits: string[]) => {
    await page.getByLabel('Name', { exact: true }).fill(name);
    await page.getByLabel(/Login users with a role/).check();
    await page.getByLabel('Role', { exact: true }).selectOption(role);
    await page.getByLabel('Only sync some org units').check();
    for (const unit of orgUnits) await page.getByLabel(unit, { exact: true }).check();
  };

  it('creates a login-users mapping with a role from the product’s list and org units from the tree', async () => {
    await goto('/mappings/new', 'New mapping');
    await page.getByLabel(/Login users with a role/).check();
    expect(await optionTexts('Role')).toEqual(['Staff (G1)', 'Teachers (G2)']);
    await page.getByLabel('Only sync some org units').check();
    // The tree as Google Workspace has it, not a text box.
    expect(await page.locator('textarea#paths').count()).toBe(0);
    for (const unit of ['/ (the whole organization)', '/Staff', '/Staff/Teachers', '/Contractors'])
      expect(await page.getByLabel(unit, { exact: true }).count(), unit).toBe(1);
    await fillLoginMapping('Staff logins', 'G1', ['/Staff']);
    await page.getByRole('button', { name: 'Create mapping' }).click();
    await expect.poll(() => heading().textContent()).toBe('Staff logins');
    expect(await page.getByLabel('Role', { exact: true }).inputValue()).toBe('G1');
    expect(await page.getByLabel('/Staff', { exact: true }).isChecked()).toBe(true);
    expect(await page.getByLabel('/Staff/Teachers', { exact: true }).isChecked()).toBe(false);
  });

  it('a second mapping for the same org unit is explained in words and the form is kept', async () => {
    await goto('/mappings/new', 'New mapping');
    await fillLoginMapping('Teacher logins', 'G2', ['/Staff']);
    await page.getByRole('button', { name: 'Create mapping' }).click();
    const summary = page.locator('.error-summary');
    await expect.poll(() => summary.isVisible()).toBe(true);
    expect(await summary.textContent()).toContain('This mapping conflicts with another mapping');
    expect(await summary.textContent()).toContain(
      'mapping "Staff logins" already gives login users in the org unit /Staff the role "G1"',
    );
    // Next to the org unit it is about, not a "changed by someone else" reload.
    const staff = page.getByLabel('/Staff', { exact: true });
    expect(await staff.getAttribute('aria-invalid')).toBe('true');
    expect(await page.locator('#alert').textContent()).not.toMatch(/changed by someone else/);
    expect(await heading().textContent()).toBe('New mapping');
    expect(await page.getByLabel('Name', { exact: true }).inputValue()).toBe('Teacher logins');
    expect(await page.getByLabel('Role', { exact: true }).inputValue()).toBe('G2');
    expect(await staff.isChecked()).toBe(true);

    // The deeper org unit is fine: both mappings exist, each with its own role and units.
    await staff.uncheck();
    await page.getByLabel('/Staff/Teachers', { exact: true }).check();
    await page.getByRole('button', { name: 'Create mapping' }).click();
    await expect.poll(() => heading().textContent()).toBe('Teacher logins');
    await goto('/mappings', 'Mappings');
    const rows = page.locator('tbody tr');
    await expect.poll(() => rows.count()).toBe(2);
    const row = (name: string) => rows.filter({ hasText: name }).textContent();
    expect(await row('Staff logins')).toMatch(/Login users \(role G1\)Org units: \/Staff(?!\/)/);
    expect(await row('Teacher logins')).toMatch(/Login users \(role G2\)Org units: \/Staff\/Teachers/);
    const text = await page.locator('tbody').textContent();
    expect(text).toContain('Email');
  });

  it('shows identifiers and fields by the product’s names and offers the product’s objects', async () => {
    await goto('/mappings/new', 'New mapping');
    expect(await optionTexts('Unique identifier')).toEqual(['Email', 'User ID']);
    expect(await optionTexts('Google Workspace field, row 1')).toEqual(
      expect.arrayContaining(['Email', 'First Name', 'Org Unit Path', 'Customer ID']),
    );
    expect(await page.getByLabel('Unique identifier', { exact: true }).inputValue()).toBe('primaryEmail');
    await page.getByLabel(/Chrome OS devices/).check();
    expect(await optionTexts('Unique identifier')).toEqual(['Serial Number', 'Asset ID', 'Directory API ID']);
    expect(await optionTexts('Google Workspace field, row 1')).toEqual(
      expect.arrayContaining(['WiFi MAC', 'Asset ID', 'Serial Number']),
    );
    const objectId = page.getByLabel('Object ID', { exact: true });
    expect(await objectId.getAttribute('list')).toBe('product-objects');
    expect(
      await page
        .locator('#product-objects option')
        .evaluateAll((os) => os.map((o) => o.getAttribute('value'))),
    ).toEqual(['chromebooks', 'assets']);
    await page.getByLabel(/Mobile devices/).check();
    expect(await optionTexts('Unique identifier')).toEqual([
      'Device ID',
      'Serial Number',
      'IMEI',
      'WiFi MAC',
    ]);
    expect(pageErrors).toEqual([]);
  });
});

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
import { DEFAULT_ENTRA_PEOPLE_MAPPING } from '../../functions/src/sources/entra/entra-mapping.js';

/**
 * The admin console in headless Chromium against the real local stack: Firestore and Pub/Sub emulators, the
 * Workspace simulator (Google sign-in, consent, Directory API), the API and sync functions, and console/
 * served on the API's origin. One admin, one browser tab, in the order an admin would go.
 */
describe('admin console', () => {
  let cs: ConsoleStack;
  let browser: Browser;
  let page: Page;
  let pageErrors: string[];

  beforeAll(async () => {
    // A missing browser fails the suite instead of skipping it: .ci/run installs Debian's chromium.
    if (!hasChromium())
      throw new Error(`needs Chromium at ${CHROMIUM_PATH} (apt-get install chromium, or set CHROMIUM_PATH)`);
    [cs, browser] = await Promise.all([startConsoleStack({ emulators: emulatorEnv() }), launchBrowser()]);
    page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
    page.setDefaultTimeout(20_000);
    pageErrors = watchPageErrors(page);
  }, 180_000);

  afterAll(async () => {
    await browser?.close();
    await cs?.stop();
  });

  const heading = () => page.getByRole('heading', { level: 1 });
  const alert = () => page.locator('#alert');
  const notice = () => page.locator('#notice');
  const goto = async (route: string, title: string | RegExp) => {
    // A fresh load each time: going to the current URL again would not re-render the page.
    await page.goto('about:blank');
    await page.goto(`${cs.consoleUrl}/#/t/${cs.tenantId}${route}`);
    await expect.poll(() => heading().textContent()).toMatch(title);
  };
  const connectButton = () => page.getByRole('button', { name: 'Connect Google Workspace' }).first();

  it('shows the sign-in screen, signs in with Google and lands on the tenant', async () => {
    await page.goto(cs.consoleUrl);
    await expect.poll(() => heading().textContent()).toBe('Sign in to Workspace Sync');
    await signIn(page, cs.consoleUrl);
    await expect.poll(() => heading().textContent()).toBe(cs.tenantName);
    expect(await page.locator('#account').textContent()).toContain('Sign out');
    expect(await page.locator('[data-status="pending"]').first().textContent()).toBe('Not connected');
  });

  it('denied consent: explains that nothing was connected', async () => {
    await viaGoogle(page, cs.consoleUrl, () => connectButton().click(), 'deny');
    await expect.poll(() => alert().textContent()).toContain('Google Workspace was not connected');
    expect(await alert().textContent()).toContain('Access was not granted');
    await expect.poll(() => heading().textContent()).toBe(cs.tenantName);
    expect(await page.locator('[data-status="pending"]').count()).toBeGreaterThan(0);
  });

  it('connects Google Workspace after consent and shows the connection', async () => {
    await viaGoogle(page, cs.consoleUrl, () => connectButton().click(), 'approve');
    await expect.poll(() => notice().textContent()).toContain('Google Workspace is connected');
    await expect.poll(() => page.locator('.props').first().textContent()).toContain(cs.workspace.domain);
    expect(await page.locator('[data-status="active"]').first().textContent()).toBe('Active');
    await page.getByRole('button', { name: 'Test connection' }).click();
    await expect
      .poll(() => page.getByRole('status').filter({ hasText: 'Connection' }).first().textContent())
      .toContain('Connection works');
  });

  it('the empty mappings page names every entity a mapping can sync, Groups among them', async () => {
    await goto('/mappings', 'Mappings');
    await expect.poll(() => page.locator('.empty').textContent()).toContain('No mappings yet');
    expect(await page.locator('.empty').textContent()).toMatch(
      /groups, org units, Chrome OS and mobile devices/,
    );
  });

  it('an invalid mapping shows the API’s errors next to the inputs they concern', async () => {
    await goto('/mappings/new', 'New mapping');
    await page.getByLabel('Object ID').fill('Bad Object');
    await page.getByLabel('Field in your product, row 1').fill('1email');
    await page.getByRole('button', { name: 'Create mapping' }).click();

    const summary = page.locator('.error-summary');
    await expect.poll(() => summary.isVisible()).toBe(true);
    expect(await summary.textContent()).toMatch(/problems? with this mapping/);
    for (const [label, message] of [
      ['Name', /too small|at least|>=1/i],
      ['Object ID', /lowercase letters, digits and dashes/],
      ['Field in your product, row 1', /a letter followed by letters, digits or underscores/],
    ] as const) {
      const input = page.getByLabel(label, { exact: true });
      expect(await input.getAttribute('aria-invalid'), label).toBe('true');
      const describedBy = (await input.getAttribute('aria-describedby')) ?? '';
      const errorId = describedBy.split(' ').find((id) => id.endsWith('-error'));
      expect(errorId, `${label} is described by its error`).toBeTruthy();
      expect(await page.locator(`[id="${errorId}"]`).textContent(), label).toMatch(message);
    }
    // The summary links move focus to the input.
    await summary.getByRole('link', { name: /Object ID/ }).click();
    expect(await page.evaluate(() => document.activeElement?.id)).toBe('objectId');
  });

  it('creates a mapping with a preview, syncs it now and shows progress, history and records', async () => {
    await goto('/mappings/new', 'New mapping');
    await page.getByLabel('Name', { exact: true }).fill('Staff and students');
    await page.getByLabel('Object ID').fill('staff-and-students');
    await page.getByRole('button', { name: 'Preview' }).click();
    await expect.poll(() => page.locator('#preview').textContent()).toMatch(/\d+ records? shown/);
    expect(await page.locator('#preview tbody tr').count()).toBeGreaterThan(0);
    expect(await page.locator('#preview thead').textContent()).toContain('firstName');

    await page.getByRole('button', { name: 'Create mapping' }).click();
    await expect.poll(() => notice().textContent()).toContain('was created');
    await expect.poll(() => heading().textContent()).toBe('Staff and students');

    await page.getByRole('button', { name: 'Sync now' }).click();
    await expect.poll(() => heading().textContent()).toBe('Sync runs');
    const progress = page.locator('#sync-progress .progress-item').first();
    await progress.waitFor();
    await expect.poll(() => progress.locator('.badge').textContent(), { timeout: 60_000 }).toBe('Succeeded');
    expect(await page.locator('#sync-progress [role="status"]').textContent()).toMatch(
      /Sync of Staff and students finished: \d+ created/,
    );

    const row = page.locator('tr[data-run-id]').first();
    await expect.poll(() => row.locator('.badge').textContent()).toBe('Succeeded');
    const created = Number((await row.locator('td.num').first().textContent())?.replace(/\D/g, ''));
    expect(created).toBeGreaterThan(10);

    await page
      .getByRole('navigation', { name: 'Tenant sections' })
      .getByRole('link', { name: 'Records' })
      .click();
    await expect.poll(() => heading().textContent()).toBe('Records');
    const rows = page.locator('tr[data-record-id]');
    await expect.poll(() => rows.count()).toBeGreaterThan(0);
    const active = await rows.count();
    // Suspended users are synced too, as inactive records.
    await page.getByRole('radio', { name: 'Inactive' }).check();
    await expect.poll(() => page.getByRole('status').filter({ hasText: 'inactive' }).count()).toBe(1);
    expect(active + (await rows.count())).toBe(created);
    await page.getByRole('radio', { name: 'Active', exact: true }).check();
    await expect.poll(() => rows.count()).toBe(active);
    expect(await page.locator('thead').textContent()).toContain('email');
  });

  it('a user deleted in Google Workspace shows as removed, with when and why', async () => {
    const ids = await page
      .locator('tr[data-record-id]')
      .evaluateAll((rows) => rows.map((r) => r.getAttribute('data-record-id') ?? ''));
    const email = ids.map((id) => decodeURIComponent(id)).find((e) => e !== cs.workspace.adminEmail)!;
    await cs.control.deleteUser(cs.workspace.domain, email);

    await goto('/mappings', 'Mappings');
    await page.getByRole('button', { name: 'Sync Staff and students now' }).click();
    const progress = page.locator('#sync-progress .progress-item').first();
    await expect.poll(() => progress.locator('.badge').textContent(), { timeout: 60_000 }).toBe('Succeeded');
    await expect.poll(() => page.locator('tr[data-run-id] td.num').nth(3).textContent()).toBe('1');

    await goto('/records/staff-and-students?status=removed', 'Records');
    const removed = page.locator('tr[data-record-id]');
    await expect.poll(() => removed.count()).toBe(1);
    expect(decodeURIComponent((await removed.getAttribute('data-record-id'))!)).toBe(email);
    expect(await removed.textContent()).toContain('not returned by Google Workspace in a complete sync');
    expect(await removed.locator('time').count()).toBe(1);
    expect(await page.getByRole('radio', { name: 'Removed' }).isChecked()).toBe(true);
  });

  it('saving a mapping someone else changed meanwhile says so and reloads it', async () => {
    await goto('/mappings', 'Mappings');
    await page.getByRole('link', { name: 'Staff and students' }).click();
    await expect.poll(() => heading().textContent()).toBe('Staff and students');
    const url = page.url();
    const mappingId = decodeURIComponent(url.slice(url.lastIndexOf('/') + 1));

    // Another admin saves a new version (with the same session, through the API).
    const session = await sessionHeaders(page, cs.consoleUrl);
    const api = `${cs.consoleUrl}/api/tenants/${cs.tenantId}/mappings/${encodeURIComponent(mappingId)}`;
    const current = await fetch(api, { headers: session });
    const {
      id: _id,
      tenantId: _t,
      version: _v,
      createdAt: _c,
      updatedAt: _u,
      updatedBy: _b,
      ...input
    } = await current.json();
    const put = await fetch(api, {
      method: 'PUT',
      headers: {
        ...session,
        'content-type': 'application/json',
        'if-match': current.headers.get('etag')!,
      },
      body: JSON.stringify({ ...input, name: 'Staff and students (all)' }),
    });
    expect(put.status).toBe(200);

    await page.getByLabel('Removal safety threshold (%)').fill('20');
    await page.getByRole('button', { name: 'Save changes' }).click();
    await expect.poll(() => alert().textContent()).toContain('This mapping was changed by someone else');
    await expect.poll(() => heading().textContent()).toBe('Staff and students (all)');
    expect(await page.getByLabel('Removal safety threshold (%)').inputValue()).toBe('10');
  });

  /** The mappings API with this admin's session, as another tab or script would call it. */
  const mappingsApi = async (method: string, path = '', body?: unknown) => {
    const session = await sessionHeaders(page, cs.consoleUrl);
    const res = await fetch(`${cs.consoleUrl}/api/tenants/${cs.tenantId}/mappings${path}`, {
      method,
      headers: {
        ...session,
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    return { status: res.status, body: (await res.json()) as Record<string, unknown> };
  };

  it('offers Groups with its preset (no org unit scope) and saves a groups mapping', async () => {
    await goto('/mappings/new', 'New mapping');
    expect(await page.getByLabel('Source', { exact: true }).inputValue()).toBe('Google Workspace');
    await page.getByRole('radio', { name: /^Groups/ }).check();
    expect(await page.getByLabel('Unique identifier').inputValue()).toBe('email');
    expect(await page.getByLabel('Object ID').inputValue()).toBe('groups');
    const sources = await page
      .locator('select[id^="src-"]')
      .evaluateAll((els) => els.map((e) => (e as HTMLSelectElement).value));
    expect(sources).toEqual(['email', 'name', 'description', 'directMembersCount', 'members']);
    // Groups have no org unit: the editor offers no scope (the API would refuse one).
    expect(await page.getByLabel('Only sync some org units').count()).toBe(0);

    await page.getByLabel('Name', { exact: true }).fill('All groups');
    await page.getByRole('button', { name: 'Create mapping' }).click();
    await expect.poll(() => notice().textContent()).toContain('was created');
    await expect.poll(() => heading().textContent()).toBe('All groups');
    const url = page.url();
    const stored = await mappingsApi('GET', `/${url.slice(url.lastIndexOf('/') + 1)}`);
    expect(stored.body).toMatchObject({
      source: 'google',
      entity: 'groups',
      identifier: 'email',
      target: { kind: 'collection', objectId: 'groups' },
      orgUnitScope: null,
    });
    expect((stored.body.fieldMap as Array<{ target: string }>).map((f) => f.target)).toEqual([
      'email',
      'name',
      'description',
      'memberCount',
      'members',
    ]);
    await goto('/mappings', 'Mappings');
    expect(await page.locator('table').textContent()).toContain('Groups');
  });

  it('an Entra mapping opened and saved in the editor stays an Entra mapping', async () => {
    // The mapping connecting Microsoft Entra creates.
    const input = DEFAULT_ENTRA_PEOPLE_MAPPING;
    const created = await mappingsApi('POST', '', input);
    expect(created.status).toBe(201);
    const id = created.body.id as string;

    await goto(`/mappings/${encodeURIComponent(id)}`, input.name);
    expect(await page.getByLabel('Source', { exact: true }).inputValue()).toBe('Microsoft Entra');
    // Entra's entity, identifiers and fields, not Google's.
    expect(await page.getByRole('radio', { name: /Users \(Microsoft Entra\)/ }).isChecked()).toBe(true);
    expect(await page.getByRole('radio').filter({ hasText: 'Chrome OS' }).count()).toBe(0);
    expect(
      await page
        .getByLabel('Unique identifier')
        .evaluate((s) => [...(s as HTMLSelectElement).options].map((o) => o.value)),
    ).toEqual(['email']);
    expect(await page.getByLabel('Microsoft Entra field, row 1').inputValue()).toBe('givenName');
    expect(await page.getByRole('radio', { name: /Login users/ }).count()).toBe(0);
    expect(await page.getByLabel('Only sync some org units').count()).toBe(0);

    await page.getByRole('button', { name: 'Save changes' }).click();
    await expect.poll(() => notice().textContent()).toContain('were saved');
    const saved = await mappingsApi('GET', `/${encodeURIComponent(id)}`);
    expect(saved.status).toBe(200);
    const { version, updatedAt: _u, ...rest } = saved.body;
    expect(version).toBe(2);
    const { version: _v, updatedAt: _u0, ...before } = created.body;
    expect(rest).toEqual(before);

    await goto('/mappings', 'Mappings');
    expect(await page.locator('table').textContent()).toContain('Users (Microsoft Entra)');
    // Out of the way of the tests that follow.
    const current = await fetch(
      `${cs.consoleUrl}/api/tenants/${cs.tenantId}/mappings/${encodeURIComponent(id)}`,
      {
        method: 'DELETE',
        headers: {
          ...(await sessionHeaders(page, cs.consoleUrl)),
          'if-match': '"2"',
        },
      },
    );
    expect(current.ok).toBe(true);
  });

  it('the overview names Groups among the read-only access granted', async () => {
    // The overview lists the read-only access the connection was granted, Groups among it.
    await goto('', cs.tenantName);
    await expect
      .poll(() => page.locator('li[title$="admin.directory.group.readonly"]').textContent())
      .toBe('Groups');
  });

  it('an owner turns device management on and off through Google’s consent; the card shows it', async () => {
    await goto('', cs.tenantName);
    const row = () =>
      page.locator('dt', { hasText: 'Device management' }).locator('xpath=following-sibling::dd[1]');
    expect(await row().textContent()).toBe('Off');
    await viaGoogle(
      page,
      cs.consoleUrl,
      () => page.getByRole('button', { name: 'Turn on device management' }).click(),
      'approve',
    );
    await expect.poll(() => notice().textContent()).toContain('Device management is on');
    await expect.poll(() => row().textContent()).toBe('On');
    expect(await page.locator('li[title$="admin.directory.device.mobile.action"]').textContent()).toBe(
      'Mobile device actions',
    );

    await viaGoogle(
      page,
      cs.consoleUrl,
      () => page.getByRole('button', { name: 'Turn off device management' }).click(),
      'approve',
    );
    await expect.poll(() => notice().textContent()).toContain('Device management is off');
    await expect.poll(() => row().textContent()).toBe('Off');
    expect(await page.locator('li[title$="admin.directory.device.mobile.action"]').count()).toBe(0);
    expect(await page.locator('[data-status="active"]').first().textContent()).toBe('Active');
  });

  it('when Google revokes the authorization, shows the re-authorization banner with Reconnect', async () => {
    await cs.control.revokeGrants(cs.workspace.domain);
    await goto('', cs.tenantName);
    await page.getByRole('button', { name: 'Test connection' }).click();
    const banner = page.getByRole('region', { name: 'Google Workspace needs re-authorization' });
    await banner.waitFor();
    expect(await banner.textContent()).toContain('invalid_grant');
    expect(await banner.getByRole('button', { name: 'Reconnect' }).isVisible()).toBe(true);

    // The banner follows the admin to every page of the tenant, and Sync now is off until reconnected.
    await goto('/runs', 'Sync runs');
    expect(
      await page.getByRole('region', { name: 'Google Workspace needs re-authorization' }).isVisible(),
    ).toBe(true);
    expect(await page.getByRole('button', { name: 'Sync all now' }).isDisabled()).toBe(true);

    // Reconnecting brings it back.
    await viaGoogle(
      page,
      cs.consoleUrl,
      () => page.getByRole('button', { name: 'Reconnect' }).click(),
      'approve',
    );
    await expect.poll(() => notice().textContent()).toContain('Google Workspace is connected');
    expect(await page.getByRole('region', { name: 'Google Workspace needs re-authorization' }).count()).toBe(
      0,
    );
  });

  it('an owner adds a teammate, changes their role and removes them; the only owner stays', async () => {
    await goto('/team', 'Team');
    const me = cs.workspace.adminEmail;
    const row = (email: string) => page.getByRole('row').filter({ hasText: email });
    expect(await row(me).textContent()).toContain('(you)');
    // The only owner can be neither demoted nor removed.
    expect(await page.getByRole('combobox', { name: `Role of ${me}` }).isDisabled()).toBe(true);
    expect(await page.getByRole('button', { name: `Remove ${me}` }).isDisabled()).toBe(true);

    const email = page.getByLabel('Email address');
    await email.fill('not-an-email');
    await page.getByRole('button', { name: 'Add member' }).click();
    expect(await email.getAttribute('aria-invalid')).toBe('true');
    expect(await page.locator('#member-email-error').textContent()).toContain('Enter an email address');

    const mate = `Teammate@${cs.workspace.domain}`;
    const mateId = mate.toLowerCase();
    await email.fill(mate);
    await page.getByLabel('Role', { exact: true }).selectOption('viewer');
    await page.getByRole('button', { name: 'Add member' }).click();
    await expect.poll(() => notice().textContent()).toContain(`${mateId} was added as viewer`);
    await expect.poll(() => row(mateId).count()).toBe(1);

    await page.getByRole('combobox', { name: `Role of ${mateId}` }).selectOption('admin');
    await expect.poll(() => notice().textContent()).toContain(`${mateId} is now admin`);
    const session = await sessionHeaders(page, cs.consoleUrl);
    const members = await fetch(`${cs.consoleUrl}/api/tenants/${cs.tenantId}/members`, {
      headers: session,
    }).then((r) => r.json());
    expect(members.members).toContainEqual(expect.objectContaining({ email: mateId, role: 'admin' }));

    await page.getByRole('button', { name: `Remove ${mateId}` }).click();
    const dialog = page.getByRole('dialog');
    expect(await dialog.textContent()).toContain('will no longer be able to sign in');
    await dialog.getByRole('button', { name: 'Remove' }).click();
    await expect.poll(() => notice().textContent()).toContain(`${mateId} was removed from the team`);
    expect(await row(mateId).count()).toBe(0);
  });

  it('had no uncaught errors in the page', () => {
    expect(pageErrors).toEqual([]);
  });
});

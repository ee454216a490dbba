import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, Page } from 'playwright-core';
import {
  CHROMIUM_PATH,
  hasChromium,
  launchBrowser,
  sessionHeaders,
  signIn,
  viaGoogle,
  watchPageErrors,
} from './support/browser.js';
import { startConsoleStack, type ConsoleStack } from './support/console-stack.js';
import { emulatorEnv } from '../support/emulator-clients.js';

/**
 * Tenant settings, Sync now on the overview, the session cookie and the role-aware console at a phone's width,
 * in headless Chromium against the local stack.
 */
describe('console: settings, sessions and roles', () => {
  let cs: ConsoleStack;
  let browser: Browser;
  let page: Page;
  let pageErrors: string[];

  beforeAll(async () => {
    if (!hasChromium())
      throw new Error(`needs Chromium at ${CHROMIUM_PATH} (apt-get install chromium, or set CHROMIUM_PATH)`);
    [cs, browser] = await Promise.all([
      startConsoleStack({ emulators: emulatorEnv(), tenantId: 'roosevelt', tenantName: 'Roosevelt Schools' }),
      launchBrowser(),
    ]);
    page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
    page.setDefaultTimeout(20_000);
    pageErrors = watchPageErrors(page);
  }, 180_000);

  afterAll(async () => {
    await browser?.close();
    await cs?.stop();
  });

  // The machine is shared and slow at times: a bound on waiting, not an assertion on time.
  const poll = <T>(fn: () => Promise<T> | T) => expect.poll(fn, { timeout: 15_000 });
  const heading = (p: Page = page) => p.getByRole('heading', { level: 1 });
  const goto = async (route: string, title: string | RegExp, p: Page = page) => {
    await p.goto('about:blank');
    await p.goto(`${cs.consoleUrl}/#/t/${cs.tenantId}${route}`);
    await poll(() => heading(p).textContent()).toMatch(title);
  };
  const api = async (method: string, path: string, body?: unknown) => {
    const res = await fetch(`${cs.consoleUrl}/api/tenants/${cs.tenantId}${path}`, {
      method,
      headers: {
        ...(await sessionHeaders(page, cs.consoleUrl)),
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    return { status: res.status, body: (await res.json()) as Record<string, unknown> };
  };

  it('signs the owner in with a session cookie the page cannot read', async () => {
    await signIn(page, cs.consoleUrl);
    await poll(() => heading().textContent()).toBe('Roosevelt Schools');
    const cookies = await page.context().cookies(`${cs.consoleUrl}/api/me`);
    const session = cookies.find((c) => c.value.startsWith('ws_s_'));
    expect(session).toMatchObject({ name: '__session', path: '/api', httpOnly: true, sameSite: 'Lax' });
    expect(await page.evaluate(() => document.cookie)).not.toContain('ws_s_');
    expect(await page.evaluate(() => Object.keys(sessionStorage))).not.toContain('ws.idToken');
  });

  it('an owner sets the schedule and time zone; a bad expression is explained and nothing is saved', async () => {
    await goto('/settings', 'Settings');
    expect(await page.locator('#schedule-description').textContent()).toContain('At 06:00, 12:00 and 18:00');
    await page.getByLabel('Cron expression').fill('*/5 * * * *');
    await page.getByRole('button', { name: 'Save settings' }).click();
    await poll(() => page.locator('.field-error:not([hidden])').first().textContent()).toMatch(
      /at least 60 minutes apart/,
    );
    expect((await api('GET', '/settings')).body).toMatchObject({ version: 1 });

    await page.getByLabel('Schedule', { exact: true }).selectOption('0 7,10,13,16 * * MON-FRI');
    await page.getByLabel('Time zone').selectOption('America/New_York');
    await page.getByLabel('Removal ceiling (%)').fill('5');
    await page.getByRole('button', { name: 'Save settings' }).click();
    await poll(() => page.locator('#notice').textContent()).toContain('Settings saved');
    expect(await page.locator('#schedule-description').textContent()).toContain(
      'At 07:00, 10:00, 13:00 and 16:00, Monday through Friday · America/New_York',
    );
    expect(await page.locator('.audit-list').textContent()).toContain('removalThresholdPercent, schedule');
    expect((await api('GET', '/settings')).body).toMatchObject({
      version: 2,
      removalThresholdPercent: 5,
      schedule: { cron: '0 7,10,13,16 * * MON-FRI', timeZone: 'America/New_York' },
    });
  });

  it('the overview shows the tenant’s schedule and starts a sync with Sync now', async () => {
    const created = await api('POST', '/mappings', {
      name: 'Staff',
      entity: 'users',
      identifier: 'primaryEmail',
      target: { kind: 'collection', objectId: 'staff' },
      fieldMap: [{ source: 'primaryEmail', target: 'email' }],
    });
    expect(created.status).toBe(201);
    await goto('', 'Roosevelt Schools');
    // Not connected yet: Sync now says why it is off.
    const syncNow = page.locator('#overview-sync-now');
    expect(await syncNow.isDisabled()).toBe(true);
    expect(await syncNow.getAttribute('title')).toBe('Connect Google Workspace first');
    await viaGoogle(
      page,
      cs.consoleUrl,
      () => page.getByRole('button', { name: 'Connect Google Workspace' }).first().click(),
      'approve',
    );
    await page.locator('#notice').getByText('connected').waitFor();
    await goto('', 'Roosevelt Schools');
    const schedule = page.getByRole('region', { name: 'Schedule' });
    expect(await schedule.textContent()).toContain('At 07:00, 10:00, 13:00 and 16:00, Monday through Friday');
    expect(await schedule.textContent()).toContain('America/New_York');
    // The next run in the tenant's zone, whatever the browser's (headless Chromium runs in UTC here): one of
    // the four times, New York time.
    expect(await schedule.locator('time').textContent()).toMatch(/\b(7|10|1|4):00\s?(AM|PM) E[SD]T$/);
    await poll(() => syncNow.isEnabled()).toBe(true);
    await syncNow.click();
    await poll(() => heading().textContent()).toBe('Sync runs');
    await poll(
      async () => ((await api('GET', '/runs?limit=5')).body.runs as Array<{ trigger: string }>).length,
    ).toBeGreaterThan(0);
  });

  it('a viewer on a 390 px phone sees actions turned off with the reason, and nothing overflows', async () => {
    const email = `viewer@${cs.workspace.domain}`;
    await cs.control.addUser(cs.workspace.domain, {
      primaryEmail: email,
      givenName: 'Vic',
      familyName: 'Viewer',
    });
    expect((await api('PUT', `/members/${encodeURIComponent(email)}`, { role: 'viewer' })).status).toBe(201);

    const context = await browser.newContext({ viewport: { width: 390, height: 844 } });
    const viewer = await context.newPage();
    viewer.setDefaultTimeout(20_000);
    const errors = watchPageErrors(viewer);
    const login = `${cs.consoleUrl}/api/auth/login?loginHint=${encodeURIComponent(email)}`;
    await viaGoogle(viewer, cs.consoleUrl, async () => void (await viewer.goto(login)), 'approve');
    await viewer.getByRole('button', { name: 'Sign out', exact: true }).waitFor();

    // Whether the page and the navigation fit the width; if not, which elements stick out (for the message).
    const fits = () =>
      viewer.evaluate(() => {
        const doc = document.documentElement;
        const nav = document.getElementById('nav')!;
        const out = [...document.querySelectorAll('body *')]
          .filter(
            (e) =>
              e.getBoundingClientRect().right > doc.clientWidth && !e.parentElement?.closest('.table-wrap'),
          )
          .slice(0, 5)
          .map((e) => `${e.tagName.toLowerCase()}.${e.className}#${e.id} ${e.getBoundingClientRect().right}`);
        const page = doc.scrollWidth <= doc.clientWidth || `${doc.scrollWidth} > ${doc.clientWidth}`;
        return { page, nav: nav.scrollWidth <= nav.clientWidth, out };
      });
    const fitsAll = { page: true, nav: true, out: [] };
    const reason = /view-only access to this tenant/;

    await goto('', 'Roosevelt Schools', viewer);
    await poll(() => viewer.locator('#role-note').textContent()).toMatch(reason);
    const syncNow = viewer.locator('#overview-sync-now');
    expect(await syncNow.isDisabled()).toBe(true);
    expect(await syncNow.getAttribute('title')).toMatch(reason);
    expect(await viewer.getByRole('link', { name: 'Change schedule' }).count()).toBe(0);
    expect(await viewer.getByRole('link', { name: 'New mapping' }).count()).toBe(0);
    expect(await fits()).toEqual(fitsAll);

    await goto('/runs', 'Sync runs', viewer);
    await poll(() => viewer.locator('#role-note').count()).toBe(1);
    expect(await viewer.getByRole('button', { name: 'Sync all now' }).isDisabled()).toBe(true);
    expect(await fits()).toEqual(fitsAll);

    await goto('/mappings', 'Mappings', viewer);
    await poll(() => viewer.getByRole('button', { name: 'Sync Staff now' }).isDisabled()).toBe(true);
    expect(await fits()).toEqual(fitsAll);
    await viewer.getByRole('link', { name: 'Staff' }).click();
    await poll(() => heading(viewer).textContent()).toBe('Staff');
    // The editor is read-only: no form to fill in and then be refused.
    await poll(() => viewer.getByLabel('Name', { exact: true }).isDisabled()).toBe(true);
    expect(await viewer.locator('#save').isDisabled()).toBe(true);
    expect(await viewer.getByRole('button', { name: 'Delete' }).isDisabled()).toBe(true);

    await goto('/settings', 'Settings', viewer);
    await poll(() => viewer.getByLabel('Time zone').isDisabled()).toBe(true);
    expect(await viewer.getByRole('button', { name: 'Save settings' }).isDisabled()).toBe(true);
    expect(await viewer.locator('#role-note').textContent()).toMatch(/Only owners can change this/);
    expect(await fits()).toEqual(fitsAll);

    // Signing out ends the session on the server: the cookie it had no longer signs anyone in.
    const cookie = (await sessionHeaders(viewer, cs.consoleUrl)).cookie!;
    await viewer.getByRole('button', { name: 'Sign out', exact: true }).click();
    await poll(() => heading(viewer).textContent()).toBe('Sign in to Workspace Sync');
    expect((await fetch(`${cs.consoleUrl}/api/me`, { headers: { cookie } })).status).toBe(401);
    await context.close();
    expect(errors).toEqual([]);
  });

  it('had no uncaught errors in the page', () => {
    expect(pageErrors).toEqual([]);
  });
});

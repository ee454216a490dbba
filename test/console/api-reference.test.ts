import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, Page } from 'playwright-core';
import { hasChromium, CHROMIUM_PATH, launchBrowser, signIn, watchPageErrors } from './support/browser.js';
import { startConsoleStack, type ConsoleStack } from './support/console-stack.js';
import { emulatorEnv } from '../support/emulator-clients.js';
import { API_ROUTES } from '../../functions/src/api/routes/index.js';
import { openApiPath } from '../../functions/src/api/openapi/openapi-document.js';

/** The console's API reference page (console/js/api-reference.js), from GET /api/openapi.json, in Chromium. */
describe('API reference page', () => {
  let cs: ConsoleStack;
  let browser: Browser;
  let page: Page;
  let pageErrors: string[];

  beforeAll(async () => {
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

  it('is in the tenant navigation and lists every endpoint with who may call it', async () => {
    await page.goto(cs.consoleUrl);
    await signIn(page, cs.consoleUrl);
    await page.getByRole('navigation').getByRole('link', { name: 'API reference' }).click();
    await expect.poll(() => page.getByRole('heading', { level: 1 }).textContent()).toBe('API reference');
    const rows = await page
      .locator('tbody tr')
      .evaluateAll((trs) =>
        trs
          .filter((tr) => tr.children.length === 4)
          .map((tr) => [...tr.children].map((td) => td.textContent ?? '')),
      );
    const listed = new Set(rows.map(([method, path]) => `${method} ${path}`));
    for (const r of API_ROUTES) expect(listed, r.pattern).toContain(`${r.method} ${openApiPath(r.pattern)}`);
    const who = new Map(rows.map(([method, path, , access]) => [`${method} ${path}`, access]));
    expect(who.get('POST /api/tenants')).toBe('Host product (ws-hmac-v2)');
    expect(who.get('GET /oauth/entra/callback')).toBe('Public');
    expect(who.get('POST /api/tenants/{tenantId}/sync')).toBe(
      'Admin (Google ID token) or Host product (ws-hmac-v2)',
    );
    expect(await page.getByRole('heading', { name: 'Authentication' }).isVisible()).toBe(true);
  });

  it('opens an endpoint to its parameters and body schema', async () => {
    const op = page.locator('details.api-op', { hasText: 'POST /api/tenants/{tenantId}/entra/authorize' });
    await op.locator('summary').click();
    await expect.poll(() => op.locator('pre.api-schema').textContent()).toContain('domainHint');
    expect(await op.getByRole('region', { name: /Parameters of POST/ }).textContent()).toContain('tenantId');
  });

  it('fits a 390 px wide screen without sideways scrolling of the page', async () => {
    await page.setViewportSize({ width: 390, height: 844 });
    const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
    // Names what sticks out, should it fail.
    const wide = await page.evaluate(() =>
      [...document.querySelectorAll('#view *')]
        .filter(
          (e) => e.getBoundingClientRect().right > window.innerWidth + 1 && !e.closest('.table-wrap, pre'),
        )
        .slice(0, 5)
        .map((e) => `${e.tagName}.${e.className}: ${(e.textContent ?? '').slice(0, 40)}`),
    );
    expect(overflow, wide.join('\n')).toBeLessThanOrEqual(0);
  });

  it('had no uncaught errors in the page', () => {
    expect(pageErrors).toEqual([]);
  });
});

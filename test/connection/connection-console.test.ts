import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, expect, it } from 'vitest';
import {
  CHROMIUM_PATH,
  hasChromium,
  launchBrowser,
  signIn,
  viaGoogle,
  watchPageErrors,
} from '../console/support/browser.js';
import { startConsoleStack, type ConsoleStack } from '../console/support/console-stack.js';
import { emulatorEnv } from '../support/emulator-clients.js';

/**
 * The overview's "Connection options" card in headless Chromium against the local stack: the redirect URI to
 * register, test-and-save refusing an unknown client with the Google Cloud console step, the credential check
 * and what the authorizing admin can read.
 */
let cs: ConsoleStack;
let browser: Browser;
let page: Page;
let pageErrors: string[];

beforeAll(async () => {
  if (!hasChromium())
    throw new Error(`needs Chromium at ${CHROMIUM_PATH} (apt-get install chromium, or set CHROMIUM_PATH)`);
  [cs, browser] = await Promise.all([startConsoleStack({ emulators: emulatorEnv() }), launchBrowser()]);
  page = await browser.newPage({ viewport: { width: 390, height: 900 } });
  page.setDefaultTimeout(20_000);
  pageErrors = watchPageErrors(page);
}, 180_000);
afterAll(async () => {
  await browser?.close();
  await cs?.stop();
});

it('shows the connection options, refuses a wrong client with the fix named, checks the credential', async () => {
  await signIn(page, cs.consoleUrl);
  const card = page.locator('section, .card').filter({ hasText: 'Connection options' }).first();
  // Before connecting, the owner sees the redirect URI to register for their own OAuth client.
  await expect.poll(() => card.textContent()).toContain('/oauth/callback');

  await page.getByLabel('Client ID').fill('1-unknown.apps.googleusercontent.com');
  await page.getByLabel('Client secret').fill('GOCSPX-console-test');
  await page.getByRole('button', { name: 'Test and save' }).click();
  await expect.poll(() => card.textContent()).toContain('Google does not know the Client ID');
  expect(await page.getByLabel('Client secret').inputValue()).toBe('');

  await viaGoogle(page, cs.consoleUrl, () =>
    page.getByRole('button', { name: 'Connect Google Workspace' }).first().click(),
  );
  const options = page.locator('section, .card').filter({ hasText: 'Connection options' }).first();
  await expect.poll(() => options.textContent()).toContain("Workspace Sync's OAuth client");
  await page.getByRole('button', { name: 'Check credential now' }).click();
  await expect.poll(() => options.textContent()).toContain('Working');
  expect(await options.textContent()).toContain('Active administrator');
  await page.getByRole('button', { name: 'Test connection' }).click();
  await expect
    .poll(() => page.getByRole('status').filter({ hasText: 'Connection' }).first().textContent())
    .toContain('Connection works');
  // The test probed every entity; the card lists them when the page is shown again.
  await page.reload();
  const reloaded = page.locator('section, .card').filter({ hasText: 'Connection options' }).first();
  await expect.poll(() => reloaded.textContent()).toContain('Chrome OS devices can be read');
  expect(pageErrors).toEqual([]);
});

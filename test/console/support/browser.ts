import { existsSync } from 'node:fs';
import { chromium, type Browser, type Page } from 'playwright-core';

/** Debian's Chromium (CI installs it, see .ci/run); CHROMIUM_PATH overrides. */
export const CHROMIUM_PATH = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

export const hasChromium = () => existsSync(CHROMIUM_PATH);

export function launchBrowser(): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM_PATH,
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--no-first-run',
    ],
  });
}

/** Fails the test on any uncaught page error or console error the test did not expect. */
export function watchPageErrors(page: Page): string[] {
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(`pageerror: ${e.message}`));
  page.on('console', (m) => {
    // The browser logs every non-2xx fetch as a console error; those are expected in error-state tests.
    if (m.type() === 'error' && !/Failed to load resource/.test(m.text()))
      errors.push(`console: ${m.text()}`);
  });
  return errors;
}

const onConsole = (url: string, consoleUrl: string) => {
  const u = new URL(url);
  return u.origin === new URL(consoleUrl).origin && !/^\/(oauth|api)\//.test(u.pathname);
};

/**
 * Runs `trigger` (a click that leaves for Google) and clicks through Google's pages (the Workspace simulator,
 * or the fake): an account chooser if one is shown, then Allow or Deny on the consent screen, until the
 * browser has loaded the console again.
 */
export async function viaGoogle(
  page: Page,
  consoleUrl: string,
  trigger: () => Promise<void>,
  decision: 'approve' | 'deny' = 'approve',
  accountEmail?: string,
): Promise<void> {
  const left = page.waitForEvent('load', { timeout: 20_000 });
  await trigger();
  await left;
  for (let i = 0; i < 6 && !onConsole(page.url(), consoleUrl); i++) {
    const allow = page.getByRole('button', { name: 'Allow', exact: true });
    const deny = page.getByRole('button', { name: 'Deny', exact: true });
    const account = accountEmail ? page.getByRole('button', { name: accountEmail }) : null;
    let target = null;
    if (await allow.isVisible()) target = decision === 'approve' ? allow : deny;
    else if (account && (await account.isVisible())) target = account;
    if (!target) {
      await page.waitForURL((u) => onConsole(u.toString(), consoleUrl), { timeout: 20_000 });
      break;
    }
    const next = page.waitForEvent('load', { timeout: 20_000 });
    await target.click();
    await next;
  }
  await page.waitForURL((u) => onConsole(u.toString(), consoleUrl), { timeout: 20_000 });
}

/** Signs in with the console's "Sign in with Google" and waits for the signed-in console. */
export async function signIn(page: Page, consoleUrl: string, accountEmail?: string): Promise<void> {
  await page.goto(consoleUrl);
  const link = page.getByRole('link', { name: 'Sign in with Google' });
  await viaGoogle(page, consoleUrl, () => link.click(), 'approve', accountEmail);
  await page.getByRole('button', { name: 'Sign out' }).waitFor();
}

/**
 * Headers that call the API as the page's signed-in admin from outside the page (another tab, a script): the
 * session cookie the browser holds (HttpOnly, so read from the browser context) and the CSRF header that
 * cookie-authenticated writes need (functions/src/api/session-auth.ts).
 */
export async function sessionHeaders(page: Page, consoleUrl: string): Promise<Record<string, string>> {
  const cookies = await page.context().cookies(`${consoleUrl}/api/me`);
  return {
    cookie: cookies.map((c) => `${c.name}=${c.value}`).join('; '),
    'x-requested-with': 'workspace-sync',
  };
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- JSON answers, read field by field in tests
type Json = any;

/**
 * The tenant's API as the signed-in page calls it (its session cookie and the CSRF header), for a test that
 * sets something up or checks it beside what the page shows.
 */
export function tenantApi(page: Page, consoleUrl: string, tenantId: string) {
  return async (method: string, path: string, body?: unknown): Promise<{ status: number; body: Json }> => {
    const res = await fetch(`${consoleUrl}/api/tenants/${tenantId}${path}`, {
      method,
      headers: {
        ...(await sessionHeaders(page, consoleUrl)),
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    return { status: res.status, body: await res.json() };
  };
}

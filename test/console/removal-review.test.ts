import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, Page } from 'playwright-core';
import {
  hasChromium,
  CHROMIUM_PATH,
  launchBrowser,
  signIn,
  tenantApi,
  viaGoogle,
  watchPageErrors,
} from './support/browser.js';
import { startConsoleStack, type ConsoleStack } from './support/console-stack.js';
import { emulatorEnv } from '../support/emulator-clients.js';

interface ApiRecord {
  recordId: string;
  data: Record<string, unknown>;
  sync: Record<string, unknown>;
}

/**
 * Reviewing held removals and changing a mapping's identifier in the admin console, in headless Chromium
 * against the real local stack (syncs run through Pub/Sub as in production).
 */
describe('admin console: removal review and identifier changes', () => {
  let cs: ConsoleStack;
  let browser: Browser;
  let page: Page;
  let pageErrors: string[];
  let mappingId: string;
  let heldRunId: string;
  let victims: ApiRecord[];
  const objectId = 'staff';

  /** The tenant's API as this page calls it. */
  const api = (method: string, path: string, body?: unknown) =>
    tenantApi(page, cs.consoleUrl, cs.tenantId)(method, path, body);
  const records = async (): Promise<ApiRecord[]> =>
    (await api('GET', `/objects/${objectId}/records?limit=200`)).body.records ?? [];
  /** A bounded wait for a run to finish (syncs run in the stack's functions). */
  const finished = async (runId: string) => {
    for (let i = 0; i < 240; i++) {
      const run = await api('GET', `/runs/${runId}`);
      if (run.status === 200 && ['succeeded', 'failed', 'held'].includes(run.body.status)) return run.body;
      await new Promise((r) => setTimeout(r, 250));
    }
    throw new Error(`run ${runId} did not finish`);
  };
  const syncNow = async () => {
    const res = await api('POST', '/sync', { mappingId });
    expect(res.status).toBe(202);
    return finished(res.body.runs[0].runId as string);
  };

  beforeAll(async () => {
    if (!hasChromium())
      throw new Error(`needs Chromium at ${CHROMIUM_PATH} (apt-get install chromium, or set CHROMIUM_PATH)`);
    [cs, browser] = await Promise.all([
      startConsoleStack({ emulators: emulatorEnv(), size: { users: 30, chromeos: 2, mobile: 1 } }),
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
    const created = await api('POST', '/mappings', {
      name: 'Staff',
      entity: 'users',
      identifier: 'primaryEmail',
      target: { kind: 'collection', objectId },
      fieldMap: [
        { source: 'primaryEmail', target: 'email' },
        { source: 'name.fullName', target: 'fullName' },
      ],
    });
    expect(created.status).toBe(201);
    mappingId = created.body.id as string;
    expect((await syncNow()).status).toBe('succeeded');

    // A fifth of the users leave Google Workspace at once: over the 10 % threshold, so the sync holds.
    victims = (await records()).filter((r) => r.data.email !== cs.workspace.adminEmail).slice(0, 7);
    for (const v of victims) await cs.control.deleteUser(cs.workspace.customerId, String(v.data.email));
    const held = await syncNow();
    expect(held.status).toBe('held');
    heldRunId = held.runId as string;
  }, 240_000);

  afterAll(async () => {
    await browser?.close();
    await cs?.stop();
  });

  const heading = () => page.getByRole('heading', { level: 1 });
  const open = async (route: string, title: string | RegExp) => {
    await page.goto('about:blank');
    await page.goto(`${cs.consoleUrl}/#/t/${cs.tenantId}${route}`);
    await expect.poll(() => heading().textContent()).toMatch(title);
  };
  const reviewRows = () => page.locator('table.review tbody tr');

  it('the overview points at the held run; the review lists, searches and keeps records, then confirms the rest', async () => {
    await open('', cs.tenantName);
    await page.getByRole('link', { name: 'Review them' }).click();
    await expect.poll(() => heading().textContent()).toBe('Review removals');
    await expect.poll(() => reviewRows().count()).toBe(victims.length);
    expect(await page.locator('.review-summary').textContent()).toMatch(/^7 records would be removed/);

    const kept = victims[2]!;
    await page.getByLabel('Search').fill(String(kept.data.fullName));
    await page.getByRole('button', { name: 'Search' }).click();
    await expect.poll(() => reviewRows().count()).toBe(1);
    expect(await reviewRows().first().getAttribute('data-record-id')).toBe(kept.recordId);
    await page.getByLabel(`Keep ${String(kept.data.email).toLowerCase()}`).check();
    await expect.poll(() => page.locator('.review-summary').textContent()).toMatch(/1 marked to keep/);

    await page.getByRole('button', { name: 'Remove 6, keep 1' }).click();
    const dialog = page.getByRole('dialog');
    expect(await dialog.textContent()).toMatch(/marks 6 records removed/);
    await dialog.getByRole('button', { name: 'Confirm and sync' }).click();
    await expect.poll(() => page.locator('#notice').textContent()).toMatch(/6 records will be removed/);
    await expect.poll(() => heading().textContent()).toBe('Sync runs');

    const run = await api('GET', `/runs/${heldRunId}`);
    expect(run.body.review).toMatchObject({ confirmedBy: cs.workspace.adminEmail, approved: 6, excluded: 1 });
    // The sync the confirmation started applies it: six removed, the kept one stays.
    await expect
      .poll(async () => (await records()).filter((r) => r.sync.status === 'removed').length, {
        timeout: 60_000,
      })
      .toBe(6);
    const now = new Map((await records()).map((r) => [r.recordId, r]));
    expect(now.get(kept.recordId)!.sync.status).toBe('active');

    // The reviewed run shows who confirmed it, and the kept record as kept.
    await open(`/runs/${heldRunId}/review`, 'Review removals');
    await expect
      .poll(() => page.locator('.review-summary').textContent())
      .toMatch(/Confirmed by .*6 removed, 1 kept/);
    expect(await page.locator(`tr[data-record-id="${kept.recordId}"] [data-status="kept"]`).count()).toBe(1);
    expect(await page.locator('#confirm-removals').count()).toBe(0);
    expect(pageErrors).toEqual([]);
  });

  it('fits a 390 px wide screen', async () => {
    await page.setViewportSize({ width: 390, height: 844 });
    await open(`/runs/${heldRunId}/review`, 'Review removals');
    await expect.poll(() => reviewRows().count()).toBeGreaterThan(0);
    // The review's own content fits the page's main column (its table scrolls inside its region); the
    // navigation around it is another screen's concern.
    const fit = await page.evaluate(() => {
      const main = document.querySelector('main')!;
      const wrap = main.querySelector('.table-wrap')!;
      return { main: [main.scrollWidth, main.clientWidth], wrapRight: wrap.getBoundingClientRect().right };
    });
    expect(fit.main[0]).toBeLessThanOrEqual(fit.main[1]!);
    expect(fit.wrapRight).toBeLessThanOrEqual(390);
    await page.setViewportSize({ width: 1280, height: 800 });
  });

  it('the editor previews the next run and warns before an identifier change, which re-keys without duplicates', async () => {
    const before = (await records()).filter((r) => r.sync.status !== 'removed');
    expect(before).toHaveLength((await records()).length - 6);
    await open(`/mappings/${mappingId}`, 'Staff');
    await page.locator('#identifier').selectOption('id');
    await page.getByRole('button', { name: 'Preview next run' }).click();
    const preview = page.locator('#next-run-preview');
    await expect
      .poll(() => preview.textContent())
      .toMatch(/The unique identifier changes from primaryEmail to id/);
    // The kept record's user is gone: it cannot move, and stays kept.
    expect(await preview.locator('[data-count="rekeyed"] dd').textContent()).toBe(String(before.length - 1));
    expect(await preview.locator('[data-count="created"] dd').textContent()).toBe('0');
    expect(await preview.textContent()).toMatch(/Complete:/);

    await page.getByRole('button', { name: 'Save changes' }).click();
    const dialog = page.getByRole('dialog');
    expect(await dialog.textContent()).toMatch(/Change the unique identifier\?/);
    // Cancelling saves nothing.
    await dialog.getByRole('button', { name: 'Cancel' }).click();
    expect((await api('GET', `/mappings/${mappingId}`)).body.identifier).toBe('primaryEmail');
    await page.getByRole('button', { name: 'Save changes' }).click();
    await dialog.getByRole('button', { name: 'Change identifier and save' }).click();
    await expect.poll(() => page.locator('#notice').textContent()).toMatch(/were saved/);
    expect((await api('GET', `/mappings/${mappingId}`)).body.identifier).toBe('id');

    const run = await syncNow();
    expect(run).toMatchObject({ status: 'succeeded', counts: { created: 0, removed: 0 } });
    expect(run.removal).toMatchObject({ held: false, rekeyed: before.length - 1 });
    const after = (await records()).filter((r) => r.sync.status !== 'removed');
    expect(after).toHaveLength(before.length);
    expect(new Set(after.map((r) => r.sync.sourceId)).size).toBe(after.length);
    expect(pageErrors).toEqual([]);
  });
});

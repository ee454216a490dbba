import { readFile } from 'node:fs/promises';
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

/**
 * Working with records and watching syncs in headless Chromium against the real local stack: search, field
 * filter, totals, CSV export, a record's provenance and history; live determinate progress of a sync this
 * browser did not start (on the runs page and the overview); a run with failed records shown as "Succeeded with
 * errors".
 */
describe('admin console: records and progress', () => {
  let cs: ConsoleStack;
  let browser: Browser;
  let page: Page;
  let pageErrors: string[];
  let staffId: string;
  let chromebooksId: string;

  /** The tenant's API as this page calls it. */
  const api = (method: string, path: string, body?: unknown) =>
    tenantApi(page, cs.consoleUrl, cs.tenantId)(method, path, body);

  /** Starts a sync the way another admin or the host product would (not from this page) and returns its run id. */
  const startSync = async (mappingId: string) => {
    const res = await api('POST', '/sync', { mappingId });
    expect(res.status, JSON.stringify(res.body)).toBe(202);
    return res.body.runs[0].runId as string;
  };
  /** A bounded wait for a run to finish; its final document. */
  const finished = async (runId: string) => {
    for (let i = 0; i < 240; i++) {
      const res = await api('GET', `/runs/${runId}`);
      if (res.status === 200 && res.body.status !== 'running') return res.body;
      await new Promise((r) => setTimeout(r, 500));
    }
    throw new Error(`run ${runId} did not finish`);
  };

  beforeAll(async () => {
    if (!hasChromium())
      throw new Error(`needs Chromium at ${CHROMIUM_PATH} (apt-get install chromium, or set CHROMIUM_PATH)`);
    [cs, browser] = await Promise.all([
      startConsoleStack({ emulators: emulatorEnv(), size: { users: 30, chromeos: 6, mobile: 0 } }),
      launchBrowser(),
    ]);
    page = await browser.newPage({ viewport: { width: 1280, height: 900 }, acceptDownloads: true });
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
    const staff = await api('POST', '/mappings', {
      name: 'Staff',
      entity: 'users',
      identifier: 'primaryEmail',
      target: { kind: 'collection', objectId: 'staff' },
      fieldMap: [
        { source: 'primaryEmail', target: 'email' },
        { source: 'name.givenName', target: 'firstName' },
        { source: 'name.familyName', target: 'lastName' },
        { source: 'orgUnitPath', target: 'orgUnit' },
      ],
    });
    expect(staff.status).toBe(201);
    staffId = staff.body.id as string;
    const chromebooks = await api('POST', '/mappings', {
      name: 'Chromebooks',
      entity: 'chromeos',
      identifier: 'serialNumber',
      target: { kind: 'collection', objectId: 'chromebooks' },
      fieldMap: [{ source: 'serialNumber', target: 'serial' }],
    });
    expect(chromebooks.status).toBe(201);
    chromebooksId = chromebooks.body.id as string;
    await finished(await startSync(staffId));
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
  const rows = () => page.locator('table.data tbody tr[data-record-id]');
  const allStaff = async () =>
    ((await api('GET', '/objects/staff/records?limit=200')).body.records as Array<{
      recordId: string;
      data: Record<string, string>;
      sync: Record<string, string>;
    }>) ?? [];

  it('shows totals, searches by identifier prefix and filters by a field', async () => {
    // The listing shows active records (suspended users are inactive ones).
    const staff = (await allStaff()).filter((r) => r.sync.status === 'active');
    await open('/records/staff', /Records/);
    await expect.poll(() => page.locator('.totals').textContent()).toContain(`${staff.length} active`);
    expect(await page.getByRole('status').filter({ hasText: 'Showing' }).textContent()).toBe(
      `Showing ${staff.length} of ${staff.length} active records`,
    );

    const target = staff[0]!.data;
    const prefix = target.email!.slice(0, 3);
    const expected = staff.filter((r) => r.data.email!.startsWith(prefix)).length;
    await page.getByLabel('Identifier starts with').fill(prefix);
    await page.getByRole('button', { name: 'Search', exact: true }).click();
    await expect.poll(() => rows().count()).toBe(expected);
    expect(page.url()).toContain(`q=${encodeURIComponent(prefix)}`);
    expect(await page.getByRole('status').filter({ hasText: 'Showing' }).textContent()).toContain(
      'matching the search',
    );

    await page.getByRole('button', { name: 'Clear' }).click();
    await expect.poll(() => rows().count()).toBe(staff.length);
    const sameLast = staff.filter((r) => r.data.lastName === target.lastName).length;
    await page.getByLabel('or field').selectOption('lastName');
    await page.getByLabel('equals').fill(target.lastName!);
    await page.getByRole('button', { name: 'Search', exact: true }).click();
    await expect.poll(() => rows().count()).toBe(sameLast);
    for (const cell of await page.locator('table.data tbody tr').allTextContents())
      expect(cell).toContain(target.lastName);

    await page.getByLabel('equals').fill('no such name at all');
    await page.getByRole('button', { name: 'Search', exact: true }).click();
    await expect.poll(() => page.getByText('No record matches this search.').count()).toBe(1);
  });

  it('exports the search result as a CSV file', async () => {
    const staff = (await allStaff()).filter((r) => r.sync.status === 'active');
    await open('/records/staff', /Records/);
    const [download] = await Promise.all([
      page.waitForEvent('download'),
      page.getByRole('button', { name: 'Export CSV' }).click(),
    ]);
    expect(download.suggestedFilename()).toBe('staff-records.csv');
    const csv = await readFile((await download.path())!, 'utf8');
    const lines = csv.split('\r\n').filter(Boolean);
    expect(lines[0]).toBe(
      'recordId,status,updatedAt,removedAt,removedReason,email,firstName,lastName,orgUnit',
    );
    expect(lines).toHaveLength(staff.length + 1);
  });

  it('a record shows where it came from and the last changes of its fields', async () => {
    const [r] = await allStaff();
    await cs.control.updateUser(cs.workspace.customerId, r!.data.email!, { name: { givenName: 'Renamed' } });
    const runId = await startSync(staffId);
    await finished(runId);
    await open(`/records/staff/${encodeURIComponent(r!.recordId)}`, decodeURIComponent(r!.recordId));
    const provenance = page.getByRole('region', { name: 'Provenance' });
    await expect.poll(() => provenance.textContent()).toContain('Staff');
    expect(await provenance.textContent()).toContain(r!.sync.sourceId);
    expect(await provenance.textContent()).toContain(runId);
    const changes = page.getByRole('region', { name: 'Last changes of each field' });
    const firstNameRow = changes.locator('tr', { hasText: 'Renamed' });
    expect(await firstNameRow.first().textContent()).toContain(r!.data.firstName);
    expect(await firstNameRow.first().textContent()).toContain('firstName');
  });

  it('shows a sync started elsewhere live, with a percentage, on the runs page and the overview', async () => {
    // Slow Google down so the run lasts long enough to be watched.
    await cs.control.setFaults({
      faults: [{ kind: 'latency', latencyMs: 20_000, rate: 1, pathContains: '/users' }],
    });
    try {
      await open('/runs', 'Sync runs');
      const runId = await startSync(staffId);
      const item = page.locator(`#sync-progress [data-run-id="${runId}"]`);
      // Determinate: measured against the last completed run of the mapping.
      await expect.poll(() => item.locator('progress[value]').count(), { timeout: 30_000 }).toBe(1);
      expect(await item.locator('.progress-percent').textContent()).toMatch(/^\d{1,2}%$/);
      expect(await item.locator('progress').getAttribute('max')).toBe('100');

      await open('', cs.tenantName);
      const syncing = page.locator(`#syncing-now [data-run-id="${runId}"]`);
      await expect.poll(() => syncing.locator('progress[value]').count(), { timeout: 30_000 }).toBe(1);
      await cs.control.clearFaults();
      await finished(runId);
      await expect.poll(() => page.locator('#syncing-now').isHidden(), { timeout: 30_000 }).toBe(true);
    } finally {
      await cs.control.clearFaults();
    }
  });

  it('a run with records it could not write says "Succeeded with errors"', async () => {
    const [device] = ((await api('GET', '/objects/chromebooks/records')).body.records ?? []) as unknown[];
    expect(device).toBeUndefined(); // not synced yet
    await finished(await startSync(chromebooksId));
    const serials = (
      (await api('GET', '/objects/chromebooks/records?limit=50')).body.records as Array<{
        data: { serial: string };
      }>
    ).map((r) => r.data.serial);
    await cs.control.addChromeOsDevice(cs.workspace.customerId, { serialNumber: serials[0]! });
    const runId = await startSync(chromebooksId);
    expect((await finished(runId)).status).toBe('succeeded_with_errors');
    await open(`/runs?mappingId=${chromebooksId}`, 'Sync runs');
    const row = page.locator(`table.data tr[data-run-id="${runId}"]`);
    await expect.poll(() => row.locator('[data-status]').textContent()).toBe('Succeeded with errors');
    expect(pageErrors).toEqual([]);
  });
});

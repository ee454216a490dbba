/**
 * `npm run screenshots`: starts the local stack, walks the admin console's main screens in headless Chromium
 * (Debian's, /usr/bin/chromium or CHROMIUM_PATH) and writes PNGs to screenshots/.
 *
 *   sign-in, Google consent, connection overview, mappings list, mapping editor with preview, sync progress,
 *   run history with a held run, records with removed records, re-authorization banner, field errors, and the
 *   overview and editor at a phone's width; device management: a Chromebook's page, the disable confirmation and
 *   result, the typed deprovision phrase, the action history, and those at a phone's width; login users per org
 *   unit: the role and org unit pickers with a conflict explained, the mappings list, the editor at a phone's width;
 *   records: a search with its total, a record's provenance and last changes, a sync started elsewhere with its
 *   percentage on the runs page and the overview, and the records screens at a phone's width; the notification
 *   settings with the delivery log, wide and at a phone's width.
 */
import { mkdirSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import { launchBrowser, sessionHeaders, signIn, viaGoogle } from '../test/console/support/browser.js';
import { startConsoleStack } from '../test/console/support/console-stack.js';
import { emitTenantEvent } from '../functions/src/notifications/index.js';

const OUT = fileURLToPath(new URL('../screenshots/', import.meta.url));
const log = (line: string) => console.log(`[screenshots] ${line}`);

// Small pages, so a sync shows progress page by page.
process.env.SYNC_PAGE_SIZE ??= '40';

const MAPPINGS = [
  {
    name: 'Staff and students',
    entity: 'users',
    identifier: 'primaryEmail',
    target: { kind: 'collection', objectId: 'directory-users' },
    fieldMap: [
      { source: 'primaryEmail', target: 'email' },
      { source: 'name.givenName', target: 'firstName' },
      { source: 'name.familyName', target: 'lastName' },
      { source: 'orgUnitPath', target: 'orgUnit' },
      { source: 'isAdmin', target: 'isAdmin' },
    ],
  },
  {
    name: 'IT technicians can sign in',
    entity: 'users',
    identifier: 'primaryEmail',
    target: { kind: 'loginUsers', role: 'technician' },
    fieldMap: [{ source: 'name.fullName', target: 'displayName' }],
    orgUnitScope: { paths: ['/Staff'], includeChildren: true },
  },
  {
    name: 'Mobile devices',
    entity: 'mobile',
    identifier: 'deviceId',
    target: { kind: 'collection', objectId: 'mobile-devices' },
    fieldMap: [
      { source: 'model', target: 'model' },
      { source: 'os', target: 'os' },
      { source: 'status', target: 'status' },
    ],
  },
];

async function main() {
  mkdirSync(OUT, { recursive: true });
  log('starting the local stack…');
  const cs = await startConsoleStack({ size: { users: 320, chromeos: 160, mobile: 40 } });
  const browser = await launchBrowser();
  try {
    const page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
    page.setDefaultTimeout(30_000);
    const h1 = () => page.getByRole('heading', { level: 1 });
    const shot = async (name: string, fullPage = false) => {
      await page.evaluate(() => document.fonts.ready);
      await page.screenshot({ path: `${OUT}${name}.png`, fullPage });
      log(`wrote screenshots/${name}.png`);
    };
    const open = async (route: string, title: string | RegExp) => {
      await page.goto('about:blank');
      await page.goto(`${cs.consoleUrl}/#/t/${cs.tenantId}${route}`);
      await waitFor(async () => (await h1().textContent())?.match(title) != null);
      await page.waitForLoadState('networkidle');
    };
    const api = async (path: string, init: RequestInit = {}) => {
      const session = await sessionHeaders(page, cs.consoleUrl);
      const res = await fetch(`${cs.consoleUrl}/api/tenants/${cs.tenantId}${path}`, {
        ...init,
        headers: {
          ...session,
          'content-type': 'application/json',
          ...(init.headers as Record<string, string> | undefined),
        },
      });
      if (!res.ok) throw new Error(`${path}: ${res.status} ${await res.text()}`);
      // eslint-disable-next-line @typescript-eslint/no-explicit-any -- API answers, read loosely by a script
      return res.json() as Promise<any>;
    };
    const syncAndWait = async (mappingId?: string, confirmRemovals = false) => {
      const { runs } = await api('/sync', {
        method: 'POST',
        body: JSON.stringify({ mappingId, confirmRemovals }),
      });
      for (const r of runs as Array<{ runId: string }>) {
        await waitFor(async () => {
          const run = await api(`/runs/${r.runId}`).catch(() => null);
          return run && run.status !== 'running';
        }, 60_000);
      }
    };

    // Sign-in and Google's consent screen.
    await page.goto(cs.consoleUrl);
    await h1().waitFor();
    await shot('01-sign-in');
    await signIn(page, cs.consoleUrl);
    for (const m of MAPPINGS) await api('/mappings', { method: 'POST', body: JSON.stringify(m) });
    await page.reload();
    await h1().waitFor();
    await page.getByRole('button', { name: 'Connect Google Workspace' }).first().click();
    await page.getByRole('button', { name: 'Allow' }).waitFor();
    await shot('02-google-consent');
    await viaGoogle(
      page,
      cs.consoleUrl,
      () => page.getByRole('button', { name: 'Allow' }).click(),
      'approve',
    );
    await page.locator('#notice').getByText('connected').waitFor();
    await waitFor(
      async () =>
        (await api('/runs?limit=10')).runs.filter((r: { status: string }) => r.status !== 'running').length >=
        MAPPINGS.length,
      60_000,
    );
    await open('', cs.tenantName);
    await shot('03-connection');

    // Mapping editor with a live preview, then the new mapping.
    await open('/mappings/new', 'New mapping');
    await page.getByLabel('Name', { exact: true }).fill('Student Chromebooks');
    await page.getByLabel(/Chrome OS devices/).check();
    await page.getByLabel('Removal safety threshold (%)').fill('5');
    await page.getByRole('button', { name: 'Preview' }).click();
    await page.locator('#preview tbody tr').first().waitFor();
    await shot('04-mapping-editor-preview', true);
    await page.getByRole('button', { name: 'Create mapping' }).click();
    await page.locator('#notice').getByText('was created').waitFor();

    // Sync now, with Google answering slowly enough to watch the pages come in.
    await cs.control.setFaults({ faults: [{ kind: 'latency', latencyMs: 700, rate: 1 }] });
    await page.getByRole('button', { name: 'Sync now' }).click();
    await waitFor(
      async () => Number((await page.locator('#sync-progress dd').first().textContent()) ?? 0) >= 2,
    );
    await shot('05-sync-progress');
    await cs.control.clearFaults();
    await page.locator('#sync-progress').getByText('Succeeded').waitFor({ timeout: 60_000 });
    const mappings = (await api('/mappings')).mappings as Array<{ id: string; name: string; entity: string }>;
    await open('/mappings', 'Mappings');
    await shot('06-mappings');

    // Devices disappear: more than the 5% threshold, so the sync holds the removals for review.
    const chromebooks = mappings.find((m) => m.entity === 'chromeos')!;
    const devices = (await api(`/objects/chromebooks/records?limit=12`)).records as Array<{
      sync: { sourceId: string };
    }>;
    for (const d of devices.slice(0, 12))
      await cs.control.removeChromeOsDevice(cs.workspace.domain, d.sync.sourceId);
    await syncAndWait(chromebooks.id);
    // Two people leave: under the threshold, removed right away.
    const people = mappings.find((m) => m.name === 'Staff and students')!;
    const users = (await api('/objects/directory-users/records?limit=6')).records as Array<{
      recordId: string;
    }>;
    const leavers = users
      .map((u) => decodeURIComponent(u.recordId))
      .filter((e) => e !== cs.workspace.adminEmail);
    for (const email of leavers.slice(0, 2)) await cs.control.deleteUser(cs.workspace.domain, email);
    await syncAndWait(people.id);
    await open('/runs', 'Sync runs');
    await shot('07-sync-history');

    await open('/records/directory-users?status=removed', 'Records');
    await shot('08-records-removed');

    // The held Chromebooks run, reviewed: search, keep one, see what the rest would be.
    const heldRun = (await api(`/runs?mappingId=${encodeURIComponent(chromebooks.id)}&limit=1`)).runs[0] as {
      runId: string;
    };
    const reviewRoute = `/runs/${encodeURIComponent(heldRun.runId)}/review`;
    await open(reviewRoute, 'Review removals');
    await page.locator('table.review tbody tr').first().waitFor();
    await page.locator('table.review tbody input[type="checkbox"]').first().check();
    await shot('22-removal-review', true);

    // A next-run preview of an identifier change, and the warning before saving it (cancelled).
    await open(`/mappings/${encodeURIComponent(people.id)}`, people.name);
    await page.locator('#identifier').selectOption('id');
    await page.getByRole('button', { name: 'Preview next run' }).click();
    await page.locator('#next-run-preview').waitFor();
    await shot('23-next-run-preview', true);
    await page.getByRole('button', { name: 'Save changes' }).click();
    await page.getByRole('dialog').waitFor();
    await shot('24-identifier-change-warning');
    await page.getByRole('dialog').getByRole('button', { name: 'Cancel' }).click();

    // Records: a search with its total, and one record's provenance and last changes (records.js).
    const [renamed] = (await api('/objects/directory-users/records?status=active&limit=1')).records as Array<{
      recordId: string;
      data: { email: string };
    }>;
    await cs.control.updateUser(cs.workspace.domain, renamed!.data.email, {
      name: { givenName: 'Alexandra' },
    });
    await syncAndWait(people.id);
    const searchRoute = `/records/directory-users?q=${encodeURIComponent(renamed!.data.email.slice(0, 2))}`;
    await open(searchRoute, 'Records');
    await shot('40-records-search');
    const renamedRoute = `/records/directory-users/${encodeURIComponent(renamed!.recordId)}`;
    await open(renamedRoute, decodeURIComponent(renamed!.recordId));
    await page.locator('#record-history table').waitFor();
    await shot('41-record-detail-history', true);

    // A sync started elsewhere (here: through the API), watched live with a percentage and the time left.
    await cs.control.setFaults({ faults: [{ kind: 'latency', latencyMs: 4000, rate: 1 }] });
    await open('/runs', 'Sync runs');
    await api('/sync', { method: 'POST', body: JSON.stringify({ mappingId: people.id }) });
    await page.locator('#sync-progress progress[value]').waitFor({ timeout: 30_000 });
    await waitFor(
      async () => !/estimating/.test((await page.locator('.progress-eta').first().textContent()) ?? ''),
    );
    await shot('42-sync-progress-percent');
    await open('', cs.tenantName);
    await page.locator('#syncing-now progress[value]').waitFor({ timeout: 30_000 });
    await shot('43-overview-syncing');
    await cs.control.clearFaults();
    await waitFor(async () => (await page.locator('#syncing-now').isHidden()) === true, 60_000);

    // Field errors from the API, next to their inputs.
    await open('/mappings/new', 'New mapping');
    await page.getByLabel('Name', { exact: true }).fill('Badges');
    await page.getByLabel('Object ID').fill('Badge Holders');
    await page.getByLabel('Field in your product, row 2').fill('first name');
    await page.getByRole('button', { name: 'Create mapping' }).click();
    await page.locator('.error-summary').waitFor();
    await shot('09-mapping-field-errors');

    // Login users per org unit: the product lists its roles, a second login-users mapping picks its org units
    // from the tree, a clash with the first is explained next to the org unit, then the deeper unit is chosen.
    await api('/login-roles', {
      method: 'PUT',
      body: JSON.stringify({
        roles: [
          { id: 'technician', label: 'Technician' },
          { id: 'G2', label: 'Teachers' },
        ],
      }),
    });
    await open('/mappings/new', 'New mapping');
    await page.getByLabel('Name', { exact: true }).fill('Teachers can sign in');
    await page.getByLabel(/Login users with a role/).check();
    await page.getByLabel('Role', { exact: true }).selectOption('G2');
    await page.getByLabel('Only sync some org units').check();
    await page.getByLabel('/Staff', { exact: true }).check();
    await page.getByRole('button', { name: 'Create mapping' }).click();
    await page.locator('.error-summary').getByText('conflicts with another mapping').waitFor();
    await shot('30-login-users-conflict', true);
    await page.getByLabel('/Staff', { exact: true }).uncheck();
    await page.getByLabel('/Staff/Teachers', { exact: true }).check();
    await page.getByRole('button', { name: 'Create mapping' }).click();
    await page.locator('#notice').getByText('was created').waitFor();
    const teacherLogins = page.url();
    await open('/mappings', 'Mappings');
    await shot('31-login-users-mappings');
    await page.setViewportSize({ width: 390, height: 844 });
    await page.goto('about:blank');
    await page.goto(teacherLogins);
    await waitFor(async () => (await h1().textContent()) === 'Teachers can sign in');
    await shot('32-narrow-login-users-editor', true);
    await page.setViewportSize({ width: 1280, height: 800 });

    // Device management on; a Chromebook's detail page, the disable confirmation, its result, the history.
    await open('', cs.tenantName);
    await viaGoogle(
      page,
      cs.consoleUrl,
      () => page.getByRole('button', { name: 'Turn on device management' }).click(),
      'approve',
    );
    await page.locator('#notice').getByText('Device management is on').waitFor();
    // The asset tag and notes are written back from the product: the device page shows the write-back form.
    const stored = await api(`/mappings/${encodeURIComponent(chromebooks.id)}`);
    await api(`/mappings/${encodeURIComponent(chromebooks.id)}`, {
      method: 'PUT',
      headers: { 'if-match': `"${stored.version}"` },
      body: JSON.stringify({
        name: stored.name,
        entity: stored.entity,
        identifier: stored.identifier,
        target: stored.target,
        orgUnitScope: stored.orgUnitScope,
        enabled: stored.enabled,
        removalThresholdPercent: stored.removalThresholdPercent,
        fieldMap: [
          ...stored.fieldMap.map((f: { source: string }) =>
            f.source === 'annotatedAssetId' ? { ...f, direction: 'toGoogle' } : f,
          ),
          { source: 'notes', target: 'notes', direction: 'toGoogle' },
        ],
      }),
    });
    await syncAndWait(chromebooks.id);
    const [book] = (await api('/objects/chromebooks/records?status=active&limit=1')).records as Array<{
      recordId: string;
    }>;
    const bookRoute = `/records/chromebooks/${encodeURIComponent(book!.recordId)}`;
    await open(bookRoute, decodeURIComponent(book!.recordId));
    await shot('14-device-detail', true);
    await page.getByRole('button', { name: 'Disable', exact: true }).click();
    await shot('15-device-confirm');
    await page.getByRole('dialog').getByRole('button', { name: 'Disable', exact: true }).click();
    await page.getByRole('dialog').getByText('succeeded').first().waitFor();
    await shot('16-device-result');
    await page.getByRole('dialog').getByRole('button', { name: 'Close' }).click();
    await open('/records/chromebooks', 'Records');
    const boxes = page.locator('tbody input[type="checkbox"]');
    for (let i = 0; i < 3; i++) await boxes.nth(i).check();
    await page.getByRole('button', { name: 'Deprovision', exact: true }).click();
    await page
      .getByRole('dialog')
      .getByLabel(/to confirm/)
      .fill('deprovision 3');
    await shot('17-devices-deprovision-phrase');
    await page.getByRole('dialog').getByRole('button', { name: 'Cancel' }).click();
    await open('/devices/actions', 'Device actions');
    await shot('18-device-actions');

    // A phone's width.
    await page.setViewportSize({ width: 390, height: 844 });
    await open('/mappings', 'Mappings');
    await shot('11-narrow-mappings');
    await open(`/mappings/${encodeURIComponent(chromebooks.id)}`, 'Student Chromebooks');
    await shot('12-narrow-editor');
    await open(bookRoute, decodeURIComponent(book!.recordId));
    await shot('19-narrow-device-detail', true);
    await open('/records/chromebooks', 'Records');
    await shot('20-narrow-device-records');
    await open('/devices/actions', 'Device actions');
    await shot('21-narrow-device-actions');
    await open(reviewRoute, 'Review removals');
    await page.locator('table.review tbody tr').first().waitFor();
    await shot('25-narrow-removal-review', true);

    await open(searchRoute, 'Records');
    await shot('44-narrow-records-search');
    await open(renamedRoute, decodeURIComponent(renamed!.recordId));
    await shot('45-narrow-record-detail', true);

    await open('/runs', 'Sync runs');
    await shot('50-narrow-runs');
    await open('/settings', 'Settings');
    await shot('51-narrow-settings', true);
    await page.setViewportSize({ width: 1280, height: 800 });

    // Tenant settings (owner): the schedule in the tenant's zone, the removal ceiling, people precedence.
    await api('/settings', {
      method: 'PUT',
      body: JSON.stringify({ schedule: { cron: '0 7,10,13,16 * * MON-FRI', timeZone: 'America/Chicago' } }),
    });
    await open('/settings', 'Settings');
    await shot('24-settings', true);
    await open('', cs.tenantName);
    await shot('25-overview-schedule-sync-now');

    // The team, with a colleague and a viewer added.
    for (const [email, role] of [
      [`it.helpdesk@${cs.workspace.domain}`, 'admin'],
      [`principal@${cs.workspace.domain}`, 'viewer'],
    ] as const) {
      await api(`/members/${encodeURIComponent(email)}`, { method: 'PUT', body: JSON.stringify({ role }) });
    }
    await open('/team', 'Team');
    await shot('13-team', true);

    // Notifications: a webhook (a local receiver that fails once, then accepts) and email to the owners; one
    // failed run delivered both ways, so the delivery log shows a retry.
    let hookCalls = 0;
    const hook = createServer((req, res) => {
      req.resume();
      req.on('end', () => res.writeHead(++hookCalls === 1 ? 500 : 204).end());
    });
    await new Promise<void>((resolve) => hook.listen(0, '127.0.0.1', resolve));
    try {
      await api('/notifications', {
        method: 'PUT',
        body: JSON.stringify({
          webhook: {
            url: `http://127.0.0.1:${(hook.address() as AddressInfo).port}/hooks/workspace-sync`,
            events: ['run.failed', 'run.held', 'run.succeeded_with_errors', 'tenant.needs_reauthorization'],
          },
          email: { recipients: null, events: ['run.failed', 'run.held', 'tenant.needs_reauthorization'] },
        }),
      });
      await emitTenantEvent(cs.stack.app.notifyDeps(), cs.tenantId, {
        type: 'run.failed',
        data: {
          runId: 'screenshot-run',
          mappingId: 'staff',
          mappingName: 'Staff and students',
          source: 'google',
          entity: 'users',
          status: 'failed',
          message: 'Google answered 403: Not Authorized to access this resource/api',
        },
      });
      await waitFor(async () => {
        const log = await api('/notifications/deliveries');
        return (
          (log.deliveries as Array<{ outcome: string }>).filter((d) => d.outcome === 'delivered').length >= 2
        );
      }, 60_000);
      await open('/notifications', 'Notifications');
      await shot('22-notifications', true);
      await page.setViewportSize({ width: 390, height: 844 });
      await open('/notifications', 'Notifications');
      await shot('23-narrow-notifications', true);
      await page.setViewportSize({ width: 1280, height: 800 });
    } finally {
      hook.close();
    }

    // Google revokes the grant: the test finds out and every page says to reconnect.
    await cs.control.revokeGrants(cs.workspace.domain);
    await open('', cs.tenantName);
    await page.getByRole('button', { name: 'Test connection' }).click();
    await page.getByRole('region', { name: 'Google Workspace needs re-authorization' }).waitFor();
    await shot('10-needs-reauthorization');
  } finally {
    await browser.close();
    await cs.stop();
  }
}

async function waitFor(check: () => Promise<unknown>, timeoutMs = 30_000) {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error('timed out waiting for the console');
    await new Promise((r) => setTimeout(r, 150));
  }
}

await main().then(
  () => process.exit(0),
  (err: unknown) => {
    console.error(err);
    process.exit(1);
  },
);

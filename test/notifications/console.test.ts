import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, Page } from 'playwright-core';
import { emitTenantEvent } from '../../functions/src/notifications/index.js';
import { emulatorEnv } from '../support/emulator-clients.js';
import {
  CHROMIUM_PATH,
  hasChromium,
  launchBrowser,
  signIn,
  watchPageErrors,
} from '../console/support/browser.js';
import { startConsoleStack, type ConsoleStack } from '../console/support/console-stack.js';
import { startWebhookReceiver, type WebhookReceiver } from './webhook-receiver.js';

/**
 * The notifications page in headless Chromium against the local stack, which runs the deliverNotifications
 * function behind a real Pub/Sub push subscription and its own SMTP server: an owner sets a webhook and email,
 * an event is delivered both ways, and the delivery log shows it.
 */
describe('admin console: notifications', () => {
  let cs: ConsoleStack;
  let browser: Browser;
  let page: Page;
  let pageErrors: string[];
  let receiver: WebhookReceiver;

  beforeAll(async () => {
    if (!hasChromium())
      throw new Error(`needs Chromium at ${CHROMIUM_PATH} (apt-get install chromium, or set CHROMIUM_PATH)`);
    [cs, browser, receiver] = await Promise.all([
      startConsoleStack({
        emulators: emulatorEnv(),
        size: { users: 6, chromeos: 2, mobile: 1 },
        autoApprove: true,
      }),
      launchBrowser(),
      startWebhookReceiver(),
    ]);
    page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
    page.setDefaultTimeout(20_000);
    pageErrors = watchPageErrors(page);
    await signIn(page, cs.consoleUrl);
  }, 180_000);

  afterAll(async () => {
    await browser?.close();
    await cs?.stop();
    await receiver?.close();
  });

  const open = async () => {
    await page.goto('about:blank');
    await page.goto(`${cs.consoleUrl}/#/t/${cs.tenantId}/notifications`);
    await expect.poll(() => page.getByRole('heading', { level: 1 }).textContent()).toBe('Notifications');
  };
  const webhookEvents = () => page.locator('fieldset[data-events=webhook]');
  const emailEvents = () => page.locator('fieldset[data-events=email]');

  it('an owner sets the webhook and email; a wrong URL is explained at the field', async () => {
    await open();
    await page.getByRole('link', { name: 'Notifications' }).waitFor();
    const url = page.getByLabel('Webhook URL');
    await url.fill('http://hooks.example.com/sync');
    await webhookEvents().getByLabel('A sync run failed').check();
    await page.getByRole('button', { name: 'Save notification settings' }).click();
    await expect.poll(() => page.locator('#notify-webhook-url-error').textContent()).toContain('https');
    expect(await url.getAttribute('aria-invalid')).toBe('true');

    await url.fill(receiver.url);
    await emailEvents().getByLabel('A sync run failed').check();
    await page.getByRole('button', { name: 'Save notification settings' }).click();
    await page.locator('#notice', { hasText: 'Notification settings saved.' }).waitFor();
    const secret = (await page.locator('#notify-new-secret code').textContent()) ?? '';
    expect(secret).toMatch(/^whsec_/);
    receiver.secret = secret;
    expect(await page.locator('#notify-secret-state').textContent()).toContain('Signing secret set');
    expect(await webhookEvents().getByLabel('A sync run failed').isChecked()).toBe(true);
    expect(pageErrors).toEqual([]);
  });

  it('an event reaches the webhook (signature verified) and the owners by email; the log shows both', async () => {
    const eventId = await emitTenantEvent(
      cs.stack.app.notifyDeps(),
      cs.tenantId,
      {
        type: 'run.failed',
        data: {
          runId: 'run-console',
          mappingId: 'staff',
          mappingName: 'Staff',
          source: 'google',
          entity: 'users',
          status: 'failed',
          message: 'Google answered 403',
        },
      },
      { dedupeKey: 'run-console' },
    );
    // Pub/Sub pushes it to the stack's deliverNotifications function: a bounded wait for the receiver.
    for (let i = 0; i < 100 && receiver.received.length === 0; i++)
      await new Promise((r) => setTimeout(r, 200));
    expect(receiver.received.map((r) => [r.id, r.verified])).toEqual([[eventId, true]]);
    const mail = await cs.stack.mailbox.waitFor((m) => m.text.includes('run-console'));
    expect(mail.envelopeTo).toEqual([cs.workspace.adminEmail]);

    // Both attempts are logged (a bounded wait for the email's, written after the SMTP server accepted it).
    let rows = 0;
    for (let i = 0; i < 20 && rows < 2; i++) {
      await open();
      rows = await page.getByRole('region', { name: 'Delivery attempts' }).locator('tbody tr').count();
    }
    const log = page.getByRole('region', { name: 'Delivery attempts' });
    expect(await log.locator('tbody tr').count()).toBe(2);
    expect(await log.locator('[data-status=delivered]').count()).toBe(2);
    expect(await log.textContent()).toContain('Webhook');
    expect(await log.textContent()).toContain('Email');
    expect(pageErrors).toEqual([]);
  });

  it("fits a phone's width: the settings and the log stay inside the page at 390 px", async () => {
    await page.setViewportSize({ width: 390, height: 844 });
    await open();
    const view = await page.evaluate(() => {
      const el = document.getElementById('view')!;
      return { scroll: el.scrollWidth, client: el.clientWidth };
    });
    expect(view.scroll).toBeLessThanOrEqual(view.client);
    expect(await page.getByRole('button', { name: 'Save notification settings' }).isVisible()).toBe(true);
    expect(pageErrors).toEqual([]);
  });
});

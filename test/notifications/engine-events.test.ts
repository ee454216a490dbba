import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { recordIdFor } from '../../functions/src/engine/record-id.js';
import { deliverNotification } from '../../functions/src/notifications/deliver.js';
import { deliverDepsFor } from '../../functions/src/notifications/handler.js';
import type { NotificationMessage } from '../../functions/src/notifications/publisher.js';
import { newWebhookSecret } from '../../functions/src/notifications/webhook-signature.js';
import {
  writeNotificationSettings,
  DEFAULT_NOTIFICATION_SETTINGS,
} from '../../functions/src/store/notification-settings.js';
import { paths } from '../../shared/firestore-paths.js';
import { runDoc, startSyncHarness, type SyncHarness } from '../support/sync-harness.js';
import { startWebhookReceiver, type WebhookReceiver } from './webhook-receiver.js';

/**
 * The engine's emit points, in real runs against the Workspace simulator and the Firestore emulator: a page's
 * record changes become one records.changed event, a held run and a re-authorization are announced, and each
 * reaches a receiver that verifies its signature.
 */
describe('notifications from sync runs', () => {
  let h: SyncHarness;
  let receiver: WebhookReceiver;
  const published: NotificationMessage[] = [];
  const PEOPLE = {
    name: 'People',
    entity: 'users',
    identifier: 'primaryEmail',
    target: { kind: 'collection', objectId: 'staff' },
    fieldMap: [
      { source: 'primaryEmail', target: 'email' },
      { source: 'name.givenName', target: 'firstName' },
      { source: 'orgUnitPath', target: 'orgUnit' },
    ],
    removalThresholdPercent: 10,
  };

  beforeAll(async () => {
    receiver = await startWebhookReceiver();
    h = await startSyncHarness({
      users: 30,
      chromeos: 0,
      mobile: 0,
      env: { SYNC_PAGE_SIZE: '20', NOTIFY_LOOPBACK_WEBHOOKS: 'true', NOTIFY_BACKOFF_INITIAL_MS: '5' },
    });
    await h.addMapping('people', PEOPLE);
    receiver.secret = newWebhookSecret();
    await h.app.secrets.putWebhookSecret(h.tenantId, receiver.secret);
    await writeNotificationSettings(
      h.db,
      h.tenantId,
      {
        ...DEFAULT_NOTIFICATION_SETTINGS,
        webhook: {
          url: receiver.url,
          events: ['run.failed', 'run.held', 'tenant.needs_reauthorization', 'records.changed'],
          secretSetAt: new Date().toISOString(),
        },
      },
      { by: 'test', at: new Date().toISOString(), before: DEFAULT_NOTIFICATION_SETTINGS, what: 'settings' },
    );
  }, 120_000);
  afterAll(async () => {
    await h?.close();
    await receiver?.close();
  });

  /** Runs a sync with notifications published into `published`, then delivers them as the function would. */
  const syncAndDeliver = async () => {
    const notify = {
      ...h.app.notifyDeps(),
      publishNotification: async (m: NotificationMessage) => void published.push(m),
    };
    const out = await h.sync('people', {}, { notify });
    for (const m of published.splice(0)) await deliverNotification(deliverDepsFor(h.app), m);
    const events = receiver.received.splice(0).map((r) => {
      expect(r.verified).toBe(true);
      return JSON.parse(r.body) as { type: string; data: Record<string, unknown> };
    });
    return { out, events };
  };

  it('a first sync announces its records page by page: one event per page, every created id once', async () => {
    const users = await h.ws.listUsers();
    const { out, events } = await syncAndDeliver();
    if (out.status !== 'completed') throw new Error(out.status);
    expect(events.every((e) => e.type === 'records.changed')).toBe(true);
    // At most one event per page (a partitioned pass lists several small pages), every created id exactly once.
    const pages = (await runDoc(h.db, h.tenantId, out.runId)).pages as number;
    expect(events.length).toBeGreaterThan(0);
    expect(events.length).toBeLessThanOrEqual(pages);
    const created = events.flatMap((e) => e.data.created as string[]).sort();
    expect(created).toEqual(users.map((u) => recordIdFor('primaryEmail', u.primaryEmail)).sort());
    const outbox = await h.db.collection(paths.notificationOutbox(h.tenantId)).get();
    expect(outbox.size).toBe(events.length);
  });

  it('an update names the record and the fields that changed; an unchanged re-sync sends nothing', async () => {
    const [u] = await h.ws.listUsers();
    await h.ws.updateUser(u!.primaryEmail, { name: { givenName: 'Renée' } });
    const { events } = await syncAndDeliver();
    expect(events.map((e) => [e.type, e.data.created, e.data.updated, e.data.removed])).toEqual([
      [
        'records.changed',
        [],
        [{ id: recordIdFor('primaryEmail', u!.primaryEmail), fields: ['firstName'] }],
        [],
      ],
    ]);
    expect((await syncAndDeliver()).events).toEqual([]);
  });

  it('a held run is announced with what it would remove', async () => {
    const users = await h.ws.listUsers();
    for (const v of users.slice(0, 6)) await h.ws.deleteUser(v.primaryEmail);
    const { out, events } = await syncAndDeliver();
    if (out.status !== 'completed') throw new Error(out.status);
    expect(out.held).toBe(true);
    expect(events.map((e) => e.type)).toEqual(['run.held']);
    expect(events[0]!.data).toMatchObject({ runId: out.runId, mappingId: 'people', status: 'held' });
    expect(String(events[0]!.data.message)).toContain('6 of 30 records would be removed');
  });

  it('a refused grant announces re-authorization and the failed run', async () => {
    await h.ws.revokeGrants();
    const { out, events } = await syncAndDeliver();
    expect(out.status).toBe('failed');
    expect(events.map((e) => e.type)).toEqual(['tenant.needs_reauthorization', 'run.failed']);
    expect(events[0]!.data).toMatchObject({ source: 'google' });
    expect(events[1]!.data).toMatchObject({ mappingId: 'people', status: 'failed' });
  });
});

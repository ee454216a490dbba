import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { startSmtpMailbox, type RunningSmtpMailbox } from '../../emulators/smtp-mailbox/index.js';
import { collectionSink } from '../../functions/src/engine/record-sink.js';
import { FirestoreMeter } from '../../functions/src/engine/firestore-meter.js';
import { emitTenantEvent } from '../../functions/src/notifications/index.js';
import { deliverDepsFor } from '../../functions/src/notifications/handler.js';
import { deliverNotification } from '../../functions/src/notifications/deliver.js';
import type { NotificationMessage } from '../../functions/src/notifications/publisher.js';
import type { Mapping } from '../../shared/mapping.js';
import { TOPICS } from '../../shared/topology.js';
import { paths } from '../../shared/firestore-paths.js';
import { emulatorEnv } from '../support/emulator-clients.js';
import { rejectedUnchanged, startApiHarness, type ApiHarness } from '../api/api-harness.js';
import { startWebhookReceiver, verifyStandardWebhook, type WebhookReceiver } from './webhook-receiver.js';

let h: ApiHarness;
let mailbox: RunningSmtpMailbox;
let receiver: WebhookReceiver;
let owner: string;
let admin: string;
let otherOwner: string;

const ADMIN = 'ada.admin@school.example';
const OTHER = 'olga.other@school.example';
const base = '/api/tenants/acme/notifications';
const MAX_ATTEMPTS = 3;

const runEvent = (runId: string) => ({
  type: 'run.failed' as const,
  data: {
    runId,
    mappingId: 'staff',
    mappingName: 'Staff',
    source: 'google',
    entity: 'users',
    status: 'failed' as const,
    message: 'Google answered 403',
    errors: ['Google answered 403'],
  },
});

beforeAll(async () => {
  mailbox = await startSmtpMailbox();
  receiver = await startWebhookReceiver();
  h = await startApiHarness({
    users: 5,
    appEnv: {
      SMTP_HOST: mailbox.host,
      SMTP_PORT: String(mailbox.port),
      SMTP_SECURITY: 'none',
      NOTIFY_LOOPBACK_WEBHOOKS: 'true',
      NOTIFY_MAX_ATTEMPTS: String(MAX_ATTEMPTS),
      NOTIFY_BACKOFF_INITIAL_MS: '10',
      NOTIFY_BACKOFF_MAX_MS: '40',
      NOTIFY_TIMEOUT_MS: '3000',
    },
  });
  const [topic] = await h.pubsub.createTopic(TOPICS.notifications);
  await topic.createSubscription('notify-pull');
  owner = await h.signIn(h.ws.adminEmail);
  admin = await h.signIn(await h.addUser(ADMIN));
  otherOwner = await h.signIn(await h.addUser(OTHER));
  await h.createTenant('acme', h.ws.adminEmail, 'Acme School');
  await h.addMember('acme', ADMIN, 'admin');
  await h.createTenant('other', OTHER, 'Other School');
});
afterAll(async () => {
  await h?.close();
  await receiver?.close();
  await mailbox?.close();
});
beforeEach(() => {
  receiver.received.length = 0;
  receiver.answers.length = 0;
});

/** The notification messages published since the last call, as the deliverNotifications function gets them. */
async function pullNotifications(): Promise<NotificationMessage[]> {
  const endpoint = `http://${emulatorEnv().PUBSUB_EMULATOR_HOST}/v1/projects/${h.projectId}/subscriptions/notify-pull`;
  const out: NotificationMessage[] = [];
  for (;;) {
    const res = await fetch(`${endpoint}:pull`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ maxMessages: 100, returnImmediately: true }),
    });
    const body = (await res.json()) as {
      receivedMessages?: Array<{ ackId: string; message: { data: string } }>;
    };
    const received = body.receivedMessages ?? [];
    if (received.length === 0) return out;
    for (const r of received) out.push(JSON.parse(Buffer.from(r.message.data, 'base64').toString('utf8')));
    await fetch(`${endpoint}:acknowledge`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ ackIds: received.map((r) => r.ackId) }),
    });
  }
}

/** Delivers what was published, as the function would (one message at a time). */
async function deliverPublished() {
  const messages = await pullNotifications();
  for (const m of messages) await deliverNotification(deliverDepsFor(h.app), m);
  return messages;
}

const settings = (
  webhookEvents: string[],
  emailEvents: string[] = [],
  recipients: string[] | null = null,
) => ({
  webhook: { url: receiver.url, events: webhookEvents },
  email: { recipients, events: emailEvents },
});

describe('notification settings', () => {
  it('refuses invalid settings with 400 naming the field, and changes nothing', async () => {
    const put = (body: unknown) => () => h.request('PUT', base, { token: owner, body });
    const plainHttp = await rejectedUnchanged(
      h,
      put({ ...settings([]), webhook: { url: 'http://hooks.example.com/x', events: [] } }),
      400,
      'invalid_argument',
    );
    expect(plainHttp.body.error.details[0]).toMatchObject({ path: 'webhook.url' });
    expect(plainHttp.body.error.details[0].message).toContain('https');
    await rejectedUnchanged(
      h,
      put({ ...settings([]), webhook: { url: 'https://10.0.0.8/hook', events: [] } }),
      400,
      'invalid_argument',
    );
    const badEvent = await rejectedUnchanged(h, put(settings(['run.exploded'])), 400, 'invalid_argument');
    expect(badEvent.body.error.details[0].path).toBe('webhook.events.0');
    const stranger = await rejectedUnchanged(
      h,
      put(settings([], ['run.failed'], ['someone@elsewhere.example'])),
      400,
      'invalid_argument',
    );
    expect(stranger.body.error.details[0]).toMatchObject({ path: 'email.recipients' });
    await rejectedUnchanged(h, put({ ...settings([]), extra: true }), 400, 'invalid_argument');
    await rejectedUnchanged(h, put(settings([], [], ['not-an-email'])), 400, 'invalid_argument');
    // Admins may read but not change them; another tenant's owner cannot even see them.
    await rejectedUnchanged(
      h,
      () => h.request('PUT', base, { token: admin, body: settings(['run.failed']) }),
      403,
      'permission_denied',
    );
    expect((await h.request('GET', base, { token: admin })).status).toBe(200);
    await rejectedUnchanged(h, () => h.request('GET', base, { token: otherOwner }), 404, 'not_found');
  });

  it('an owner sets a webhook and email; the signing secret is shown once and kept in Secret Manager', async () => {
    const before = await h.request('GET', base, { token: owner });
    expect(before.body.webhook).toEqual({ url: null, events: [], secretSet: false, secretSetAt: null });
    expect(before.body.emailEnabled).toBe(true);

    const res = await h.request('PUT', base, {
      token: owner,
      body: settings(['run.failed', 'records.changed', 'run.failed'], ['run.held'], null),
    });
    expect(res.status, res.text).toBe(200);
    expect(res.body.webhook).toMatchObject({ url: receiver.url, events: ['run.failed', 'records.changed'] });
    expect(res.body.webhookSecret).toMatch(/^whsec_[A-Za-z0-9+/]{43}=$/);
    expect(await h.secrets.getWebhookSecret('acme')).toBe(res.body.webhookSecret);
    receiver.secret = res.body.webhookSecret as string;

    const read = await h.request('GET', base, { token: owner });
    expect(read.body.webhook.secretSet).toBe(true);
    expect(read.text).not.toContain(receiver.secret);
    expect(read.body.updatedBy).toBe(h.ws.adminEmail);
    // A second save keeps the secret (no new one in the answer).
    const again = await h.request('PUT', base, {
      token: owner,
      body: settings(['run.failed', 'records.changed'], ['run.held'], null),
    });
    expect(again.body.webhookSecret).toBeUndefined();
    expect(await h.secrets.getWebhookSecret('acme')).toBe(receiver.secret);

    // Audited: who changed what, from what to what.
    const audit = await h.db.collection(paths.notificationAudit('acme')).get();
    expect(audit.size).toBe(2);
    expect(audit.docs.map((d) => d.get('by'))).toEqual([h.ws.adminEmail, h.ws.adminEmail]);
    // The secret is nowhere in Firestore or the logs.
    expect(JSON.stringify([...(await h.dump()).values()])).not.toContain(receiver.secret.slice(6));
    expect(h.logLines.join('\n')).not.toContain(receiver.secret.slice(6));
  });

  it('the host product may set them too, signed', async () => {
    const res = await h.hostRequest('PUT', base, settings(['run.failed', 'records.changed'], ['run.held']));
    expect(res.status, res.text).toBe(200);
    expect(res.body.updatedBy).toBe('host-product:host-1');
  });
});

describe('webhook delivery', () => {
  it('posts the event signed as Standard Webhooks, which the receiver verifies', async () => {
    const eventId = await emitTenantEvent(h.app.notifyDeps(), 'acme', runEvent('run-sig'), {
      dedupeKey: 'run-sig',
    });
    expect(eventId).toMatch(/^evt_/);
    const published = await deliverPublished();
    expect(published).toEqual([{ tenantId: 'acme', eventId }]);
    expect(receiver.received).toHaveLength(1);
    const got = receiver.received[0]!;
    expect(got.verified).toBe(true);
    expect(got.id).toBe(eventId);
    expect(JSON.parse(got.body)).toMatchObject({
      id: eventId,
      type: 'run.failed',
      tenantId: 'acme',
      data: { runId: 'run-sig', mappingName: 'Staff', message: 'Google answered 403' },
    });
    // The verification can fail: another body, another secret.
    const headers = { id: got.id, timestamp: got.timestamp, signature: got.signature };
    expect(verifyStandardWebhook(receiver.secret, headers, got.body.replace('403', '404'))).toBe(false);
    expect(verifyStandardWebhook('whsec_' + Buffer.alloc(32, 1).toString('base64'), headers, got.body)).toBe(
      false,
    );

    // Emitting the same run outcome again is the same event: nothing new is sent.
    expect(
      await emitTenantEvent(h.app.notifyDeps(), 'acme', runEvent('run-sig'), { dedupeKey: 'run-sig' }),
    ).toBe(eventId);
    await deliverPublished();
    expect(receiver.received).toHaveLength(1);
  });

  it('retries a receiver answering 500 with backoff, then succeeds; every attempt is in the delivery log', async () => {
    receiver.answers.push(500, 500);
    const eventId = await emitTenantEvent(h.app.notifyDeps(), 'acme', runEvent('run-retry'), {
      dedupeKey: 'run-retry',
    });
    await deliverPublished();
    expect(receiver.received.map((r) => r.answered)).toEqual([500, 500, 200]);
    // The same event id on every attempt (the host deduplicates by it), each attempt freshly signed.
    expect(new Set(receiver.received.map((r) => r.id))).toEqual(new Set([eventId]));
    expect(receiver.received.every((r) => r.verified)).toBe(true);

    const log = await h.request('GET', `${base}/deliveries?limit=10`, { token: admin });
    expect(log.status).toBe(200);
    const mine = (log.body.deliveries as Array<Record<string, unknown>>).filter((d) => d.eventId === eventId);
    expect(mine.map((d) => [d.attempt, d.outcome, d.statusCode])).toEqual([
      [3, 'delivered', 200],
      [2, 'failed', 500],
      [1, 'failed', 500],
    ]);
    const outbox = await h.db.doc(paths.notificationEvent('acme', eventId!)).get();
    expect(outbox.get('status')).toBe('done');
    expect(outbox.get('channels.webhook')).toMatchObject({ status: 'delivered', attempts: 3 });
  });

  it('gives up after NOTIFY_MAX_ATTEMPTS and records it in the delivery log', async () => {
    receiver.answers.push(...Array<number>(MAX_ATTEMPTS + 2).fill(503));
    const eventId = await emitTenantEvent(h.app.notifyDeps(), 'acme', runEvent('run-down'), {
      dedupeKey: 'run-down',
    });
    await deliverPublished();
    expect(receiver.received).toHaveLength(MAX_ATTEMPTS);
    const log = await h.request('GET', `${base}/deliveries?limit=${MAX_ATTEMPTS}`, { token: owner });
    expect(
      log.body.deliveries.map((d: Record<string, unknown>) => [d.eventId, d.attempt, d.outcome]),
    ).toEqual([
      [eventId, 3, 'gave_up'],
      [eventId, 2, 'failed'],
      [eventId, 1, 'failed'],
    ]);
    expect(log.body.deliveries[0].error).toBe('the receiver answered HTTP 503');
    // A redelivery of the message (Pub/Sub's at-least-once) sends nothing more: the event is settled.
    await deliverNotification(deliverDepsFor(h.app), { tenantId: 'acme', eventId: eventId! });
    expect(receiver.received).toHaveLength(MAX_ATTEMPTS);
    // Paging: the next page starts after the last one shown.
    const next = await h.request('GET', `${base}/deliveries?limit=1&after=${log.body.next}`, {
      token: owner,
    });
    expect(next.status).toBe(200);
    expect(next.body.deliveries[0].id).not.toBe(log.body.deliveries[2].id);
  });

  it('keeps tenants apart: the log of one tenant is not readable by another', async () => {
    await rejectedUnchanged(
      h,
      () => h.request('GET', `${base}/deliveries`, { token: otherOwner }),
      404,
      'not_found',
    );
    const theirs = await h.request('GET', '/api/tenants/other/notifications/deliveries', {
      token: otherOwner,
    });
    expect(theirs.status).toBe(200);
    expect(theirs.body.deliveries).toEqual([]);
    // An event no channel of the tenant wants (record changes are opt-in) writes nothing and sends nothing.
    const changes = {
      type: 'records.changed' as const,
      data: { runId: 'r', mappingId: 'm', objectId: 'o', created: ['a'], updated: [], removed: [] },
    };
    expect(await emitTenantEvent(h.app.notifyDeps(), 'other', changes)).toBeNull();
    expect(await pullNotifications()).toEqual([]);
    expect((await h.db.collection(paths.notificationOutbox('other')).get()).size).toBe(0);
    await rejectedUnchanged(
      h,
      () => h.request('GET', `${base}/deliveries?after=../../x`, { token: owner }),
      400,
      'invalid_argument',
    );
  });
});

describe('email', () => {
  it('mails the owners the events they chose, through the SMTP server', async () => {
    const eventId = await emitTenantEvent(
      h.app.notifyDeps(),
      'acme',
      {
        type: 'run.held',
        data: {
          runId: 'run-held',
          mappingId: 'staff',
          mappingName: 'Staff',
          source: 'google',
          entity: 'users',
          status: 'held',
          message: '40 of 100 records would be removed (over the 10% safety threshold); nothing was removed.',
        },
      },
      { dedupeKey: 'run-held' },
    );
    await deliverPublished();
    const mail = await mailbox.waitFor((m) => m.subject.includes('held for removal review'));
    expect(mail.envelopeTo).toEqual([h.ws.adminEmail]);
    expect(mail.subject).toBe('A sync run is held for removal review: Staff · Acme School');
    expect(mail.text).toContain('40 of 100 records would be removed');
    expect(mail.text).toContain('/#/t/acme/runs');
    // The webhook was not asked for run.held: only the email channel was used.
    expect(receiver.received).toEqual([]);
    const log = await h.request('GET', `${base}/deliveries?limit=1`, { token: owner });
    expect(log.body.deliveries[0]).toMatchObject({ eventId, channel: 'email', outcome: 'delivered' });
  });

  it('chosen recipients (team members) get it instead of the owners', async () => {
    const res = await h.request('PUT', base, {
      token: owner,
      body: settings(['run.failed', 'records.changed'], ['run.failed'], [ADMIN.toUpperCase()]),
    });
    expect(res.status, res.text).toBe(200);
    expect(res.body.email.recipients).toEqual([ADMIN]);
    await emitTenantEvent(h.app.notifyDeps(), 'acme', runEvent('run-mail'), { dedupeKey: 'run-mail' });
    await deliverPublished();
    const mail = await mailbox.waitFor((m) => m.text.includes('run-mail'));
    expect(mail.envelopeTo).toEqual([ADMIN]);
    expect(mail.subject).toBe('A sync run failed: Staff · Acme School');
  });
});

describe('by default', () => {
  it('emails the owners of a tenant that set nothing when the Google connection stops working', async () => {
    const t = 'untouched';
    const ivy = 'ivy.it@school.example';
    await h.control.addUser(h.ws.customerId, {
      primaryEmail: ivy,
      givenName: 'Ivy',
      familyName: 'Admin',
      isAdmin: true,
    });
    await h.createTenant(t, h.ws.adminEmail, 'Untouched School');
    const back = await h.connect(t, owner, ivy);
    expect(back.searchParams.get('connected'), back.toString()).toBe('1');
    const check = () => h.request('POST', `/api/tenants/${t}/connection/health-check`, { token: owner });
    expect((await check()).body.health.state).toBe('healthy');
    expect(await deliverPublished()).toEqual([]);

    // No longer an admin: the grant stands, the connection does not work.
    await h.control.updateUser(h.ws.customerId, ivy, { isAdmin: false });
    expect((await check()).body.health.state).toBe('failing');
    // Checked again while still failing: no second event.
    await check();
    const failing = await deliverPublished();
    expect(failing).toHaveLength(1);
    const mail = await mailbox.waitFor((m) => m.subject.includes('Untouched School'));
    expect(mail.envelopeTo).toEqual([h.ws.adminEmail]);
    expect(mail.subject).toBe('The Google Workspace connection stopped working · Untouched School');
    expect(mail.text).toContain('no longer a Google Workspace administrator');

    // Suspended: Google refuses the grant itself, and the owners are asked to reconnect.
    await h.control.updateUser(h.ws.customerId, ivy, { isAdmin: true });
    expect((await check()).body.health.state).toBe('healthy');
    await h.control.suspendUser(h.ws.customerId, ivy);
    await check();
    expect((await h.db.doc(paths.tenant(t)).get()).get('status')).toBe('needs_reauth');
    expect(await deliverPublished()).toHaveLength(1);
    const reauth = await mailbox.waitFor(
      (m) => m.subject.includes('Untouched School') && m.subject.includes('re-authorization'),
    );
    expect(reauth.text).toContain('Syncing is stopped until an admin reconnects');
    // The webhook channel stays off until a URL is set.
    expect(receiver.received).toEqual([]);
  });
});

describe('record changes from the record sink', () => {
  const mapping = {
    id: 'staff',
    name: 'Staff',
    source: 'google',
    entity: 'users',
    identifier: 'primaryEmail',
    target: { kind: 'collection', objectId: 'staff' },
    fieldMap: [],
    enabled: true,
  } as unknown as Mapping;
  const record = (id: string, data: Record<string, unknown>) => ({
    recordId: id,
    sourceId: `src-${id}`,
    identifierValue: `${id}@school.example`,
    status: 'active' as const,
    inactiveReason: null,
    data,
    hash: JSON.stringify(data),
  });
  const sink = (runId: string) =>
    collectionSink({
      db: h.db,
      clock: h.clock,
      log: h.app.log,
      tenantId: 'acme',
      mapping,
      runId,
      meter: new FirestoreMeter(),
      removalReason: 'not in Google Workspace',
      notify: h.app.notifyDeps(),
    });

  it('batches a page into one event: created ids, updated ids with the changed fields, removed with the reason', async () => {
    await sink('run-r1').write([record('a', { name: 'A', grade: 5 }), record('b', { name: 'B', grade: 6 })]);
    await sink('run-r2').write([record('a', { name: 'A', grade: 6 }), record('c', { name: 'C', grade: 1 })]);
    await sink('run-r3').markRemoved([{ recordId: 'b', reason: 'not in Google Workspace' }]);
    await deliverPublished();
    const bodies = receiver.received.filter((r) => r.verified).map((r) => JSON.parse(r.body));
    expect(bodies.map((b) => [b.type, b.data])).toEqual([
      [
        'records.changed',
        {
          runId: 'run-r1',
          mappingId: 'staff',
          objectId: 'staff',
          created: ['a', 'b'],
          updated: [],
          removed: [],
        },
      ],
      [
        'records.changed',
        {
          runId: 'run-r2',
          mappingId: 'staff',
          objectId: 'staff',
          created: ['c'],
          updated: [{ id: 'a', fields: ['grade'] }],
          removed: [],
        },
      ],
      [
        'records.changed',
        {
          runId: 'run-r3',
          mappingId: 'staff',
          objectId: 'staff',
          created: [],
          updated: [],
          removed: [{ id: 'b', reason: 'not in Google Workspace' }],
        },
      ],
    ]);
    // One outbox document per page, not per record.
    const outbox = await h.db
      .collection(paths.notificationOutbox('acme'))
      .where('type', '==', 'records.changed')
      .get();
    expect(outbox.size).toBe(3);
  });
});

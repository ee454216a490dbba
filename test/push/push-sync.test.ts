import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { reconcilePushChannels, hashToken } from '../../functions/src/push/channels.js';
import {
  startInProcessPushReceiver,
  type InProcessPushReceiver,
} from '../../functions/src/push/in-process.js';
import { pushDepsOf, type PushDeps } from '../../functions/src/push/push-deps.js';
import { listActiveChannels, readChannel, saveChannel } from '../../functions/src/store/push-channels.js';
import { revokeConnection } from '../../functions/src/sources/google/connection-revoke.js';
import type { Clock } from '../../functions/src/platform/clock.js';
import { paths } from '../../shared/firestore-paths.js';
import { usersMapping } from '../api/api-harness.js';
import { recordsOf, startSyncHarness, type SyncHarness } from '../support/sync-harness.js';

/**
 * Push end to end against the real emulators and the Workspace simulator over HTTP: a user changed in the
 * simulator is notified to the receiver, which records it and runs the engine (in-process instead of Pub/Sub),
 * whose push run is an incremental pass over the notified users.
 */

const STAFF = usersMapping({
  fieldMap: [
    { source: 'primaryEmail', target: 'email' },
    { source: 'name.familyName', target: 'familyName' },
    { source: 'orgUnitPath', target: 'orgUnit' },
  ],
});

/** The channels' clock; tests move it forward to reach a channel's renewal window. */
class OffsetClock implements Clock {
  offsetMs = 0;
  now(): number {
    return Date.now() + this.offsetMs;
  }
  sleep(ms: number): Promise<void> {
    return new Promise((r) => setTimeout(r, ms));
  }
}

let h: SyncHarness;
let rx: InProcessPushReceiver;
let push: PushDeps;
const clock = new OffsetClock();
/** A bound on waiting, not a latency assertion: the emulators share two cores with other test runs. */
const WAIT = { timeout: 20_000, interval: 50 };

async function staffRecord(email: string) {
  const records = await recordsOf(h.db, h.tenantId, 'staff');
  return [...records.values()].find((r) => r.data.email === email)?.data;
}

async function noticeCount(): Promise<number> {
  return (
    await h.db
      .collection(`${paths.tenant(h.tenantId)}/pushNotices`)
      .count()
      .get()
  ).data().count;
}

async function runsOf(trigger: string) {
  const snap = await h.db.collection(paths.runs(h.tenantId)).where('trigger', '==', trigger).get();
  return snap.docs.map((d) => d.data() as { status: string; pass: string; counts: Record<string, number> });
}

/** Waits until the simulator has delivered (or dropped) everything it queued and every run ended. */
async function settle() {
  // Bounded: a delivery that never ends fails the test here rather than hanging it.
  for (let i = 0; ; i++) {
    const { channels } = await h.ws.control.watchChannels();
    const live = channels.filter((c) => !c.stopped);
    if (live.every((c) => c.delivered + c.failed + c.dropped >= c.messageNumber)) break;
    if (i > 400) throw new Error('the simulator did not finish delivering');
    await new Promise((r) => setTimeout(r, 25));
  }
  await rx.idle();
}

function post(headers: Record<string, string>, body: unknown) {
  return fetch(rx.url, {
    method: 'POST',
    headers: { 'content-type': 'application/json; charset=UTF-8', ...headers },
    body: JSON.stringify(body),
  });
}

beforeAll(async () => {
  rx = await startInProcessPushReceiver({
    deps: () => ({ push, engine: h.deps() }),
  });
  h = await startSyncHarness({ users: 40, chromeos: 0, mobile: 0, env: { PUSH_RECEIVER_URL: rx.url } });
  push = { ...pushDepsOf(h.app), clock };
  await h.addMapping('staff', STAFF);
  const first = await h.sync('staff', { trigger: 'schedule' });
  expect(first.status).toBe('completed');
  const report = await reconcilePushChannels(push, h.tenantId);
  expect(report.started).toBe(5);
  await settle();
}, 60_000);

afterAll(async () => {
  await rx?.close();
  await h?.close();
});

describe('push notifications', () => {
  it('opens one channel per event type, answered by the simulator with a sync message each', async () => {
    const stored = await listActiveChannels(h.db, h.tenantId);
    expect(stored.map((c) => c.event).sort()).toEqual(['add', 'delete', 'makeAdmin', 'undelete', 'update']);
    const { channels } = await h.ws.control.watchChannels();
    expect(
      channels
        .filter((c) => !c.stopped)
        .map((c) => c.id)
        .sort(),
    ).toEqual(stored.map((c) => c.channelId).sort());
  });

  it('a change in Google reaches the record through notification, receiver and an incremental pass', async () => {
    const [user] = (await h.ws.listUsers()).filter((u) => u.primaryEmail !== h.ws.adminEmail);
    await h.ws.updateUser(user!.primaryEmail, { name: { familyName: 'Pushed' } });
    await expect.poll(async () => (await staffRecord(user!.primaryEmail))?.familyName, WAIT).toBe('Pushed');
    await settle();
    const runs = await runsOf('push');
    expect(runs.length).toBeGreaterThan(0);
    expect(runs.every((r) => r.pass === 'incremental' && r.status === 'succeeded')).toBe(true);
  });

  it('a deleted user is removed by the push pass', async () => {
    const users = (await h.ws.listUsers()).filter((u) => u.primaryEmail !== h.ws.adminEmail);
    const victim = users[1]!.primaryEmail;
    await h.ws.deleteUser(victim);
    await expect
      .poll(async () => ((await staffRecord(victim))?._sync as { status?: string } | undefined)?.status, WAIT)
      .toBe('removed');
    await settle();
  });

  it('a burst of changes all arrive, in fewer runs than notifications', async () => {
    const before = (await runsOf('push')).length;
    const users = (await h.ws.listUsers()).filter((u) => u.primaryEmail !== h.ws.adminEmail).slice(2, 22);
    await Promise.all(users.map((u) => h.ws.updateUser(u.primaryEmail, { name: { familyName: 'Burst' } })));
    for (const u of users) {
      await expect.poll(async () => (await staffRecord(u.primaryEmail))?.familyName, WAIT).toBe('Burst');
    }
    await settle();
    const runs = (await runsOf('push')).length - before;
    expect(runs).toBeGreaterThan(0);
    expect(runs).toBeLessThan(users.length);
  });

  it('a lost notification is repaired by the next scheduled (full) pass', async () => {
    const users = (await h.ws.listUsers()).filter((u) => u.primaryEmail !== h.ws.adminEmail);
    const target = users[25]!.primaryEmail;
    await h.ws.control.dropNotifications(1);
    await h.ws.updateUser(target, { name: { familyName: 'Lost' } });
    await settle();
    expect((await h.ws.control.watchChannels()).dropped).toBe(1);
    expect((await staffRecord(target))?.familyName).not.toBe('Lost');

    const out = await h.sync('staff', { trigger: 'schedule' });
    expect(out.status).toBe('completed');
    if (out.status !== 'completed') return;
    expect(out.pass).toBe('full');
    expect((await staffRecord(target))?.familyName).toBe('Lost');
  });

  it('refuses forged tokens, unknown and expired channels with 4xx, and changes nothing', async () => {
    const [channel] = (await listActiveChannels(h.db, h.tenantId)).filter((c) => c.event === 'update');
    const user = (await h.ws.listUsers()).find((u) => u.primaryEmail !== h.ws.adminEmail)!;
    const body = { kind: 'admin#directory#user', id: user.id, primaryEmail: user.primaryEmail, etag: '"x"' };
    const expiredToken = 'expired-channel-token';
    await saveChannel(h.db, {
      ...channel!,
      channelId: 'expired-channel',
      tokenHash: hashToken(expiredToken),
      expiration: Date.now() - 1000,
    });
    const notices = await noticeCount();
    const runs = (await runsOf('push')).length;
    const base = {
      'x-goog-resource-id': channel!.resourceId,
      'x-goog-resource-state': 'update',
      'x-goog-message-number': '99',
    };

    const forged = await post(
      { ...base, 'x-goog-channel-id': channel!.channelId, 'x-goog-channel-token': 'guess' },
      body,
    );
    expect(forged.status).toBe(401);
    expect(((await forged.json()) as { error: { code: string } }).error.code).toBe('unauthenticated');
    const unknown = await post(
      { ...base, 'x-goog-channel-id': 'no-such-channel', 'x-goog-channel-token': 'x' },
      body,
    );
    expect(unknown.status).toBe(401);
    const expired = await post(
      { ...base, 'x-goog-channel-id': 'expired-channel', 'x-goog-channel-token': expiredToken },
      body,
    );
    expect(expired.status).toBe(403);
    const noHeaders = await post({}, body);
    expect(noHeaders.status).toBe(400);

    await rx.idle();
    expect(await noticeCount()).toBe(notices);
    expect((await runsOf('push')).length).toBe(runs);
  });

  it('renews channels before they expire (new channel first, old one stopped at Google and here)', async () => {
    // The hand-made expired channel of the test above is not one the tick renews (it stops it).
    const old = (await listActiveChannels(h.db, h.tenantId)).filter((c) => c.expiration > Date.now());
    const earliest = Math.min(...old.map((c) => c.expiration));
    clock.offsetMs = earliest - h.config.push.renewBeforeMs - Date.now() + 60_000;
    const report = await reconcilePushChannels(push, h.tenantId);
    expect(report.renewed).toBe(5);
    clock.offsetMs = 0;
    const fresh = await listActiveChannels(h.db, h.tenantId);
    expect(fresh).toHaveLength(5);
    expect(fresh.some((c) => old.some((o) => o.channelId === c.channelId))).toBe(false);
    for (const o of old) {
      const stored = await readChannel(h.db, o.channelId);
      expect(stored?.status).toBe('stopped');
      expect(stored?.replacedBy).not.toBeNull();
    }
    const sim = await h.ws.control.watchChannels();
    for (const o of old) expect(sim.channels.find((c) => c.id === o.channelId)?.stopped).toBe(true);

    // The renewed channels deliver.
    await settle();
    const user = (await h.ws.listUsers()).filter((u) => u.primaryEmail !== h.ws.adminEmail)[30]!;
    await h.ws.updateUser(user.primaryEmail, { name: { familyName: 'Renewed' } });
    await expect.poll(async () => (await staffRecord(user.primaryEmail))?.familyName, WAIT).toBe('Renewed');
    await settle();
  });

  it('stops every channel when the Google connection is revoked', async () => {
    const active = await listActiveChannels(h.db, h.tenantId);
    expect(active).toHaveLength(5);
    const result = await revokeConnection(h.app, h.tenantId, 'test');
    expect(result.kind).toBe('revoked');
    expect(await listActiveChannels(h.db, h.tenantId)).toHaveLength(0);
    const sim = await h.ws.control.watchChannels();
    for (const c of active) expect(sim.channels.find((s) => s.id === c.channelId)?.stopped).toBe(true);
  });
});

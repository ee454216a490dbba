import { FieldValue, type Firestore } from '@google-cloud/firestore';
import type { PubSub } from '@google-cloud/pubsub';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import {
  fanOutTick,
  type FanOutDeps,
  type FanOutLimits,
  type FanOutResult,
} from '../../functions/src/engine/fan-out.js';
import type { SyncMessage } from '../../functions/src/engine/messages.js';
import { continuationCuts, splitKeyRange } from '../../functions/src/engine/tenant-key-space.js';
import type { Logger } from '../../functions/src/platform/log.js';
import { syncPublisher, tickPublisher } from '../../functions/src/platform/sync-publisher.js';
import { DEFAULT_ENTRA_PEOPLE_MAPPING } from '../../functions/src/sources/entra/entra-mapping.js';
import { paths } from '../../shared/firestore-paths.js';
import { mappingInputSchema } from '../../shared/mapping.js';
import { TOPICS } from '../../shared/topology.js';
import { clearFirestore, emulatorEnv, testPubSub } from '../support/emulator-clients.js';
import { startSyncHarness, type SyncHarness } from '../support/sync-harness.js';

const JOB = 'ws-sync-tick';

const usersMapping = (objectId: string) =>
  mappingInputSchema.parse({
    name: `Users ${objectId}`,
    entity: 'users',
    identifier: 'primaryEmail',
    target: { kind: 'collection', objectId },
    fieldMap: [{ source: 'primaryEmail', target: 'email' }],
  });

const ENTRA = {
  tenantId: 'entra-directory',
  clientId: 'client',
  graphBaseUrl: 'http://127.0.0.1:1',
  authorityBaseUrl: 'http://127.0.0.1:1',
  connectedAt: '2024-01-01T00:00:00.000Z',
  state: 'connected',
};

interface SeededTenant {
  id: string;
  googleActive: boolean;
  entraConnected: boolean;
}

/**
 * Tenants spread over the id line and bunched on a common prefix (so ranges are cut both ways), each with three
 * enabled Google mappings, one disabled, and the Entra mapping; Google and Entra connected in every combination.
 */
function tenantsToSeed(n: number): SeededTenant[] {
  const prefixes = ['0', 'a', 'k', 'school-district-', 'z'];
  return Array.from({ length: n }, (_, i) => ({
    id: `${prefixes[i % prefixes.length]}${String(i).padStart(3, '0')}`,
    googleActive: i % 3 !== 2,
    entraConnected: i % 4 === 1,
  }));
}

async function seed(db: Firestore, tenants: SeededTenant[]): Promise<void> {
  const writer = db.bulkWriter();
  const meta = { version: 1, createdAt: 'x', updatedAt: 'x', updatedBy: 'test' };
  for (const t of tenants) {
    void writer.set(db.doc(paths.tenant(t.id)), {
      name: t.id,
      status: t.googleActive ? 'active' : 'pending',
      statusReason: null,
      ...(t.entraConnected ? { entra: ENTRA } : {}),
    });
    for (const m of ['users-1', 'users-2', 'users-3'])
      void writer.set(db.doc(paths.mapping(t.id, m)), { ...usersMapping(m), ...meta });
    void writer.set(db.doc(paths.mapping(t.id, 'users-off')), {
      ...usersMapping('off'),
      enabled: false,
      ...meta,
    });
    void writer.set(db.doc(paths.mapping(t.id, 'entra-people')), {
      ...DEFAULT_ENTRA_PEOPLE_MAPPING,
      ...meta,
    });
  }
  await writer.close();
}

/** What the fan-out must publish: one sync per enabled mapping whose source the tenant has connected. */
function expectedSyncs(tenants: SeededTenant[]): string[] {
  return tenants
    .flatMap((t) => [
      ...(t.googleActive ? ['users-1', 'users-2', 'users-3'].map((m) => `${t.id}/${m}`) : []),
      ...(t.entraConnected ? [`${t.id}/entra-people`] : []),
    ])
    .sort();
}

interface Pulled {
  messageId: string;
  payload: unknown;
}

describe('tick fan-out over every tenant (Pub/Sub and Firestore emulators)', () => {
  let h: SyncHarness;
  let projectId: string;
  let pubsub: PubSub;
  const warnings: string[] = [];

  const subscriptionUrl = (name: string) =>
    `http://${emulatorEnv().PUBSUB_EMULATOR_HOST}/v1/projects/${projectId}/subscriptions/${name}`;
  const post = async (url: string, body: unknown): Promise<unknown> => {
    const res = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
    return res.json();
  };

  /** Pulls and acks up to `max` messages; waits for some unless `immediately` (then [] means none is left). */
  const pullOnce = async (subscription: string, max: number, immediately: boolean): Promise<Pulled[]> => {
    const body = (await post(`${subscriptionUrl(subscription)}:pull`, {
      maxMessages: max,
      returnImmediately: immediately,
    })) as { receivedMessages?: Array<{ ackId: string; message: { data: string; messageId: string } }> };
    const received = body.receivedMessages ?? [];
    if (received.length > 0)
      await post(`${subscriptionUrl(subscription)}:acknowledge`, { ackIds: received.map((r) => r.ackId) });
    return received.map((r) => ({
      messageId: r.message.messageId,
      payload: JSON.parse(Buffer.from(r.message.data, 'base64').toString('utf8')) as unknown,
    }));
  };

  /** Exactly `n` messages (the handlers' results say how many were published), then nothing more. */
  const pull = async (subscription: string, n: number): Promise<Pulled[]> => {
    const out: Pulled[] = [];
    while (out.length < n) out.push(...(await pullOnce(subscription, n - out.length, false)));
    expect(await pullOnce(subscription, 100, true)).toEqual([]);
    return out;
  };

  /** The deployed wiring: real batched publishers, shards back on the tick topic. */
  const deps = (limits: Partial<FanOutLimits> = {}): FanOutDeps => {
    const d = h.app.syncDeps();
    const log: Logger = {
      ...d.log,
      warn: (msg, fields) => void warnings.push(`${msg} ${JSON.stringify(fields ?? {})}`),
      child: () => log,
    };
    return {
      db: h.db,
      log,
      sources: d.sources,
      publishSync: syncPublisher(() => pubsub),
      publishShard: tickPublisher(() => pubsub),
      limits,
    };
  };

  /**
   * Delivers every shard on the tick topic to the handler, as the push subscription would, until none is left;
   * then pulls the sync messages all of them published.
   */
  const deliver = async (
    d: FanOutDeps,
    first: FanOutResult,
  ): Promise<{ shards: Pulled[]; syncs: SyncMessage[] }> => {
    const shards: Pulled[] = [];
    let pending = first.shards;
    let published = first.published;
    while (pending > 0) {
      for (const shard of await pullOnce('tick-pull', pending, false)) {
        const result = await fanOutTick(d, shard.payload, shard.messageId);
        pending += result.shards - 1;
        published += result.published;
        shards.push(shard);
      }
    }
    expect(await pullOnce('tick-pull', 100, true)).toEqual([]);
    const syncs = (await pull('sync-pull', published)).map((p) => p.payload as SyncMessage);
    return { shards, syncs };
  };

  beforeAll(async () => {
    h = await startSyncHarness({ users: 30, chromeos: 0, mobile: 0 });
    projectId = h.env.GOOGLE_CLOUD_PROJECT!;
    pubsub = testPubSub(projectId);
    const [tick] = await pubsub.createTopic(TOPICS.tick);
    await tick.createSubscription('tick-pull');
    const [sync] = await pubsub.createTopic(TOPICS.sync);
    await sync.createSubscription('sync-pull');
  });

  afterAll(async () => {
    await pubsub?.close();
    await h?.close();
  });

  beforeEach(async () => {
    await clearFirestore(projectId);
    warnings.length = 0;
  });

  it('publishes exactly one sync per enabled mapping of a connected source, through shards', async () => {
    const tenants = tenantsToSeed(40);
    await seed(h.db, tenants);
    // Small pages: the tick publishes its first page and cuts the rest of the id line into shards, and full
    // shards cut what is left of theirs.
    const d = deps({ shardMappings: 10 });

    const tick = await fanOutTick(d, { kind: 'tick', job: JOB }, 'tick-1');
    expect(tick.published).toBeGreaterThan(0);
    expect(tick.shards).toBeGreaterThan(1);
    const { shards, syncs } = await deliver(d, tick);
    // More shards ran than the tick published: full shards handed on the rest of their range.
    expect(shards.length).toBeGreaterThan(tick.shards);
    expect(shards.every((s) => (s.payload as { tickId: string }).tickId === 'tick-1')).toBe(true);

    expect(syncs.map((s) => `${s.tenantId}/${s.mappingId}`).sort()).toEqual(expectedSyncs(tenants));
    for (const s of syncs) {
      expect(s).toEqual({
        kind: 'sync',
        tenantId: s.tenantId,
        mappingId: s.mappingId,
        requestId: `${JOB}:tick-1:${s.mappingId}`,
        trigger: 'schedule',
      });
    }
  });

  it('runs the shards in the same invocation when no shard publisher is given', async () => {
    const tenants = tenantsToSeed(25);
    await seed(h.db, tenants);
    const published: SyncMessage[] = [];
    const { publishShard: _unused, ...d } = deps({ shardMappings: 10 });
    const result = await fanOutTick(
      { ...d, publishSync: async (m) => void published.push(m) },
      { kind: 'tick', job: JOB },
      'tick-inline',
    );
    expect(result.published).toBe(expectedSyncs(tenants).length);
    expect(published.map((s) => `${s.tenantId}/${s.mappingId}`).sort()).toEqual(expectedSyncs(tenants));
  });

  it('starts no second run when the tick or a shard is delivered again', async () => {
    await h.connectTenant(h.tenantId);
    await h.addMapping('people', {
      name: 'People',
      entity: 'users',
      identifier: 'primaryEmail',
      target: { kind: 'collection', objectId: 'staff' },
      fieldMap: [{ source: 'primaryEmail', target: 'email' }],
    });
    await seed(h.db, tenantsToSeed(10));
    const d = deps({ shardMappings: 4 });

    // Redelivery carries the tick's publish time, so it judges every schedule as the first delivery did.
    const tickAt = Date.now();
    const round = await deliver(d, await fanOutTick(d, { kind: 'tick', job: JOB }, 'tick-2', tickAt));
    const first = round.syncs;
    // Delivered again after the due tenants were recorded as run: nothing is due any more.
    const late = await fanOutTick(d, { kind: 'tick', job: JOB }, 'tick-2', tickAt);
    expect((await deliver(d, late)).syncs).toEqual([]);
    // Delivered again as if that record had been lost (the first delivery failed after publishing): the same
    // requests again, which the engine drops.
    const tenants = await h.db.collection('tenants').get();
    for (const t of tenants.docs) await t.ref.update({ schedule: FieldValue.delete() });
    const redelivered = (await deliver(d, await fanOutTick(d, { kind: 'tick', job: JOB }, 'tick-2', tickAt)))
      .syncs;
    for (const t of tenants.docs) await t.ref.update({ schedule: FieldValue.delete() });
    for (const shard of round.shards)
      redelivered.push(...(await deliver(d, await fanOutTick(d, shard.payload, shard.messageId))).syncs);

    const ids = (list: SyncMessage[]) => list.map((s) => `${s.tenantId}/${s.requestId}`).sort();
    expect(new Set(ids(redelivered))).toEqual(new Set(ids(first)));
    const ofTenant = (list: SyncMessage[]) => list.filter((s) => s.tenantId === h.tenantId);
    expect(ofTenant(first)).toHaveLength(1);
    expect(ofTenant(redelivered).length).toBeGreaterThanOrEqual(2);

    // The engine runs the first request and drops every copy of it.
    const outcome = await runUntilDone(ofTenant(first)[0]!);
    expect(outcome).toBe('completed');
    for (const copy of ofTenant(redelivered)) {
      expect(await h.sync('people', copy)).toEqual({
        status: 'dropped',
        reason: `request ${copy.requestId} was already handled`,
      });
    }
    const runs = await h.db.collection(paths.runs(h.tenantId)).where('mappingId', '==', 'people').get();
    expect(runs.size).toBe(1);
  });

  /** Runs a sync request and its continuations to the end. */
  const runUntilDone = async (msg: SyncMessage): Promise<string> => {
    h.published.length = 0;
    let outcome = await h.sync(msg.mappingId, msg);
    while (outcome.status === 'continued') {
      const next = h.published.shift()!;
      outcome = await h.sync(next.mappingId, next);
    }
    return outcome.status;
  };

  it('publishes one tenant’s syncs for a tick naming it, without shards', async () => {
    const tenants = tenantsToSeed(12);
    await seed(h.db, tenants);
    const one = tenants.find((t) => t.googleActive && t.entraConnected)!;
    const result = await fanOutTick(deps(), { kind: 'tick', job: JOB, tenantId: one.id }, 'tick-one');
    expect(result).toEqual({ published: 4, shards: 0 });
    const syncs = (await pull('sync-pull', 4)).map((p) => p.payload as SyncMessage);
    expect(await pullOnce('tick-pull', 100, true)).toEqual([]);
    expect(syncs.map((s) => [s.tenantId, s.mappingId, s.requestId, s.trigger]).sort()).toEqual(
      ['entra-people', 'users-1', 'users-2', 'users-3'].map((m) => [
        one.id,
        m,
        `${JOB}:tick-one:${m}`,
        'manual',
      ]),
    );
  });

  it('drops a malformed shard message with a warning', async () => {
    await seed(h.db, tenantsToSeed(5));
    for (const bad of [
      { kind: 'shard', job: JOB, tickId: 't', from: 'k', to: 'a' },
      { kind: 'shard', job: JOB, tickId: 't', from: '', after: 'users-1' },
      { kind: 'shard', job: JOB, tickId: 't', from: 'a/b' },
      { kind: 'shard', job: JOB, from: '' },
      { kind: 'shard', job: JOB, tickId: 't', from: '', extra: true },
    ]) {
      expect(await fanOutTick(deps(), bad, 'bad')).toEqual({ published: 0, shards: 0 });
    }
    expect(warnings).toHaveLength(5);
    expect(warnings.every((w) => w.startsWith('rejected malformed tick-topic message'))).toBe(true);
    expect(await pullOnce('sync-pull', 100, true)).toEqual([]);
    expect(await pullOnce('tick-pull', 100, true)).toEqual([]);
  });
});

describe('per-tenant schedules (Firestore and Pub/Sub emulators)', () => {
  let h: SyncHarness;
  const QUARTER = 15 * 60_000;

  beforeAll(async () => {
    h = await startSyncHarness({ users: 5, chromeos: 0, mobile: 0 });
  });
  afterAll(async () => {
    await h?.close();
  });
  beforeEach(async () => {
    await clearFirestore(h.env.GOOGLE_CLOUD_PROJECT!);
  });

  const seedScheduled = async (
    tenants: Array<{ id: string; cron: string; timeZone: string; last: string }>,
  ) => {
    for (const t of tenants) {
      await h.db.doc(paths.tenant(t.id)).set({
        name: t.id,
        status: 'active',
        statusReason: null,
        schedule: { cron: t.cron, timeZone: t.timeZone, lastScheduledAt: Date.parse(t.last) },
      });
      await h.db.doc(paths.mapping(t.id, 'users-1')).set({
        ...usersMapping('users-1'),
        version: 1,
        createdAt: 'x',
        updatedAt: 'x',
        updatedBy: 'test',
      });
    }
  };

  /** Every quarter-hour tick from `from` for `hours`, as Cloud Scheduler sends them; which tenants each started. */
  const tickThrough = async (from: string, hours: number, skip: readonly string[] = []) => {
    const started: string[] = [];
    const d = h.app.syncDeps();
    for (let at = Date.parse(from); at < Date.parse(from) + hours * 3600_000; at += QUARTER) {
      const iso = new Date(at).toISOString();
      if (skip.includes(iso)) continue;
      const published: SyncMessage[] = [];
      await fanOutTick(
        { db: h.db, log: d.log, sources: d.sources, publishSync: async (m) => void published.push(m) },
        { kind: 'tick', job: JOB },
        `tick-${at}`,
        at,
      );
      for (const m of published) {
        expect(m.requestId).toBe(`${JOB}:tick-${at}:${m.mappingId}`);
        started.push(`${m.tenantId}@${iso.slice(11, 16)}`);
      }
    }
    return started;
  };

  it('starts each tenant at its own times in its own zone, across a spring-forward day', async () => {
    // New York springs forward at 02:00 local (07:00 UTC) on 2026-03-08: 06:00 local is 11:00 UTC the day
    // before and 10:00 UTC that day. Berlin is still on winter time (UTC+1).
    await seedScheduled([
      { id: 'new-york', cron: '0 6,12,18 * * *', timeZone: 'America/New_York', last: '2026-03-07T23:00:00Z' },
      { id: 'berlin', cron: '0 6,12,18 * * *', timeZone: 'Europe/Berlin', last: '2026-03-07T17:00:00Z' },
      { id: 'utc', cron: '30 2 * * *', timeZone: 'Etc/UTC', last: '2026-03-07T02:30:00Z' },
    ]);
    const started = await tickThrough('2026-03-08T00:00:00Z', 24);
    expect(started).toEqual([
      'utc@02:30',
      'berlin@05:00',
      'new-york@10:00',
      'berlin@11:00',
      'new-york@16:00',
      'berlin@17:00',
      'new-york@22:00',
    ]);
    expect((await h.db.doc(paths.tenant('new-york')).get()).get('schedule.lastScheduledAt')).toBe(
      Date.parse('2026-03-08T22:00:00Z'),
    );
  });

  it('on a fall-back day runs a fixed time once, and a missed tick’s due time at the next tick', async () => {
    // New York falls back from 02:00 EDT to 01:00 EST on 2026-11-01 (06:00 UTC): 01:30 local happens twice.
    await seedScheduled([
      { id: 'night', cron: '30 1 * * *', timeZone: 'America/New_York', last: '2026-10-31T05:30:00Z' },
      { id: 'day', cron: '0 6,12,18 * * *', timeZone: 'America/New_York', last: '2026-10-31T22:00:00Z' },
    ]);
    // The 11:00 UTC tick (06:00 EST) is lost: its run starts at 11:15.
    const started = await tickThrough('2026-11-01T00:00:00Z', 24, ['2026-11-01T11:00:00.000Z']);
    expect(started).toEqual(['night@05:30', 'day@11:15', 'day@17:00', 'day@23:00']);
  });

  it('a tick redelivered with its publish time starts nothing twice; a schedule counts from its last run', async () => {
    await seedScheduled([
      { id: 'due', cron: '0 6,12,18 * * *', timeZone: 'Etc/UTC', last: '2026-05-04T05:00:00Z' },
      { id: 'not-due', cron: '0 6,12,18 * * *', timeZone: 'Etc/UTC', last: '2026-05-04T06:00:00Z' },
    ]);
    const d = h.app.syncDeps();
    const published: SyncMessage[] = [];
    const deps: FanOutDeps = {
      db: h.db,
      log: d.log,
      sources: d.sources,
      publishSync: async (m) => void published.push(m),
    };
    const at = Date.parse('2026-05-04T06:00:20Z');
    await fanOutTick(deps, { kind: 'tick', job: JOB }, 'tick-a', at);
    await fanOutTick(deps, { kind: 'tick', job: JOB }, 'tick-a', at);
    expect(published.map((m) => m.tenantId)).toEqual(['due']);
    expect((await h.db.doc(paths.tenant('due')).get()).get('schedule.lastScheduledAt')).toBe(at);
    // A tick for one tenant (sync now) is not a scheduled run: it neither needs nor moves the schedule.
    await fanOutTick(deps, { kind: 'tick', job: JOB, tenantId: 'not-due' }, 'now-1');
    expect(published.map((m) => `${m.tenantId}:${m.trigger}`)).toEqual(['due:schedule', 'not-due:manual']);
    expect((await h.db.doc(paths.tenant('not-due')).get()).get('schedule.lastScheduledAt')).toBe(
      Date.parse('2026-05-04T06:00:00Z'),
    );
  });
});

describe('tenant id ranges', () => {
  it('cuts the whole id line into increasing ranges', () => {
    const cuts = splitKeyRange('', undefined, 8);
    expect(cuts).toHaveLength(7);
    expect([...cuts].sort()).toEqual(cuts);
    expect(new Set(cuts).size).toBe(7);
  });

  it('cuts a narrow range only where a cut fits, never on or outside its ends', () => {
    expect(splitKeyRange('a', 'a0', 4).every((c) => c > 'a' && c < 'a0')).toBe(true);
    expect(splitKeyRange('abc', 'abc', 4)).toEqual([]);
  });

  it('continues past a full page in steps as wide as the page', () => {
    const cuts = continuationCuts('school-district-000', 'school-district-020', undefined, 4);
    expect(cuts).toHaveLength(3);
    expect([...cuts].sort()).toEqual(cuts);
    // Each step about as wide as the page (20 tenants): the third cut lies before tenant 100.
    expect(cuts.every((c) => c > 'school-district-020' && c < 'school-district-1')).toBe(true);
    // A page inside one tenant halves what is left.
    expect(continuationCuts('k1', 'k1', 'k9', 4)).toHaveLength(1);
  });
});

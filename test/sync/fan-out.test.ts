import type { Firestore } from '@google-cloud/firestore';
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

    const round = await deliver(d, await fanOutTick(d, { kind: 'tick', job: JOB }, 'tick-2'));
    const first = round.syncs;
    // The tick again (same message id, so its shards again), then every shard of the first round again.
    const redelivered = (await deliver(d, await fanOutTick(d, { kind: 'tick', job: JOB }, 'tick-2'))).syncs;
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

import { randomBytes } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { pathToFileURL } from 'node:url';
import { Firestore } from '@google-cloud/firestore';
import type { Message, PubSub, Topic } from '@google-cloud/pubsub';
import { startEmulators } from '../emulators/launcher/launcher.js';
import { createApp } from '../functions/src/app.js';
import { fanOutTick, type FanOutDeps, type FanOutLimits } from '../functions/src/engine/fan-out.js';
import type { SyncMessage } from '../functions/src/engine/messages.js';
import { tenantSyncs, type ConnectedSources } from '../functions/src/engine/tenant-syncs.js';
import { loadConfig } from '../functions/src/platform/config.js';
import { createLogger, setLogSink, type Logger } from '../functions/src/platform/log.js';
import { syncPublisher, tickPublisher } from '../functions/src/platform/sync-publisher.js';
import { paths } from '../shared/firestore-paths.js';
import { mappingInputSchema } from '../shared/mapping.js';
import { TOPICS } from '../shared/topology.js';

/**
 * Fan-out of a scheduled tick over N tenants x M mappings, end to end against the Pub/Sub and Firestore
 * emulators: `npx tsx bench/fan-out.ts` (BENCH_TENANTS, default 1,000; BENCH_MAPPINGS, default 4;
 * BENCH_SHARD_MAPPINGS overrides the page size to exercise shards; BENCH_BASELINE=0 skips the baseline). The clock
 * runs from the tick handler's call until the last sync message arrives on a subscription of the sync topic;
 * shards go through the tick topic and back into the handler, as the push subscription would deliver them.
 * The same run measures the fan-out this replaced (one query per tenant, each publish awaited in turn).
 */

/** N active tenants (`fan-00000` ...), each with M enabled Google mappings. */
export async function seedFanOutTenants(db: Firestore, tenants: number, mappings: number): Promise<void> {
  const writer = db.bulkWriter();
  const input = (i: number) =>
    mappingInputSchema.parse({
      name: `Users ${i}`,
      entity: 'users',
      identifier: 'primaryEmail',
      target: { kind: 'collection', objectId: `users-${i}` },
      fieldMap: [{ source: 'primaryEmail', target: 'email' }],
    });
  for (let t = 0; t < tenants; t++) {
    const tenantId = `fan-${String(t).padStart(5, '0')}`;
    void writer.set(db.doc(paths.tenant(tenantId)), { name: tenantId, status: 'active', statusReason: null });
    for (let m = 0; m < mappings; m++) {
      void writer.set(db.doc(paths.mapping(tenantId, `users-${m}`)), { ...input(m), version: 1 });
    }
  }
  await writer.close();
}

export interface FanOutMeasurement {
  seconds: number;
  syncMessages: number;
  shards: number;
  messagesPerSecond: number;
}

async function topicOf(pubsub: PubSub, name: string): Promise<Topic> {
  const topic = pubsub.topic(name);
  const [exists] = await topic.exists();
  if (!exists) await topic.create();
  return topic;
}

/**
 * Runs one scheduled tick with the deployed wiring (batched publishers, shards on the tick topic) and waits
 * for `expected` distinct sync messages. `run` replaces the handler call (the baseline uses it).
 */
export async function measureFanOut(opts: {
  pubsub: PubSub;
  db: Firestore;
  sources: ConnectedSources;
  log: Logger;
  expected: number;
  limits?: Partial<FanOutLimits>;
  run?: (deps: FanOutDeps, tickId: string) => Promise<unknown>;
}): Promise<FanOutMeasurement> {
  const run = randomBytes(3).toString('hex');
  const tickTopic = await topicOf(opts.pubsub, TOPICS.tick);
  const syncTopic = await topicOf(opts.pubsub, TOPICS.sync);
  const [tickSub] = await tickTopic.createSubscription(`bench-tick-${run}`);
  const [syncSub] = await syncTopic.createSubscription(`bench-sync-${run}`);
  const deps: FanOutDeps = {
    db: opts.db,
    log: opts.log,
    sources: opts.sources,
    publishSync: syncPublisher(() => opts.pubsub),
    publishShard: tickPublisher(() => opts.pubsub),
    ...(opts.limits ? { limits: opts.limits } : {}),
  };
  const seen = new Set<string>();
  let shards = 0;
  let failure: unknown = null;
  try {
    const done = new Promise<number>((resolve, reject) => {
      syncSub.on('message', (m: Message) => {
        m.ack();
        const msg = JSON.parse(m.data.toString('utf8')) as SyncMessage;
        seen.add(`${msg.tenantId}/${msg.requestId}`);
        if (seen.size === opts.expected) resolve(performance.now());
      });
      tickSub.on('message', (m: Message) => {
        shards++;
        fanOutTick(deps, JSON.parse(m.data.toString('utf8')) as unknown, m.id).then(
          () => m.ack(),
          (error: unknown) => ((failure = error), reject(error as Error)),
        );
      });
      syncSub.on('error', reject);
      tickSub.on('error', reject);
    });
    const tickId = `bench-${run}`;
    const start = performance.now();
    await (opts.run ?? ((d, id) => fanOutTick(d, { kind: 'tick', job: 'bench' }, id)))(deps, tickId);
    const end = await done;
    const seconds = (end - start) / 1000;
    return { seconds, syncMessages: seen.size, shards, messagesPerSecond: seen.size / seconds };
  } finally {
    await Promise.all([tickSub.close(), syncSub.close()]);
    await Promise.all([tickSub.delete(), syncSub.delete()]);
    if (failure) console.error(failure);
  }
}

/**
 * The fan-out before issue 15: every tenant page by page, one mapping query per tenant, each publish awaited
 * before the next, on a topic with the client's default batching.
 */
export async function sequentialFanOut(
  db: Firestore,
  pubsub: PubSub,
  sources: ConnectedSources,
  tickId: string,
): Promise<void> {
  const topic = pubsub.topic(TOPICS.sync);
  let query = db.collection('tenants').orderBy('__name__').limit(200);
  for (;;) {
    const snap = await query.get();
    for (const doc of snap.docs) {
      const tenant = { name: '', status: 'pending' as const, statusReason: null, ...doc.data() };
      for (const mapping of await tenantSyncs(db, doc.id, tenant, sources)) {
        await topic.publishMessage({
          json: {
            kind: 'sync',
            tenantId: doc.id,
            mappingId: mapping.id,
            requestId: `bench:${tickId}:${mapping.id}`,
            trigger: 'schedule',
          },
        });
      }
    }
    if (snap.size < 200) return;
    query = query.startAfter(snap.docs[snap.docs.length - 1]!);
  }
}

async function main(): Promise<void> {
  const tenants = Number(process.env.BENCH_TENANTS ?? 1000);
  const mappings = Number(process.env.BENCH_MAPPINGS ?? 4);
  process.env.METADATA_SERVER_DETECTION = 'none';
  setLogSink(() => {}, 'ERROR');
  const emulators = await startEmulators({ ports: 'auto' });
  Object.assign(process.env, emulators.env);
  const projectId = 'demo-fanout-bench';
  const db = new Firestore({ projectId });
  const app = createApp({ config: loadConfig({ GOOGLE_CLOUD_PROJECT: projectId }), db, log: createLogger() });
  const sources = app.syncDeps().sources;
  try {
    const t0 = performance.now();
    await seedFanOutTenants(db, tenants, mappings);
    console.log(
      `seeded ${tenants} tenants x ${mappings} mappings in ${((performance.now() - t0) / 1000).toFixed(1)} s`,
    );
    const expected = tenants * mappings;
    const shardMappings = process.env.BENCH_SHARD_MAPPINGS;
    const common = {
      pubsub: app.pubsub,
      db,
      sources,
      log: app.log,
      expected,
      ...(shardMappings ? { limits: { shardMappings: Number(shardMappings) } } : {}),
    };
    // Warm the emulators' JVMs (and the query path) so neither design pays for a cold start.
    await measureFanOut(common);
    const after = await measureFanOut(common);
    console.log(
      `fan-out (shards, batched publishes): ${after.syncMessages} sync messages in ${after.seconds.toFixed(2)} s ` +
        `(${after.messagesPerSecond.toFixed(0)} messages/s, ${after.shards} shards)`,
    );
    if (process.env.BENCH_BASELINE !== '0') {
      const before = await measureFanOut({
        ...common,
        run: (_deps, tickId) => sequentialFanOut(db, app.pubsub, sources, tickId),
      });
      console.log(
        `BASELINE (a query per tenant, publishes awaited in turn): ${before.syncMessages} sync messages in ` +
          `${before.seconds.toFixed(2)} s (${before.messagesPerSecond.toFixed(0)} messages/s)`,
      );
    }
  } finally {
    await db.terminate();
    await app.pubsub.close();
    await emulators.stop();
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) await main();

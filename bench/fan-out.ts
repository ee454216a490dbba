import { performance } from 'node:perf_hooks';
import type { CloudEvent } from '@google-cloud/functions-framework';
import type { Firestore } from '@google-cloud/firestore';
import type { App } from '../functions/src/app.js';
import { handleTickEvent } from '../functions/src/pubsub-handlers.js';
import { paths } from '../shared/firestore-paths.js';
import { mappingInputSchema } from '../shared/mapping.js';
import { TOPICS } from '../shared/topology.js';

export interface FanOutResult {
  tenants: number;
  mappingsPerTenant: number;
  /** Wall time of the tick handler, from the event to its return (every sync message published). */
  seconds: number;
  /** Sync messages a subscription on the sync topic received: should be tenants x mappings. */
  delivered: number;
  expected: number;
}

/** A realistic tenant: people, Chromebooks, phones and org units, each keyed by its first allowed identifier. */
const MAPPING_ENTITIES = [
  { entity: 'users', identifier: 'primaryEmail', field: 'primaryEmail' },
  { entity: 'chromeos', identifier: 'serialNumber', field: 'serialNumber' },
  { entity: 'mobile', identifier: 'deviceId', field: 'model' },
  { entity: 'orgunits', identifier: 'orgUnitId', field: 'orgUnitPath' },
] as const;

/**
 * Seeds `tenants` active Google tenants with `mappingsPerTenant` enabled mappings each in the app's Firestore
 * project (which must hold nothing else, since a tick fans out over every tenant), then runs the public tick
 * handler once against the real Pub/Sub emulator and counts what reached a subscription on the sync topic.
 */
export async function measureFanOut(
  app: App,
  db: Firestore,
  tenants: number,
  mappingsPerTenant = MAPPING_ENTITIES.length,
): Promise<FanOutResult> {
  const writer = db.bulkWriter();
  for (let t = 0; t < tenants; t++) {
    const tenantId = `fanout-${String(t).padStart(5, '0')}`;
    void writer.set(db.doc(paths.tenant(tenantId)), { name: `Fan-out ${t}`, status: 'active' });
    for (let m = 0; m < mappingsPerTenant; m++) {
      const { entity, identifier, field } = MAPPING_ENTITIES[m % MAPPING_ENTITIES.length]!;
      const mapping = mappingInputSchema.parse({
        name: `${entity} ${m}`,
        entity,
        identifier,
        target: { kind: 'collection', objectId: `${entity}-${m}` },
        fieldMap: [{ source: field, target: 'key' }],
      });
      void writer.set(db.doc(paths.mapping(tenantId, `m${m}`)), { ...mapping, version: 1 });
    }
  }
  await writer.close();

  const topic = app.pubsub.topic(TOPICS.sync);
  const [exists] = await topic.exists();
  if (!exists) await topic.create();
  const [subscription] = await topic.createSubscription(`bench-fanout-${Date.now()}`);
  let delivered = 0;
  subscription.on('message', (m: { ack(): void }) => {
    delivered++;
    m.ack();
  });

  const tickId = `bench-tick-${Date.now()}`;
  const event = {
    specversion: '1.0',
    id: tickId,
    source: `//pubsub.googleapis.com/projects/${app.config.projectId}/topics/${TOPICS.tick}`,
    type: 'google.cloud.pubsub.topic.v1.messagePublished',
    data: {
      message: {
        data: Buffer.from(JSON.stringify({ kind: 'tick', job: 'bench' })).toString('base64'),
        messageId: tickId,
      },
    },
  } as CloudEvent<unknown>;
  const start = performance.now();
  await handleTickEvent(app, event);
  const seconds = (performance.now() - start) / 1000;

  // Delivery is not part of the fan-out time; it only proves every message was published.
  const expected = tenants * mappingsPerTenant;
  const deadline = Date.now() + 120_000;
  while (delivered < expected && Date.now() < deadline) await new Promise((r) => setTimeout(r, 250));
  await subscription.close();
  await subscription.delete();
  return { tenants, mappingsPerTenant, seconds, delivered, expected };
}

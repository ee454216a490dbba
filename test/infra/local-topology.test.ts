import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { PubSub } from '@google-cloud/pubsub';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureLocalTopology } from '../../infra/local-topology.js';
import { SUBSCRIPTIONS, TOPICS } from '../../shared/topology.js';
import { testPubSub, uniqueProjectId } from '../support/emulator-clients.js';

interface Push {
  path: string;
  body: unknown;
}

/** Stands in for the local functions-framework servers; answers 204 like a successful function. */
async function startPushReceiver(): Promise<{ server: Server; url: string; next(): Promise<Push> }> {
  const received: Push[] = [];
  const waiters: Array<(p: Push) => void> = [];
  const server = createServer((req: IncomingMessage, res) => {
    let body = '';
    req.setEncoding('utf8');
    req.on('data', (chunk: string) => (body += chunk));
    req.on('end', () => {
      res.writeHead(204).end();
      const push = { path: req.url ?? '', body: JSON.parse(body) as unknown };
      const waiter = waiters.shift();
      if (waiter) waiter(push);
      else received.push(push);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    server,
    url: `http://127.0.0.1:${port}`,
    next: () => {
      const ready = received.shift();
      return ready ? Promise.resolve(ready) : new Promise((resolve) => waiters.push(resolve));
    },
  };
}

describe('ensureLocalTopology in the Pub/Sub emulator', () => {
  const projectId = uniqueProjectId('localtopo');
  let pubsub: PubSub;
  let receiver: Awaited<ReturnType<typeof startPushReceiver>>;

  beforeAll(async () => {
    pubsub = testPubSub(projectId);
    receiver = await startPushReceiver();
  });

  afterAll(async () => {
    await pubsub?.close();
    await new Promise((resolve) => receiver?.server.close(resolve));
  });

  it('creates the topology topics and push subscriptions, and is idempotent', async () => {
    const endpoints = {
      tick: `${receiver.url}/tick`,
      syncEntity: `${receiver.url}/syncEntity`,
      deadLetter: `${receiver.url}/deadLetter`,
      deliverNotifications: `${receiver.url}/deliverNotifications`,
    };
    const first = await ensureLocalTopology(pubsub, { pushEndpoints: endpoints });
    expect(first.changes.map((c) => c.op)).toEqual(
      Array(Object.keys(TOPICS).length + SUBSCRIPTIONS.length).fill('create'),
    );

    const [topics] = await pubsub.getTopics();
    expect(topics.map((t) => t.name.split('/').pop()).sort()).toEqual(Object.values(TOPICS).sort());
    const [tickSub] = await pubsub.subscription('ws-sync-tick-push').getMetadata();
    expect(tickSub.pushConfig?.pushEndpoint).toBe(endpoints.tick);
    expect(tickSub.pushConfig?.oidcToken ?? null).toBeNull();
    const [deadLetterSub] = await pubsub.subscription('ws-sync-dead-letter-push').getMetadata();
    expect(deadLetterSub.pushConfig?.pushEndpoint).toBe(endpoints.deadLetter);
    // A dead letter of the dead-letter subscription would forward into the topic it reads.
    expect(deadLetterSub.deadLetterPolicy ?? null).toBeNull();

    const second = await ensureLocalTopology(pubsub, { pushEndpoints: endpoints });
    expect(second.changes).toEqual([]);
  });

  it('pushes a message published on the tick topic to the tick endpoint as a Pub/Sub push body', async () => {
    const messageId = await pubsub
      .topic(TOPICS.tick)
      .publishMessage({ json: { kind: 'tick', job: 'ws-sync-tick' }, attributes: { source: 'test' } });

    const push = await receiver.next();
    expect(push.path).toBe('/tick');
    expect(push.body).toEqual({
      message: expect.objectContaining({
        data: Buffer.from(JSON.stringify({ kind: 'tick', job: 'ws-sync-tick' })).toString('base64'),
        attributes: { source: 'test' },
        messageId,
      }),
      subscription: `projects/${projectId}/subscriptions/ws-sync-tick-push`,
    });
  });

  it('moves push endpoints in place when the local functions move', async () => {
    const moved = {
      tick: `${receiver.url}/moved/tick`,
      syncEntity: `${receiver.url}/moved/syncEntity`,
      deadLetter: `${receiver.url}/moved/deadLetter`,
      deliverNotifications: `${receiver.url}/moved/deliverNotifications`,
    };
    const result = await ensureLocalTopology(pubsub, { pushEndpoints: moved });
    expect(
      result.changes.map((c) => (c.op === 'update' ? `${c.update.spec.name}:${c.update.mask.join()}` : c.op)),
    ).toEqual([
      'ws-sync-tick-push:push_config',
      'ws-sync-entity-push:push_config',
      'ws-sync-dead-letter-push:push_config',
      'ws-sync-notifications-push:push_config',
    ]);

    await pubsub.topic(TOPICS.sync).publishMessage({ json: { tenantId: 't1' } });
    const push = await receiver.next();
    expect(push.path).toBe('/moved/syncEntity');
  });
});

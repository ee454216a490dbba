import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { CloudEvent } from '@google-cloud/functions-framework';
import { getTestServer } from '@google-cloud/functions-framework/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MAX_STALLED_DELIVERIES, RetryLaterError } from '../../functions/src/engine/engine.js';
import type { SyncMessage } from '../../functions/src/engine/messages.js';
import { setApp } from '../../functions/src/app.js';
import { handleDeadLetterEvent } from '../../functions/src/pubsub-handlers.js';
import { ensureLocalTopology } from '../../infra/local-topology.js';
import type { Topology } from '../../infra/desired-state.js';
import { paths } from '../../shared/firestore-paths.js';
import { SUBSCRIPTIONS, TOPICS } from '../../shared/topology.js';
import { recordsOf, runDoc, startSyncHarness, type SyncHarness } from '../support/sync-harness.js';
import { killSyncWorkerMidRun } from './support/kill-sync-worker.js';

/**
 * The engine's delivery contract (issue "One sync engine", section 7), on the local stack: real Firestore and
 * Pub/Sub emulators, the Workspace simulator over HTTP, and, for a killed invocation, a process of its own.
 *  - no run stays `running`: a failure loop ends as failed, a dead-lettered request ends its run, a stuck lease
 *    is taken over by the tenant's next request;
 *  - a crashed invocation's run resumes within the lease plus 30 s;
 *  - a late redelivery starts nothing, and a run document is created once and never overwritten.
 */

const usersMapping = (objectId: string) => ({
  name: `People ${objectId}`,
  entity: 'users',
  identifier: 'id',
  target: { kind: 'collection', objectId },
  fieldMap: [
    { source: 'primaryEmail', target: 'email' },
    { source: 'name.givenName', target: 'firstName' },
  ],
});

class SimulatedCrash extends Error {}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function stateOf(h: SyncHarness, mappingId: string) {
  return (await h.db.doc(paths.syncState(h.tenantId, mappingId)).get()).data()!;
}

async function runsOf(h: SyncHarness, mappingId: string) {
  return (await h.db.collection(paths.runs(h.tenantId)).where('mappingId', '==', mappingId).get()).docs;
}

/** Crashes a run of `mappingId` after `pages` committed pages with a lease that runs out at once. */
async function crashRun(h: SyncHarness, mappingId: string, requestId: string, pages: number) {
  await expect(
    h.sync(
      mappingId,
      { requestId, trigger: 'schedule' },
      {
        config: { ...h.config.sync, leaseMs: 300 },
        afterPageCommitted: ({ pageNo }) => {
          if (pageNo === pages) throw new SimulatedCrash('process died');
        },
      },
    ),
  ).rejects.toBeInstanceOf(SimulatedCrash);
  const state = await stateOf(h, mappingId);
  expect(state).toMatchObject({ status: 'running', pageNo: pages });
  // Let the dead invocation's lease run out (a sleep for the lease, not a timed assertion).
  await sleep(Math.max(0, (state.leaseExpiresAt as number) - Date.now()) + 50);
  return state as { runId: string; pageNo: number; leaseExpiresAt: number };
}

describe('engine contract', () => {
  let h: SyncHarness;
  let total: number;
  beforeAll(async () => {
    h = await startSyncHarness({
      users: 120,
      chromeos: 30,
      mobile: 5,
      // Small pages make several checkpoints; two attempts per page make a failing listing fail fast.
      env: { SYNC_PAGE_SIZE: '20', SYNC_MAX_ATTEMPTS: '2' },
    });
    total = (await h.ws.listUsers()).length;
  });
  afterAll(async () => {
    setApp(null);
    await h?.close();
  });

  describe('no run ever stays running', () => {
    it('a request whose listing keeps failing ends its run as failed after a bounded number of deliveries', async () => {
      await h.addMapping('failing', usersMapping('failing'));
      await h.ws.setFaults({ rate: 1, kinds: ['500'], path: '/users' });
      const msg = { requestId: 'always-500', trigger: 'schedule' as const };
      try {
        // Pub/Sub redelivers a nacked message: the first delivery and MAX_STALLED_DELIVERIES take-overs fail...
        for (let delivery = 1; delivery <= MAX_STALLED_DELIVERIES + 1; delivery++) {
          await expect(h.sync('failing', msg), `delivery ${delivery}`).rejects.toBeInstanceOf(
            RetryLaterError,
          );
        }
        const runId = (await stateOf(h, 'failing')).runId as string;
        // ...and the next one gives up on the run instead of trying forever.
        const out = await h.sync('failing', msg);
        expect(out).toMatchObject({
          status: 'failed',
          runId,
          reason: expect.stringMatching(new RegExp(`gave up after ${MAX_STALLED_DELIVERIES} deliveries`)),
        });

        const run = await runDoc(h.db, h.tenantId, runId);
        expect(run.status).toBe('failed');
        expect(run.finishedAt).toEqual(expect.any(String));
        expect(run.invocations).toBe(MAX_STALLED_DELIVERIES + 1);
        const errors = run.errors.map((e) => e.message);
        expect(
          errors.some((m) => /Directory API 500/.test(m)),
          JSON.stringify(errors),
        ).toBe(true);
        expect(
          errors.some((m) => /gave up after/.test(m)),
          JSON.stringify(errors),
        ).toBe(true);
        expect(await stateOf(h, 'failing')).toMatchObject({ status: 'idle', leaseId: null });

        // A later redelivery of the given-up request starts nothing.
        expect(await h.sync('failing', msg)).toMatchObject({
          status: 'dropped',
          reason: expect.stringMatching(/already handled/),
        });
      } finally {
        await h.ws.clearFaults();
      }

      // The mapping is free: the next request starts a new run, which completes.
      const next = await h.sync('failing', { requestId: 'after-faults', trigger: 'schedule' });
      if (next.status !== 'completed') throw new Error(JSON.stringify(next));
      expect(next.counts.created).toBe(total);
      expect((await recordsOf(h.db, h.tenantId, 'failing')).size).toBe(total);
      expect(await runsOf(h, 'failing')).toHaveLength(2);
    });

    it("a stuck lease never blocks the tenant's later syncs: the next request takes the run over", async () => {
      await h.addMapping('takeover', usersMapping('takeover'));
      const crashed = await crashRun(h, 'takeover', 'tick-1', 2);

      // The next scheduled tick (a different request) arrives while nobody works the run.
      const pagesSeen: number[] = [];
      const out = await h.sync(
        'takeover',
        { requestId: 'tick-2', trigger: 'schedule' },
        { afterPageCommitted: ({ pageNo }) => void pagesSeen.push(pageNo) },
      );
      if (out.status !== 'completed') throw new Error(JSON.stringify(out));
      expect(out.runId).toBe(crashed.runId);
      expect(pagesSeen[0]).toBe(crashed.pageNo + 1);
      const run = await runDoc(h.db, h.tenantId, crashed.runId);
      expect(run).toMatchObject({ status: 'succeeded', invocations: 2, requestId: 'tick-1' });
      expect(run.counts.seen).toBe(total);
      expect((await recordsOf(h.db, h.tenantId, 'takeover')).size).toBe(total);

      // Both requests are handled now: late redeliveries of either start nothing.
      for (const requestId of ['tick-1', 'tick-2']) {
        expect(await h.sync('takeover', { requestId, trigger: 'schedule' })).toMatchObject({
          status: 'dropped',
        });
      }
      expect(await runsOf(h, 'takeover')).toHaveLength(1);
    });

    it('a request that took a run over resumes it when its own invocation dies in turn', async () => {
      await h.addMapping('takeover-2', usersMapping('takeover-2'));
      const crashed = await crashRun(h, 'takeover-2', 'tick-a', 1);
      // tick-b takes the run over, and dies after one more page.
      await expect(
        h.sync(
          'takeover-2',
          { requestId: 'tick-b', trigger: 'schedule' },
          {
            config: { ...h.config.sync, leaseMs: 300 },
            afterPageCommitted: () => {
              throw new SimulatedCrash('died again');
            },
          },
        ),
      ).rejects.toBeInstanceOf(SimulatedCrash);
      await sleep(400);
      // Pub/Sub redelivers tick-b: it is a delivery of the run it took over, not a request already handled.
      const out = await h.sync('takeover-2', { requestId: 'tick-b', trigger: 'schedule' });
      if (out.status !== 'completed') throw new Error(JSON.stringify(out));
      expect(out.runId).toBe(crashed.runId);
      expect((await runDoc(h.db, h.tenantId, crashed.runId)).invocations).toBe(3);
      expect((await recordsOf(h.db, h.tenantId, 'takeover-2')).size).toBe(total);
    });
  });

  it('a SIGKILLed invocation is resumed by the redelivered message within the lease plus 30 s', async () => {
    await h.addMapping('killed', usersMapping('killed'));
    const msg: SyncMessage = {
      kind: 'sync',
      tenantId: h.tenantId,
      mappingId: 'killed',
      requestId: 'sigkill-15s',
      trigger: 'manual',
    };
    await killSyncWorkerMidRun(h, msg, { leaseMs: 15_000, pages: 2 });
    const dead = await stateOf(h, 'killed');
    expect(dead).toMatchObject({ status: 'running', leaseId: expect.any(String) });

    // The engine's own record of when the lease changed hands: the first state with a new lease id.
    let deadExpiry = dead.leaseExpiresAt as number;
    let takenAt: string | null = null;
    const stop = h.db.doc(paths.syncState(h.tenantId, 'killed')).onSnapshot((snap) => {
      const s = snap.data();
      if (!s) return;
      if (s.leaseId === dead.leaseId) deadExpiry = s.leaseExpiresAt as number;
      else if (s.leaseId !== null && takenAt === null) takenAt = s.updatedAt as string;
    });
    try {
      // Redelivered right away, as Pub/Sub does after its minimum backoff: it waits the dead lease out.
      const pagesSeen: number[] = [];
      const out = await h.sync(
        'killed',
        { requestId: msg.requestId },
        { afterPageCommitted: ({ pageNo }) => void pagesSeen.push(pageNo) },
      );
      if (out.status !== 'completed') throw new Error(JSON.stringify(out));
      expect(pagesSeen[0]).toBe((dead.pageNo as number) + 1);
      const run = await runDoc(h.db, h.tenantId, out.runId);
      expect(run.invocations).toBe(2);
      expect(run.counts.seen).toBe(total);
      expect((await recordsOf(h.db, h.tenantId, 'killed')).size).toBe(total);
    } finally {
      stop();
    }
    expect(takenAt).not.toBeNull();
    const taken = Date.parse(takenAt!);
    // Not before the dead lease ran out (its holder might have been alive), and no later than 30 s after.
    expect(taken).toBeGreaterThanOrEqual(deadExpiry);
    expect(taken).toBeLessThanOrEqual(deadExpiry + 30_000);
  }, 90_000);

  describe('late redeliveries and run documents', () => {
    const DEVICES = {
      name: 'Chromebooks',
      entity: 'chromeos',
      identifier: 'deviceId',
      target: { kind: 'collection', objectId: 'chromebooks' },
      fieldMap: [{ source: 'serialNumber', target: 'serial' }],
    };

    it('drops a late redelivery of a completed request even after later runs, leaving its run untouched', async () => {
      await h.addMapping('devices', DEVICES);
      const a = await h.sync('devices', { requestId: 'req-A' });
      if (a.status !== 'completed') throw new Error(JSON.stringify(a));
      const runA = await h.db.doc(paths.run(h.tenantId, a.runId)).get();
      for (const requestId of ['req-B', 'req-C']) {
        expect((await h.sync('devices', { requestId })).status).toBe('completed');
      }

      const late = await h.sync('devices', { requestId: 'req-A' });
      expect(late).toMatchObject({ status: 'dropped', reason: expect.stringMatching(/already handled/) });
      expect(await runsOf(h, 'devices')).toHaveLength(3);
      const after = await h.db.doc(paths.run(h.tenantId, a.runId)).get();
      expect(after.updateTime!.isEqual(runA.updateTime!)).toBe(true);
      expect(after.data()).toEqual(runA.data());
    });

    it('never overwrites a run whose id a second request planned: that request is dropped, not retried', async () => {
      const b = (await runsOf(h, 'devices')).find((d) => d.get('requestId') === 'req-B')!;
      const stateBefore = await h.db.doc(paths.syncState(h.tenantId, 'devices')).get();
      for (let delivery = 1; delivery <= 2; delivery++) {
        const out = await h.sync('devices', { requestId: 'req-D', plannedRunId: b.id });
        expect(out).toMatchObject({
          status: 'dropped',
          reason: expect.stringMatching(new RegExp(`run ${b.id} already exists`)),
        });
      }
      const after = await h.db.doc(paths.run(h.tenantId, b.id)).get();
      expect(after.updateTime!.isEqual(b.updateTime)).toBe(true);
      const stateAfter = await h.db.doc(paths.syncState(h.tenantId, 'devices')).get();
      expect(stateAfter.updateTime!.isEqual(stateBefore.updateTime!)).toBe(true);
      expect(await runsOf(h, 'devices')).toHaveLength(3);
      // The mapping is not blocked by it.
      expect((await h.sync('devices', { requestId: 'req-E' })).status).toBe('completed');
    });
  });

  describe('dead-letter consumer', () => {
    let deadLetterServer: Server;
    let failingServer: Server;
    let failedPushes = 0;
    let projectId: string;

    beforeAll(async () => {
      projectId = h.env.GOOGLE_CLOUD_PROJECT!;
      // The functions as deployed, around this harness's app: the deadLetter target is what Pub/Sub pushes to.
      setApp(h.app);
      await import('../../functions/src/index.js');
      deadLetterServer = getTestServer('deadLetter');
      // Stands in for a sync function that answers every push with an error, so Pub/Sub gives up on it.
      failingServer = createServer((req, res) => {
        req.resume();
        req.on('end', () => {
          failedPushes++;
          res.writeHead(500).end();
        });
      });
      const listen = (s: Server) =>
        new Promise<number>((resolve) =>
          s.listen(0, '127.0.0.1', () => resolve((s.address() as AddressInfo).port)),
        );
      const deadLetterPort = await listen(deadLetterServer);
      const failingPort = await listen(failingServer);
      const syncSub = SUBSCRIPTIONS.find((s) => s.topic === TOPICS.sync)!;
      const deadLetterSub = SUBSCRIPTIONS.find((s) => s.topic === TOPICS.deadLetter)!;
      // The real dead-letter subscription; the sync subscription with Pub/Sub's smallest attempt count and
      // a short backoff, so the emulator gives up within seconds instead of an hour.
      const topology: Topology = {
        topics: [TOPICS.sync, TOPICS.deadLetter],
        subscriptions: [
          {
            ...syncSub,
            retry: { minimumBackoffSeconds: 0, maximumBackoffSeconds: 1 },
            deadLetter: { topic: TOPICS.deadLetter, maxDeliveryAttempts: 5 },
          },
          deadLetterSub,
        ],
        jobs: [],
      };
      await ensureLocalTopology(h.app.pubsub, {
        pushEndpoints: {
          tick: `http://127.0.0.1:${failingPort}/tick`,
          syncEntity: `http://127.0.0.1:${failingPort}/projects/${projectId}/topics/${TOPICS.sync}`,
          deadLetter: `http://127.0.0.1:${deadLetterPort}/projects/${projectId}/topics/${TOPICS.deadLetter}`,
          deliverNotifications: `http://127.0.0.1:${failingPort}/deliverNotifications`,
        },
        topology,
      });
    });
    afterAll(async () => {
      for (const s of [deadLetterServer, failingServer]) {
        s?.closeAllConnections();
        await new Promise((r) => s?.close(r));
      }
    });

    async function deadLetterWhere(field: string, value: string, timeoutMs = 45_000) {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const snap = await h.db.collection(paths.deadLetters()).where(field, '==', value).get();
        if (!snap.empty) return snap.docs;
        if (Date.now() > deadline) throw new Error(`no dead letter with ${field} = ${value}`);
        await sleep(250);
      }
    }

    it('ends the run of a request Pub/Sub gave up on, through the emulator, and frees the mapping', async () => {
      await h.addMapping('dead', usersMapping('dead'));
      const crashed = await crashRun(h, 'dead', 'req-dead', 2);
      const msg: SyncMessage = {
        kind: 'sync',
        tenantId: h.tenantId,
        mappingId: 'dead',
        requestId: 'req-dead',
        trigger: 'schedule',
      };
      await h.app.pubsub.topic(TOPICS.sync).publishMessage({ json: msg });

      const [doc, ...more] = await deadLetterWhere('requestId', 'req-dead');
      expect(more).toHaveLength(0);
      expect(failedPushes).toBeGreaterThanOrEqual(5);
      const letter = doc!.data();
      expect(letter).toMatchObject({
        topic: TOPICS.deadLetter,
        sourceSubscription: 'ws-sync-entity-push',
        deliveryAttempts: 5,
        kind: 'sync',
        tenantId: h.tenantId,
        mappingId: 'dead',
        runId: crashed.runId,
        action: 'ended-run',
      });
      expect(JSON.parse(letter.payload as string)).toEqual(msg);
      expect(doc!.id).toBe(letter.messageId);
      const ttl = (letter.expireAt as { toMillis(): number }).toMillis() - Date.parse(letter.receivedAt);
      expect(ttl).toBe(30 * 24 * 3600 * 1000);

      const run = await runDoc(h.db, h.tenantId, crashed.runId);
      expect(run.status).toBe('failed');
      expect(run.errors.map((e) => e.message)).toContain(
        'Pub/Sub gave up delivering this request after 5 attempts',
      );
      expect(await stateOf(h, 'dead')).toMatchObject({ status: 'idle', leaseId: null });
      const next = await h.sync('dead', { requestId: 'after-dead-letter', trigger: 'schedule' });
      expect(next.status).toBe('completed');
      expect((await recordsOf(h.db, h.tenantId, 'dead')).size).toBe(total);
    });

    it('records and acks a letter that is not a message of ours', async () => {
      const messageId = await h.app.pubsub
        .topic(TOPICS.deadLetter)
        .publishMessage({ data: Buffer.from('not json at all') });
      const [doc] = await deadLetterWhere('messageId', messageId);
      expect(doc!.data()).toMatchObject({ kind: 'unknown', action: 'malformed', payload: null });
    });

    const pushEvent = (id: string, message: Record<string, unknown>): CloudEvent<unknown> => ({
      specversion: '1.0',
      id,
      type: 'google.cloud.pubsub.topic.v1.messagePublished',
      source: `//pubsub.googleapis.com/projects/${projectId}/topics/${TOPICS.deadLetter}`,
      data: { message: { messageId: id, ...message } },
    });
    const base64 = (v: unknown) => Buffer.from(JSON.stringify(v)).toString('base64');

    it('never throws for what a letter holds: no data, a push body without a message, a tick', async () => {
      await expect(handleDeadLetterEvent(h.app, pushEvent('dl-empty', {}))).resolves.toBeUndefined();
      await expect(
        handleDeadLetterEvent(h.app, { ...pushEvent('dl-nobody', {}), data: 'garbage' }),
      ).resolves.toBeUndefined();
      await handleDeadLetterEvent(
        h.app,
        pushEvent('dl-tick', {
          data: base64({ kind: 'tick', job: 'ws-sync-tick' }),
          attributes: {
            CloudPubSubDeadLetterSourceDeliveryCount: '5',
            CloudPubSubDeadLetterSourceSubscription: 'ws-sync-tick-push',
          },
        }),
      );
      const read = async (id: string) => (await h.db.doc(`${paths.deadLetters()}/${id}`).get()).data();
      expect(await read('dl-empty')).toMatchObject({
        action: 'malformed',
        payload: null,
        topic: TOPICS.deadLetter,
      });
      expect(await read('dl-nobody')).toMatchObject({ action: 'malformed', deliveryAttempts: null });
      expect(await read('dl-tick')).toMatchObject({
        kind: 'tick',
        action: 'not-a-sync-message',
        deliveryAttempts: 5,
        sourceSubscription: 'ws-sync-tick-push',
      });
    });

    it('leaves a run whose holder is alive to its holder', async () => {
      await h.addMapping('held', usersMapping('held'));
      let release!: () => void;
      const gate = new Promise<void>((r) => (release = r));
      let firstPage!: () => void;
      const atFirstPage = new Promise<void>((r) => (firstPage = r));
      const running = h.sync(
        'held',
        { requestId: 'req-held' },
        {
          afterPageCommitted: () => {
            firstPage();
            return gate;
          },
        },
      );
      await atFirstPage;
      const msg = {
        kind: 'sync',
        tenantId: h.tenantId,
        mappingId: 'held',
        requestId: 'req-held',
        trigger: 'manual',
      };
      await handleDeadLetterEvent(
        h.app,
        pushEvent('dl-held', {
          data: base64(msg),
          attributes: { CloudPubSubDeadLetterSourceDeliveryCount: '10' },
        }),
      );
      const letter = (await h.db.doc(`${paths.deadLetters()}/dl-held`).get()).data()!;
      expect(letter).toMatchObject({ action: 'run-held', kind: 'sync' });
      expect(await stateOf(h, 'held')).toMatchObject({ status: 'running' });
      release();
      const out = await running;
      expect(out.status).toBe('completed');
      // A dead letter for a run that already ended changes nothing.
      await handleDeadLetterEvent(h.app, pushEvent('dl-late', { data: base64(msg) }));
      expect((await h.db.doc(`${paths.deadLetters()}/dl-late`).get()).data()).toMatchObject({
        action: 'run-not-running',
      });
      if (out.status === 'completed') {
        expect((await runDoc(h.db, h.tenantId, out.runId)).status).toBe('succeeded');
      }
    });
  });
});

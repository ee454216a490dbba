import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { paths } from '../../shared/firestore-paths.js';
import { runSync } from '../../functions/src/engine/engine.js';
import { recordsOf, runDoc, startSyncHarness, type SyncHarness } from '../support/sync-harness.js';
import { killSyncWorkerMidRun } from './support/kill-sync-worker.js';

const DEVICES = {
  name: 'Chromebooks',
  entity: 'chromeos',
  identifier: 'deviceId',
  target: { kind: 'collection', objectId: 'chromebooks' },
  fieldMap: [
    { source: 'serialNumber', target: 'serial' },
    { source: 'status', target: 'status' },
  ],
};

const PEOPLE = {
  name: 'People',
  entity: 'users',
  identifier: 'id',
  target: { kind: 'collection', objectId: 'staff' },
  fieldMap: [
    { source: 'primaryEmail', target: 'email' },
    { source: 'name.givenName', target: 'firstName' },
  ],
};

class SimulatedCrash extends Error {}

describe('sync resilience', () => {
  let h: SyncHarness;
  beforeAll(async () => {
    h = await startSyncHarness({ users: 300, chromeos: 200, mobile: 5, env: { SYNC_PAGE_SIZE: '40' } });
    await h.addMapping('devices', DEVICES);
    await h.addMapping('people', PEOPLE);
  });
  afterAll(() => h.close());

  it('survives a storm of 429, 5xx and 403 rate-limit answers with backoff', async () => {
    await h.ws.setFaults({
      rate: 0.35,
      kinds: ['429', '500', '503', 'userRateLimitExceeded', 'reset'],
      path: '/devices/chromeos',
    });
    try {
      const out = await h.sync('devices');
      if (out.status !== 'completed') throw new Error(JSON.stringify(out));
      const run = await runDoc(h.db, h.tenantId, out.runId);
      expect(run.apiRetries).toBeGreaterThan(0);
      expect(out.counts.created).toBe((await h.ws.listChromeOs()).length);
    } finally {
      await h.ws.clearFaults();
    }
  });

  it('resumes from its checkpoint after a crash mid-run, without redoing finished pages', async () => {
    const total = (await h.ws.listUsers()).length;
    const msg = { requestId: 'crash-test-1' };
    let pagesBeforeCrash = 0;
    await expect(
      h.sync('people', msg, {
        config: { ...h.config.sync, leaseMs: 300 },
        afterPageCommitted: ({ pageNo }) => {
          pagesBeforeCrash = pageNo;
          if (pageNo === 3) throw new SimulatedCrash('process died');
        },
      }),
    ).rejects.toBeInstanceOf(SimulatedCrash);
    const state = (await h.db.doc(paths.syncState(h.tenantId, 'people')).get()).data()!;
    expect(state).toMatchObject({ status: 'running', pageNo: 3 });

    // Redelivered before the lease ran out: the delivery waits the lease out (its holder may be dead, and a nack
    // would have Pub/Sub back off for minutes), then resumes from the checkpoint.
    const pagesSeen: number[] = [];
    const out = await h.sync('people', msg, {
      afterPageCommitted: ({ pageNo }) => void pagesSeen.push(pageNo),
    });
    if (out.status !== 'completed') throw new Error(JSON.stringify(out));
    expect(pagesBeforeCrash).toBe(3);
    expect(pagesSeen[0]).toBe(4);
    expect(out.counts.created).toBe(total);
    expect((await recordsOf(h.db, h.tenantId, 'staff')).size).toBe(total);
    const run = await runDoc(h.db, h.tenantId, out.runId);
    expect(run.invocations).toBe(2);
  });

  it('resumes from its checkpoint after the function process is SIGKILLed mid-run', async () => {
    const total = (await h.ws.listUsers()).length;
    const msg = {
      kind: 'sync',
      tenantId: h.tenantId,
      mappingId: 'people',
      requestId: 'sigkill-1',
      trigger: 'manual',
    };
    const killedAfter = await killSyncWorkerMidRun(h, msg, { leaseMs: 1000, pages: 2 });
    const state = (await h.db.doc(paths.syncState(h.tenantId, 'people')).get()).data()!;
    expect(state.status).toBe('running');
    expect(state.pageNo).toBeGreaterThanOrEqual(killedAfter);

    await new Promise((r) => setTimeout(r, 1200)); // the dead process's lease runs out
    const pagesSeen: number[] = [];
    const out = await h.sync(
      'people',
      { requestId: 'sigkill-1' },
      {
        afterPageCommitted: ({ pageNo }) => void pagesSeen.push(pageNo),
      },
    );
    if (out.status !== 'completed') throw new Error(JSON.stringify(out));
    expect(pagesSeen[0]).toBe(state.pageNo + 1);
    const run = await runDoc(h.db, h.tenantId, out.runId);
    expect(run.invocations).toBe(2);
    expect(run.counts.seen).toBe(total);
  });

  it('continues in a follow-up message when the invocation budget is spent', async () => {
    await h.ws.updateUser((await h.ws.listUsers())[0]!.primaryEmail, { name: { givenName: 'Continued' } });
    h.published.length = 0;
    let clock = 0;
    const slowClock = { now: () => (clock += 1000), sleep: async () => {} };
    const first = await h.sync(
      'people',
      { requestId: 'budget-1' },
      {
        clock: slowClock,
        config: { ...h.config.sync, invocationBudgetMs: 5000 },
      },
    );
    expect(first.status).toBe('continued');
    expect(h.published).toHaveLength(1);
    const cont = h.published[0]!;
    expect(cont).toMatchObject({ trigger: 'continuation', requestId: 'budget-1' });
    if (first.status !== 'continued') return;
    expect(cont.runId).toBe(first.runId);

    const done = await runSync(h.deps(), cont);
    if (done.status !== 'completed') throw new Error(JSON.stringify(done));
    expect(done.runId).toBe(first.runId);
    expect(done.counts.updated).toBe(1);
    // A late duplicate of the continuation finds the run finished.
    const dup = await runSync(h.deps(), cont);
    expect(dup.status).toBe('dropped');
  });

  it('treats duplicate and concurrent deliveries of one request as one run', async () => {
    const msg = { requestId: 'dup-1' };
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const hold = { afterPageCommitted: () => gate };
    const deliveries = [h.sync('devices', msg, hold), h.sync('devices', msg, hold)];
    // The delivery that lost the lease waits for the holder (it may have died); once the holder has finished,
    // the waiting one finds the request handled and is dropped.
    await new Promise((r) => setTimeout(r, 300));
    release();
    const results = await Promise.all(deliveries);
    expect(results.map((r) => r.status).sort()).toEqual(['completed', 'dropped']);
    // A later redelivery finds the request done.
    const later = await h.sync('devices', msg);
    expect(later).toMatchObject({ status: 'dropped' });
    const runs = await h.db.collection(paths.runs(h.tenantId)).where('requestId', '==', 'dup-1').get();
    expect(runs.size).toBe(1);
  });

  it('a different request while a run is in progress is covered by that run', async () => {
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const running = h.sync('devices', { requestId: 'long-1' }, { afterPageCommitted: () => gate });
    await new Promise((r) => setTimeout(r, 300));
    const other = await h.sync('devices', { requestId: 'other-1' });
    expect(other.status).toBe('dropped');
    release();
    expect((await running).status).toBe('completed');
  });

  it('restarts the listing when Google says the page token expired', async () => {
    await h.ws.setFaults({ next: 1, kinds: ['expiredPageToken'] });
    const out = await h.sync('devices');
    await h.ws.clearFaults();
    if (out.status !== 'completed') throw new Error(JSON.stringify(out));
    const run = await runDoc(h.db, h.tenantId, out.runId);
    expect(
      run.errors.some((e) => /page token expired/.test(e.message)),
      JSON.stringify(run.errors),
    ).toBe(true);
    expect(out.counts.removed).toBe(0);
  });

  it('marks the tenant "needs re-authorization" on invalid_grant and stops its syncs', async () => {
    // Revoked on Google's side: the instance still holds a cached access token, which now answers 401.
    await h.ws.revokeGrants();
    const out = await h.sync('devices');
    expect(out.status).toBe('failed');
    const tenant = (await h.db.doc(paths.tenant(h.tenantId)).get()).data()!;
    expect(tenant.status).toBe('needs_reauth');
    expect(String(tenant.statusReason)).toMatch(/re-authorize/);
    const next = await h.sync('devices');
    expect(next).toMatchObject({ status: 'dropped', reason: 'tenant is needs_reauth' });
  });
});

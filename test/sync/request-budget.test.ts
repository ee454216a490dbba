import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runSync, type EngineDeps } from '../../functions/src/engine/engine.js';
import { sharedRequestBudget, type RequestBudget } from '../../functions/src/store/request-budget.js';
import { paths } from '../../shared/firestore-paths.js';
import { startSyncHarness, type SyncHarness } from '../support/sync-harness.js';

/** A short window so that one test sees several; production counts per minute, as Google does. */
const WINDOW_MS = 2000;
/** The tenant's budget per window, below the simulator's quota for the admin. */
const BUDGET = 10;
const SIMULATOR_QUOTA = 12;

const MAPPINGS: Record<string, Record<string, unknown>> = {
  people: {
    name: 'People',
    entity: 'users',
    identifier: 'primaryEmail',
    target: { kind: 'collection', objectId: 'staff' },
    fieldMap: [{ source: 'name.fullName', target: 'name' }],
  },
  chromebooks: {
    name: 'Chromebooks',
    entity: 'chromeos',
    identifier: 'deviceId',
    target: { kind: 'collection', objectId: 'chromebooks' },
    fieldMap: [{ source: 'serialNumber', target: 'serial' }],
  },
  phones: {
    name: 'Phones',
    entity: 'mobile',
    identifier: 'deviceId',
    target: { kind: 'collection', objectId: 'phones' },
    fieldMap: [{ source: 'model', target: 'model' }],
  },
  groups: {
    name: 'Groups',
    entity: 'groups',
    identifier: 'email',
    target: { kind: 'collection', objectId: 'groups' },
    fieldMap: [
      { source: 'name', target: 'name' },
      { source: 'members', target: 'members' },
    ],
  },
};

describe('the per-tenant request budget holds across function instances', () => {
  let h: SyncHarness;
  beforeAll(async () => {
    h = await startSyncHarness({
      users: 200,
      chromeos: 100,
      mobile: 50,
      groups: 20,
      env: {
        SYNC_PAGE_SIZE: '10',
        SYNC_TENANT_QPM: String(BUDGET),
        SYNC_BUDGET_WINDOW_MS: String(WINDOW_MS),
        // Sequential listings: partitions would add a request each, and this budget allows 5 a second.
        SYNC_LISTING_CONCURRENCY: '1',
      },
    });
    for (const [id, m] of Object.entries(MAPPINGS)) await h.addMapping(id, m);
  });
  afterAll(() => h.close());

  it('concurrent syncs of one tenant, each in its own instance, stay under the quota together', async () => {
    await h.ws.control.setQuota({ userQpm: SIMULATOR_QUOTA, windowMs: WINDOW_MS });
    await h.ws.control.resetStats();

    // Each mapping runs as a separate function instance would: its own EngineDeps and its own budget object
    // (its own local block of requests), sharing only the Firestore documents.
    const instance = (): EngineDeps => {
      const own = new Map<string, RequestBudget>();
      const deps = h.deps();
      return {
        ...deps,
        requestBudgetFor: (tenantId) => {
          let b = own.get(tenantId);
          if (!b) {
            b = sharedRequestBudget(h.db, tenantId, deps.config.tenantQpm, deps.clock, {
              windowMs: deps.config.budgetWindowMs,
            });
            own.set(tenantId, b);
          }
          return b;
        },
      };
    };
    // Warm the instance-wide caches (the access token) so that the syncs start sending at once, then start
    // late in a budget window: grants at the end of one window and the start of the next fall within one
    // window of the quota's sliding count, which is where a budget counted per fixed window overspends.
    await h.app.auth.clientFor(h.tenantId).then((c) => c.getAccessToken());
    const phase = Date.now() % WINDOW_MS;
    await new Promise((r) => setTimeout(r, (WINDOW_MS - 250 - phase + WINDOW_MS) % WINDOW_MS));
    const outcomes = await Promise.all(
      Object.keys(MAPPINGS).map((mappingId, i) =>
        runSync(instance(), {
          kind: 'sync',
          tenantId: h.tenantId,
          mappingId,
          requestId: `budget-${i}`,
          trigger: 'manual',
        }),
      ),
    );
    for (const out of outcomes) expect(out.status).toBe('completed');

    const stats = await h.ws.control.getStats();
    const directory = Object.entries(stats.byRoute).filter(([route]) => route.startsWith('directory.'));
    const served = directory.reduce((n, [, r]) => n + (r.byStatus['200'] ?? 0), 0);
    // Enough work that the budget had to spread it over several windows.
    expect(served).toBeGreaterThan(2 * BUDGET);
    // Not one request was refused for quota or rate.
    const refused = directory.flatMap(([route, r]) =>
      Object.entries(r.byStatus)
        .filter(([status]) => status !== '200')
        .map(([status, n]) => `${route} ${status} x${n}`),
    );
    expect(refused).toEqual([]);

    // The budget documents (one per bucket of a window): what was granted in every span of one window never
    // exceeds the budget, and every request that was served had been granted.
    const docs = (await h.db.collection(paths.requestBudget(h.tenantId)).get()).docs.map((d) => ({
      startMs: Number(d.get('startMs')),
      used: Number(d.get('used')),
    }));
    expect(docs.length).toBeGreaterThan(1);
    const granted = docs.reduce((n, d) => n + d.used, 0);
    expect(granted).toBeGreaterThanOrEqual(served);
    // (startMs is a multiple of window / 12, so a span holds 12 buckets; the rounding keeps the 13th out.)
    for (const d of docs) {
      const inSpan = docs.filter((o) => o.startMs >= d.startMs && o.startMs < d.startMs + WINDOW_MS - 1);
      expect(inSpan.reduce((n, o) => n + o.used, 0)).toBeLessThanOrEqual(BUDGET);
    }
    console.log(
      `request budget: ${served} Directory requests by ${outcomes.length} concurrent instances, ` +
        `${granted} granted over ${docs.length} budget documents`,
    );
  }, 180_000); // It waits out budget windows by design; the bound only guards against a hang.
});

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { EngineDeps } from '../../functions/src/engine/engine.js';
import type { Source } from '../../functions/src/engine/source.js';
import { recordsOf, runDoc, startSyncHarness, type SyncHarness } from '../support/sync-harness.js';

/**
 * Full passes listed in partitions at once (engine/partitioned-pass.ts, sources/google/partitions.ts): the
 * same records as one sequential listing, and never a removal because of a partition's gap.
 */

const fieldMap = (fields: string[]) => fields.map((f) => ({ source: f, target: f.replace(/\./g, '_') }));

const USERS = {
  entity: 'users',
  identifier: 'id',
  fieldMap: fieldMap(['primaryEmail', 'name.givenName', 'orgUnitPath', 'suspended']),
};
const DEVICES = {
  entity: 'chromeos',
  identifier: 'deviceId',
  fieldMap: fieldMap(['serialNumber', 'orgUnitPath', 'status']),
};

/** Mapping ids are camel case; object ids are lower case with dashes. */
const objectOf = (id: string) => id.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`);

class SimulatedCrash extends Error {}

/** The Google source with its readers stripped of partitions: one sequential listing, as before. */
function sequentialDeps(h: SyncHarness): Partial<EngineDeps> {
  const google = h.deps().sources.google;
  const sequential: Source = {
    ...google,
    async open(...args) {
      const reader = await google.open(...args);
      return { fullPage: (cursor) => reader.fullPage(cursor) };
    },
  };
  return { sources: { ...h.deps().sources, google: sequential } };
}

/** A record's content and sync status, without what differs between two runs (run id, timestamps). */
async function contentOf(h: SyncHarness, objectId: string) {
  const out = new Map<string, unknown>();
  for (const [id, { data }] of await recordsOf(h.db, h.tenantId, objectOf(objectId))) {
    // `_history` names the run and mapping that wrote each change, which differ between the two listings.
    const { _sync, _history, ...fields } = data as { _sync: Record<string, unknown>; _history: unknown };
    out.set(id, { fields, status: _sync.status, sourceId: _sync.sourceId, removedAt: _sync.removedAt });
  }
  return out;
}

async function completed(p: ReturnType<SyncHarness['sync']>) {
  const out = await p;
  if (out.status !== 'completed') throw new Error(JSON.stringify(out));
  return out;
}

describe('partitioned full passes', () => {
  let h: SyncHarness;
  beforeAll(async () => {
    h = await startSyncHarness({ users: 300, chromeos: 150, mobile: 2, env: { SYNC_PAGE_SIZE: '20' } });
    const root = await h.ws.control.addOrgUnit(h.ws.customerId, { name: 'Deep', parentOrgUnitPath: '/' });
    let parent = root.orgUnitPath!;
    for (const name of ['Deeper', 'Deepest']) {
      parent = (await h.ws.control.addOrgUnit(h.ws.customerId, { name, parentOrgUnitPath: parent }))
        .orgUnitPath!;
    }
    await h.ws.control.addChromeOsDevice(h.ws.customerId, {
      serialNumber: 'DEEP-0001',
      deviceId: 'deep-device-1',
      orgUnitPath: parent,
    });
    await h.ws.control.addChromeOsDevice(h.ws.customerId, {
      serialNumber: 'ROOT-0001',
      deviceId: 'root-device-1',
      orgUnitPath: '/',
    });
    // Users directly in the root org unit, whose usernames start with every kind of character Google allows.
    for (const local of ['rootie', '_under', '9lives', 'o.neil', "d'arcy", '-dash']) {
      await h.ws.control.addUser(h.ws.customerId, {
        primaryEmail: `${local}@${h.ws.domain}`,
        givenName: 'Root',
        familyName: 'User',
        orgUnitPath: '/',
      });
    }
    for (const [id, m] of Object.entries({
      seqUsers: USERS,
      users: USERS,
      seqDevices: DEVICES,
      devices: DEVICES,
    }))
      await h.addMapping(id, { name: id, target: { kind: 'collection', objectId: objectOf(id) }, ...m });
  });
  afterAll(() => h.close());

  it('writes the same records as one sequential listing, users in the root and devices deep in the tree included', async () => {
    await completed(h.sync('seqUsers', {}, sequentialDeps(h)));
    await completed(h.sync('seqDevices', {}, sequentialDeps(h)));
    const users = await completed(h.sync('users'));
    const devices = await completed(h.sync('devices'));

    const truthUsers = await h.ws.listUsers();
    const truthDevices = await h.ws.listChromeOs();
    expect(users.counts.created).toBe(truthUsers.length);
    expect(devices.counts.created).toBe(truthDevices.length);
    // Pages written concurrently are all counted (a `+= await` once lost the writes of overlapping pages).
    expect(users.meter.recordWrites).toBe(truthUsers.length);
    expect(devices.meter.recordWrites).toBe(truthDevices.length);
    expect(await contentOf(h, 'users')).toEqual(await contentOf(h, 'seqUsers'));
    expect(await contentOf(h, 'devices')).toEqual(await contentOf(h, 'seqDevices'));

    const rootUsers = truthUsers.filter((u) => u.orgUnitPath === '/');
    expect(rootUsers.length).toBeGreaterThanOrEqual(6);
    const records = await recordsOf(h.db, h.tenantId, objectOf('users'));
    for (const u of rootUsers) expect(records.get(u.id)?.data.primaryEmail).toBe(u.primaryEmail);
    const deep = (await recordsOf(h.db, h.tenantId, objectOf('devices'))).get('deep-device-1');
    expect(deep?.data.orgUnitPath).toBe('/Deep/Deeper/Deepest');
    // Partitioned: more pages than partitions' worth of one listing, and every one committed.
    const run = await runDoc(h.db, h.tenantId, users.runId);
    expect(run.pages).toBeGreaterThan(Math.ceil(truthUsers.length / 20));
  });

  it('lists only the org units in scope of a scoped device mapping', async () => {
    await h.addMapping('deepDevices', {
      name: 'deep',
      target: { kind: 'collection', objectId: objectOf('deepDevices') },
      ...DEVICES,
      orgUnitScope: { paths: ['/Deep'], includeChildren: true },
    });
    const out = await completed(h.sync('deepDevices'));
    expect(out.counts.created).toBe(1);
    // Devices outside the scope were never listed, so none was even seen out of scope.
    expect(out.counts.outOfScope).toBe(0);
    expect([...(await recordsOf(h.db, h.tenantId, objectOf('deepDevices'))).keys()]).toEqual([
      'deep-device-1',
    ]);
  });

  it('walks a large partition from both ends at once and stops where the walks meet', async () => {
    const big = await h.ws.control.addOrgUnit(h.ws.customerId, { name: 'Big', parentOrgUnitPath: '/' });
    for (let i = 0; i < 95; i++) {
      await h.ws.control.addChromeOsDevice(h.ws.customerId, {
        serialNumber: `BIG-${String(i).padStart(4, '0')}`,
        deviceId: `big-device-${i}`,
        orgUnitPath: big.orgUnitPath!,
      });
    }
    await h.addMapping('bigDevices', {
      name: 'big',
      target: { kind: 'collection', objectId: objectOf('bigDevices') },
      ...DEVICES,
      orgUnitScope: { paths: ['/Big'], includeChildren: false },
    });
    // Which partitions' pages were asked for, in order.
    const asked: string[] = [];
    const google = h.deps().sources.google;
    const recording: Source = {
      ...google,
      async open(...args) {
        const reader = await google.open(...args);
        return {
          ...reader,
          partitionPage: (key, cursor) => {
            asked.push(key);
            return reader.partitionPage!(key, cursor);
          },
        };
      },
    };
    const out = await completed(
      h.sync('bigDevices', {}, { sources: { ...h.deps().sources, google: recording } }),
    );
    expect(out.counts.created).toBe(95);
    const keys = new Set(asked);
    expect([...keys].sort()).toEqual([`ou-desc:${big.orgUnitId}`, `ou:${big.orgUnitId}`]);
    // One walk alone takes 5 pages of 20 one after another; from both ends each takes about half, and no
    // walk goes on far past the meeting point (one page fetched ahead at most, per walk).
    expect(asked.length).toBeLessThanOrEqual(7);
    expect(asked.filter((k) => k.startsWith('ou:')).length).toBeLessThan(5);
    const records = await recordsOf(h.db, h.tenantId, objectOf('bigDevices'));
    expect([...records.keys()].sort()).toEqual(
      Array.from({ length: 95 }, (_, i) => `big-device-${i}`).sort(),
    );
  });

  it('does not remove a user who moves from a partition not yet listed to one already listed', async () => {
    const truth = await h.ws.listUsers();
    const mover = truth.find((u) => u.primaryEmail.startsWith('z') || u.primaryEmail.startsWith('y'))!;
    const newEmail = `aa-moved-${mover.primaryEmail}`;
    let moved = false;
    const out = await completed(
      h.sync(
        'users',
        {},
        {
          // Two partitions at a time, taken in order: the 'a' partition is listed first, the mover's last.
          config: { ...h.config.sync, listingConcurrency: 2 },
          afterPageCommitted: async ({ pageNo }) => {
            if (pageNo === 3 && !moved) {
              moved = true;
              await h.ws.updateUser(mover.primaryEmail, { primaryEmail: newEmail });
            }
          },
        },
      ),
    );
    expect(moved).toBe(true);
    expect(out.counts.removed).toBe(0);
    const rec = (await recordsOf(h.db, h.tenantId, objectOf('users'))).get(mover.id)!;
    expect(rec.data._sync).toMatchObject({ status: 'active', removedAt: null });
    expect(rec.data.primaryEmail).toBe(newEmail);
  });

  it('restarts only the partition whose page token expired', async () => {
    await h.ws.setFaults({ next: 1, kinds: ['expiredPageToken'] });
    try {
      const out = await completed(h.sync('users'));
      expect(out.counts.removed).toBe(0);
      const run = await runDoc(h.db, h.tenantId, out.runId);
      const restarts = run.errors.filter((e) => /restarting partition email:/.test(e.message));
      expect(restarts).toHaveLength(1);
      expect(run.errors.some((e) => /restarting the listing from the first page/.test(e.message))).toBe(
        false,
      );
      expect(await contentOf(h, 'users')).toEqual(await contentOfTruth());
    } finally {
      await h.ws.clearFaults();
    }
  });

  it('resumes every partition where it was after a crash, with correct records and no removal', async () => {
    const gone = (await h.ws.listUsers()).find((u) => u.orgUnitPath !== '/')!;
    await h.ws.deleteUser(gone.primaryEmail);
    const msg = { requestId: 'partition-crash-1' };
    await expect(
      h.sync('users', msg, {
        config: { ...h.config.sync, leaseMs: 300 },
        afterPageCommitted: ({ pageNo }) => {
          if (pageNo === 5) throw new SimulatedCrash('process died');
        },
      }),
    ).rejects.toBeInstanceOf(SimulatedCrash);

    const pagesSeen: number[] = [];
    const out = await completed(
      h.sync('users', msg, { afterPageCommitted: ({ pageNo }) => void pagesSeen.push(pageNo) }),
    );
    expect(pagesSeen[0]).toBe(6);
    // Exactly the deleted user is removed (read back and found gone); nobody else.
    expect(out.counts.removed).toBe(1);
    const records = await recordsOf(h.db, h.tenantId, objectOf('users'));
    expect(records.get(gone.id)?.data._sync).toMatchObject({ status: 'removed' });
    const live = [...records.values()].filter(
      (r) => (r.data._sync as { removedAt: unknown }).removedAt === null,
    );
    expect(live.length).toBe((await h.ws.listUsers()).length);
    const run = await runDoc(h.db, h.tenantId, out.runId);
    expect(run.invocations).toBe(2);
  });

  /** The users mapping's records as a sequential listing writes them now. */
  async function contentOfTruth() {
    await completed(h.sync('seqUsers', {}, sequentialDeps(h)));
    return contentOf(h, 'seqUsers');
  }
});

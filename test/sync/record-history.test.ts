import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { paths } from '../../shared/firestore-paths.js';
import { recordIdFor } from '../../functions/src/engine/record-id.js';
import { personRecordId } from '../../functions/src/people/person-record-id.js';
import { HISTORY_LIMIT } from '../../functions/src/store/record-history.js';
import { recordsOf, runDoc, startSyncHarness, type SyncHarness } from '../support/sync-harness.js';

/**
 * Each record keeps its last changes in `_history`, written by the same write as the record (no extra write;
 * one read per written record), and a completed run with failed records ends as `succeeded_with_errors`.
 */

const STAFF = {
  name: 'Staff',
  entity: 'users',
  identifier: 'primaryEmail',
  target: { kind: 'collection', objectId: 'staff' },
  fieldMap: [
    { source: 'primaryEmail', target: 'email' },
    { source: 'name.givenName', target: 'firstName' },
    { source: 'orgUnitPath', target: 'orgUnit' },
  ],
  removalThresholdPercent: 30,
};

type Entry = {
  at: string;
  kind: string;
  runId: string | null;
  mappingId: string | null;
  source: string;
  reason: string | null;
  changes: Array<{ field: string; from: unknown; to: unknown }>;
};

describe('record history and run status', () => {
  let h: SyncHarness;
  beforeAll(async () => {
    h = await startSyncHarness({ users: 12, chromeos: 6, mobile: 0 });
    await h.addMapping('staff', STAFF);
  });
  afterAll(() => h.close());

  const record = async (email: string) =>
    (await h.db.doc(paths.record(h.tenantId, 'staff', recordIdFor('primaryEmail', email))).get()).data()!;
  const historyOf = async (email: string) => (await record(email))._history as Entry[];

  it('a first sync writes each record once, with a "created" entry naming the run, and reads none of them', async () => {
    const out = await h.sync('staff');
    if (out.status !== 'completed') throw new Error(out.status);
    const users = await h.ws.listUsers();
    expect(out.counts.created).toBe(users.length);
    // No extra write for the history, and no read either: the object was empty, so every record is new.
    expect(out.meter.recordWrites).toBe(users.length);
    expect(out.meter.reads).toBeLessThan(20);
    const u = users[0]!;
    const history = await historyOf(u.primaryEmail);
    expect(history).toHaveLength(1);
    expect(history[0]).toMatchObject({
      kind: 'created',
      runId: out.runId,
      mappingId: 'staff',
      source: 'google',
    });
    // The values are the record's own; the first update's `from` keeps them.
    expect(history[0]!.changes).toEqual([]);
    // The history is bookkeeping, not a field: the API splits it off like _sync.
    const all = await recordsOf(h.db, h.tenantId, 'staff');
    expect(all.size).toBe(users.length);
  });

  it('a change appends an "updated" entry with the changed field, from and to, and nothing else', async () => {
    const [u] = await h.ws.listUsers();
    const before = u!.name.givenName;
    await h.ws.updateUser(u!.primaryEmail, { name: { givenName: 'Zoë' } });
    const out = await h.sync('staff');
    if (out.status !== 'completed') throw new Error(out.status);
    expect(out.counts.updated).toBe(1);
    expect(out.meter.recordWrites).toBe(1);
    const history = await historyOf(u!.primaryEmail);
    expect(history).toHaveLength(2);
    expect(history[1]).toMatchObject({
      kind: 'updated',
      runId: out.runId,
      changes: [{ field: 'firstName', from: before, to: 'Zoë' }],
    });
    const rec = await record(u!.primaryEmail);
    expect(rec._sync.updatedAt).toBe(history[1]!.at);
  });

  it(`keeps only the last ${HISTORY_LIMIT} changes`, async () => {
    const [, u] = await h.ws.listUsers();
    for (let i = 1; i <= HISTORY_LIMIT + 3; i++) {
      await h.ws.updateUser(u!.primaryEmail, { name: { givenName: `Name${i}` } });
      const out = await h.sync('staff');
      if (out.status !== 'completed') throw new Error(out.status);
      expect(out.counts.updated).toBe(1);
    }
    const history = await historyOf(u!.primaryEmail);
    expect(history).toHaveLength(HISTORY_LIMIT);
    expect(history.at(-1)!.changes).toEqual([
      { field: 'firstName', from: `Name${HISTORY_LIMIT + 2}`, to: `Name${HISTORY_LIMIT + 3}` },
    ]);
    // The oldest kept is the 4th rename: the creation and the first three renames were dropped.
    expect(history[0]!.changes).toEqual([{ field: 'firstName', from: 'Name3', to: 'Name4' }]);
  });

  it('records a status change, a removal (with its reason, moving updatedAt) and a restore', async () => {
    const users = await h.ws.listUsers();
    const suspended = users[2]!;
    await h.ws.suspendUser(suspended.primaryEmail);
    const removed = users[3]!;
    await h.ws.deleteUser(removed.primaryEmail);
    const out = await h.sync('staff');
    if (out.status !== 'completed') throw new Error(out.status);
    expect(out.counts.removed).toBe(1);

    const s = await historyOf(suspended.primaryEmail);
    expect(s.at(-1)).toMatchObject({
      kind: 'updated',
      changes: [{ field: '(status)', from: 'active', to: 'inactive' }],
    });
    const gone = await record(removed.primaryEmail);
    const r = gone._history as Entry[];
    expect(r.at(-1)).toMatchObject({ kind: 'removed', runId: out.runId, changes: [] });
    expect(r.at(-1)!.reason).toBe(gone._sync.removedReason);
    // The change feed orders by updatedAt: a removal moves it.
    expect(gone._sync.updatedAt).toBe(gone._sync.removedAt);

    await h.ws.control.addUser(h.ws.customerId, {
      primaryEmail: removed.primaryEmail,
      givenName: 'Back',
      familyName: 'Again',
    });
    const again = await h.sync('staff');
    if (again.status !== 'completed') throw new Error(again.status);
    const back = (await historyOf(removed.primaryEmail)).at(-1)!;
    expect(back.kind).toBe('restored');
    expect(back.changes).toContainEqual({ field: 'firstName', from: removed.name.givenName, to: 'Back' });
  });

  it('merged people keep their history too, outside their fields', async () => {
    await h.addMapping('people', {
      ...STAFF,
      name: 'People',
      target: { kind: 'people' },
      fieldMap: STAFF.fieldMap.filter((f) => f.target !== 'email'),
    });
    const first = await h.sync('people');
    if (first.status !== 'completed') throw new Error(first.status);
    const [, , , , u] = await h.ws.listUsers();
    await h.ws.updateUser(u!.primaryEmail, { name: { givenName: 'Maëlle' } });
    const second = await h.sync('people');
    if (second.status !== 'completed') throw new Error(second.status);
    const doc = (
      await h.db.doc(paths.record(h.tenantId, 'people', personRecordId(u!.primaryEmail))).get()
    ).data()!;
    const history = doc._history as Entry[];
    expect(history.map((e) => e.kind)).toEqual(['created', 'updated']);
    expect(history[1]).toMatchObject({
      runId: second.runId,
      source: 'google',
      changes: [{ field: 'firstName', from: u!.name.givenName, to: 'Maëlle' }],
    });
    // A third sync with nothing changed writes nothing, so adds no entry.
    const third = await h.sync('people');
    if (third.status !== 'completed') throw new Error(third.status);
    expect(
      (
        (await h.db.doc(paths.record(h.tenantId, 'people', personRecordId(u!.primaryEmail))).get()).get(
          '_history',
        ) as Entry[]
      ).length,
    ).toBe(2);
  });

  it('a completed run with failed records is "succeeded_with_errors"; without, "succeeded"', async () => {
    await h.addMapping('chromebooks', {
      name: 'Chromebooks',
      entity: 'chromeos',
      identifier: 'serialNumber',
      target: { kind: 'collection', objectId: 'chromebooks' },
      fieldMap: [{ source: 'serialNumber', target: 'serial' }],
    });
    const devices = await h.ws.listChromeOs();
    const serials = new Set(devices.map((d) => d.serialNumber));
    const clean = await h.sync('chromebooks');
    if (clean.status !== 'completed') throw new Error(clean.status);
    const expectFirst = devices.length > serials.size ? 'succeeded_with_errors' : 'succeeded';
    expect((await runDoc(h.db, h.tenantId, clean.runId)).status).toBe(expectFirst);

    // Re-enrolment gives a second device the serial of the first: one record cannot be written.
    await h.ws.control.addChromeOsDevice(h.ws.customerId, { serialNumber: devices[0]!.serialNumber });
    const out = await h.sync('chromebooks');
    if (out.status !== 'completed') throw new Error(out.status);
    expect(out.counts.failed).toBeGreaterThanOrEqual(1);
    const run = await runDoc(h.db, h.tenantId, out.runId);
    expect(run.status).toBe('succeeded_with_errors');
    expect(run.errors.some((e) => /duplicate serialNumber/.test(e.message))).toBe(true);
  });
});

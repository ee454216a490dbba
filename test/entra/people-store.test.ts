import type { Firestore } from '@google-cloud/firestore';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  DEFAULT_PRECEDENCE_POLICY,
  PeopleStore,
  loadPrecedencePolicy,
  personRecordId,
  type SourcePerson,
} from '../../functions/src/people/index.js';
import { FirestoreMeter } from '../../functions/src/engine/firestore-meter.js';
import { paths } from '../../shared/firestore-paths.js';
import { testFirestore, uniqueProjectId } from '../support/emulator-clients.js';

const google = (email: string, givenName: string): SourcePerson => ({
  source: 'google',
  sourceId: `g-${email}`,
  email,
  active: true,
  fields: { givenName, orgUnit: '/Staff' },
});
const entra = (email: string, givenName: string): SourcePerson => ({
  source: 'entra',
  sourceId: `e-${email}`,
  email,
  active: true,
  fields: { givenName, jobTitle: 'Teacher' },
});
const ctx = (source: 'google' | 'entra', at = new Date().toISOString()) => ({
  source,
  at,
  runId: `run-${source}`,
  writer: source,
});

describe('people store against the Firestore emulator', () => {
  let db: Firestore;
  beforeAll(() => {
    db = testFirestore(uniqueProjectId('people'));
  });
  afterAll(() => db.terminate());

  it('a source writing a person between our read and our write is merged, not overwritten', async () => {
    const t = 'race';
    const emails = Array.from({ length: 30 }, (_, i) => `person${i}@school.example`);
    const other = new PeopleStore({ db, tenantId: t, policy: DEFAULT_PRECEDENCE_POLICY });
    let interfered = false;
    // A Firestore whose first getAll lets the Entra source write every person right after we read them.
    const racing = new Proxy(db, {
      get(target, prop, receiver) {
        if (prop !== 'getAll') return Reflect.get(target, prop, receiver) as unknown;
        return async (...refs: Parameters<Firestore['getAll']>) => {
          const snaps = await target.getAll(...refs);
          if (!interfered) {
            interfered = true;
            await other.apply(
              emails.map((e) => ({ kind: 'upsert', person: entra(e, 'Entra') })),
              ctx('entra'),
            );
          }
          return snaps;
        };
      },
    });
    const meter = new FirestoreMeter();
    const store = new PeopleStore({ db: racing, tenantId: t, policy: DEFAULT_PRECEDENCE_POLICY, meter });
    const result = await store.apply(
      emails.map((e) => ({ kind: 'upsert', person: google(e, 'Google') })),
      ctx('google'),
    );
    expect(interfered).toBe(true);
    expect(result).toMatchObject({ created: 30, written: 30, failed: 0 });
    expect(meter.reads).toBe(60); // read twice: the first write attempt was refused
    const snap = await db.collection(paths.records(t, 'people')).get();
    expect(snap.size).toBe(30);
    for (const d of snap.docs) {
      expect(Object.keys(d.get('_people.sources') as object).sort()).toEqual(['entra', 'google']);
      expect(d.data()).toMatchObject({
        givenName: 'Entra',
        orgUnit: '/Staff',
        jobTitle: 'Teacher',
        active: true,
      });
    }
  });

  it('removal applies only to the source object that has the address, and only once', async () => {
    const t = 'guards';
    const store = new PeopleStore({ db, tenantId: t, policy: DEFAULT_PRECEDENCE_POLICY });
    const email = 'Ann.Lee@School.example ';
    await store.apply([{ kind: 'upsert', person: entra(email, 'Ann') }], ctx('entra'));
    const id = personRecordId(email);
    expect(id).toBe(personRecordId('ann.lee@school.example'));
    const wrongObject = await store.apply(
      [{ kind: 'remove', recordId: id, sourceId: 'someone-else', reason: 'x' }],
      ctx('entra'),
    );
    expect(wrongObject).toMatchObject({ removed: 0, ignored: 1, written: 0 });
    const neverHad = await store.apply([{ kind: 'remove', recordId: id, reason: 'x' }], ctx('google'));
    expect(neverHad).toMatchObject({ removed: 0, ignored: 1, written: 0 });
    const gone = await store.apply(
      [{ kind: 'remove', recordId: id, sourceId: `e-${email}`, reason: 'deleted' }],
      ctx('entra'),
    );
    expect(gone).toMatchObject({ removed: 1, personsRemoved: 1, written: 1 });
    const again = await store.apply([{ kind: 'remove', recordId: id, reason: 'deleted' }], ctx('entra'));
    expect(again).toMatchObject({ removed: 0, written: 0 });
    const doc = (await db.doc(paths.record(t, 'people', id)).get()).data()!;
    expect(doc).toMatchObject({
      email: 'ann.lee@school.example',
      givenName: 'Ann',
      active: false,
      _sync: { status: 'removed' },
    });
  });

  it('reads the tenant precedence policy, falling back to the default when it is invalid', async () => {
    await db
      .doc(paths.tenant('p1'))
      .set({ peoplePrecedence: { default: ['entra', 'google'], perField: { department: ['google'] } } });
    await db.doc(paths.tenant('p2')).set({ peoplePrecedence: { default: ['google', 'google'] } });
    expect(await loadPrecedencePolicy(db, 'p1')).toEqual({
      default: ['entra', 'google'],
      perField: { department: ['google'] },
    });
    expect(await loadPrecedencePolicy(db, 'p2')).toEqual(DEFAULT_PRECEDENCE_POLICY);
    expect(await loadPrecedencePolicy(db, 'none')).toEqual(DEFAULT_PRECEDENCE_POLICY);
  });
});

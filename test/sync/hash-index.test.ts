import { afterAll, describe, expect, it } from 'vitest';
import { loadHashIndex, saveHashIndex } from '../../functions/src/store/hash-index.js';
import { FirestoreMeter } from '../../functions/src/engine/firestore-meter.js';
import { testFirestore, uniqueProjectId } from '../support/emulator-clients.js';

describe('hash index shards in the Firestore emulator', () => {
  const db = testFirestore(uniqueProjectId('hashidx'));
  afterAll(() => db.terminate());

  it('stores 120,000 entries (more than one 4 MiB commit), reads them back, and rewrites only changed shards', async () => {
    const index = new Map<string, string>();
    for (let i = 0; i < 120_000; i++)
      index.set(`user${i}%40district.example`, (i * 2654435761).toString(16).padStart(16, '0').slice(-16));
    const meter = new FirestoreMeter();
    await saveHashIndex(db, 't1', 'people', index, new Map(), meter);
    expect(meter.bookkeepingWrites).toBe(30);

    const loaded = await loadHashIndex(db, 't1', 'people', meter);
    expect(loaded.index.size).toBe(120_000);
    expect(loaded.index.get('user4242%40district.example')).toBe(index.get('user4242%40district.example'));

    const unchanged = new FirestoreMeter();
    await saveHashIndex(db, 't1', 'people', index, loaded.shardContents, unchanged);
    expect(unchanged.bookkeepingWrites).toBe(0);

    const oneChange = new Map(index).set('user7%40district.example', 'ffffffffffffffff');
    const changed = new FirestoreMeter();
    await saveHashIndex(db, 't1', 'people', oneChange, loaded.shardContents, changed);
    expect(changed.bookkeepingWrites).toBe(1);
  });

  it('drops shards left over when the index shrinks', async () => {
    const small = new Map([
      ['a', '1'],
      ['b', '2'],
    ]);
    const before = await loadHashIndex(db, 't1', 'people', new FirestoreMeter());
    await saveHashIndex(db, 't1', 'people', small, before.shardContents, new FirestoreMeter());
    const after = await loadHashIndex(db, 't1', 'people', new FirestoreMeter());
    expect(after.shardContents.size).toBe(1);
    expect([...after.index.entries()]).toEqual([
      ['a', '1'],
      ['b', '2'],
    ]);
  });
});

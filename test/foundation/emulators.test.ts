import { afterAll, describe, expect, it } from 'vitest';
import { clearFirestore, testFirestore, testPubSub, uniqueProjectId } from '../support/emulator-clients.js';

describe('real Firestore emulator through the launcher', () => {
  const projectId = uniqueProjectId('found');
  const db = testFirestore(projectId);
  afterAll(() => db.terminate());

  it('writes documents and queries them back with a filter and order', async () => {
    const col = db.collection('tenants/t1/people');
    const batch = db.batch();
    batch.set(col.doc('a'), { email: 'a@x.example', grade: 9 });
    batch.set(col.doc('b'), { email: 'b@x.example', grade: 11 });
    batch.set(col.doc('c'), { email: 'c@x.example', grade: 12 });
    await batch.commit();

    const snap = await col.where('grade', '>=', 11).orderBy('grade', 'desc').get();
    expect(snap.docs.map((d) => d.id)).toEqual(['c', 'b']);
  });

  it('isolates projects and clears one project without touching another', async () => {
    const otherId = uniqueProjectId('other');
    const other = testFirestore(otherId);
    await other.doc('tenants/t1/people/z').set({ email: 'z@x.example' });
    expect((await db.collection('tenants/t1/people').doc('z').get()).exists).toBe(false);
    await clearFirestore(otherId);
    expect((await other.doc('tenants/t1/people/z').get()).exists).toBe(false);
    await other.terminate();
  });

  it('runs a transaction that sees concurrent state', async () => {
    const ref = db.doc('tenants/t1/syncState/users');
    await ref.set({ leases: 0 });
    await Promise.all(
      [1, 2, 3].map(() =>
        db.runTransaction(async (tx) => {
          const cur = (await tx.get(ref)).get('leases') as number;
          tx.update(ref, { leases: cur + 1 });
        }),
      ),
    );
    expect((await ref.get()).get('leases')).toBe(3);
  });
});

describe('real Pub/Sub emulator through the launcher', () => {
  const pubsub = testPubSub(uniqueProjectId('pubsub'));
  afterAll(() => pubsub.close());

  it('publishes a message and receives it on a pull subscription', async () => {
    const [topic] = await pubsub.createTopic('sync-requests');
    const [sub] = await topic.createSubscription('sync-worker');
    const received = new Promise<{ data: unknown; attrs: Record<string, string> }>((resolve, reject) => {
      sub.on('message', (m) => {
        m.ack();
        resolve({ data: JSON.parse(m.data.toString('utf8')) as unknown, attrs: m.attributes });
      });
      sub.on('error', reject);
    });
    await topic.publishMessage({ json: { tenantId: 't1', entity: 'users' }, attributes: { kind: 'sync' } });
    const msg = await received;
    await sub.close();
    expect(msg.data).toEqual({ tenantId: 't1', entity: 'users' });
    expect(msg.attrs).toEqual({ kind: 'sync' });
  });
});

import type { CollectionReference, Firestore } from '@google-cloud/firestore';

/**
 * Firestore as path -> updateTime, to prove a refused request wrote nothing. The replay guard's and the
 * Idempotency-Key bookkeeping are left out: every signed request spends its signature, accepted or refused, by
 * design (README "Security").
 */
export const BOOKKEEPING = new Set(['hostSignatures', 'idempotencyKeys']);

export type Snapshot = Map<string, string>;

const stamp = (t: { seconds: number; nanoseconds: number }) => `${t.seconds}.${t.nanoseconds}`;

/** Every document, found by walking every collection (slow: one listing per document); also names collections. */
export async function fullSnapshot(
  db: Firestore,
): Promise<{ snapshot: Snapshot; collectionIds: Set<string> }> {
  const snapshot: Snapshot = new Map();
  const collectionIds = new Set<string>();
  const walk = async (cols: CollectionReference[]): Promise<void> => {
    for (const col of cols) {
      if (BOOKKEEPING.has(col.id)) continue;
      collectionIds.add(col.id);
      for (const ref of await col.listDocuments()) {
        const snap = await ref.get();
        if (snap.exists && snap.updateTime) snapshot.set(ref.path, stamp(snap.updateTime));
        await walk(await ref.listCollections());
      }
    }
  };
  await walk(await db.listCollections());
  return { snapshot, collectionIds };
}

/**
 * The same map from one collection-group query per known collection id (names and update times only), fast
 * enough to take before and after every case. New collection ids are caught by the root listing and the full
 * snapshot the suite takes at its end.
 */
export async function quickSnapshot(db: Firestore, collectionIds: ReadonlySet<string>): Promise<Snapshot> {
  const snapshot: Snapshot = new Map();
  await Promise.all(
    [...collectionIds].map(async (id) => {
      const res = await db.collectionGroup(id).select().get();
      for (const d of res.docs) snapshot.set(d.ref.path, stamp(d.updateTime));
    }),
  );
  for (const col of await db.listCollections())
    if (!BOOKKEEPING.has(col.id) && !collectionIds.has(col.id)) snapshot.set(`${col.id}/*`, 'new collection');
  return snapshot;
}

/** What changed between two snapshots, as a few readable lines (empty when nothing did). */
export function diffSnapshots(before: Snapshot, after: Snapshot): string[] {
  const out: string[] = [];
  for (const [path, t] of after) {
    if (!before.has(path)) out.push(`+ ${path}`);
    else if (before.get(path) !== t) out.push(`~ ${path}`);
  }
  for (const path of before.keys()) if (!after.has(path)) out.push(`- ${path}`);
  return out;
}

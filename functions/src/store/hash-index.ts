import type { Firestore } from '@google-cloud/firestore';
import { paths } from '../../../shared/firestore-paths.js';
import type { FirestoreMeter } from '../engine/firestore-meter.js';

/** About 60 bytes an entry: 4,000 entries keep a shard near 250 KB, far below the 1 MiB document limit. */
const ENTRIES_PER_SHARD = 4000;
const MAX_COMMIT_BYTES = 3 * 1024 * 1024;

function fnv1a(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h;
}

export function shardOf(recordId: string, shardCount: number): number {
  return fnv1a(recordId) % shardCount;
}

/**
 * recordId -> content hash of every live record of a mapping, kept in a few shard documents. Reading a
 * handful of shards per sync replaces reading every record to find out what changed.
 */
export async function loadHashIndex(
  db: Firestore,
  tenantId: string,
  mappingId: string,
  meter: FirestoreMeter,
) {
  const snap = await db.collection(paths.indexShards(tenantId, mappingId)).get();
  meter.reads += Math.max(1, snap.size);
  const index = new Map<string, string>();
  const shardContents = new Map<string, string>();
  for (const doc of snap.docs) {
    const body = String(doc.get('entries') ?? '{}');
    for (const [id, h] of Object.entries(JSON.parse(body) as Record<string, string>)) index.set(id, h);
    shardContents.set(doc.id, body);
  }
  return { index, shardContents };
}

/** Rewrites only the shards whose content changed, and drops shards left over from a larger layout. */
export async function saveHashIndex(
  db: Firestore,
  tenantId: string,
  mappingId: string,
  index: Map<string, string>,
  previous: Map<string, string>,
  meter: FirestoreMeter,
): Promise<void> {
  const shardCount = Math.max(1, Math.ceil(index.size / ENTRIES_PER_SHARD));
  const shards: Array<Record<string, string>> = Array.from({ length: shardCount }, () => ({}));
  for (const id of [...index.keys()].sort()) shards[shardOf(id, shardCount)]![id] = index.get(id)!;
  const col = db.collection(paths.indexShards(tenantId, mappingId));
  let batch = db.batch();
  let inBatch = 0;
  let bytes = 0;
  const flush = async () => {
    if (inBatch > 0) await batch.commit();
    batch = db.batch();
    inBatch = 0;
    bytes = 0;
  };
  for (let i = 0; i < shardCount; i++) {
    const id = String(i).padStart(4, '0');
    const body = JSON.stringify(shards[i]);
    if (previous.get(id) === body) continue;
    // Shards are large: keep each commit under gRPC's default 4 MiB message size (the emulator enforces it).
    if (bytes + body.length > MAX_COMMIT_BYTES) await flush();
    // One JSON string, not a map: a map of 4,000 keys would cost 4,000 index entries on every rewrite.
    batch.set(col.doc(id), { entries: body, shardCount });
    meter.bookkeepingWrites++;
    inBatch++;
    bytes += body.length;
  }
  for (const id of previous.keys()) {
    if (Number(id) >= shardCount) {
      batch.delete(col.doc(id));
      meter.bookkeepingWrites++;
      inBatch++;
    }
  }
  await flush();
}

/**
 * Sets one record's hash in a mapping's index (a write-back that already wrote the record): reads the one shard
 * the record lives in under the current layout, sets the entry and writes the shard back, in a transaction so a
 * sync saving the index at the same moment is not overwritten with a stale shard. Without an index yet (no
 * completed sync), there is nothing to keep in step.
 */
export async function setHashIndexEntry(
  db: Firestore,
  tenantId: string,
  mappingId: string,
  recordId: string,
  hash: string,
): Promise<void> {
  const col = db.collection(paths.indexShards(tenantId, mappingId));
  await db.runTransaction(async (tx) => {
    const first = await tx.get(col.doc('0000'));
    if (!first.exists) return;
    const shardCount = Number(first.get('shardCount') ?? 1) || 1;
    const ref = col.doc(String(shardOf(recordId, shardCount)).padStart(4, '0'));
    const snap = ref.id === first.id ? first : await tx.get(ref);
    const entries = JSON.parse(String(snap.get('entries') ?? '{}')) as Record<string, string>;
    entries[recordId] = hash;
    // Same ordering as saveHashIndex (sorted ids), so an unchanged shard compares equal on the next save.
    const sorted = Object.fromEntries(
      Object.entries(entries).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)),
    );
    tx.set(ref, { entries: JSON.stringify(sorted), shardCount });
  });
}

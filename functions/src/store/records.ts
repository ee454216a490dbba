import { FieldPath, type DocumentData, type Firestore } from '@google-cloud/firestore';
import { paths } from '../../../shared/firestore-paths.js';

/**
 * Reads of synced records, `tenants/{t}/objects/{objectId}/records/{id}`, for the API. The engine and the people
 * store write them; their fields are whatever the mapping produced, so only the `_sync` block is split off.
 */
export interface StoredRecord {
  id: string;
  /** The synced fields, without `_sync`. */
  fields: DocumentData;
  /** The `_sync` block (source, status, removal), undefined when absent. */
  sync: unknown;
}

function storedRecord(id: string, data: DocumentData): StoredRecord {
  const { _sync, ...fields } = data;
  return { id, fields, sync: _sync as unknown };
}

export const RECORD_STATUSES = ['active', 'inactive', 'removed'] as const;
export type RecordStatus = (typeof RECORD_STATUSES)[number];

/**
 * One page of records in document-id order, optionally of one `_sync.status`, starting after `afterId`.
 * `more` says whether another page follows (one record beyond `limit` is read to know).
 */
export async function listRecords(
  db: Firestore,
  tenantId: string,
  objectId: string,
  opts: { status?: RecordStatus | undefined; limit: number; afterId?: string | undefined },
): Promise<{ records: StoredRecord[]; more: boolean }> {
  const records = db.collection(paths.records(tenantId, objectId));
  const filtered = opts.status ? records.where('_sync.status', '==', opts.status) : records;
  let query = filtered.orderBy(FieldPath.documentId()).limit(opts.limit + 1);
  if (opts.afterId) query = query.startAfter(opts.afterId);
  const snap = await query.get();
  return {
    records: snap.docs.slice(0, opts.limit).map((d) => storedRecord(d.id, d.data())),
    more: snap.docs.length > opts.limit,
  };
}

export async function readRecord(
  db: Firestore,
  tenantId: string,
  objectId: string,
  recordId: string,
): Promise<StoredRecord | null> {
  const snap = await db.doc(paths.record(tenantId, objectId, recordId)).get();
  return snap.exists ? storedRecord(snap.id, snap.data()!) : null;
}

const BATCH_LIMIT = 500;

/** Writes whole record documents in batches of 500 (Firestore's limit); returns how many were written. */
export async function replaceRecords(
  db: Firestore,
  tenantId: string,
  objectId: string,
  docs: ReadonlyArray<{ id: string; body: DocumentData }>,
): Promise<number> {
  return writeInBatches(db, tenantId, objectId, docs, false);
}

/** Merges fields into record documents (a removal mark), in batches of 500; returns how many were written. */
export async function mergeIntoRecords(
  db: Firestore,
  tenantId: string,
  objectId: string,
  docs: ReadonlyArray<{ id: string; body: DocumentData }>,
): Promise<number> {
  return writeInBatches(db, tenantId, objectId, docs, true);
}

async function writeInBatches(
  db: Firestore,
  tenantId: string,
  objectId: string,
  docs: ReadonlyArray<{ id: string; body: DocumentData }>,
  merge: boolean,
): Promise<number> {
  for (let i = 0; i < docs.length; i += BATCH_LIMIT) {
    const batch = db.batch();
    for (const { id, body } of docs.slice(i, i + BATCH_LIMIT)) {
      const ref = db.doc(paths.record(tenantId, objectId, id));
      if (merge) batch.set(ref, body, { merge: true });
      else batch.set(ref, body);
    }
    await batch.commit();
  }
  return docs.length;
}

/**
 * The synced fields and `_sync.status` of some records as stored now (null: no such document), read in one
 * round trip per 500: what a records.changed notification compares a page's writes with.
 */
export async function readRecordsForDiff(
  db: Firestore,
  tenantId: string,
  objectId: string,
  ids: readonly string[],
): Promise<Map<string, { fields: DocumentData; status: unknown } | null>> {
  const out = new Map<string, { fields: DocumentData; status: unknown } | null>();
  for (let i = 0; i < ids.length; i += BATCH_LIMIT) {
    const refs = ids.slice(i, i + BATCH_LIMIT).map((id) => db.doc(paths.record(tenantId, objectId, id)));
    if (refs.length === 0) continue;
    for (const snap of await db.getAll(...refs)) {
      if (!snap.exists) out.set(snap.id, null);
      else {
        const { _sync, ...fields } = snap.data()!;
        out.set(snap.id, { fields, status: (_sync as { status?: unknown } | undefined)?.status });
      }
    }
  }
  return out;
}

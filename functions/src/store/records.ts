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

// --- re-keying (a mapping's identifier changed; engine/rekey.ts) ---

/** What a stored record was keyed by: its source object and identifier field (null when not recorded). */
export interface RecordKey {
  sourceId: string | null;
  identifierField: string | null;
  identifierValue: string | null;
}

/** The keys of some records, read in chunks (absent records are left out). */
export async function readRecordKeys(
  db: Firestore,
  tenantId: string,
  objectId: string,
  recordIds: readonly string[],
): Promise<Map<string, RecordKey>> {
  const out = new Map<string, RecordKey>();
  const str = (v: unknown) => (typeof v === 'string' && v !== '' ? v : null);
  for (let i = 0; i < recordIds.length; i += 300) {
    const refs = recordIds.slice(i, i + 300).map((id) => db.doc(paths.record(tenantId, objectId, id)));
    const snaps = await db.getAll(...refs, { fieldMask: ['_sync.sourceId', '_sync.identifier'] });
    for (const snap of snaps) {
      if (!snap.exists) continue;
      out.set(snap.id, {
        sourceId: str(snap.get('_sync.sourceId')),
        identifierField: str(snap.get('_sync.identifier.field')),
        identifierValue: str(snap.get('_sync.identifier.value')),
      });
    }
  }
  return out;
}

/**
 * Moves records to their new ids after an identifier change: the record under the new id (already written by
 * the pass) notes where it came from, and the old document goes in the same batch, so no object is ever left
 * with two records once its pair is committed. A move is not a removal: the object is still there.
 */
export async function moveRekeyedRecords(
  db: Firestore,
  tenantId: string,
  objectId: string,
  moves: ReadonlyArray<{ from: string; to: string; fromKey: RecordKey }>,
  meta: { at: string; runId: string },
): Promise<number> {
  for (let i = 0; i < moves.length; i += 250) {
    const batch = db.batch();
    for (const m of moves.slice(i, i + 250)) {
      batch.set(
        db.doc(paths.record(tenantId, objectId, m.to)),
        {
          _sync: {
            rekeyedFrom: {
              recordId: m.from,
              identifier: { field: m.fromKey.identifierField, value: m.fromKey.identifierValue },
              at: meta.at,
              runId: meta.runId,
            },
          },
        },
        { merge: true },
      );
      batch.delete(db.doc(paths.record(tenantId, objectId, m.from)));
    }
    await batch.commit();
  }
  return moves.length * 2;
}

/** Several records by id (for the review of a held run); absent ones are left out. */
export async function readRecordsById(
  db: Firestore,
  tenantId: string,
  objectId: string,
  recordIds: readonly string[],
): Promise<Map<string, StoredRecord>> {
  const out = new Map<string, StoredRecord>();
  if (recordIds.length === 0) return out;
  const snaps = await db.getAll(...recordIds.map((id) => db.doc(paths.record(tenantId, objectId, id))));
  for (const snap of snaps) if (snap.exists) out.set(snap.id, storedRecord(snap.id, snap.data()!));
  return out;
}

/** The record id each of some source objects is stored under in an object (for a next-run preview). */
export async function recordIdsBySourceId(
  db: Firestore,
  tenantId: string,
  objectId: string,
  sourceIds: readonly string[],
): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  const chunks: string[][] = [];
  // Firestore's `in` takes at most 30 values.
  for (let i = 0; i < sourceIds.length; i += 30) chunks.push(sourceIds.slice(i, i + 30));
  const snaps = await Promise.all(
    chunks.map((chunk) =>
      db
        .collection(paths.records(tenantId, objectId))
        .where('_sync.sourceId', 'in', chunk)
        .select('_sync.sourceId', '_sync.status')
        .get(),
    ),
  );
  for (const snap of snaps)
    for (const d of snap.docs)
      if (d.get('_sync.status') !== 'removed') out.set(String(d.get('_sync.sourceId')), d.id);
  return out;
}

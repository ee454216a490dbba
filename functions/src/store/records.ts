import {
  FieldPath,
  FieldValue,
  type DocumentData,
  type Firestore,
  type Query,
} from '@google-cloud/firestore';
import { paths } from '../../../shared/firestore-paths.js';
import {
  appendHistory,
  changeEntry,
  HISTORY_FIELD,
  HISTORY_LIMIT,
  parseHistory,
  removalEntry,
  type ChangeOrigin,
  type HistoryEntry,
} from './record-history.js';

/**
 * Synced records, `tenants/{t}/objects/{objectId}/records/{id}`: the engine and the people store write them, the
 * API reads them. Their fields are whatever the mapping produced; the bookkeeping blocks are split off: `_sync`
 * (source, status, removal), `_history` (the last changes, store/record-history.ts) and, for merged people,
 * `_people` (what each source said, provenance per field).
 */
export interface StoredRecord {
  id: string;
  /** The synced fields, without the bookkeeping blocks. */
  fields: DocumentData;
  /** The `_sync` block (source, status, removal), undefined when absent. */
  sync: unknown;
  /** The last changes, oldest first. */
  history: HistoryEntry[];
  /** Merged people only: the `_people` block (store/people.ts), undefined otherwise. */
  people: unknown;
}

const BOOKKEEPING = new Set(['_sync', HISTORY_FIELD, '_people']);

/** A record document's mapped fields, without the bookkeeping. */
function mappedFields(data: DocumentData): DocumentData {
  const fields: DocumentData = {};
  for (const [k, v] of Object.entries(data)) if (!BOOKKEEPING.has(k)) fields[k] = v;
  return fields;
}

function storedRecord(id: string, data: DocumentData): StoredRecord {
  return {
    id,
    fields: mappedFields(data),
    sync: data._sync as unknown,
    history: parseHistory(data[HISTORY_FIELD]).slice(-HISTORY_LIMIT),
    people: data._people as unknown,
  };
}

export const RECORD_STATUSES = ['active', 'inactive', 'removed'] as const;
export type RecordStatus = (typeof RECORD_STATUSES)[number];

/** Where a record's identifier value is kept: what the prefix search runs on (index in firestore.indexes.json). */
const IDENTIFIER_VALUE = '_sync.identifier.value';
const UPDATED_AT = '_sync.updatedAt';

/**
 * What to list. Firestore has no full-text search, so a search is one of:
 *   - `prefix`: the identifier value starts with the text (case-sensitive, as stored), ordered by it;
 *   - `equals`: one top-level field equals one of the values (a value typed "42" matches the string and the
 *     number), in document-id order.
 * Either may be combined with a status, not with each other (that would need a composite index per field).
 */
export interface RecordFilter {
  status?: RecordStatus | undefined;
  prefix?: string | undefined;
  equals?: { field: string; values: ReadonlyArray<string | number | boolean> } | undefined;
}

/** A position in a listing: the last record returned, with its sort value when sorted by one. */
export interface RecordCursor {
  id: string;
  value?: string;
}

function filtered(db: Firestore, tenantId: string, objectId: string, filter: RecordFilter): Query {
  let query: Query = db.collection(paths.records(tenantId, objectId));
  if (filter.status) query = query.where('_sync.status', '==', filter.status);
  if (filter.equals) {
    const { field, values } = filter.equals;
    query =
      values.length === 1
        ? query.where(new FieldPath(field), '==', values[0])
        : query.where(new FieldPath(field), 'in', [...values]);
  }
  if (filter.prefix !== undefined && filter.prefix !== '') {
    // The largest code point in Firestore's string order closes the range: every value starting with the prefix.
    query = query
      .where(IDENTIFIER_VALUE, '>=', filter.prefix)
      .where(IDENTIFIER_VALUE, '<', `${filter.prefix}\uf8ff`);
  }
  return query;
}

/**
 * One page of records matching the filter, starting after `after`. `more` says whether another page follows
 * (one record beyond `limit` is read to know).
 */
export async function listRecords(
  db: Firestore,
  tenantId: string,
  objectId: string,
  opts: RecordFilter & { limit: number; after?: RecordCursor | undefined },
): Promise<{ records: StoredRecord[]; more: boolean; cursor: (r: StoredRecord) => RecordCursor }> {
  const byPrefix = opts.prefix !== undefined && opts.prefix !== '';
  let query = filtered(db, tenantId, objectId, opts);
  query = byPrefix
    ? query.orderBy(IDENTIFIER_VALUE).orderBy(FieldPath.documentId())
    : query.orderBy(FieldPath.documentId());
  query = query.limit(opts.limit + 1);
  if (opts.after) {
    query = byPrefix
      ? query.startAfter(opts.after.value ?? '', opts.after.id)
      : query.startAfter(opts.after.id);
  }
  const snap = await query.get();
  return {
    records: snap.docs.slice(0, opts.limit).map((d) => storedRecord(d.id, d.data())),
    more: snap.docs.length > opts.limit,
    cursor: (r) => (byPrefix ? { id: r.id, value: identifierValueOf(r) } : { id: r.id }),
  };
}

function identifierValueOf(r: StoredRecord): string {
  const v = (r.sync as { identifier?: { value?: unknown } } | undefined)?.identifier?.value;
  return typeof v === 'string' ? v : String(v ?? '');
}

/** How many records match the filter: a count aggregation (billed one read per 1,000 index entries). */
export async function countRecords(
  db: Firestore,
  tenantId: string,
  objectId: string,
  filter: RecordFilter,
): Promise<number> {
  const snap = await filtered(db, tenantId, objectId, filter).count().get();
  return snap.data().count;
}

/**
 * The change feed: records written (created, updated, removed) at or after `since` and no later than `until`, in
 * the order they were written, ties broken by record id. `_sync.updatedAt` is set by every write of a record,
 * removal marks included. Needs only the single-field index on `_sync.updatedAt`.
 */
export async function listChanges(
  db: Firestore,
  tenantId: string,
  objectId: string,
  opts: {
    since: string;
    until: string;
    limit: number;
    after?: { updatedAt: string; id: string } | undefined;
  },
): Promise<{ records: StoredRecord[]; more: boolean }> {
  let query = db
    .collection(paths.records(tenantId, objectId))
    .where(UPDATED_AT, '>=', opts.since)
    .where(UPDATED_AT, '<=', opts.until)
    .orderBy(UPDATED_AT)
    .orderBy(FieldPath.documentId())
    .limit(opts.limit + 1);
  if (opts.after) query = query.startAfter(opts.after.updatedAt, opts.after.id);
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

const statusOf = (body: DocumentData): string => {
  const s = (body._sync as { status?: unknown } | undefined)?.status;
  return typeof s === 'string' ? s : 'active';
};

/** Who wrote a record body, from its `_sync` block, when the caller does not say. */
function originOf(body: DocumentData): ChangeOrigin {
  const s = (body._sync ?? {}) as Record<string, unknown>;
  const str = (v: unknown) => (typeof v === 'string' ? v : null);
  return {
    at: str(s.updatedAt) ?? new Date().toISOString(),
    source: str(s.source) ?? 'unknown',
    runId: str(s.runId),
    mappingId: str(s.mappingId),
  };
}

/**
 * Whether the object holds any record document at all (one document read at most). A first sync into an empty
 * object creates every record it writes, so it need not read them first for their history.
 */
export async function objectHasRecords(db: Firestore, tenantId: string, objectId: string): Promise<boolean> {
  const snap = await db.collection(paths.records(tenantId, objectId)).select().limit(1).get();
  return !snap.empty;
}

/** Record documents by id, as stored (null: none). */
export type StoredRecordDocs = ReadonlyMap<string, DocumentData | null>;

/** Record documents as stored now, by id (null: none), read in one `getAll` per 500. */
export async function readRecordDocs(
  db: Firestore,
  tenantId: string,
  objectId: string,
  ids: readonly string[],
): Promise<Map<string, DocumentData | null>> {
  const out = new Map<string, DocumentData | null>();
  for (let i = 0; i < ids.length; i += BATCH_LIMIT) {
    const refs = ids.slice(i, i + BATCH_LIMIT).map((id) => db.doc(paths.record(tenantId, objectId, id)));
    if (refs.length === 0) continue;
    for (const snap of await db.getAll(...refs)) out.set(snap.id, snap.exists ? snap.data()! : null);
  }
  return out;
}

/**
 * Writes whole record documents, each with its history: the documents are read first (one `getAll` per 500) to
 * know the values they replace, and the new `_history` goes into the same write (store/record-history.ts).
 * Returns how many documents were written and read.
 */
export async function replaceRecords(
  db: Firestore,
  tenantId: string,
  objectId: string,
  docs: ReadonlyArray<{ id: string; body: DocumentData }>,
  origin?: Omit<ChangeOrigin, 'at'> & { at?: string },
  opts: {
    /** The caller knows none of these documents exist yet (see objectHasRecords): nothing to read first. */
    knownNew?: boolean;
    /** The documents as the caller has just read them (readRecordDocs): not read again. */
    previous?: StoredRecordDocs;
  } = {},
): Promise<{ written: number; reads: number }> {
  let previous: StoredRecordDocs = opts.previous ?? new Map();
  let reads = 0;
  if (!opts.knownNew && !opts.previous) {
    previous = await readRecordDocs(
      db,
      tenantId,
      objectId,
      docs.map((d) => d.id),
    );
    reads = docs.length;
  }
  for (let i = 0; i < docs.length; i += BATCH_LIMIT) {
    const chunk = docs.slice(i, i + BATCH_LIMIT);
    const refs = chunk.map(({ id }) => db.doc(paths.record(tenantId, objectId, id)));
    const batch = db.batch();
    chunk.forEach(({ id, body }, k) => {
      const prior = previous.get(id) ?? null;
      const before = prior ? storedRecord(id, prior) : null;
      const fields = mappedFields(body);
      const from = originOf(body);
      const entry = changeEntry(
        { ...from, ...origin, at: origin?.at ?? from.at },
        before && { fields: before.fields, status: before.sync ? statusOf({ _sync: before.sync }) : null },
        { fields, status: statusOf(body) },
      );
      const history = prior ? appendHistory(prior[HISTORY_FIELD], entry) : [entry];
      batch.set(refs[k]!, { ...body, [HISTORY_FIELD]: history });
    });
    await batch.commit();
  }
  return { written: docs.length, reads };
}

/**
 * Marks records removed (never deleted): merges the removal into `_sync`, moves `_sync.updatedAt` (the change
 * feed reports removals) and appends a removal entry to the history, in one write per record and without a
 * read (the history may exceed its bound by this one entry until the record's next write trims it).
 */
export async function markRecordsRemoved(
  db: Firestore,
  tenantId: string,
  objectId: string,
  removals: ReadonlyArray<{ id: string; reason: string; fields?: DocumentData }>,
  origin: ChangeOrigin,
): Promise<number> {
  for (let i = 0; i < removals.length; i += BATCH_LIMIT) {
    const batch = db.batch();
    for (const { id, reason, fields } of removals.slice(i, i + BATCH_LIMIT)) {
      batch.set(
        db.doc(paths.record(tenantId, objectId, id)),
        {
          ...fields,
          _sync: {
            status: 'removed',
            removedAt: origin.at,
            removedRunId: origin.runId,
            removedReason: reason,
            updatedAt: origin.at,
          },
          [HISTORY_FIELD]: FieldValue.arrayUnion(removalEntry(origin, reason)),
        },
        { merge: true },
      );
    }
    await batch.commit();
  }
  return removals.length;
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

/**
 * The synced fields and `_sync.status` of record documents (readRecordDocs): what a records.changed
 * notification compares a page's writes with.
 */
export function recordsForDiff(
  docs: StoredRecordDocs,
): Map<string, { fields: DocumentData; status: unknown } | null> {
  const out = new Map<string, { fields: DocumentData; status: unknown } | null>();
  for (const [id, data] of docs) {
    // The mapped fields only: bookkeeping (`_sync`, `_history`, `_people`) is not a change a host sees.
    out.set(
      id,
      data && {
        fields: mappedFields(data),
        status: (data._sync as { status?: unknown } | undefined)?.status,
      },
    );
  }
  return out;
}

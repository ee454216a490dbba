import { z } from 'zod';

/**
 * The change history of one synced record: the `_history` field of its own document
 * (`tenants/{t}/objects/{o}/records/{id}`), the last HISTORY_LIMIT changes, oldest first.
 *
 * Why inside the record and not a document per change: a history document per change would double the writes of
 * every changed record (and of a first sync), would have to be paced by the write ramp too, and could only be
 * bounded by a TTL (trimming to "the last 20" needs to know the older entries). Kept in the record, the history
 * is written by the very write that changes the record (same commit, no extra write). What it costs is one read
 * per written record (one `getAll` per page of changed records), to know the values it replaces; reads cost a
 * third of a write, and unchanged records (the hash index skips them) still cost nothing. The people store
 * already reads every person it writes, so for merged people it costs nothing at all.
 *
 * Entries keep values shortened (HISTORY_VALUE_CHARS) and the field is exempt from indexing
 * (infra/firestore.indexes.json), so 20 entries stay small next to Firestore's 1 MiB document limit.
 */

export const HISTORY_FIELD = '_history';
export const HISTORY_LIMIT = 20;
const HISTORY_VALUE_CHARS = 200;

export const CHANGE_KINDS = ['created', 'updated', 'removed', 'restored'] as const;
export type ChangeKind = (typeof CHANGE_KINDS)[number];

const historyValueSchema = z.union([z.string(), z.number(), z.boolean(), z.null()]);
export type HistoryValue = z.infer<typeof historyValueSchema>;

const fieldChangeSchema = z.object({ field: z.string(), from: historyValueSchema, to: historyValueSchema });
export type FieldChange = z.infer<typeof fieldChangeSchema>;

export const historyEntrySchema = z.object({
  at: z.string(),
  kind: z.enum(CHANGE_KINDS),
  /** Who wrote it: a sync run (with its mapping and source), or a write-back by an admin. */
  source: z.string(),
  runId: z.string().nullable(),
  mappingId: z.string().nullable(),
  by: z.string().nullable().default(null),
  changes: z.array(fieldChangeSchema),
  /** For a removal: why. */
  reason: z.string().nullable().default(null),
});
export type HistoryEntry = z.infer<typeof historyEntrySchema>;

/** Who is writing, for the entry. */
export interface ChangeOrigin {
  at: string;
  source: string;
  runId: string | null;
  mappingId: string | null;
  by?: string | null;
}

/** A stored `_history` value, read leniently: entries that do not parse are dropped, never fatal to a write. */
export function parseHistory(raw: unknown): HistoryEntry[] {
  if (!Array.isArray(raw)) return [];
  const out: HistoryEntry[] = [];
  for (const e of raw) {
    const parsed = historyEntrySchema.safeParse(e);
    if (parsed.success) out.push(parsed.data);
  }
  return out;
}

/** A value as history keeps it: scalars as they are, anything else as shortened JSON. */
export function historyValue(v: unknown): HistoryValue {
  if (v === undefined || v === null) return null;
  if (typeof v === 'number' || typeof v === 'boolean') return v;
  const s = typeof v === 'string' ? v : JSON.stringify(v);
  return s.length > HISTORY_VALUE_CHARS ? `${s.slice(0, HISTORY_VALUE_CHARS - 1)}…` : s;
}

/** The fields whose value differs between two versions of a record (absent = null), in a stable order. */
export function diffFields(
  before: Record<string, unknown> | null,
  after: Record<string, unknown>,
): FieldChange[] {
  const keys = [...new Set([...Object.keys(before ?? {}), ...Object.keys(after)])].sort();
  const changes: FieldChange[] = [];
  for (const field of keys) {
    const from = before?.[field] ?? null;
    const to = after[field] ?? null;
    if (JSON.stringify(from) === JSON.stringify(to)) continue;
    changes.push({ field, from: historyValue(from), to: historyValue(to) });
  }
  return changes;
}

/**
 * The entry for a record written from `after` over `before` (null: it did not exist). A "created" entry names no
 * field values: they are the record's own until an update, whose `from` then keeps them, so repeating them here
 * would double every new document (a first sync writes tens of thousands) and tell nothing more.
 */
export function changeEntry(
  origin: ChangeOrigin,
  before: { fields: Record<string, unknown>; status: string | null } | null,
  after: { fields: Record<string, unknown>; status: string },
): HistoryEntry {
  const kind: ChangeKind = !before
    ? 'created'
    : before.status === 'removed' && after.status !== 'removed'
      ? 'restored'
      : 'updated';
  const changes = before ? diffFields(before.fields, after.fields) : [];
  if (before && before.status !== after.status && after.status !== 'removed') {
    changes.unshift({ field: '(status)', from: before.status, to: after.status });
  }
  return entryOf(origin, kind, changes, null);
}

export function removalEntry(origin: ChangeOrigin, reason: string): HistoryEntry {
  return entryOf(origin, 'removed', [], reason);
}

function entryOf(
  origin: ChangeOrigin,
  kind: ChangeKind,
  changes: FieldChange[],
  reason: string | null,
): HistoryEntry {
  return {
    at: origin.at,
    kind,
    source: origin.source,
    runId: origin.runId,
    mappingId: origin.mappingId,
    by: origin.by ?? null,
    changes,
    reason,
  };
}

/** The stored history with one entry more, trimmed to the last HISTORY_LIMIT. */
export function appendHistory(stored: unknown, entry: HistoryEntry): HistoryEntry[] {
  return [...parseHistory(stored), entry].slice(-HISTORY_LIMIT);
}

/** Per field, its last changes (newest first): what the detail view shows next to each field. */
export function historyByField(
  entries: readonly HistoryEntry[],
): Record<
  string,
  Array<{ at: string; from: HistoryValue; to: HistoryValue; runId: string | null; source: string }>
> {
  const out: Record<
    string,
    Array<{ at: string; from: HistoryValue; to: HistoryValue; runId: string | null; source: string }>
  > = {};
  for (const e of [...entries].reverse()) {
    for (const c of e.changes) {
      (out[c.field] ??= []).push({ at: e.at, from: c.from, to: c.to, runId: e.runId, source: e.source });
    }
  }
  return out;
}

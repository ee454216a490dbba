import {
  FieldPath,
  FieldValue,
  type DocumentData,
  type DocumentSnapshot,
  type Firestore,
} from '@google-cloud/firestore';
import { z } from 'zod';
import { paths } from '../../../shared/firestore-paths.js';
import { PEOPLE_OBJECT } from '../../../shared/mapping.js';
import type { Logger } from '../platform/log.js';
import { contentHash } from '../engine/content-hash.js';
import type { FirestoreMeter } from '../engine/firestore-meter.js';
import { mergePerson, type MergedPerson } from '../people/merge-person.js';
import { personRecordId } from '../people/person-record-id.js';
import {
  DEFAULT_PRECEDENCE_POLICY,
  precedencePolicySchema,
  type PrecedencePolicy,
} from '../people/precedence-policy.js';
import { SOURCE_NAMES, type SourceName, type SourcePerson } from '../people/source-person.js';
import { appendHistory, changeEntry, HISTORY_FIELD } from './record-history.js';

/**
 * The merged people object: `tenants/{t}/objects/people/records/{normalized email}`. Each source (the Google
 * sync with a `people` mapping, the Entra sync) hands its changes here; the store folds them into the stored
 * person with mergePerson and the tenant's precedence policy.
 *
 * Stored document:
 *   - the merged fields at the top level (what host products read), plus `email` (the join key) and `active`;
 *   - `_people`: provenance per field, what each source last said (kept after removal), status, removal reasons;
 *   - `_sync`: the block every synced record has (status, inactiveReason, removedAt, removedReason, ...).
 *
 * Writes are optimistic: a document is created only if still absent and replaced only if unchanged since it
 * was read, so the Google and Entra syncs of one tenant can run at the same time without losing each other's
 * contribution (a conflicting chunk is read, merged and written again).
 */

export type PersonChange =
  | { kind: 'upsert'; person: SourcePerson }
  /**
   * The person is gone from the source. With `sourceId`, only when the stored record of that source still
   * belongs to that source object (an address can move from one Entra user to another).
   */
  | { kind: 'remove'; recordId: string; sourceId?: string; reason: string };

export interface ApplyContext {
  source: SourceName;
  /** ISO time of the observation; older than what is stored for the source = ignored (see mergePerson). */
  at: string;
  runId: string;
  /** The mapping whose run writes. */
  writer: string;
}

/** Per change, from the source's point of view. */
export interface ApplyResult {
  created: number;
  updated: number;
  unchanged: number;
  removed: number;
  /** Removals of people the source never had (or no longer has), and stale observations. */
  ignored: number;
  failed: number;
  /** People now removed from every source. */
  personsRemoved: number;
  /** Documents written. */
  written: number;
  errors: string[];
}

export const emptyApplyResult = (): ApplyResult => ({
  created: 0,
  updated: 0,
  unchanged: 0,
  removed: 0,
  ignored: 0,
  failed: 0,
  personsRemoved: 0,
  written: 0,
  errors: [],
});

export function addApplyResults(a: ApplyResult, b: ApplyResult): ApplyResult {
  return {
    created: a.created + b.created,
    updated: a.updated + b.updated,
    unchanged: a.unchanged + b.unchanged,
    removed: a.removed + b.removed,
    ignored: a.ignored + b.ignored,
    failed: a.failed + b.failed,
    personsRemoved: a.personsRemoved + b.personsRemoved,
    written: a.written + b.written,
    errors: [...a.errors, ...b.errors],
  };
}

const BATCH_LIMIT = 500;
const MAX_ATTEMPTS = 5;
const MAX_ERRORS = 20;

const SOURCE_LABELS: Record<SourceName, string> = { google: 'Google Workspace', entra: 'Microsoft Entra' };

const sourceRecordSchema = z.object({
  sourceId: z.string(),
  fields: z.record(z.string(), z.unknown()),
  active: z.boolean(),
  lastSeenAt: z.string(),
  removedAt: z.string().optional(),
});

const peopleBlockSchema = z.object({
  email: z.string(),
  provenance: z.record(z.string(), z.enum(SOURCE_NAMES)),
  sources: z.partialRecord(z.enum(SOURCE_NAMES), sourceRecordSchema),
  status: z.enum(['active', 'inactive', 'removed']),
  removedReasons: z.partialRecord(z.enum(SOURCE_NAMES), z.string()).default({}),
});

const syncBlockSchema = z
  .object({ removedAt: z.string().nullish(), removedRunId: z.string().nullish() })
  .loose();

interface StoredPerson {
  merged: MergedPerson;
  removedReasons: Partial<Record<SourceName, string>>;
  removedAt: string | null;
  removedRunId: string | null;
}

/** Top-level keys that are not merged fields. */
const BOOKKEEPING_KEYS = new Set(['email', '_people', '_sync', HISTORY_FIELD]);

/** A stored person; null for an absent document or one not written by this store (it is then replaced). */
export function parseStoredPerson(data: DocumentData | undefined): StoredPerson | null {
  if (!data) return null;
  const people = peopleBlockSchema.safeParse(data._people);
  if (!people.success) return null;
  const sync = syncBlockSchema.safeParse(data._sync ?? {});
  const fields: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(data)) if (!BOOKKEEPING_KEYS.has(k)) fields[k] = v;
  const { removedReasons, ...block } = people.data;
  return {
    merged: { ...block, fields },
    removedReasons,
    removedAt: sync.success ? (sync.data.removedAt ?? null) : null,
    removedRunId: sync.success ? (sync.data.removedRunId ?? null) : null,
  };
}

/** The tenant's `peoplePrecedence`, or the default (Google, then Entra overwrites) when unset or invalid. */
export async function loadPrecedencePolicy(
  db: Firestore,
  tenantId: string,
  log?: Logger,
): Promise<PrecedencePolicy> {
  const snap = await db.doc(paths.tenant(tenantId)).get();
  const raw: unknown = snap.get('peoplePrecedence');
  if (raw === undefined || raw === null) return DEFAULT_PRECEDENCE_POLICY;
  const parsed = precedencePolicySchema.safeParse(raw);
  if (parsed.success) return parsed.data;
  log?.warn('invalid peoplePrecedence on the tenant; using the default order', {
    tenantId,
    issues: parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`),
  });
  return DEFAULT_PRECEDENCE_POLICY;
}

export interface PeopleStoreOptions {
  db: Firestore;
  tenantId: string;
  policy: PrecedencePolicy;
  meter?: FirestoreMeter;
  log?: Logger;
}

export class PeopleStore {
  constructor(private readonly opts: PeopleStoreOptions) {}

  /** A store with the tenant's precedence policy (one tenant document read). */
  static async open(
    db: Firestore,
    tenantId: string,
    extra: { meter?: FirestoreMeter; log?: Logger } = {},
  ): Promise<PeopleStore> {
    const policy = await loadPrecedencePolicy(db, tenantId, extra.log);
    if (extra.meter) extra.meter.reads++;
    return new PeopleStore({ db, tenantId, policy, ...extra });
  }

  get policy(): PrecedencePolicy {
    return this.opts.policy;
  }

  /**
   * Applies one source's changes: reads only the people concerned (getAll, ≤ 500 per call), merges, and writes
   * the ones whose merged content changed (≤ 500 per batch). Changes for one person are applied in order.
   */
  async apply(changes: readonly PersonChange[], ctx: ApplyContext): Promise<ApplyResult> {
    const byDoc = new Map<string, PersonChange[]>();
    for (const change of changes) {
      if (change.kind === 'upsert' && change.person.source !== ctx.source) {
        throw new Error(`PeopleStore.apply: a ${change.person.source} person in a ${ctx.source} update`);
      }
      const id = change.kind === 'upsert' ? personRecordId(change.person.email) : change.recordId;
      const list = byDoc.get(id);
      if (list) list.push(change);
      else byDoc.set(id, [change]);
    }
    const ids = [...byDoc.keys()];
    let result = emptyApplyResult();
    for (let i = 0; i < ids.length; i += BATCH_LIMIT) {
      result = addApplyResults(result, await this.applyChunk(ids.slice(i, i + BATCH_LIMIT), byDoc, ctx));
    }
    if (result.errors.length > MAX_ERRORS) result.errors = result.errors.slice(0, MAX_ERRORS);
    return result;
  }

  private async applyChunk(
    ids: string[],
    byDoc: Map<string, PersonChange[]>,
    ctx: ApplyContext,
  ): Promise<ApplyResult> {
    const { db, tenantId, meter } = this.opts;
    const refs = ids.map((id) => db.doc(paths.record(tenantId, PEOPLE_OBJECT, id)));
    for (let attempt = 1; ; attempt++) {
      const snaps = await db.getAll(...refs);
      if (meter) meter.reads += snaps.length;
      const result = emptyApplyResult();
      const batch = db.batch();
      let writes = 0;
      snaps.forEach((snap, k) => {
        const doc = this.plan(snap, byDoc.get(ids[k]!) ?? [], ctx, result);
        if (!doc) return;
        if (snap.exists) {
          const [field, value, ...rest] = replacementArgs(snap.data() ?? {}, doc);
          batch.update(refs[k]!, field as FieldPath, value, ...rest, { lastUpdateTime: snap.updateTime! });
        } else {
          batch.create(refs[k]!, doc);
        }
        writes++;
      });
      if (writes === 0) return result;
      try {
        await batch.commit();
      } catch (err) {
        if (!isWriteConflict(err) || attempt >= MAX_ATTEMPTS) throw err;
        // Another source wrote one of these people since we read them: read, merge and write again.
        this.opts.log?.info('people write conflict; retrying the chunk', { attempt, people: ids.length });
        await new Promise((r) => setTimeout(r, Math.round(Math.random() * 50 * attempt)));
        continue;
      }
      if (meter) meter.recordWrites += writes;
      result.written = writes;
      return result;
    }
  }

  /** The document to write for one person, or null when nothing that matters changed. */
  private plan(
    snap: DocumentSnapshot,
    changes: readonly PersonChange[],
    ctx: ApplyContext,
    result: ApplyResult,
  ): Record<string, unknown> | null {
    const stored = snap.exists ? parseStoredPerson(snap.data()) : null;
    let merged = stored?.merged ?? null;
    const removedReasons = { ...stored?.removedReasons };
    for (const change of changes) {
      try {
        if (change.kind === 'upsert') {
          const before = merged?.sources[ctx.source];
          const next = mergePerson(
            merged,
            { source: ctx.source, person: change.person, at: ctx.at },
            this.opts.policy,
          );
          if (next === merged) {
            result.ignored++;
            continue;
          }
          const after = next.sources[ctx.source];
          if (!before || before.removedAt !== undefined) result.created++;
          else if (contentHash(sourceContent(before)) === contentHash(sourceContent(after)))
            result.unchanged++;
          else result.updated++;
          delete removedReasons[ctx.source];
          merged = next;
        } else {
          const current = merged?.sources[ctx.source];
          if (
            !merged ||
            !current ||
            current.removedAt !== undefined ||
            (change.sourceId !== undefined && current.sourceId !== change.sourceId)
          ) {
            result.ignored++;
            continue;
          }
          const next = mergePerson(
            merged,
            { source: ctx.source, person: null, at: ctx.at },
            this.opts.policy,
          );
          if (next === merged) {
            result.ignored++;
            continue;
          }
          result.removed++;
          removedReasons[ctx.source] = change.reason;
          merged = next;
        }
      } catch (err) {
        result.failed++;
        result.errors.push(`${snap.id}: ${err instanceof Error ? err.message : String(err)}`);
      }
    }
    if (!merged) return null;
    if (stored && fingerprint(stored.merged) === fingerprint(merged)) return null;
    if (merged.status === 'removed' && stored?.merged.status !== 'removed') result.personsRemoved++;
    const doc = personDocument(merged, stored, removedReasons, ctx);
    // The person's history goes into the same write (store/record-history.ts); the document was read anyway.
    const entry = changeEntry(
      { at: ctx.at, source: ctx.source, runId: ctx.runId, mappingId: ctx.writer },
      stored && { fields: stored.merged.fields, status: stored.merged.status },
      { fields: merged.fields, status: merged.status },
    );
    if (merged.status === 'removed' && stored?.merged.status !== 'removed') {
      entry.kind = 'removed';
      entry.reason = String((doc._sync as { removedReason?: unknown }).removedReason ?? 'removed');
    }
    doc[HISTORY_FIELD] = appendHistory(snap.get(HISTORY_FIELD), entry);
    return doc;
  }
}

function sourceContent(record: MergedPerson['sources'][SourceName]) {
  return record
    ? {
        sourceId: record.sourceId,
        fields: record.fields,
        active: record.active,
        removedAt: record.removedAt ?? null,
      }
    : null;
}

/** What a person's document says, without observation times: equal fingerprints = nothing to write. */
function fingerprint(m: MergedPerson): string {
  const sources: Record<string, unknown> = {};
  for (const name of SOURCE_NAMES) sources[name] = sourceContent(m.sources[name]);
  return contentHash({
    email: m.email,
    fields: m.fields,
    provenance: m.provenance,
    status: m.status,
    sources,
  });
}

/** JSON round trip: drops undefined (Firestore rejects it) from data that came from JSON anyway. */
const plain = <T>(value: T): T => JSON.parse(JSON.stringify(value)) as T;

function personDocument(
  merged: MergedPerson,
  stored: StoredPerson | null,
  removedReasons: Partial<Record<SourceName, string>>,
  ctx: ApplyContext,
): Record<string, unknown> {
  const live = SOURCE_NAMES.filter((n) => merged.sources[n] && merged.sources[n].removedAt === undefined);
  const removed = merged.status === 'removed';
  const stillRemoved = removed && stored?.merged.status === 'removed';
  const had = SOURCE_NAMES.filter((n) => merged.sources[n]);
  return {
    ...plain(merged.fields),
    email: merged.email,
    _people: plain({
      email: merged.email,
      provenance: merged.provenance,
      sources: merged.sources,
      status: merged.status,
      removedReasons,
    }),
    _sync: {
      source: 'people',
      /** The sources that currently have this person. */
      sources: live,
      entity: 'users',
      objectId: PEOPLE_OBJECT,
      identifier: { field: 'email', value: merged.email },
      status: merged.status,
      inactiveReason:
        merged.status === 'inactive'
          ? `not active in any source that has this person (${live.map((n) => SOURCE_LABELS[n]).join(', ')})`
          : null,
      lastSource: ctx.source,
      mappingId: ctx.writer,
      runId: ctx.runId,
      updatedAt: ctx.at,
      removedAt: removed ? (stillRemoved ? (stored?.removedAt ?? ctx.at) : ctx.at) : null,
      removedRunId: removed ? (stillRemoved ? (stored?.removedRunId ?? ctx.runId) : ctx.runId) : null,
      removedReason: removed
        ? `gone from every source that had this person: ${had
            .map((n) => `${SOURCE_LABELS[n]} (${removedReasons[n] ?? 'removed'})`)
            .join('; ')}`
        : null,
    },
  };
}

/** update() arguments that turn `previous` into exactly `next`: every key set, every other key deleted. */
function replacementArgs(previous: DocumentData, next: Record<string, unknown>): unknown[] {
  const args: unknown[] = [];
  for (const [k, v] of Object.entries(next)) args.push(new FieldPath(k), v);
  for (const k of Object.keys(previous)) if (!(k in next)) args.push(new FieldPath(k), FieldValue.delete());
  return args;
}

/** FAILED_PRECONDITION (changed since read), ALREADY_EXISTS (created since read), ABORTED (contention). */
function isWriteConflict(err: unknown): boolean {
  const code = (err as { code?: unknown } | null)?.code;
  return code === 9 || code === 6 || code === 10;
}

import type { Db as Firestore } from '../store/firestore.js';
import { markRecordsRemoved, objectHasRecords, readRecordDocs, replaceRecords } from '../store/records.js';
import { markOwnLoginUsersRemoved } from '../store/login-users.js';
import { objectIdOf, type Mapping } from '../../../shared/mapping.js';
import { PeopleStore, type ApplyResult } from '../store/people.js';
import type { Clock } from '../platform/clock.js';
import type { Logger } from '../platform/log.js';
import type { FirestoreMeter } from './firestore-meter.js';
import type { MappedRecord } from './record-mapper.js';
import { rampPacer, unpaced, type WritePacer } from './write-pacer.js';
import type { NotifyDeps } from '../notifications/emit.js';
import { recordChangeNotifier } from '../notifications/record-changes.js';

/**
 * Where a run puts its records. Change detection (hash index), paging, checkpoints and the removal threshold
 * stay in the engine; a sink only writes what changed and marks what is gone.
 */
export interface RecordSink {
  /** Created or changed records of one page; what could not be written is reported, not thrown. */
  write(records: readonly MappedRecord[]): Promise<{ failed: number; errors: string[] }>;
  /** Records gone from the source (after the removal safety threshold was checked); returns how many. */
  markRemoved(removals: readonly Removal[]): Promise<number>;
}

export interface Removal {
  recordId: string;
  reason: string;
  /** The source object the record was stored from, when known: a person's source is removed only if it matches. */
  sourceId?: string;
}

export interface SinkContext {
  db: Firestore;
  clock: Clock;
  log: Logger;
  tenantId: string;
  mapping: Mapping;
  runId: string;
  meter: FirestoreMeter;
  /** Why a record absent from a complete pass is removed (the source's words). */
  removalReason: string;
  /** Pace record writes by Firestore's 500/50/5 ramp (SYNC_WRITE_RAMP; engine/write-pacer.ts). */
  writeRamp?: boolean;
  /** Tests pass their own; otherwise made from writeRamp and the clock. */
  pacer?: WritePacer;
  /** records.changed notifications (notifications/record-changes.ts); absent: none. */
  notify?: NotifyDeps | undefined;
}

export function recordSinkFor(ctx: SinkContext): RecordSink {
  const sink = ctx.mapping.target.kind === 'people' ? peopleSink(ctx) : collectionSink(ctx);
  const pacer = ctx.pacer ?? (ctx.writeRamp ? rampPacer(ctx.clock) : unpaced);
  return pacedSink(sink, pacer);
}

/** Every record write and removal mark is one document write (people: about one per record), so both are paced. */
export function pacedSink(sink: RecordSink, pacer: WritePacer): RecordSink {
  return {
    async write(records) {
      await pacer.beforeWrites(records.length);
      return sink.write(records);
    },
    async markRemoved(removals) {
      await pacer.beforeWrites(removals.length);
      return sink.markRemoved(removals);
    },
  };
}

/** One document per record in the mapping's object, replaced on change, marked (never deleted) on removal. */
export function collectionSink(ctx: SinkContext): RecordSink {
  const { db, clock, tenantId, mapping, runId, meter } = ctx;
  const objectId = objectIdOf(mapping.target);
  // Asked once, before this invocation's first write: a first sync into an empty object creates every record it
  // writes, so it skips reading them for their history (a resumed or later invocation finds records and reads).
  let emptyAtStart: Promise<boolean> | null = null;
  const notifier = ctx.notify
    ? recordChangeNotifier(ctx.notify, { tenantId, mappingId: mapping.id, runId, objectId })
    : null;
  return {
    async write(records) {
      emptyAtStart ??= objectHasRecords(db, tenantId, objectId).then((has) => {
        meter.reads += 1;
        return !has;
      });
      const knownNew = await emptyAtStart;
      const now = new Date(clock.now()).toISOString();
      // The records as stored before, read once (unless the object was empty): for their history, and for the
      // fields a records.changed event names.
      const ids = records.map((r) => r.recordId);
      const previous = knownNew ? null : await readRecordDocs(db, tenantId, objectId, ids);
      if (previous) meter.reads += ids.length;
      // Staged before the writes, published after: a crash in between redoes the page and stages the same event.
      const published = await notifier?.beforeWrite(records, previous ?? new Map());
      // Read into a local first: `+= await` would add to the value read before the await, losing the writes
      // of pages written concurrently (a partitioned pass overlaps them).
      const { written } = await replaceRecords(
        db,
        tenantId,
        objectId,
        records.map((r) => ({
          id: r.recordId,
          body: {
            ...r.data,
            _sync: {
              source: mapping.source,
              entity: mapping.entity,
              // A login user handed over to the login-users mapping that owns it is written as that one's.
              mappingId: r.mappingId ?? mapping.id,
              sourceId: r.sourceId,
              identifier: { field: mapping.identifier, value: r.identifierValue },
              status: r.status,
              inactiveReason: r.inactiveReason,
              hash: r.hash,
              runId,
              updatedAt: now,
              removedAt: null,
              removedReason: null,
            },
          },
        })),
        { source: mapping.source, runId, mappingId: mapping.id, at: now },
        knownNew ? { knownNew } : { previous: previous! },
      );
      meter.recordWrites += written;
      await published?.();
      return { failed: 0, errors: [] };
    },
    async markRemoved(removals) {
      const removedAt = new Date(clock.now()).toISOString();
      const published = await notifier?.beforeRemove(removals);
      if (mapping.target.kind === 'loginUsers') {
        // Login users are shared by the tenant's login-users mappings: only this mapping's own are marked.
        const { marked, keptForOthers } = await markOwnLoginUsersRemoved(
          db,
          tenantId,
          mapping.id,
          removals.map(({ recordId, reason }) => ({
            id: recordId,
            body: {
              _sync: { status: 'removed', removedAt, removedRunId: runId, removedReason: reason },
              active: false,
            },
          })),
        );
        meter.recordWrites += marked;
        if (keptForOthers > 0)
          ctx.log.info('login users another login-users mapping wrote since were left to it', {
            keptForOthers,
          });
        await published?.();
        return marked;
      }
      // Marked, never deleted: the host product decides what a removal means (retire an asset, keep history).
      // Read into a local first: `+= await` would add to the value read before the await, losing the writes
      // of pages written concurrently (a partitioned pass overlaps them).
      const written = await markRecordsRemoved(
        db,
        tenantId,
        objectId,
        removals.map(({ recordId, reason }) => ({
          id: recordId,
          reason,
          ...(mapping.target.kind === 'loginUsers' ? { fields: { active: false } } : {}),
        })),
        { at: removedAt, source: mapping.source, runId, mappingId: mapping.id },
      );
      meter.recordWrites += written;
      await published?.();
      return removals.length;
    },
  };
}

/**
 * A source of the merged people object: changed users are merged into their person, users gone from the source
 * are removed from the person's record of that source (the person stays while another source has them).
 */
export function peopleSink(ctx: SinkContext): RecordSink {
  const { db, clock, log, tenantId, mapping, runId, meter } = ctx;
  let store: Promise<PeopleStore> | null = null;
  // Opened on first use: an unchanged re-sync reads nothing more than before.
  const open = () => (store ??= PeopleStore.open(db, tenantId, { meter, log }));
  const applyContext = () => ({
    source: mapping.source,
    at: new Date(clock.now()).toISOString(),
    runId,
    writer: mapping.id,
  });
  const report = (what: string, result: ApplyResult) => {
    if (result.errors.length > 0) log.warn(`people merge skipped some ${what}`, { errors: result.errors });
    return { failed: result.failed, errors: result.errors };
  };
  return {
    async write(records) {
      if (records.length === 0) return { failed: 0, errors: [] };
      const result = await (
        await open()
      ).apply(
        records.map((r) => ({
          kind: 'upsert',
          person: {
            source: mapping.source,
            sourceId: r.sourceId,
            email: r.identifierValue,
            active: r.status === 'active',
            fields: r.data,
          },
        })),
        applyContext(),
      );
      return report('updates', result);
    },
    async markRemoved(removals) {
      if (removals.length === 0) return 0;
      const result = await (
        await open()
      ).apply(
        removals.map((r) => ({ kind: 'remove' as const, ...r })),
        applyContext(),
      );
      report('removals', result);
      return result.removed;
    },
  };
}

import type { Firestore } from '@google-cloud/firestore';
import { paths } from '../../../shared/firestore-paths.js';
import { objectIdOf, type Mapping } from '../../../shared/mapping.js';
import { PeopleStore } from '../store/people.js';
import type { Clock } from '../platform/clock.js';
import type { Logger } from '../platform/log.js';
import type { FirestoreMeter } from './firestore-meter.js';
import type { MappedRecord } from './record-mapper.js';

/**
 * Where a Google sync run puts its records. Change detection (hash index), paging, checkpoints and the removal
 * threshold stay in the runner; a sink only writes what changed and marks what is gone.
 */
export interface RecordSink {
  /** Created or changed records of one page. */
  write(records: readonly MappedRecord[]): Promise<void>;
  /** Records not returned by a complete pass (after the removal safety threshold was checked). */
  markRemoved(recordIds: readonly string[]): Promise<void>;
}

export interface SinkContext {
  db: Firestore;
  clock: Clock;
  log: Logger;
  tenantId: string;
  mapping: Mapping;
  runId: string;
  meter: FirestoreMeter;
}

const BATCH_LIMIT = 500;

export const GOOGLE_REMOVAL_REASON =
  'not returned by Google Workspace in a complete sync (deleted there, or moved out of the mapped org units)';

export function recordSinkFor(ctx: SinkContext): RecordSink {
  return ctx.mapping.target.kind === 'people' ? peopleSink(ctx) : collectionSink(ctx);
}

/** One document per record in the mapping's object, replaced on change, marked (never deleted) on removal. */
export function collectionSink(ctx: SinkContext): RecordSink {
  const { db, clock, tenantId, mapping, runId, meter } = ctx;
  const objectId = objectIdOf(mapping.target);
  return {
    async write(records) {
      const now = new Date(clock.now()).toISOString();
      for (let i = 0; i < records.length; i += BATCH_LIMIT) {
        const batch = db.batch();
        for (const r of records.slice(i, i + BATCH_LIMIT)) {
          batch.set(db.doc(paths.record(tenantId, objectId, r.recordId)), {
            ...r.data,
            _sync: {
              source: 'google',
              entity: mapping.entity,
              mappingId: mapping.id,
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
          });
        }
        await batch.commit();
        meter.recordWrites += Math.min(BATCH_LIMIT, records.length - i);
      }
    },
    async markRemoved(recordIds) {
      const removedAt = new Date(clock.now()).toISOString();
      for (let i = 0; i < recordIds.length; i += BATCH_LIMIT) {
        const batch = db.batch();
        for (const id of recordIds.slice(i, i + BATCH_LIMIT)) {
          // Marked, never deleted: the host product decides what a removal means (retire an asset, keep history).
          const body: Record<string, unknown> = {
            _sync: {
              status: 'removed',
              removedAt,
              removedRunId: runId,
              removedReason: GOOGLE_REMOVAL_REASON,
            },
          };
          if (mapping.target.kind === 'loginUsers') body.active = false;
          batch.set(db.doc(paths.record(tenantId, objectId, id)), body, { merge: true });
        }
        await batch.commit();
        meter.recordWrites += Math.min(BATCH_LIMIT, recordIds.length - i);
      }
    },
  };
}

/**
 * The Google source of the merged people object: changed users are merged into their person, users gone from
 * Google are removed from the person's Google source (the person stays while another source has them).
 */
export function peopleSink(ctx: SinkContext): RecordSink {
  const { db, clock, log, tenantId, mapping, runId, meter } = ctx;
  let store: Promise<PeopleStore> | null = null;
  // Opened on first use: an unchanged re-sync reads nothing more than before.
  const open = () => (store ??= PeopleStore.open(db, tenantId, { meter, log }));
  const applyContext = () => ({
    source: 'google' as const,
    at: new Date(clock.now()).toISOString(),
    runId,
    writer: mapping.id,
  });
  const report = (what: string, errors: string[]) => {
    if (errors.length > 0) log.warn(`people merge skipped some ${what}`, { errors });
  };
  return {
    async write(records) {
      if (records.length === 0) return;
      const result = await (
        await open()
      ).apply(
        records.map((r) => ({
          kind: 'upsert',
          person: {
            source: 'google',
            sourceId: r.sourceId,
            email: r.identifierValue,
            active: r.status === 'active',
            fields: r.data,
          },
        })),
        applyContext(),
      );
      report('updates', result.errors);
    },
    async markRemoved(recordIds) {
      if (recordIds.length === 0) return;
      const result = await (
        await open()
      ).apply(
        recordIds.map((recordId) => ({ kind: 'remove', recordId, reason: GOOGLE_REMOVAL_REASON })),
        applyContext(),
      );
      report('removals', result.errors);
    },
  };
}

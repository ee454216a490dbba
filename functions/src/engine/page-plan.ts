import { entityOf, type Mapping } from '../../../shared/mapping.js';
import type { PassKind } from './decisions.js';
import {
  mapLoginUser,
  mapSourceObject,
  type LoginUsersOwnership,
  type MappedRecord,
} from './record-mapper.js';
import type { SourceChange } from './source.js';
import { zeroCounts, type SyncCounts } from './sync-counts.js';

/**
 * What one page of a source means for the mapping, decided without I/O: which records to write, which the
 * page saw, which it reported removed, and the counts. Changes are taken in the order the source reported
 * them, so an object removed and then restored in one page ends restored, and one restored then removed ends
 * removed.
 */

/** An index or seen entry: "contentHash|sourceId" (older index entries hold the hash alone). */
export const entryOf = (r: Pick<MappedRecord, 'hash' | 'sourceId'>) => `${r.hash}|${r.sourceId}`;
export const hashOfEntry = (e: string) => {
  const bar = e.indexOf('|');
  return bar < 0 ? e : e.slice(0, bar);
};
export const sourceIdOfEntry = (e: string) => {
  const bar = e.indexOf('|');
  return bar < 0 ? '' : e.slice(bar + 1);
};

/** What the run knows before this page. */
export interface PassView {
  /** The index from the last completed run: recordId -> entry. */
  indexed(recordId: string): string | undefined;
  /** What earlier pages of this run saw: recordId -> entry. */
  seen(recordId: string): string | undefined;
  /** The record a source object is stored as (from this run's pages, else the index). */
  recordOfSource(sourceId: string): string | undefined;
}

export interface PagePlan {
  writes: MappedRecord[];
  seen: Record<string, string>;
  /** recordId -> why it is to be removed (incremental passes; checked against the threshold at the end). */
  removed: Record<string, string>;
  counts: SyncCounts;
  errors: string[];
}

export function planPage(
  mapping: Pick<Mapping, 'source' | 'entity' | 'identifier' | 'target' | 'fieldMap' | 'orgUnitScope'>,
  changes: readonly SourceChange[],
  view: PassView,
  pass: PassKind,
  sourceLabel: string,
  /** For a login-users mapping: the tenant's login-users mappings, which decide whose each user is. */
  loginUsers?: LoginUsersOwnership,
): PagePlan {
  const plan: PagePlan = { writes: [], seen: {}, removed: {}, counts: zeroCounts(), errors: [] };
  const writeAt = new Map<string, number>();
  const pageSourceRecord = new Map<string, string>();
  const recordOfSource = (sourceId: string) =>
    pageSourceRecord.get(sourceId) ?? view.recordOfSource(sourceId);
  /** How this page counted a record it planned to write, so a later removal in the page can take it back. */
  const countedAs = new Map<string, 'created' | 'updated'>();
  const remove = (recordId: string, reason: string) => {
    delete plan.seen[recordId];
    const at = writeAt.get(recordId);
    if (at !== undefined) {
      const counted = countedAs.get(recordId);
      if (counted) plan.counts[counted]--;
      countedAs.delete(recordId);
      plan.writes.splice(at, 1);
      writeAt.clear();
      plan.writes.forEach((w, i) => writeAt.set(w.recordId, i));
    }
    plan.removed[recordId] = reason;
  };

  for (const change of changes) {
    plan.counts.seen++;
    if (change.kind === 'remove') {
      const recordId = recordOfSource(change.sourceId);
      if (recordId !== undefined) remove(recordId, change.reason);
      continue;
    }
    const outcome = loginUsers
      ? mapLoginUser(mapping, loginUsers, change.object)
      : mapSourceObject(mapping, change.object);
    if (outcome.kind === 'claimed') {
      // Another login-users mapping owns this user (a more specific org unit). It is none of this mapping's
      // business unless this mapping wrote the login user before (the user moved, or a run of this mapping read
      // the user before the move): then the login user is handed over, written as its owner writes it, and kept
      // in this mapping's index as seen, so this mapping neither removes it nor writes it again until it changes.
      // Both mappings then agree on what the record holds whichever of their runs comes last.
      plan.counts.outOfScope++;
      const r = outcome.record;
      const indexed = view.indexed(r.recordId);
      const known = plan.seen[r.recordId] ?? view.seen(r.recordId) ?? indexed;
      if (known === undefined) continue;
      delete plan.removed[r.recordId];
      plan.seen[r.recordId] = entryOf(r);
      pageSourceRecord.set(r.sourceId, r.recordId);
      if (hashOfEntry(known) === r.hash && writeAt.get(r.recordId) === undefined) continue;
      const at = writeAt.get(r.recordId);
      if (at !== undefined) plan.writes[at] = r;
      else {
        writeAt.set(r.recordId, plan.writes.length);
        plan.writes.push(r);
      }
      continue;
    }
    if (outcome.kind !== 'record') {
      if (outcome.kind === 'out_of_scope') plan.counts.outOfScope++;
      else plan.counts.skipped++;
      // In an incremental pass, an object that left the scope or lost its identifier leaves its record behind.
      const sourceId = outcome.kind === 'skipped' ? outcome.sourceId : sourceIdOf(change.object, mapping);
      const was = pass === 'incremental' && sourceId ? recordOfSource(sourceId) : undefined;
      if (was !== undefined) {
        remove(
          was,
          outcome.kind === 'skipped'
            ? `no longer has a ${mapping.identifier} in ${sourceLabel} (${outcome.reason})`
            : `moved out of the mapped org units in ${sourceLabel}`,
        );
      }
      continue;
    }
    const r = outcome.record;
    const already = plan.seen[r.recordId] ?? view.seen(r.recordId);
    if (already !== undefined) {
      const other = sourceIdOfEntry(already);
      if (other !== r.sourceId) {
        // Duplicate serial numbers happen after re-enrolment: keep the first, report the rest.
        plan.counts.failed++;
        plan.errors.push(
          `duplicate ${mapping.identifier} "${r.identifierValue}" (${r.sourceId} and ${other}); kept the first`,
        );
        continue;
      }
      // A full pass that lists an object twice keeps the first; an incremental one takes the latest report.
      if (pass === 'full') continue;
    }
    const previousRecord = recordOfSource(r.sourceId);
    if (pass === 'incremental' && previousRecord !== undefined && previousRecord !== r.recordId) {
      remove(previousRecord, `${mapping.identifier} changed in ${sourceLabel} to ${r.identifierValue}`);
    }
    delete plan.removed[r.recordId];
    plan.seen[r.recordId] = entryOf(r);
    pageSourceRecord.set(r.sourceId, r.recordId);
    const indexed = view.indexed(r.recordId);
    if (indexed !== undefined && hashOfEntry(indexed) === r.hash && already === undefined) {
      plan.counts.unchanged++;
      continue;
    }
    if (already === undefined) {
      const bucket = indexed === undefined ? 'created' : 'updated';
      plan.counts[bucket]++;
      countedAs.set(r.recordId, bucket);
    }
    const at = writeAt.get(r.recordId);
    if (at !== undefined) plan.writes[at] = r;
    else {
      writeAt.set(r.recordId, plan.writes.length);
      plan.writes.push(r);
    }
  }
  return plan;
}

function sourceIdOf(object: Record<string, unknown>, mapping: Pick<Mapping, 'source' | 'entity'>): string {
  const id = object[entityOf(mapping).sourceIdField];
  return typeof id === 'string' ? id : '';
}

import { objectIdOf } from '../../../shared/mapping.js';
import { readRecordKeys, type RecordKey } from '../store/records.js';
import type { Run } from './engine-types.js';
import { sourceIdOfEntry } from './page-plan.js';

export interface Rekey {
  from: string;
  to: string;
  fromKey: RecordKey;
}

/**
 * After a mapping's identifier changed, a pass writes every object under its new id and finds the old ids
 * absent. Those are not removals: the record whose stored identifier field is not the mapping's any more, and
 * whose Directory object this pass wrote under a new id, moves to that id (store/records.ts
 * moveRekeyedRecords) instead of being removed or held. Only the candidates are read, and only when the pass
 * created records (no identifier change without both), so an ordinary pass pays nothing. Merged people are keyed
 * by email in every source, so they never re-key.
 */
export async function findRekeys(
  run: Run,
  index: ReadonlyMap<string, string>,
  seen: ReadonlyMap<string, string>,
  candidates: ReadonlyMap<string, string>,
): Promise<Rekey[]> {
  if (candidates.size === 0 || run.mapping.target.kind === 'people') return [];
  const createdBySource = new Map<string, string>();
  for (const [id, entry] of seen) {
    if (index.has(id)) continue;
    const sourceId = sourceIdOfEntry(entry);
    if (sourceId) createdBySource.set(sourceId, id);
  }
  if (createdBySource.size === 0) return [];
  const keys = await readRecordKeys(run.deps.db, run.msg.tenantId, objectIdOf(run.mapping.target), [
    ...candidates.keys(),
  ]);
  run.meter.reads += Math.max(1, keys.size);
  const rekeys: Rekey[] = [];
  for (const from of candidates.keys()) {
    const key = keys.get(from);
    if (!key?.sourceId || !key.identifierField || key.identifierField === run.mapping.identifier) continue;
    const to = createdBySource.get(key.sourceId);
    if (to !== undefined && to !== from) rekeys.push({ from, to, fromKey: key });
  }
  return rekeys;
}

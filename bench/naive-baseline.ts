import type { Firestore } from '@google-cloud/firestore';
import { ENTITIES } from '../shared/entities.js';
import { objectIdOf, type Mapping } from '../shared/mapping.js';
import { paths } from '../shared/firestore-paths.js';
import type { DirectoryLister } from '../functions/src/sources/google/directory-lister.js';
import { mapSourceObject } from '../functions/src/engine/record-mapper.js';

/**
 * The straightforward design the benchmark compares against, in the same run: no hash index, so every page
 * reads its records back (getAll) to decide what changed, and every record is written on a first pass. It has
 * no removal sweep, leases or checkpoints, so it flatters the baseline.
 */
export async function naiveSync(
  db: Firestore,
  tenantId: string,
  mapping: Mapping,
  lister: DirectoryLister,
  prefix = 'naive',
) {
  let reads = 0;
  let writes = 0;
  let seen = 0;
  let pageToken: string | null = null;
  const objectId = objectIdOf(mapping.target);
  const sourcePaths = mapping.fieldMap.map((f) => f.source);
  do {
    const page = await lister.listPage({
      entity: mapping.entity,
      pageToken,
      sourcePaths,
      pageSize: ENTITIES[mapping.entity].maxPageSize ?? undefined,
    });
    const records = page.items.flatMap((item) => {
      const o = mapSourceObject(mapping, item);
      return o.kind === 'record' ? [o.record] : [];
    });
    seen += records.length;
    const refs = records.map((r) => db.doc(paths.record(tenantId, `${prefix}-${objectId}`, r.recordId)));
    const existing = refs.length > 0 ? await db.getAll(...refs) : [];
    reads += existing.length;
    const batch = db.batch();
    let n = 0;
    records.forEach((r, i) => {
      if (existing[i]?.get('_hash') === r.hash) return;
      batch.set(refs[i]!, { ...r.data, _hash: r.hash });
      n++;
    });
    if (n > 0) await batch.commit();
    writes += n;
    pageToken = page.nextPageToken;
  } while (pageToken);
  return { seen, reads, writes };
}

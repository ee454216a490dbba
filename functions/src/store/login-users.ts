import type { DocumentData, Firestore } from '@google-cloud/firestore';
import { paths } from '../../../shared/firestore-paths.js';
import { LOGIN_USERS_OBJECT } from '../../../shared/mapping.js';

/**
 * Removal marks on login users, `tenants/{t}/objects/login-users/records/{id}`. Several login-users mappings
 * share that object (one per org unit, shared/mapping.ts loginUsersOwner), and each record says which of them
 * wrote it last (`_sync.mappingId`). A mapping may mark only its own login users removed: one whose record
 * another mapping has written since belongs to that mapping now, and marking it would undo that mapping's write.
 * Each chunk is checked and marked in one transaction, so a write of the other mapping between the check and
 * the mark makes the transaction retry and see it.
 */

// Well under Firestore's 500 writes per transaction; a transaction reads every document it marks.
const CHUNK = 100;

export interface LoginUserRemoval {
  id: string;
  /** Merged into the record: the `_sync` removal block and `active: false`. */
  body: DocumentData;
}

export async function markOwnLoginUsersRemoved(
  db: Firestore,
  tenantId: string,
  mappingId: string,
  removals: readonly LoginUserRemoval[],
): Promise<{ marked: number; keptForOthers: number }> {
  let marked = 0;
  let keptForOthers = 0;
  for (let i = 0; i < removals.length; i += CHUNK) {
    const chunk = removals.slice(i, i + CHUNK);
    const refs = chunk.map((r) => db.doc(paths.record(tenantId, LOGIN_USERS_OBJECT, r.id)));
    const outcome = await db.runTransaction(async (tx) => {
      const snaps = await tx.getAll(...refs);
      let own = 0;
      let others = 0;
      snaps.forEach((snap, k) => {
        // Nothing to mark where there is no login user.
        if (!snap.exists) return;
        const writer: unknown = snap.get('_sync.mappingId');
        // Records written before login users were shared carry the one mapping there was: theirs to mark.
        if (typeof writer === 'string' && writer !== mappingId) {
          others++;
          return;
        }
        tx.set(refs[k]!, chunk[k]!.body, { merge: true });
        own++;
      });
      return { own, others };
    });
    marked += outcome.own;
    keptForOthers += outcome.others;
  }
  return { marked, keptForOthers };
}

import type { Firestore } from '@google-cloud/firestore';
import { z } from 'zod';
import { paths } from '../../../shared/firestore-paths.js';

/**
 * `idempotencyKeys/{keyHash}`: an Idempotency-Key a host request came with (keyHash = SHA-256 of tenant, caller
 * and key, so keys never collide across tenants or keys), the fingerprint of that request (method, path, query,
 * body) and, once answered, the answer (status and JSON body). A retry with the same key and fingerprint gets the
 * stored answer instead of running again; the same key on a different request is refused.
 */

/** A key is remembered this long; a retry after that is a new request. */
export const IDEMPOTENCY_KEY_TTL_MS = 24 * 3600_000;
/**
 * A claim whose request never answered (the instance died mid-request) frees the key after this long; until then
 * a retry is told the first request is still in progress rather than running it twice.
 */
const PENDING_CLAIM_MS = 2 * 60_000;

const storedAnswerSchema = z.object({ status: z.number().int(), body: z.string() });
export type StoredAnswer = z.infer<typeof storedAnswerSchema>;

export type IdempotencyClaim =
  | { kind: 'claimed' }
  | { kind: 'answered'; answer: StoredAnswer }
  | { kind: 'different_request' }
  | { kind: 'in_progress' };

export async function claimIdempotencyKey(
  db: Firestore,
  keyHash: string,
  claim: { tenantId: string | null; caller: string; fingerprint: string; nowMs: number },
): Promise<IdempotencyClaim> {
  const ref = db.doc(paths.idempotencyKey(keyHash));
  return db.runTransaction(async (tx): Promise<IdempotencyClaim> => {
    const snap = await tx.get(ref);
    const expireAt = snap.get('expireAt') as { toMillis(): number } | undefined;
    if (snap.exists && (!expireAt || expireAt.toMillis() > claim.nowMs)) {
      if (snap.get('fingerprint') !== claim.fingerprint) return { kind: 'different_request' };
      const answer = storedAnswerSchema.safeParse(snap.get('answer'));
      if (answer.success) return { kind: 'answered', answer: answer.data };
      if (Number(snap.get('claimedAt') ?? 0) > claim.nowMs - PENDING_CLAIM_MS) return { kind: 'in_progress' };
    }
    tx.set(ref, {
      tenantId: claim.tenantId,
      caller: claim.caller,
      fingerprint: claim.fingerprint,
      claimedAt: claim.nowMs,
      answer: null,
      expireAt: new Date(claim.nowMs + IDEMPOTENCY_KEY_TTL_MS),
    });
    return { kind: 'claimed' };
  });
}

export async function storeIdempotentAnswer(
  db: Firestore,
  keyHash: string,
  answer: StoredAnswer,
): Promise<void> {
  await db.doc(paths.idempotencyKey(keyHash)).update({ answer: storedAnswerSchema.parse(answer) });
}

/** The request did not settle (a transient failure): the key may be used again at once. */
export async function releaseIdempotencyKey(db: Firestore, keyHash: string): Promise<void> {
  await db.doc(paths.idempotencyKey(keyHash)).delete();
}

import type { Firestore } from '@google-cloud/firestore';
import { paths } from '../../../shared/firestore-paths.js';

/** gRPC ALREADY_EXISTS: `create()` found the document there. */
const ALREADY_EXISTS = 6;

/**
 * `hostSignatures/{sha256(signature)}`: every host signature accepted so far, kept until its timestamp leaves
 * the signing window (`expireAt`, a Firestore TTL field; after that the window check refuses it anyway, so a
 * late TTL deletion costs storage, not safety). `create()` is atomic across instances: of two requests carrying
 * the same signature, exactly one creates the document; the other is a replay.
 */
export async function spendSignature(
  db: Firestore,
  signatureHash: string,
  info: { keyId: string; method: string; path: string; nowMs: number; expiresAtMs: number },
): Promise<'fresh' | 'replay'> {
  try {
    await db.doc(paths.hostSignature(signatureHash)).create({
      keyId: info.keyId,
      method: info.method,
      // The path only: a query string may carry values that do not belong in a bookkeeping document.
      path: info.path,
      acceptedAt: new Date(info.nowMs),
      expireAt: new Date(info.expiresAtMs),
    });
    return 'fresh';
  } catch (err) {
    if ((err as { code?: unknown }).code === ALREADY_EXISTS) return 'replay';
    throw err;
  }
}

import { createHash } from 'node:crypto';
import type { Firestore } from '@google-cloud/firestore';
import { paths } from '../../../shared/firestore-paths.js';

/**
 * `deadLetters/{messageId}`: what reached the dead-letter topic (server only; the rules deny clients), kept
 * for a month (TTL on `expireAt`) so an operator can see what Pub/Sub gave up on and what the consumer did
 * about it. Keyed by the dead-letter message's id, so a redelivery of the same letter writes the same document.
 */

export const DEAD_LETTER_TTL_MS = 30 * 24 * 3600 * 1000;
/** The payload is kept as text, cut to this length: enough to see what it was, never near the 1 MiB limit. */
const MAX_PAYLOAD_CHARS = 8000;

export type DeadLetterAction =
  /** A sync message whose run was still running: the run was ended as failed. */
  | 'ended-run'
  /** A sync message whose run had already ended (or never started): nothing to do. */
  | 'run-not-running'
  /** A sync message whose run is held by a live lease: its holder finishes it (or the next request does). */
  | 'run-held'
  /** A well-formed message that is not a sync request (a tick): nothing to end. */
  | 'not-a-sync-message'
  /** Not a message of ours: recorded and acked, so it cannot loop. */
  | 'malformed';

export interface DeadLetterRecord {
  messageId: string;
  /** The dead-letter topic the letter came through, when the push endpoint names it. */
  topic: string | null;
  /** The subscription that gave up on the message (Pub/Sub's CloudPubSubDeadLetterSource* attributes). */
  sourceSubscription: string | null;
  deliveryAttempts: number | null;
  publishedAt: string | null;
  /** The decoded payload as JSON text (sync and tick messages carry no secrets), or null when undecodable. */
  payload: string | null;
  kind: 'sync' | 'tick' | 'unknown';
  tenantId: string | null;
  mappingId: string | null;
  requestId: string | null;
  runId: string | null;
  action: DeadLetterAction;
  receivedAt: string;
}

function docId(messageId: string): string {
  // Pub/Sub ids are digits; anything else (a hand-published letter without one) is hashed into a safe id.
  return /^[A-Za-z0-9_-]{1,200}$/.test(messageId)
    ? messageId
    : createHash('sha256').update(messageId).digest('hex');
}

export function payloadText(payload: unknown): string | null {
  if (payload === undefined) return null;
  const text = JSON.stringify(payload);
  return text.length > MAX_PAYLOAD_CHARS ? `${text.slice(0, MAX_PAYLOAD_CHARS)}…` : text;
}

export async function recordDeadLetter(db: Firestore, letter: DeadLetterRecord, now: number): Promise<void> {
  await db
    .collection(paths.deadLetters())
    .doc(docId(letter.messageId))
    .set({ ...letter, expireAt: new Date(now + DEAD_LETTER_TTL_MS) });
}

export async function readDeadLetter(
  db: Firestore,
  messageId: string,
): Promise<(DeadLetterRecord & { expireAt: Date }) | null> {
  const snap = await db.collection(paths.deadLetters()).doc(docId(messageId)).get();
  if (!snap.exists) return null;
  const data = snap.data()!;
  return { ...(data as DeadLetterRecord), expireAt: (data.expireAt as { toDate(): Date }).toDate() };
}

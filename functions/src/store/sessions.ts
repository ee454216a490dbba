import { createHash, randomBytes } from 'node:crypto';
import { Timestamp, type Firestore } from '@google-cloud/firestore';
import { z } from 'zod';
import { paths } from '../../../shared/firestore-paths.js';

/**
 * `sessions/{sha256(id)}`: a console sign-in that outlives Google's one-hour ID token. The browser holds only the
 * random id (an HttpOnly cookie, api/session-auth.ts); the document is keyed by its hash, so a leak of the
 * database does not hand out live sessions. A session ends `idleMs` after its last use or `maxMs` after sign-in,
 * whichever is first; sign-out deletes it, "sign out everywhere" deletes every session of the email. What the
 * signed-in person may do in a tenant is not stored here: it is read from the tenant's members on every request,
 * so removing someone from a team takes effect at once. `expireAt` is the Firestore TTL field.
 */

export interface SessionIdentity {
  email: string;
  name: string | null;
  sub: string;
}

export interface Session extends SessionIdentity {
  createdAt: number;
  expiresAt: number;
}

const sessionDocSchema = z.object({
  email: z.string(),
  name: z.string().nullable(),
  sub: z.string(),
  createdAt: z.number().int(),
  lastSeenAt: z.number().int(),
  expiresAt: z.number().int(),
  absoluteExpiresAt: z.number().int(),
});

export const SESSION_ID_PATTERN = /^[A-Za-z0-9_-]{43}$/;

const hashOf = (id: string) => createHash('sha256').update(id).digest('hex');

/** A use within this long of the last recorded one does not write: a page load is several requests. */
const TOUCH_EVERY_MS = 5 * 60_000;

export interface SessionLifetime {
  idleMs: number;
  maxMs: number;
}

export async function createSession(
  db: Firestore,
  identity: SessionIdentity,
  now: number,
  lifetime: SessionLifetime,
): Promise<{ id: string; expiresAt: number }> {
  const id = randomBytes(32).toString('base64url');
  const absoluteExpiresAt = now + lifetime.maxMs;
  const expiresAt = Math.min(now + lifetime.idleMs, absoluteExpiresAt);
  await db.doc(paths.session(hashOf(id))).create({
    email: identity.email,
    name: identity.name,
    sub: identity.sub,
    createdAt: now,
    lastSeenAt: now,
    expiresAt,
    absoluteExpiresAt,
    expireAt: Timestamp.fromMillis(absoluteExpiresAt),
  });
  return { id, expiresAt };
}

/**
 * The live session with this id, extended by its use (at most every few minutes); null when unknown, ended or
 * expired. An expired one is deleted on the way.
 */
export async function useSession(
  db: Firestore,
  id: string,
  now: number,
  lifetime: SessionLifetime,
): Promise<Session | null> {
  if (!SESSION_ID_PATTERN.test(id)) return null;
  const ref = db.doc(paths.session(hashOf(id)));
  const snap = await ref.get();
  if (!snap.exists) return null;
  const parsed = sessionDocSchema.safeParse(snap.data());
  if (!parsed.success) return null;
  const s = parsed.data;
  if (s.expiresAt <= now || s.absoluteExpiresAt <= now) {
    await ref.delete().catch(() => undefined);
    return null;
  }
  let expiresAt = s.expiresAt;
  if (now - s.lastSeenAt >= TOUCH_EVERY_MS) {
    expiresAt = Math.min(now + lifetime.idleMs, s.absoluteExpiresAt);
    // Only while it still exists: a sign-out racing this request must not be undone.
    await ref.update({ lastSeenAt: now, expiresAt }).catch(() => undefined);
  }
  return { email: s.email, name: s.name, sub: s.sub, createdAt: s.createdAt, expiresAt };
}

export async function endSession(db: Firestore, id: string): Promise<void> {
  if (!SESSION_ID_PATTERN.test(id)) return;
  await db.doc(paths.session(hashOf(id))).delete();
}

/** Every session of the email (sign out everywhere); returns how many there were. */
export async function endSessionsOf(db: Firestore, email: string): Promise<number> {
  const snap = await db.collection(paths.sessions()).where('email', '==', email).select().get();
  const writer = db.bulkWriter();
  for (const doc of snap.docs) void writer.delete(doc.ref).catch(() => undefined);
  await writer.close();
  return snap.size;
}

import { createHash, randomBytes } from 'node:crypto';
import { FieldValue, type Firestore } from '@google-cloud/firestore';
import { z } from 'zod';
import { paths } from '../../../shared/firestore-paths.js';
import type { Clock } from '../platform/clock.js';

/**
 * Pending OAuth authorizations of the connect flows, `oauthStates/{stateId}`. The random document id is the
 * `state` parameter; the PKCE verifier never leaves the server. A state is good for one callback within ten
 * minutes (checked on use; the `expireAt` TTL deletes it a day later), and is bound to the tenant, the admin who
 * started it and that admin's browser. Only signed-in admins can create one; the public sign-in keeps no state
 * here (api/signin-state.ts).
 */
export const STATE_TTL_MS = 10 * 60_000;

/**
 * `entra`: Microsoft Entra admin consent (no PKCE: the consent endpoint issues no code). `devices-on` and
 * `devices-off`: the Google consent that widens the connection for device management or narrows it back; they
 * come back on the connect callback, which tells them apart by this purpose.
 */
export const STATE_PURPOSES = ['connect', 'entra', 'devices-on', 'devices-off'] as const;
export type StatePurpose = (typeof STATE_PURPOSES)[number];

const STATE_ID = /^[A-Za-z0-9_-]{43}$/;

const storedStateSchema = z
  .object({
    purpose: z.enum(STATE_PURPOSES),
    tenantId: z.string().nullable(),
    adminEmail: z.string().nullable(),
    adminSub: z.string().nullable(),
    bindingHash: z.string().nullable(),
    nonce: z.string().nullable(),
    returnTo: z.string().nullable(),
    codeVerifier: z.string().optional(),
    oauthClientId: z.string().nullish(),
    expiresAtMs: z.number(),
    usedAt: z.string().nullable(),
  })
  .loose();

export interface NewState {
  purpose: StatePurpose;
  tenantId?: string;
  adminEmail?: string;
  adminSub?: string;
  /** sha256 of the browser-binding secret (connect flow). */
  bindingHash?: string;
  nonce?: string;
  returnTo?: string;
  /** The OAuth client the consent was asked for (Google connect flows: the service's or the tenant's own). */
  oauthClientId?: string;
}

export interface ConsumedState {
  stateId: string;
  purpose: StatePurpose;
  tenantId: string | null;
  adminEmail: string | null;
  adminSub: string | null;
  bindingHash: string | null;
  nonce: string | null;
  returnTo: string | null;
  codeVerifier: string;
  oauthClientId: string | null;
}

export type ConsumeResult =
  | { ok: true; state: ConsumedState }
  /** Unknown id (forged, or for the other flow), already used, or too old; tenantId lets the error name the tenant. */
  | { ok: false; reason: 'unknown' | 'replayed' | 'expired'; tenantId: string | null };

export const randomToken = (bytes = 32) => randomBytes(bytes).toString('base64url');
export const sha256Hex = (s: string) => createHash('sha256').update(s).digest('hex');
const challengeOf = (verifier: string) => createHash('sha256').update(verifier).digest('base64url');

export async function createOAuthState(
  db: Firestore,
  clock: Clock,
  input: NewState,
): Promise<{ stateId: string; codeChallenge: string }> {
  const stateId = randomToken(32);
  // RFC 7636: 43-128 characters; 64 random bytes give 86.
  const codeVerifier = randomToken(64);
  const now = clock.now();
  await db.doc(`${paths.oauthStates()}/${stateId}`).create({
    purpose: input.purpose,
    tenantId: input.tenantId ?? null,
    adminEmail: input.adminEmail ?? null,
    adminSub: input.adminSub ?? null,
    bindingHash: input.bindingHash ?? null,
    nonce: input.nonce ?? null,
    returnTo: input.returnTo ?? null,
    codeVerifier,
    oauthClientId: input.oauthClientId ?? null,
    createdAt: new Date(now).toISOString(),
    expiresAtMs: now + STATE_TTL_MS,
    // A Firestore TTL policy on this field deletes old states.
    expireAt: new Date(now + STATE_TTL_MS + 24 * 3600_000),
    usedAt: null,
  });
  return { stateId, codeChallenge: challengeOf(codeVerifier) };
}

/**
 * Marks the state used in a transaction, whatever the outcome, so two callbacks racing with the same state
 * cannot both pass. The verifier is removed from the document as it is handed out.
 */
export async function consumeOAuthState(
  db: Firestore,
  clock: Clock,
  stateId: string,
  purpose: StatePurpose | readonly StatePurpose[],
): Promise<ConsumeResult> {
  const accepted: readonly StatePurpose[] = typeof purpose === 'string' ? [purpose] : purpose;
  if (!STATE_ID.test(stateId)) return { ok: false, reason: 'unknown', tenantId: null };
  const ref = db.doc(`${paths.oauthStates()}/${stateId}`);
  return db.runTransaction(async (tx): Promise<ConsumeResult> => {
    const snap = await tx.get(ref);
    const parsed = storedStateSchema.safeParse(snap.data());
    if (!snap.exists || !parsed.success || !accepted.includes(parsed.data.purpose))
      return { ok: false, reason: 'unknown', tenantId: null };
    const s = parsed.data;
    if (s.usedAt !== null) return { ok: false, reason: 'replayed', tenantId: s.tenantId };
    const now = clock.now();
    tx.update(ref, { usedAt: new Date(now).toISOString(), codeVerifier: FieldValue.delete() });
    if (s.expiresAtMs <= now || !s.codeVerifier)
      return { ok: false, reason: 'expired', tenantId: s.tenantId };
    return {
      ok: true,
      state: {
        stateId,
        purpose: s.purpose,
        tenantId: s.tenantId,
        adminEmail: s.adminEmail,
        adminSub: s.adminSub,
        bindingHash: s.bindingHash,
        nonce: s.nonce,
        returnTo: s.returnTo,
        codeVerifier: s.codeVerifier,
        oauthClientId: s.oauthClientId ?? null,
      },
    };
  });
}

import { createHash, createHmac, hkdfSync, randomBytes, timingSafeEqual } from 'node:crypto';
import { z } from 'zod';

/**
 * Sign-in's OAuth `state`, signed instead of stored. `GET /api/auth/login` is public, so a stored state per call
 * let anyone write documents without bound; a signed state costs nothing to issue and is checked without a read.
 *
 *   state  = base64url(JSON payload) "." base64url(HMAC-SHA256(key, "signin-state." + payload))
 *   payload: { exp (ms), rt (returnTo), bh (sha256 of the browser secret), n (random) }
 *
 * The browser secret is the HttpOnly cookie the connect flows use too (connection/browser-binding.ts): the
 * callback refuses a state whose `bh` is not the hash of the cookie it came with, so a sign-in cannot be
 * finished in another browser (login CSRF). The OIDC nonce and the PKCE verifier are derived from the key, `n`
 * and (for the verifier) the browser secret, so they need no storage either and the verifier never leaves the
 * server. What a stored state also gave, refusing a second callback with the same state, now rests on Google's
 * single-use code and on the callback clearing the cookie.
 *
 * The key is derived (HKDF) from the OAuth client secret, a server-only secret the service already holds: no
 * new secret to provision, and rotating the client secret rotates it (sign-ins under way then start again).
 */

export const SIGNIN_STATE_TTL_MS = 10 * 60_000;
/** The callback accepts a state of up to 2100 characters (sources/google/google-oauth.ts). */
const MAX_PAYLOAD = 2000;

const payloadSchema = z.strictObject({
  exp: z.number().int(),
  rt: z.string().max(1000),
  bh: z.string().regex(/^[0-9a-f]{64}$/),
  n: z.string().regex(/^[A-Za-z0-9_-]{22}$/),
});

export type SigninStateRejection = 'invalid_state' | 'state_expired' | 'browser_mismatch';

export interface SigninState {
  returnTo: string;
  nonce: string;
  codeVerifier: string;
}

export function signinStateKey(oauthClientSecret: string): Buffer {
  return Buffer.from(hkdfSync('sha256', oauthClientSecret, 'workspace-sync', 'signin-state v1', 32));
}

const mac = (key: Buffer, label: string, data: string) =>
  createHmac('sha256', key).update(`${label}.${data}`).digest('base64url');
const sha256Hex = (s: string) => createHash('sha256').update(s).digest('hex');

function derived(key: Buffer, n: string, browserSecret: string) {
  return {
    nonce: mac(key, 'signin-nonce', n),
    // 43 characters: RFC 7636's minimum length for a verifier.
    codeVerifier: mac(key, 'signin-pkce', `${n}.${browserSecret}`),
  };
}

export const codeChallengeOf = (verifier: string) =>
  createHash('sha256').update(verifier).digest('base64url');

/** A new state for the browser holding `browserSecret`, with the nonce and PKCE challenge to send to Google. */
export function issueSigninState(
  key: Buffer,
  browserSecret: string,
  returnTo: string,
  now: number,
): { state: string; nonce: string; codeChallenge: string } {
  const n = randomBytes(16).toString('base64url');
  const encode = (rt: string) =>
    Buffer.from(
      JSON.stringify({ exp: now + SIGNIN_STATE_TTL_MS, rt, bh: sha256Hex(browserSecret), n }),
    ).toString('base64url');
  // A returnTo of many multi-byte characters could outgrow what the callback accepts: the console's root then.
  let payload = encode(returnTo);
  if (payload.length > MAX_PAYLOAD) payload = encode('/');
  const { nonce, codeVerifier } = derived(key, n, browserSecret);
  return {
    state: `${payload}.${mac(key, 'signin-state', payload)}`,
    nonce,
    codeChallenge: codeChallengeOf(codeVerifier),
  };
}

/** Checks, in this order: signature (anything we did not issue), expiry, then the browser binding. */
export function acceptSigninState(
  key: Buffer,
  state: string,
  browserSecret: string | null,
  now: number,
): { ok: true; state: SigninState } | { ok: false; reason: SigninStateRejection } {
  const m = /^([A-Za-z0-9_-]{1,2000})\.([A-Za-z0-9_-]{43})$/.exec(state);
  if (!m?.[1] || !m[2]) return { ok: false, reason: 'invalid_state' };
  const expected = Buffer.from(mac(key, 'signin-state', m[1]));
  const given = Buffer.from(m[2]);
  if (given.length !== expected.length || !timingSafeEqual(given, expected))
    return { ok: false, reason: 'invalid_state' };
  let raw: unknown;
  try {
    raw = JSON.parse(Buffer.from(m[1], 'base64url').toString('utf8'));
  } catch {
    return { ok: false, reason: 'invalid_state' };
  }
  const parsed = payloadSchema.safeParse(raw);
  if (!parsed.success) return { ok: false, reason: 'invalid_state' };
  const p = parsed.data;
  if (p.exp <= now) return { ok: false, reason: 'state_expired' };
  if (!browserSecret || sha256Hex(browserSecret) !== p.bh) return { ok: false, reason: 'browser_mismatch' };
  return { ok: true, state: { returnTo: p.rt, ...derived(key, p.n, browserSecret) } };
}

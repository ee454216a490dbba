import { createPublicKey, verify as verifySignature, type JsonWebKey, type KeyObject } from 'node:crypto';
import { z } from 'zod';
import type { Clock } from '../platform/clock.js';

/** Why a token was refused; shown to the caller, so it names the check, never the token. */
export class IdTokenError extends Error {
  override readonly name = 'IdTokenError';
}

export interface VerifiedIdToken {
  sub: string;
  email: string;
  name: string | null;
  hd: string | null;
  nonce: string | null;
  expiresAt: number;
}

export interface IdTokenVerifierOptions {
  certsUrl: string;
  issuers: readonly string[];
  audience: string;
  clock: Clock;
  /** Tolerated clock difference to Google's servers. */
  skewSeconds?: number;
}

const headerSchema = z
  .object({ alg: z.string(), kid: z.string().min(1), typ: z.string().optional() })
  .loose();
const claimsSchema = z
  .object({
    iss: z.string(),
    aud: z.union([z.string(), z.array(z.string())]),
    azp: z.string().optional(),
    sub: z.string().min(1),
    exp: z.number(),
    iat: z.number(),
    email: z.string().min(3).optional(),
    email_verified: z.union([z.boolean(), z.string()]).optional(),
    name: z.string().optional(),
    hd: z.string().optional(),
    nonce: z.string().optional(),
  })
  .loose();
const jwksSchema = z.object({
  keys: z.array(
    z
      .object({ kid: z.string(), kty: z.string(), n: z.string().optional(), e: z.string().optional() })
      .loose(),
  ),
});

const MIN_CACHE_MS = 60_000;
const MAX_CACHE_MS = 24 * 3600_000;
const DEFAULT_CACHE_MS = 3600_000;
/** An unknown key id triggers a refetch (Google rotated keys), but not more often than this. */
const REFETCH_COOLDOWN_MS = 30_000;

function decodeSegment(segment: string): unknown {
  try {
    return JSON.parse(Buffer.from(segment, 'base64url').toString('utf8')) as unknown;
  } catch {
    return undefined;
  }
}

function maxAgeMs(cacheControl: string | null): number {
  const m = /max-age=(\d+)/i.exec(cacheControl ?? '');
  if (!m?.[1]) return DEFAULT_CACHE_MS;
  return Math.min(MAX_CACHE_MS, Math.max(MIN_CACHE_MS, Number(m[1]) * 1000));
}

/**
 * Verifies Google ID tokens (RS256 JWTs) against Google's published JWKS: signature, issuer, audience and
 * expiry. The key set is cached for as long as Google's Cache-Control allows, so a request costs no fetch.
 */
export class IdTokenVerifier {
  private keys = new Map<string, KeyObject>();
  private keysExpireAt = 0;
  private lastFetchAt = -Infinity;
  private inflight: Promise<void> | null = null;

  constructor(private readonly opts: IdTokenVerifierOptions) {}

  async verify(token: string, expected: { nonce?: string } = {}): Promise<VerifiedIdToken> {
    const parts = token.split('.');
    if (parts.length !== 3 || parts.some((p) => !/^[A-Za-z0-9_-]+$/.test(p)))
      throw new IdTokenError('not a JWT');
    const [rawHeader, rawClaims, rawSignature] = parts as [string, string, string];
    const header = headerSchema.safeParse(decodeSegment(rawHeader));
    if (!header.success) throw new IdTokenError('malformed token header');
    if (header.data.alg !== 'RS256') throw new IdTokenError('unsupported signing algorithm');
    const key = await this.keyFor(header.data.kid);
    const signedOk = verifySignature(
      'RSA-SHA256',
      Buffer.from(`${rawHeader}.${rawClaims}`),
      key,
      Buffer.from(rawSignature, 'base64url'),
    );
    if (!signedOk) throw new IdTokenError('signature does not verify');

    const parsed = claimsSchema.safeParse(decodeSegment(rawClaims));
    if (!parsed.success) throw new IdTokenError('malformed token claims');
    const c = parsed.data;
    const now = this.opts.clock.now() / 1000;
    const skew = this.opts.skewSeconds ?? 30;
    if (!this.opts.issuers.includes(c.iss)) throw new IdTokenError('token was not issued by Google');
    const audiences = Array.isArray(c.aud) ? c.aud : [c.aud];
    if (!audiences.includes(this.opts.audience))
      throw new IdTokenError('token was issued for another application');
    if (Array.isArray(c.aud) && c.azp !== this.opts.audience)
      throw new IdTokenError('token was issued for another application');
    if (c.exp + skew < now) throw new IdTokenError('token has expired; sign in again');
    if (c.iat - skew > now) throw new IdTokenError('token is not valid yet');
    if (!c.email) throw new IdTokenError('token carries no email address');
    if (c.email_verified === false || c.email_verified === 'false')
      throw new IdTokenError('email address is not verified');
    if (expected.nonce !== undefined && c.nonce !== expected.nonce)
      throw new IdTokenError('token was issued for another sign-in');
    return {
      sub: c.sub,
      email: c.email.toLowerCase(),
      name: c.name ?? null,
      hd: c.hd ?? null,
      nonce: c.nonce ?? null,
      expiresAt: c.exp * 1000,
    };
  }

  private async keyFor(kid: string): Promise<KeyObject> {
    const now = this.opts.clock.now();
    if (now >= this.keysExpireAt) await this.refresh();
    let key = this.keys.get(kid);
    if (!key && this.opts.clock.now() - this.lastFetchAt >= REFETCH_COOLDOWN_MS) {
      await this.refresh();
      key = this.keys.get(kid);
    }
    if (!key) throw new IdTokenError('token was signed with an unknown key');
    return key;
  }

  private refresh(): Promise<void> {
    this.inflight ??= this.fetchKeys().finally(() => {
      this.inflight = null;
    });
    return this.inflight;
  }

  private async fetchKeys(): Promise<void> {
    this.lastFetchAt = this.opts.clock.now();
    let res: globalThis.Response;
    try {
      res = await fetch(this.opts.certsUrl, { signal: AbortSignal.timeout(10_000) });
    } catch {
      throw new IdTokenVerifierUnavailable();
    }
    if (!res.ok) throw new IdTokenVerifierUnavailable();
    const parsed = jwksSchema.safeParse(await res.json().catch(() => null));
    if (!parsed.success) throw new IdTokenVerifierUnavailable();
    const keys = new Map<string, KeyObject>();
    for (const jwk of parsed.data.keys) {
      if (jwk.kty !== 'RSA') continue;
      try {
        keys.set(jwk.kid, createPublicKey({ key: jwk as JsonWebKey, format: 'jwk' }));
      } catch {
        // One malformed key must not take the others down.
      }
    }
    this.keys = keys;
    this.keysExpireAt = this.opts.clock.now() + maxAgeMs(res.headers.get('cache-control'));
  }
}

/** Google's key set could not be fetched: the caller is not at fault, so this is not an authentication failure. */
export class IdTokenVerifierUnavailable extends Error {
  override readonly name = 'IdTokenVerifierUnavailable';
  constructor() {
    super("Google's signing keys could not be fetched");
  }
}

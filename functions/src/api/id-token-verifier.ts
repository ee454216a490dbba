import { OAuth2Client } from 'google-auth-library';
import { z } from 'zod';
import type { Clock } from '../platform/clock.js';

/** Why a token was refused; shown to the caller, so it names the check, never the token. */
export class IdTokenError extends Error {
  override readonly name = 'IdTokenError';
}

/** Google's key set could not be fetched: the caller is not at fault, so this is not an authentication failure. */
export class IdTokenVerifierUnavailable extends Error {
  override readonly name = 'IdTokenVerifierUnavailable';
  constructor() {
    super("Google's signing keys could not be fetched");
  }
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
  /** Google's signing certificates as a `{kid: PEM}` map (oauth2/v1/certs); locally the simulator's. */
  pemCertsUrl: string;
  issuers: readonly string[];
  audience: string;
  clock: Clock;
  /** Tolerated clock difference to Google's servers. */
  skewSeconds?: number;
}

export interface IdTokenExpectations {
  /** The sign-in's nonce: the token must carry it. */
  nonce?: string;
  /** A Google Workspace domain the account must belong to (the token's `hd`). */
  hostedDomain?: string;
}

const headerSchema = z
  .object({ alg: z.string(), kid: z.string().min(1), typ: z.string().optional() })
  .loose();
const claimsSchema = z
  .object({
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

/** google-auth-library reports every refusal as a plain Error; its messages are the only way to tell them apart. */
const LIBRARY_REFUSALS: Array<[RegExp, string]> = [
  [/Invalid token signature/, 'signature does not verify'],
  [/No pem found/, 'token was signed with an unknown key'],
  [/Invalid issuer/, 'token was not issued by Google'],
  [/Wrong recipient/, 'token was issued for another application'],
  [/used too late/, 'token has expired; sign in again'],
  [/used too early/, 'token is not valid yet'],
];

function decodeSegment(segment: string): unknown {
  try {
    return JSON.parse(Buffer.from(segment, 'base64url').toString('utf8')) as unknown;
  } catch {
    return undefined;
  }
}

/**
 * Verifies Google ID tokens with google-auth-library (signature against Google's published certificates, cached
 * as long as their Cache-Control allows; issuer; audience), then makes the checks it leaves to us or makes only
 * against the wall clock: expiry and issue time on the service's clock with our skew, a verified email, the
 * nonce of a sign-in, a required hosted domain. The header is checked first so that only RS256 tokens reach the
 * library (it would verify whatever `alg` claims with RSA-SHA256).
 */
export class IdTokenVerifier {
  private readonly client: OAuth2Client;

  constructor(private readonly opts: IdTokenVerifierOptions) {
    this.client = new OAuth2Client({
      clientId: opts.audience,
      issuers: [...opts.issuers],
      endpoints: { oauth2FederatedSignonPemCertsUrl: opts.pemCertsUrl },
    });
  }

  async verify(token: string, expected: IdTokenExpectations = {}): Promise<VerifiedIdToken> {
    const parts = token.split('.');
    if (parts.length !== 3 || parts.some((p) => !/^[A-Za-z0-9_-]+$/.test(p)))
      throw new IdTokenError('not a JWT');
    const header = headerSchema.safeParse(decodeSegment(parts[0]!));
    if (!header.success) throw new IdTokenError('malformed token header');
    if (header.data.alg !== 'RS256') throw new IdTokenError('unsupported signing algorithm');

    let certs: Record<string, string>;
    try {
      certs = (await this.client.getFederatedSignonCertsAsync()).certs as Record<string, string>;
    } catch {
      throw new IdTokenVerifierUnavailable();
    }
    let payload: unknown;
    try {
      const ticket = await this.client.verifySignedJwtWithCertsAsync(token, certs, this.opts.audience, [
        ...this.opts.issuers,
      ]);
      payload = ticket.getPayload();
    } catch (err) {
      const message = err instanceof Error ? err.message : '';
      const refusal = LIBRARY_REFUSALS.find(([pattern]) => pattern.test(message));
      throw new IdTokenError(refusal ? refusal[1] : 'malformed token');
    }

    const parsed = claimsSchema.safeParse(payload);
    if (!parsed.success) throw new IdTokenError('malformed token claims');
    const c = parsed.data;
    const now = this.opts.clock.now() / 1000;
    const skew = this.opts.skewSeconds ?? 30;
    if (c.exp + skew < now) throw new IdTokenError('token has expired; sign in again');
    if (c.iat - skew > now) throw new IdTokenError('token is not valid yet');
    if (!c.email) throw new IdTokenError('token carries no email address');
    if (c.email_verified === false || c.email_verified === 'false')
      throw new IdTokenError('email address is not verified');
    if (expected.nonce !== undefined && c.nonce !== expected.nonce)
      throw new IdTokenError('token was issued for another sign-in');
    if (expected.hostedDomain !== undefined && c.hd?.toLowerCase() !== expected.hostedDomain.toLowerCase())
      throw new IdTokenError(`account is not in the Google Workspace domain ${expected.hostedDomain}`);
    return {
      sub: c.sub,
      email: c.email.toLowerCase(),
      name: c.name ?? null,
      hd: c.hd ?? null,
      nonce: c.nonce ?? null,
      expiresAt: c.exp * 1000,
    };
  }
}

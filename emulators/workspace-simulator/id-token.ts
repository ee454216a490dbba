import type { KeyObject } from 'node:crypto';
import { createHash, createSign, generateKeyPairSync } from 'node:crypto';

export interface IdTokenClaims {
  iss: string;
  azp: string;
  aud: string;
  sub: string;
  hd?: string;
  email?: string;
  email_verified?: boolean;
  at_hash?: string;
  nonce?: string;
  name?: string;
  given_name?: string;
  family_name?: string;
  iat: number;
  exp: number;
}

const b64url = (data: Buffer | string) => Buffer.from(data).toString('base64url');

/** at_hash: left half of SHA-256 of the access token, as OpenID Connect specifies for RS256. */
export function accessTokenHash(accessToken: string): string {
  const digest = createHash('sha256').update(accessToken).digest();
  return b64url(digest.subarray(0, digest.length / 2));
}

/**
 * RS256 signer for id_tokens. The key pair is generated on first use (it costs ~100 ms) and published at
 * `/oauth2/v3/certs` (JWK, what browsers fetch) and `/oauth2/v1/certs` (PEM map, what google-auth-library
 * fetches under Node).
 */
export class IdTokenSigner {
  private key: { privateKey: KeyObject; publicKey: KeyObject; kid: string } | undefined;

  private ensureKey() {
    if (!this.key) {
      const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
      const der = publicKey.export({ type: 'spki', format: 'der' });
      const kid = createHash('sha1').update(der).digest('hex');
      this.key = { privateKey, publicKey, kid };
    }
    return this.key;
  }

  sign(claims: IdTokenClaims): string {
    const { privateKey, kid } = this.ensureKey();
    const header = b64url(JSON.stringify({ alg: 'RS256', kid, typ: 'JWT' }));
    const payload = b64url(JSON.stringify(claims));
    const signature = createSign('RSA-SHA256').update(`${header}.${payload}`).sign(privateKey);
    return `${header}.${payload}.${b64url(signature)}`;
  }

  jwks(): { keys: Array<Record<string, unknown>> } {
    const { publicKey, kid } = this.ensureKey();
    const jwk = publicKey.export({ format: 'jwk' });
    return { keys: [{ kty: jwk.kty, n: jwk.n, e: jwk.e, alg: 'RS256', use: 'sig', kid }] };
  }

  pemCerts(): Record<string, string> {
    const { publicKey, kid } = this.ensureKey();
    return { [kid]: publicKey.export({ type: 'spki', format: 'pem' }).toString() };
  }
}

import { createSign, generateKeyPairSync } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  IdTokenError,
  IdTokenVerifier,
  IdTokenVerifierUnavailable,
} from '../../functions/src/api/id-token-verifier.js';
import { TestClock } from './api-harness.js';

/**
 * The verifier on its own, against a certificate endpoint of this test's (the URL is configuration, as the
 * simulator's is in the local stack): every check it makes, one token each. test/api/auth.test.ts covers it
 * behind the API with the simulator's real tokens.
 */

const ISSUER = 'https://accounts.google.com';
const AUDIENCE = 'workspace-sync-test.apps.googleusercontent.com';
const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
let server: Server;
let certsUrl: string;
let certsAvailable = true;

beforeAll(async () => {
  const pem = publicKey.export({ type: 'spki', format: 'pem' }).toString();
  server = createServer((_req, res) => {
    if (!certsAvailable) {
      res.writeHead(404).end();
      return;
    }
    res.writeHead(200, { 'content-type': 'application/json', 'cache-control': 'public, max-age=0' });
    res.end(JSON.stringify({ k1: pem }));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  certsUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}/oauth2/v1/certs`;
});
afterAll(async () => {
  await new Promise((resolve) => server.close(resolve));
});

const b64 = (v: unknown) => Buffer.from(JSON.stringify(v)).toString('base64url');
const nowS = () => Math.floor(Date.now() / 1000);

function token(claims: Record<string, unknown> = {}, header: Record<string, unknown> = {}): string {
  const body = `${b64({ alg: 'RS256', kid: 'k1', typ: 'JWT', ...header })}.${b64({
    iss: ISSUER,
    aud: AUDIENCE,
    sub: '1234',
    email: 'Admin@School.example',
    email_verified: true,
    hd: 'school.example',
    iat: nowS() - 60,
    exp: nowS() + 3000,
    ...claims,
  })}`;
  return `${body}.${createSign('RSA-SHA256').update(body).sign(privateKey).toString('base64url')}`;
}

const verifier = (clock = new TestClock()) =>
  new IdTokenVerifier({
    pemCertsUrl: certsUrl,
    issuers: [ISSUER, 'accounts.google.com'],
    audience: AUDIENCE,
    clock,
  });

async function refusal(p: Promise<unknown>): Promise<string> {
  const err = await p.then(
    () => null,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(IdTokenError);
  return (err as Error).message;
}

describe('IdTokenVerifier (google-auth-library)', () => {
  it('accepts a good token and answers who it names', async () => {
    const t = token({ nonce: 'n-1', name: 'Ada' });
    expect(await verifier().verify(t, { nonce: 'n-1', hostedDomain: 'School.example' })).toEqual({
      sub: '1234',
      email: 'admin@school.example',
      name: 'Ada',
      hd: 'school.example',
      nonce: 'n-1',
      expiresAt: expect.any(Number),
    });
  });

  it('refuses another issuer, another audience and a token signed by someone else', async () => {
    expect(await refusal(verifier().verify(token({ iss: 'https://evil.example' })))).toMatch(
      /not issued by Google/,
    );
    expect(await refusal(verifier().verify(token({ aud: 'other.apps.googleusercontent.com' })))).toMatch(
      /another application/,
    );
    const other = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey;
    const [h, c] = token().split('.');
    const forged = `${h}.${c}.${createSign('RSA-SHA256').update(`${h}.${c}`).sign(other).toString('base64url')}`;
    expect(await refusal(verifier().verify(forged))).toMatch(/signature/);
    expect(await refusal(verifier().verify(token({}, { kid: 'unknown' })))).toMatch(/unknown key/);
    expect(await refusal(verifier().verify(token({}, { alg: 'HS256' })))).toMatch(/algorithm/);
  });

  it('measures expiry on the service clock with 30 s of skew', async () => {
    const t = token({ iat: nowS() - 3600, exp: nowS() - 10 });
    // Ten seconds past exp is inside the skew; a minute is not.
    expect((await verifier().verify(t)).sub).toBe('1234');
    const late = new TestClock();
    late.offsetMs = 50_000;
    expect(await refusal(verifier(late).verify(t))).toMatch(/expired/);
    const early = new TestClock();
    early.offsetMs = -120_000;
    expect(await refusal(verifier(early).verify(token()))).toMatch(/not valid yet/);
  });

  it('requires a verified email, the sign-in nonce and the hosted domain where asked', async () => {
    expect(await refusal(verifier().verify(token({ email_verified: false })))).toMatch(/not verified/);
    expect(await refusal(verifier().verify(token({ email_verified: 'false' })))).toMatch(/not verified/);
    expect(await refusal(verifier().verify(token({ email: undefined })))).toMatch(/no email/);
    expect(await refusal(verifier().verify(token({ nonce: 'a' }), { nonce: 'b' }))).toMatch(
      /another sign-in/,
    );
    expect(
      await refusal(verifier().verify(token({ hd: 'other.example' }), { hostedDomain: 'school.example' })),
    ).toMatch(/domain school\.example/);
    expect(
      await refusal(verifier().verify(token({ hd: undefined }), { hostedDomain: 'school.example' })),
    ).toMatch(/domain/);
    // Without a required domain, a consumer account (no hd) is fine.
    expect((await verifier().verify(token({ hd: undefined }))).hd).toBeNull();
  });

  it('says the keys are unavailable, not that the token is bad, when the certificates cannot be fetched', async () => {
    certsAvailable = false;
    try {
      const err = await verifier()
        .verify(token())
        .then(
          () => null,
          (e: unknown) => e,
        );
      expect(err).toBeInstanceOf(IdTokenVerifierUnavailable);
    } finally {
      certsAvailable = true;
    }
  });
});

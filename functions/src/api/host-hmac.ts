import { createHmac, timingSafeEqual } from 'node:crypto';
import { ApiError } from './api-error.js';
import type { ApiRequest } from './http.js';

/**
 * The host product's requests are signed, not sent with a bearer token: `X-WS-Signature: sha256=hex(HMAC(key,
 * timestamp + "." + METHOD + "." + path + "." + rawBody))` with `X-WS-Timestamp` (unix seconds) and
 * `X-WS-Key-Id` naming the key, so keys can be rotated by configuring two at once. Method and path are signed
 * so a captured signature cannot be replayed against another endpoint or tenant.
 */
export const HOST_SIGNATURE_WINDOW_SECONDS = 300;

export interface HostCaller {
  kind: 'host';
  keyId: string;
}

export function hasHostSignature(req: ApiRequest): boolean {
  return req.header('x-ws-signature') !== undefined;
}

export interface SignedParts {
  timestamp: string;
  method: string;
  path: string;
  rawBody: Buffer | string;
}

export function signHostRequest(secret: string, parts: SignedParts): string {
  const mac = createHmac('sha256', secret);
  mac.update(`${parts.timestamp}.${parts.method.toUpperCase()}.${parts.path}.`);
  mac.update(parts.rawBody);
  return `sha256=${mac.digest('hex')}`;
}

/**
 * The three headers a host product sends with a signed request, as its own client computes them (the local
 * stack, scripts and tests sign this way too).
 */
export function hostSignatureHeaders(
  key: { keyId: string; secret: string },
  parts: Omit<SignedParts, 'timestamp'>,
  nowMs: number = Date.now(),
): Record<string, string> {
  const timestamp = String(Math.floor(nowMs / 1000));
  return {
    'x-ws-key-id': key.keyId,
    'x-ws-timestamp': timestamp,
    'x-ws-signature': signHostRequest(key.secret, { ...parts, timestamp }),
  };
}

const refuse = (message: string) =>
  new ApiError('unauthenticated', `host product signature rejected: ${message}`);

export function verifyHostSignature(
  req: ApiRequest,
  keys: ReadonlyMap<string, string>,
  nowMs: number,
): HostCaller {
  const keyId = req.header('x-ws-key-id');
  const timestamp = req.header('x-ws-timestamp');
  const signature = req.header('x-ws-signature');
  if (!keyId || !timestamp || !signature)
    throw refuse('X-WS-Key-Id, X-WS-Timestamp and X-WS-Signature are required');
  const secret = keys.get(keyId);
  if (secret === undefined) throw refuse('unknown key id');
  if (!/^\d{1,12}$/.test(timestamp)) throw refuse('X-WS-Timestamp must be unix seconds');
  if (Math.abs(nowMs / 1000 - Number(timestamp)) > HOST_SIGNATURE_WINDOW_SECONDS) {
    throw refuse('timestamp is outside the 5-minute window (check the clock, and sign each request anew)');
  }
  const m = /^sha256=([0-9a-f]{64})$/i.exec(signature);
  if (!m?.[1]) throw refuse('X-WS-Signature must be sha256=<64 hex digits>');
  const given = Buffer.from(m[1], 'hex');
  const expected = Buffer.from(
    signHostRequest(secret, { timestamp, method: req.method, path: req.path, rawBody: req.rawBody }).slice(
      'sha256='.length,
    ),
    'hex',
  );
  if (!timingSafeEqual(given, expected)) throw refuse('signature does not match the method, path and body');
  return { kind: 'host', keyId };
}

import { createHash, createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { ApiError } from './api-error.js';
import type { ApiRequest } from './http.js';

/**
 * The host product's requests are signed, not sent with a bearer token (scheme `ws-hmac-v2`, README "Security"):
 *
 *   X-WS-Key-Id:    the key's id (two keys can be configured at once, for rotation)
 *   X-WS-Timestamp: unix seconds; refused outside ±5 minutes of our clock
 *   X-WS-Nonce:     16-128 of [A-Za-z0-9_-], fresh per request, so two identical requests sign differently
 *   X-WS-Signature: v2=<hex HMAC-SHA256(secret, string-to-sign)>
 *
 *   string-to-sign = "ws-hmac-v2" \n timestamp \n nonce \n METHOD \n path-and-query \n hex(SHA-256(body))
 *
 * path-and-query is the request target exactly as sent (percent-encoding as on the wire, `?query` included, no
 * host), and the body hash covers the exact bytes (the empty string's hash when there is none). Method, path,
 * query and body are covered so a captured signature cannot be moved to another endpoint, tenant, filter or
 * payload; each signature is accepted once (store/replay-guard.ts), so it cannot be replayed either. Newlines
 * separate the parts because none of them can contain one. Standard Webhooks' scheme (webhook-id/-timestamp/
 * -signature) signs only the id, timestamp and body, which would leave method, path and query open.
 */
export const HOST_SIGNATURE_WINDOW_SECONDS = 300;
export const HOST_SIGNATURE_SCHEME = 'ws-hmac-v2';

export interface HostCaller {
  kind: 'host';
  keyId: string;
}

export function hasHostSignature(req: ApiRequest): boolean {
  return req.header('x-ws-signature') !== undefined;
}

export interface SignedParts {
  timestamp: string;
  nonce: string;
  method: string;
  /** Path and query as sent, e.g. `/api/tenants/acme/runs?limit=5`. */
  path: string;
  rawBody: Buffer | string;
}

export const sha256Hex = (data: Buffer | string) => createHash('sha256').update(data).digest('hex');

export function stringToSign(parts: SignedParts): string {
  return [
    HOST_SIGNATURE_SCHEME,
    parts.timestamp,
    parts.nonce,
    parts.method.toUpperCase(),
    parts.path,
    sha256Hex(parts.rawBody),
  ].join('\n');
}

export function signHostRequest(secret: string, parts: SignedParts): string {
  return `v2=${createHmac('sha256', secret).update(stringToSign(parts)).digest('hex')}`;
}

/**
 * The four headers a host product sends with a signed request, as its own client computes them (the local
 * stack, scripts, the soak suite and tests sign this way too). `path` is the path with its query string.
 */
export function hostSignatureHeaders(
  key: { keyId: string; secret: string },
  parts: Omit<SignedParts, 'timestamp' | 'nonce'> & { nonce?: string },
  nowMs: number = Date.now(),
): Record<string, string> {
  const timestamp = String(Math.floor(nowMs / 1000));
  const nonce = parts.nonce ?? randomBytes(16).toString('base64url');
  return {
    'x-ws-key-id': key.keyId,
    'x-ws-timestamp': timestamp,
    'x-ws-nonce': nonce,
    'x-ws-signature': signHostRequest(key.secret, { ...parts, timestamp, nonce }),
  };
}

const refuse = (message: string) =>
  new ApiError('unauthenticated', `host product signature rejected: ${message}`);

export interface VerifiedSignature {
  caller: HostCaller;
  /** SHA-256 of the signature: what the replay guard remembers. */
  signatureHash: string;
  /** When the signature leaves the window; remembering it longer is pointless. */
  expiresAtMs: number;
}

/** Checks key, clock window and HMAC. Whether the signature was used before is the caller's next question. */
export function verifyHostSignature(
  req: ApiRequest,
  keys: ReadonlyMap<string, string>,
  nowMs: number,
): VerifiedSignature {
  const keyId = req.header('x-ws-key-id');
  const timestamp = req.header('x-ws-timestamp');
  const nonce = req.header('x-ws-nonce');
  const signature = req.header('x-ws-signature');
  if (!keyId || !timestamp || !nonce || !signature)
    throw refuse('X-WS-Key-Id, X-WS-Timestamp, X-WS-Nonce and X-WS-Signature are required');
  const secret = keys.get(keyId);
  if (secret === undefined) throw refuse('unknown key id');
  if (!/^\d{1,12}$/.test(timestamp)) throw refuse('X-WS-Timestamp must be unix seconds');
  if (Math.abs(nowMs / 1000 - Number(timestamp)) > HOST_SIGNATURE_WINDOW_SECONDS) {
    throw refuse('timestamp is outside the 5-minute window (check the clock, and sign each request anew)');
  }
  if (!/^[A-Za-z0-9_-]{16,128}$/.test(nonce)) throw refuse('X-WS-Nonce must be 16-128 of [A-Za-z0-9_-]');
  const m = /^v2=([0-9a-f]{64})$/i.exec(signature);
  if (!m?.[1]) throw refuse(`X-WS-Signature must be v2=<64 hex digits> (scheme ${HOST_SIGNATURE_SCHEME})`);
  const given = Buffer.from(m[1], 'hex');
  const expected = Buffer.from(
    signHostRequest(secret, {
      timestamp,
      nonce,
      method: req.method,
      path: req.target,
      rawBody: req.rawBody,
    }).slice('v2='.length),
    'hex',
  );
  if (!timingSafeEqual(given, expected))
    throw refuse('signature does not match the method, path, query and body');
  return {
    caller: { kind: 'host', keyId },
    signatureHash: sha256Hex(given),
    expiresAtMs: (Number(timestamp) + HOST_SIGNATURE_WINDOW_SECONDS) * 1000,
  };
}

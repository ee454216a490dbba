import { hostSignatureHeaders } from '../../functions/src/api/host-hmac.js';
import { MAX_BODY_BYTES, MAX_HEADER_BYTES } from '../../functions/src/api/request-body.js';
import type { Access, Route } from '../../functions/src/api/router.js';
import type { RawAnswer, RawRequest } from './raw-http.js';

/**
 * Hostile requests, generated for EVERY route of the router table (a new route is covered without touching
 * this file). Each case must be refused with its status, in the JSON error shape, and change nothing.
 */
export interface HostileCase {
  name: string;
  /** Sent before the "before" snapshot, e.g. the original of a replayed request. */
  prepare?: () => Promise<unknown>;
  request: RawRequest;
  expectStatus: number;
  /** An extra check on the refusal (e.g. the replay message); a string says what is wrong. */
  check?: (a: RawAnswer) => string | null;
}

export interface CaseWorld {
  /** A valid value for each path parameter, naming real documents where there are any. */
  params: Record<string, string>;
  bearer: string;
  hostKey: { keyId: string; secret: string };
  send: (r: RawRequest) => Promise<RawAnswer>;
}

export const fillPattern = (
  pattern: string,
  params: Record<string, string>,
  override: Record<string, string> = {},
) =>
  pattern.replace(
    /:([A-Za-z]+)/g,
    (_, name: string) => override[name] ?? encodeURIComponent(params[name] ?? 'x'),
  );

const paramNames = (pattern: string) => [...pattern.matchAll(/:([A-Za-z]+)/g)].map((m) => m[1]!);
const isPublic = (a: Access) => a.kind === 'public';
const hostAllowed = (a: Access) => a.kind === 'host' || (a.kind === 'tenant' && a.allowHost === true);

/** A body for a signed request that no route accepts (strict schemas refuse unknown fields): no side effects. */
const INERT_BODY = JSON.stringify({ soakProbe: true });

export function casesFor(route: Route<unknown>, w: CaseWorld): HostileCase[] {
  const path = fillPattern(route.pattern, w.params);
  const m = route.method;
  const auth = { authorization: `Bearer ${w.bearer}` };
  const json = { 'content-type': 'application/json' };
  const body = JSON.stringify({ mappingId: w.params.mappingId ?? 'x' });
  const label = (what: string) => `${m} ${route.pattern} — ${what}`;
  const cases: HostileCase[] = [
    // Bodies.
    {
      name: label('JSON sent as text/plain'),
      request: { method: m, path, headers: { ...auth, 'content-type': 'text/plain' }, body },
      expectStatus: 415,
    },
    {
      name: label('body without Content-Type'),
      request: { method: m, path, headers: auth, body },
      expectStatus: 415,
    },
    {
      name: label('form-encoded body'),
      request: {
        method: m,
        path,
        headers: { ...auth, 'content-type': 'application/x-www-form-urlencoded' },
        body: 'mappingId=x',
      },
      expectStatus: 415,
    },
    {
      name: label('latin-1 charset'),
      request: {
        method: m,
        path,
        headers: { ...auth, 'content-type': 'application/json; charset=iso-8859-1' },
        body,
      },
      expectStatus: 415,
    },
    {
      name: label('gzip Content-Encoding'),
      request: {
        method: m,
        path,
        headers: { ...auth, ...json, 'content-encoding': 'gzip' },
        body: Buffer.from([0x1f, 0x8b, 8, 0]),
      },
      expectStatus: 415,
    },
    {
      name: label('invalid UTF-8'),
      request: {
        method: m,
        path,
        headers: { ...auth, ...json },
        body: Buffer.concat([Buffer.from('{"name":"a'), Buffer.from([0xc3, 0x28]), Buffer.from('"}')]),
      },
      expectStatus: 400,
    },
    {
      name: label('malformed JSON'),
      request: { method: m, path, headers: { ...auth, ...json }, body: '{"mappingId":' },
      expectStatus: 400,
    },
    {
      name: label('oversize body'),
      request: {
        method: m,
        path,
        headers: { ...auth, ...json },
        body: JSON.stringify({ pad: 'x'.repeat(MAX_BODY_BYTES) }),
      },
      expectStatus: 413,
    },
    {
      name: label('oversize chunked body'),
      request: {
        method: m,
        path,
        headers: { ...auth, ...json },
        body: JSON.stringify({ pad: 'x'.repeat(MAX_BODY_BYTES) }),
        chunked: true,
      },
      expectStatus: 413,
    },
    // Headers.
    {
      name: label('headers over our limit'),
      request: { method: m, path, headers: { ...auth, 'x-pad': 'p'.repeat(MAX_HEADER_BYTES + 512) } },
      expectStatus: 431,
    },
    {
      name: label("headers over Node's limit"),
      request: { method: m, path, headers: { ...auth, 'x-pad': 'p'.repeat(20 * 1024) } },
      expectStatus: 431,
    },
  ];
  // Paths: every parameter in turn, or a suffix where the route has none.
  const names = paramNames(route.pattern);
  const hostile: Array<[string, string]> = [
    ['encoded dot-dot', '%2e%2e'],
    ['dot-dot', '..'],
    ['dot', '.'],
    ['encoded slash', 'a%2Fb'],
    ['encoded backslash', 'a%5Cb'],
    ['broken escape', '%E0%A4%A'],
    ['NUL', 'a%00b'],
  ];
  for (const [what, value] of hostile) {
    if (names.length === 0) {
      cases.push({
        name: label(`${what} appended`),
        request: { method: m, path: `${path}/${value}`, headers: auth },
        expectStatus: 400,
      });
    }
    for (const name of names) {
      cases.push({
        name: label(`${what} as :${name}`),
        request: { method: m, path: fillPattern(route.pattern, w.params, { [name]: value }), headers: auth },
        expectStatus: 400,
      });
    }
  }
  cases.push({
    name: label('empty segment'),
    request: { method: m, path: path.replace('/', '//'), headers: auth },
    expectStatus: 400,
  });
  if (isPublic(route.access)) return cases;

  // Credentials and signatures.
  const now = Date.now();
  const sign = (o: { secret?: string; keyId?: string; at?: number; signedPath?: string } = {}) =>
    hostSignatureHeaders(
      { keyId: o.keyId ?? w.hostKey.keyId, secret: o.secret ?? w.hostKey.secret },
      { method: m, path: o.signedPath ?? path, rawBody: '' },
      o.at ?? now,
    );
  const signedCase = (what: string, headers: Record<string, string>, sendPath = path): HostileCase => ({
    name: label(what),
    request: { method: m, path: sendPath, headers },
    expectStatus: 401,
  });
  cases.push(
    signedCase('a bearer that is not a token', { authorization: 'Bearer not.a.token' }),
    signedCase('signed with the wrong secret', sign({ secret: 'not-the-secret-0123456789' })),
    signedCase('signed by an unknown key', sign({ keyId: 'nobody' })),
    signedCase('signature 10 minutes old', sign({ at: now - 600_000 })),
    signedCase('signature for another path', sign({ signedPath: `${path}/other` })),
    signedCase('signature without the query it was made for', sign({ signedPath: `${path}?limit=1` })),
    signedCase('query added after signing', sign(), `${path}?limit=1`),
    signedCase('signature without a nonce', (({ 'x-ws-nonce': _, ...rest }) => rest)(sign())),
  );
  // A replay: the original goes first (whatever it answers), then the very same bytes again.
  const raw = m === 'GET' || m === 'DELETE' ? '' : INERT_BODY;
  const original: RawRequest = {
    method: m,
    path,
    headers: { ...(raw ? json : {}), ...hostSignatureHeaders(w.hostKey, { method: m, path, rawBody: raw }) },
    ...(raw ? { body: raw } : {}),
  };
  cases.push({
    name: label('replayed signature'),
    prepare: () => w.send(original),
    request: original,
    expectStatus: 401,
    check: (a) =>
      hostAllowed(route.access) && !/already used/.test(a.text) ? `not refused as a replay: ${a.text}` : null,
  });
  return cases;
}

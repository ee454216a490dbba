import type { Request, Response } from '@google-cloud/functions-framework';
import { ApiError } from './api-error.js';

/**
 * The request as the routes see it: decoded path segments, query, headers and the raw body. Keeping the
 * framework's express objects out of the routes keeps them small and easy to read.
 */
export interface ApiRequest {
  method: string;
  /** The path as sent (still percent-encoded), for messages and logs. */
  path: string;
  /** Path and query exactly as sent: what a host signature covers. */
  target: string;
  segments: string[];
  query: URLSearchParams;
  header(name: string): string | undefined;
  rawBody: Buffer;
  /**
   * The JSON body, parsed by `readJsonBody` (request-body.ts) once the route is known; undefined when the
   * request has no body.
   */
  body: unknown;
}

const malformed = (message: string) => new ApiError('invalid_argument', `malformed request path: ${message}`);

/**
 * Splits a request target into path segments without resolving anything. `new URL()` would resolve
 * `/runs/%2e%2e` to the parent path, so a crafted id would be answered by another route; here a dot segment, an
 * encoded slash or backslash, an empty segment, a control character or a broken escape is refused instead.
 */
export function parseTarget(rawTarget: string): {
  path: string;
  target: string;
  segments: string[];
  query: URLSearchParams;
} {
  // Absolute-form targets (`GET http://host/path`) are legal HTTP/1.1; only their path and query count.
  const target = rawTarget.replace(/^[a-z][a-z0-9+.-]*:\/\/[^/?#]*/i, '') || '/';
  const hash = target.indexOf('#');
  if (hash >= 0) throw malformed('a fragment is not part of a request');
  const q = target.indexOf('?');
  const path = q < 0 ? target : target.slice(0, q);
  if (!path.startsWith('/')) throw malformed('the path must start with "/"');
  const raw = path.split('/').slice(1);
  // One trailing slash is tolerated (`/api/me/`); any other empty segment is not.
  if (raw.length > 1 && raw[raw.length - 1] === '') raw.pop();
  if (raw.length === 1 && raw[0] === '') raw.pop();
  const segments = raw.map((s) => {
    if (s === '') throw malformed('empty path segment ("//")');
    let decoded: string;
    try {
      decoded = decodeURIComponent(s);
    } catch {
      throw malformed('invalid percent-encoding or UTF-8 in a path segment');
    }
    if (decoded === '.' || decoded === '..') throw malformed('"." and ".." segments are not allowed');
    if (/[/\\]/.test(decoded)) throw malformed('an encoded "/" or "\\" in a path segment is not allowed');
    // eslint-disable-next-line no-control-regex
    if (/[\u0000-\u001f\u007f]/.test(decoded)) throw malformed('control characters are not allowed');
    return decoded;
  });
  return { path, target, segments, query: new URLSearchParams(q < 0 ? '' : target.slice(q + 1)) };
}

export function toApiRequest(req: Request, rawBody: Buffer): ApiRequest {
  const { path, target, segments, query } = parseTarget(req.originalUrl || req.url || '/');
  return {
    method: (req.method || 'GET').toUpperCase(),
    path,
    target,
    segments,
    query,
    header: (name) => {
      const v = req.headers[name.toLowerCase()];
      return Array.isArray(v) ? v.join(', ') : v;
    },
    rawBody,
    body: undefined,
  };
}

/** `cookies`: Set-Cookie values, one header each (a record of headers holds only one). */
export type ApiResult = (
  | { kind: 'json'; status: number; body: unknown; headers?: Record<string, string> }
  | { kind: 'redirect'; location: string; headers?: Record<string, string> }
  | { kind: 'html'; status: number; html: string; headers?: Record<string, string> }
  | { kind: 'empty'; status: number; headers?: Record<string, string> }
  /** A download (the records' CSV export); `contentType` names the charset. */
  | { kind: 'text'; status: number; contentType: string; text: string; headers?: Record<string, string> }
) & { cookies?: string[] };

export const json = (status: number, body: unknown, headers?: Record<string, string>): ApiResult => ({
  kind: 'json',
  status,
  body,
  ...(headers ? { headers } : {}),
});

export const redirect = (location: string, headers?: Record<string, string>): ApiResult => ({
  kind: 'redirect',
  location,
  ...(headers ? { headers } : {}),
});

// Nothing the API answers may be cached by a browser or a proxy: it is all per-admin, and some of it secret.
export const BASE_HEADERS = {
  'cache-control': 'no-store',
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
};

export function send(res: Response, result: ApiResult, extraHeaders: Record<string, string>): void {
  res.set({ ...BASE_HEADERS, ...extraHeaders, ...result.headers });
  if (result.cookies?.length) res.append('set-cookie', result.cookies);
  switch (result.kind) {
    case 'json':
      res.status(result.status).type('application/json').send(JSON.stringify(result.body));
      return;
    case 'redirect':
      res.status(302).set('location', result.location).end();
      return;
    case 'html':
      res.status(result.status).type('text/html; charset=utf-8').send(result.html);
      return;
    case 'empty':
      res.status(result.status).end();
      return;
    case 'text':
      res.status(result.status).type(result.contentType).send(result.text);
      return;
  }
}

export function errorResult(err: ApiError): ApiResult {
  return json(err.status, err.toBody(), err.headers);
}

import type { Request, Response } from '@google-cloud/functions-framework';
import type { ApiError } from './api-error.js';

/**
 * The request as the routes see it: decoded path segments, query, headers and the raw body. Keeping the
 * framework's express objects out of the routes keeps them small and easy to read.
 */
export interface ApiRequest {
  method: string;
  path: string;
  segments: string[];
  query: URLSearchParams;
  header(name: string): string | undefined;
  rawBody: Buffer;
  /** What the framework's body parser made of the body (object for JSON, string for text, Buffer otherwise). */
  parsedBody: unknown;
}

export function toApiRequest(req: Request): ApiRequest {
  const url = new URL(req.originalUrl || req.url, 'http://local');
  const segments = url.pathname
    .split('/')
    .filter((s) => s !== '')
    .map((s) => {
      try {
        return decodeURIComponent(s);
      } catch {
        // Undecodable escapes cannot name anything we store; keep the raw text so the route answers 404/400.
        return s;
      }
    });
  return {
    method: (req.method || 'GET').toUpperCase(),
    path: url.pathname,
    segments,
    query: url.searchParams,
    header: (name) => {
      const v = req.headers[name.toLowerCase()];
      return Array.isArray(v) ? v.join(', ') : v;
    },
    rawBody: req.rawBody ?? Buffer.alloc(0),
    parsedBody: req.body as unknown,
  };
}

export type ApiResult =
  | { kind: 'json'; status: number; body: unknown; headers?: Record<string, string> }
  | { kind: 'redirect'; location: string; headers?: Record<string, string> }
  | { kind: 'html'; status: number; html: string; headers?: Record<string, string> }
  | { kind: 'empty'; status: number; headers?: Record<string, string> };

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
const BASE_HEADERS = {
  'cache-control': 'no-store',
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
};

export function send(res: Response, result: ApiResult, extraHeaders: Record<string, string>): void {
  res.set({ ...BASE_HEADERS, ...extraHeaders, ...result.headers });
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
  }
}

export function errorResult(err: ApiError): ApiResult {
  return json(err.status, err.toBody(), err.headers);
}

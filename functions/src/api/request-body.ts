import type { IncomingMessage } from 'node:http';
import type { z } from 'zod';
import { ApiError, parseOrThrow } from './api-error.js';
import type { ApiRequest } from './http.js';

/** Every body the API accepts is a small JSON object; anything larger is a mistake or an attack. */
export const MAX_BODY_BYTES = 64 * 1024;

/**
 * All request headers together (names, values and line overhead). Node refuses more than 16 KB itself (answered
 * as JSON by framework-guard.ts); this lower bound is ours, so the limit does not depend on the runtime's flags.
 */
export const MAX_HEADER_BYTES = 8 * 1024;

// The rest of an oversize body is not read, so the connection cannot carry another request.
export const tooLarge = () =>
  new ApiError('payload_too_large', `request body is larger than ${MAX_BODY_BYTES / 1024} KB`, [], {
    connection: 'close',
  });

export function headerBytes(req: IncomingMessage): number {
  let total = 0;
  for (let i = 0; i < req.rawHeaders.length; i += 2)
    total += req.rawHeaders[i]!.length + req.rawHeaders[i + 1]!.length + 4;
  return total;
}

/** Checks what can be checked before a byte of the body is read: header size and the declared length. */
export function assertRequestHead(req: IncomingMessage): void {
  if (headerBytes(req) > MAX_HEADER_BYTES) {
    throw new ApiError(
      'request_header_fields_too_large',
      `request headers are larger than ${MAX_HEADER_BYTES / 1024} KB`,
    );
  }
  const declared = Number(req.headers['content-length'] ?? '0');
  if (Number.isFinite(declared) && declared > MAX_BODY_BYTES) throw tooLarge();
}

type WithRawBody = IncomingMessage & { rawBody?: Buffer };

/**
 * The request's body bytes, at most MAX_BODY_BYTES. framework-guard.ts reads them before the Functions Framework
 * can (so its parsers never run); the framework's own `rawBody` is used when it did parse; otherwise (a body
 * without a Content-Type, which no framework parser reads) the stream is read here. Reading stops at the limit.
 */
export async function readRawBody(req: IncomingMessage): Promise<Buffer> {
  const saved = (req as WithRawBody).rawBody;
  if (Buffer.isBuffer(saved)) {
    if (saved.length > MAX_BODY_BYTES) throw tooLarge();
    return saved;
  }
  if (req.readableEnded || !req.readable) return Buffer.alloc(0);
  // Events rather than `for await`: leaving an async iterator early destroys the request and with it the
  // socket, and the 413 could not be sent.
  const body = await new Promise<Buffer>((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const done = () => {
      req.off('data', onData).off('end', onEnd).off('error', onError);
    };
    const onData = (chunk: Buffer | string) => {
      const buf = Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk);
      size += buf.length;
      if (size > MAX_BODY_BYTES) {
        done();
        req.pause();
        reject(tooLarge());
        return;
      }
      chunks.push(buf);
    };
    const onEnd = () => {
      done();
      resolve(Buffer.concat(chunks));
    };
    const onError = (err: Error) => {
      done();
      reject(err);
    };
    req.on('data', onData).on('end', onEnd).on('error', onError);
  });
  (req as WithRawBody).rawBody = body;
  return body;
}

const mediaType = (req: ApiRequest) => (req.header('content-type') ?? '').split(';')[0]!.trim().toLowerCase();
const utf8 = new TextDecoder('utf-8', { fatal: true });

/**
 * Parses a non-empty body, for every route alike, before anyone is authenticated: it must be declared JSON
 * (a body sent as text/plain or without a Content-Type is refused, never read as `{}`), be valid UTF-8 (never
 * stored with U+FFFD in place of bad bytes) and parse as JSON. An empty body stays undefined.
 */
export function readJsonBody(req: ApiRequest): unknown {
  if (req.rawBody.length === 0) return undefined;
  if (mediaType(req) !== 'application/json') {
    throw new ApiError(
      'unsupported_media_type',
      'the request body must be JSON (Content-Type: application/json)',
    );
  }
  const encoding = (req.header('content-encoding') ?? 'identity').trim().toLowerCase();
  if (encoding !== 'identity') {
    throw new ApiError(
      'unsupported_media_type',
      'compressed request bodies are not accepted (Content-Encoding)',
    );
  }
  const charset = /;\s*charset\s*=\s*"?([^";\s]+)/i.exec(req.header('content-type') ?? '')?.[1];
  if (charset && charset.toLowerCase() !== 'utf-8') {
    throw new ApiError('unsupported_media_type', 'the request body must be UTF-8 JSON (charset=utf-8)');
  }
  let text: string;
  try {
    text = utf8.decode(req.rawBody);
  } catch {
    throw new ApiError('invalid_argument', 'the request body is not valid UTF-8');
  }
  try {
    return JSON.parse(text) as unknown;
  } catch {
    throw new ApiError('invalid_argument', 'the request body is not valid JSON');
  }
}

/** The route's JSON body. An empty body counts as `{}` where every field is optional. */
export function jsonBody(req: ApiRequest, opts: { emptyAllowed: boolean }): unknown {
  if (req.body === undefined) {
    if (opts.emptyAllowed) return {};
    throw new ApiError('invalid_argument', 'a JSON request body is required');
  }
  return req.body;
}

export function parseBody<S extends z.ZodType>(
  req: ApiRequest,
  schema: S,
  opts: { emptyAllowed: boolean },
): z.infer<S> {
  return parseOrThrow(schema, jsonBody(req, opts), 'request body');
}

/** Query parameters as a plain object (last value wins), for zod. */
export function queryObject(req: ApiRequest): Record<string, string> {
  return Object.fromEntries(req.query.entries());
}

export function parseQuery<S extends z.ZodType>(req: ApiRequest, schema: S): z.infer<S> {
  return parseOrThrow(schema, queryObject(req), 'query parameter');
}

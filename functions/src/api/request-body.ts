import type { z } from 'zod';
import { ApiError, parseOrThrow } from './api-error.js';
import type { ApiRequest } from './http.js';

/** Every body the API accepts is a small JSON object; anything larger is a mistake or an attack. */
export const MAX_BODY_BYTES = 64 * 1024;

/** Checked for every request, before authentication: an oversize body is refused without reading on. */
export function assertBodySize(req: ApiRequest): void {
  const declared = Number(req.header('content-length') ?? '0');
  if ((Number.isFinite(declared) && declared > MAX_BODY_BYTES) || req.rawBody.length > MAX_BODY_BYTES) {
    throw new ApiError('payload_too_large', `request body is larger than ${MAX_BODY_BYTES / 1024} KB`);
  }
}

const mediaType = (req: ApiRequest) => (req.header('content-type') ?? '').split(';')[0]!.trim().toLowerCase();

/**
 * The request's JSON body. The framework's parser has already read JSON bodies; other content types arrive as
 * text or bytes and are refused here. An empty body counts as `{}` where every field is optional.
 */
export function jsonBody(req: ApiRequest, opts: { emptyAllowed: boolean }): unknown {
  if (req.rawBody.length === 0) {
    if (opts.emptyAllowed) return {};
    throw new ApiError('invalid_argument', 'a JSON request body is required');
  }
  if (mediaType(req) !== 'application/json') {
    throw new ApiError(
      'unsupported_media_type',
      'the request body must be JSON (Content-Type: application/json)',
    );
  }
  const parsed = req.parsedBody;
  if (parsed !== undefined && !Buffer.isBuffer(parsed) && typeof parsed !== 'string') return parsed;
  try {
    return JSON.parse(req.rawBody.toString('utf8')) as unknown;
  } catch {
    throw new ApiError('invalid_argument', 'the request body is not valid JSON');
  }
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

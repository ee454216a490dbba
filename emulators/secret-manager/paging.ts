import { invalidArgument } from '../grpc-support/rpc-error.js';

export const MAX_PAGE_SIZE = 25_000;

export interface PageRequest {
  pageSize?: number;
  pageToken?: string;
}

export interface Page<T> {
  items: T[];
  nextPageToken: string;
}

interface TokenBody {
  /** Ties a token to the listing it came from (parent + filter), like Google's opaque tokens. */
  scope: string;
  /** Sort key of the last item served; cursor-based so deletions between pages skip nothing. */
  after: string;
}

function encodeToken(body: TokenBody): string {
  return Buffer.from(JSON.stringify(body)).toString('base64url');
}

function decodeToken(token: string, scope: string): TokenBody {
  try {
    const body = JSON.parse(Buffer.from(token, 'base64url').toString('utf8')) as Partial<TokenBody>;
    if (body.scope === scope && typeof body.after === 'string') return { scope, after: body.after };
  } catch {
    // fall through to the same error as a token for another listing
  }
  throw invalidArgument(`Invalid page token [${token}].`);
}

/**
 * `sorted` must already be in response order; `keyOf` gives each item a key such that
 * `isAfter(item, key)` tells whether the item comes after the item with that key.
 */
export function paginate<T>(
  sorted: readonly T[],
  request: PageRequest,
  scope: string,
  keyOf: (item: T) => string,
  isAfter: (item: T, key: string) => boolean,
): Page<T> {
  const pageSize = request.pageSize ?? 0;
  if (!Number.isInteger(pageSize) || pageSize < 0 || pageSize > MAX_PAGE_SIZE) {
    throw invalidArgument(`page_size must be between 0 and ${MAX_PAGE_SIZE}, got ${pageSize}.`);
  }
  const limit = pageSize === 0 ? MAX_PAGE_SIZE : pageSize;
  const after = request.pageToken ? decodeToken(request.pageToken, scope).after : undefined;
  const start = after === undefined ? 0 : sorted.findIndex((item) => isAfter(item, after));
  const remaining = start === -1 ? [] : sorted.slice(start);
  const items = remaining.slice(0, limit);
  const last = items.at(-1);
  const hasMore = remaining.length > items.length && last !== undefined;
  return { items, nextPageToken: hasMore ? encodeToken({ scope, after: keyOf(last) }) : '' };
}

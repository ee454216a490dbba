import { createHash } from 'node:crypto';

/**
 * Google's Directory etags look like `"<43 chars>/<27 chars>"`: a per-tenant prefix and a per-representation
 * digest. Hashing the rendered content means an etag changes exactly when the resource does.
 */
export function etagPrefixFor(scope: string): string {
  return createHash('sha256').update(`etag-prefix:${scope}`).digest('base64url');
}

export function etagFor(prefix: string, content: unknown): string {
  const digest = createHash('sha1').update(JSON.stringify(content)).digest('base64url').slice(0, 27);
  return `"${prefix}/${digest}"`;
}

export function listEtag(prefix: string, itemEtags: readonly string[], extra = ''): string {
  const h = createHash('sha1');
  for (const e of itemEtags) h.update(e);
  h.update(extra);
  return `"${prefix}/${h.digest('base64url').slice(0, 27)}"`;
}

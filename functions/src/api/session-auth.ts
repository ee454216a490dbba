import { SESSION_ID_PATTERN } from '../store/sessions.js';
import { ApiError } from './api-error.js';
import type { ApiRequest } from './http.js';

/**
 * The console's session cookie. Sign-in (routes/auth-routes.ts) creates a server session (store/sessions.ts)
 * and sets its random id in a cookie:
 *   __session=ws_s_<id>; Path=/api; HttpOnly; SameSite=Lax; Secure (not on a loopback console origin)
 * `__session` because Firebase Hosting forwards no other cookie to a function behind its rewrites; the sign-in
 * and connect flows' binding cookies share the name but live on their callback paths, and the `ws_s_` prefix
 * tells the values apart (connection/browser-binding.ts reads only its own shapes).
 *
 * CSRF: a cookie is sent by the browser whoever made the page, so every cookie-authenticated request that is not
 * a read (GET/HEAD) must carry `X-Requested-With: workspace-sync` and, when it names one, come from the console's
 * Origin. A form on another site cannot set a header; a script on another site can only send one after a CORS
 * preflight, which the API refuses for every origin but the console's (cors.ts). SameSite=Lax already keeps the
 * cookie off cross-site POSTs in current browsers; the header check does not depend on that. Bearer tokens and
 * host signatures are not sent by a browser on its own, so they need neither.
 */

export const SESSION_COOKIE = '__session';
const VALUE_PREFIX = 'ws_s_';
export const CSRF_HEADER = 'x-requested-with';
export const CSRF_HEADER_VALUE = 'workspace-sync';

/** The session id in the Cookie header, if any. */
export function sessionIdFrom(cookieHeader: string | undefined): string | null {
  for (const part of (cookieHeader ?? '').split(';')) {
    const eq = part.indexOf('=');
    if (eq <= 0 || part.slice(0, eq).trim() !== SESSION_COOKIE) continue;
    const value = part.slice(eq + 1).trim();
    if (!value.startsWith(VALUE_PREFIX)) continue;
    const id = value.slice(VALUE_PREFIX.length);
    if (SESSION_ID_PATTERN.test(id)) return id;
  }
  return null;
}

const LOOPBACK = new Set(['localhost', '127.0.0.1', '[::1]']);

/** `Secure` everywhere but a console served over plain HTTP on this machine (the local stack). */
function attributes(consoleOrigin: string): string {
  const u = new URL(consoleOrigin);
  const secure = u.protocol === 'http:' && LOOPBACK.has(u.hostname) ? '' : '; Secure';
  return `Path=/api; HttpOnly; SameSite=Lax${secure}`;
}

export function sessionCookie(id: string, maxAgeSeconds: number, consoleOrigin: string): string {
  return `${SESSION_COOKIE}=${VALUE_PREFIX}${id}; Max-Age=${Math.max(0, Math.floor(maxAgeSeconds))}; ${attributes(consoleOrigin)}`;
}

export function clearedSessionCookie(consoleOrigin: string): string {
  return `${SESSION_COOKIE}=; Max-Age=0; ${attributes(consoleOrigin)}`;
}

const READS = new Set(['GET', 'HEAD', 'OPTIONS']);

/** Refuses a cookie-authenticated write that a page of another site could have made the browser send. */
export function assertNotCrossSite(req: ApiRequest, consoleOrigin: string): void {
  if (READS.has(req.method)) return;
  const origin = req.header('origin');
  if (origin !== undefined && origin !== consoleOrigin) {
    throw new ApiError('permission_denied', 'cross-site request refused: it does not come from the console');
  }
  if (req.header(CSRF_HEADER) !== CSRF_HEADER_VALUE) {
    throw new ApiError(
      'permission_denied',
      `a request signed in by the session cookie must send ${CSRF_HEADER}: ${CSRF_HEADER_VALUE}`,
    );
  }
}

import { randomToken, sha256Hex } from '../store/oauth-states.js';

/**
 * Ties an OAuth flow to the browser that started it. Starting the flow sets an HttpOnly cookie holding a
 * secret whose hash is stored with the state; the callback must present it. A link carrying someone else's
 * state (another admin, another browser, an attacker's own authorization or sign-in) then fails even though
 * the state itself is valid. SameSite=Lax still sends the cookie on the top-level redirect back from Google.
 */

// Firebase Hosting forwards only the cookie named `__session` to functions behind its rewrites. Both flows use
// that name; their cookies stay apart because each is scoped to its own callback path.
export const CONNECT_COOKIE = '__session';
export const SIGNIN_COOKIE = '__session';

export function newBindingSecret(): { secret: string; hash: string } {
  const secret = randomToken(32);
  return { secret, hash: sha256Hex(secret) };
}

export const secretMatches = (secret: string, hash: string | null) =>
  hash !== null && sha256Hex(secret) === hash;

/** Scoped to the callback's path, so the cookie is sent nowhere else. */
function attributes(callbackUri: string): string {
  const u = new URL(callbackUri);
  const secure = u.protocol === 'https:' ? '; Secure' : '';
  return `Path=${u.pathname}; HttpOnly; SameSite=Lax${secure}`;
}

export function bindingCookie(
  name: string,
  value: string,
  callbackUri: string,
  maxAgeSeconds: number,
): string {
  return `${name}=${value}; Max-Age=${maxAgeSeconds}; ${attributes(callbackUri)}`;
}

export function clearedCookie(name: string, callbackUri: string): string {
  return `${name}=; Max-Age=0; ${attributes(callbackUri)}`;
}

/** Every value sent under the name: a browser holding one per path sends all that match. */
function cookieValues(cookieHeader: string | undefined, name: string): string[] {
  const values: string[] = [];
  for (const part of (cookieHeader ?? '').split(';')) {
    const eq = part.indexOf('=');
    if (eq > 0 && part.slice(0, eq).trim() === name) values.push(part.slice(eq + 1).trim());
  }
  return values;
}

/** The sign-in cookie holds the secret alone. */
export function signinBinding(cookieHeader: string | undefined): string | null {
  return cookieValues(cookieHeader, SIGNIN_COOKIE).find((v) => /^[A-Za-z0-9_-]{43}$/.test(v)) ?? null;
}

/** The connect cookie names the tenant too: `<tenantId>.<secret>`. */
export function connectBinding(
  cookieHeader: string | undefined,
): { tenantId: string; secret: string } | null {
  for (const value of cookieValues(cookieHeader, CONNECT_COOKIE)) {
    const m = /^([a-z0-9-]{1,40})\.([A-Za-z0-9_-]{43})$/.exec(value);
    if (m?.[1] && m[2]) return { tenantId: m[1], secret: m[2] };
  }
  return null;
}

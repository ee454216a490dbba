import { randomBytes } from 'node:crypto';
import type { ApiResult } from './http.js';

/** JSON for an inline script: `<` escaped so the string cannot close the script element. */
const scriptString = (s: string) =>
  JSON.stringify(s)
    .replace(/</g, '\\u003c')
    .replace(/\u2028/g, '\\u2028')
    .replace(/\u2029/g, '\\u2029');

/**
 * The end of sign-in: a page that hands the ID token to the console through sessionStorage (never a URL, which
 * would end up in history and logs) and moves on. The script runs under a nonce-only CSP.
 */
export function signinHandoffPage(idToken: string, returnTo: string): ApiResult {
  const nonce = randomBytes(16).toString('base64');
  const html = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Signing in…</title></head>
<body><p>Signing in…</p>
<script nonce="${nonce}">
sessionStorage.setItem('ws.idToken', ${scriptString(idToken)});
location.replace(${scriptString(returnTo)});
</script></body></html>`;
  return {
    kind: 'html',
    status: 200,
    html,
    headers: {
      'content-security-policy': `default-src 'none'; script-src 'nonce-${nonce}'; base-uri 'none'; frame-ancestors 'none'`,
      'x-frame-options': 'DENY',
    },
  };
}

/** Only paths on our own origin: `//evil.example` and `/\evil.example` are other origins to a browser. */
export function safeReturnTo(value: string | undefined): string {
  if (!value || value.length > 1000) return '/';
  if (!value.startsWith('/') || value.startsWith('//') || value.startsWith('/\\')) return '/';
  if ([...value].some((ch) => ch.charCodeAt(0) < 0x20 || ch.charCodeAt(0) === 0x7f || ch === '\\'))
    return '/';
  return value;
}

import { isIP } from 'node:net';

const LOOPBACK_HOSTS = new Set(['localhost', '127.0.0.1', '[::1]']);

/**
 * Private, link-local and loopback address literals: a tenant's webhook must not make the service call into its
 * own network. (A public name that resolves to such an address is not caught here; the deployment's egress
 * rules are the backstop for that.)
 */
function isInternalLiteral(hostname: string): boolean {
  const h = hostname.replace(/^\[|\]$/g, '').toLowerCase();
  if (h === 'localhost' || h.endsWith('.localhost')) return true;
  if (isIP(h) === 4) {
    const [a = 0, b = 0] = h.split('.').map(Number);
    return (
      a === 0 ||
      a === 10 ||
      a === 127 ||
      (a === 169 && b === 254) ||
      (a === 172 && b >= 16 && b <= 31) ||
      (a === 192 && b === 168)
    );
  }
  if (isIP(h) === 6)
    return h === '::1' || h === '::' || /^f[cd]/.test(h) || /^fe[89ab]/.test(h) || h.startsWith('::ffff:');
  return false;
}

/**
 * Why a URL cannot be a webhook target, or null when it can: https only; `http://` on a loopback host only
 * where NOTIFY_LOOPBACK_WEBHOOKS allows it (the local stack and tests); no credentials in the URL.
 */
export function webhookUrlProblem(raw: string, allowLoopback: boolean): string | null {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    return 'must be an absolute URL';
  }
  if (url.username || url.password) return 'must not carry credentials';
  if (allowLoopback && LOOPBACK_HOSTS.has(url.hostname)) return null;
  if (url.protocol !== 'https:') return 'must be an https:// URL';
  if (isInternalLiteral(url.hostname)) return 'must not point at a private or loopback address';
  return null;
}

// The API client: same-origin JSON, signed in by the session cookie (HttpOnly, set at sign-in), one error shape.

export class ApiError extends Error {
  /**
   * @param {number} status HTTP status (0 when the service could not be reached)
   * @param {string} code
   * @param {string} message
   * @param {{path: string, message: string}[]} [details]
   */
  constructor(status, code, message, details = []) {
    super(message);
    this.name = 'ApiError';
    this.status = status;
    this.code = code;
    this.details = details;
  }
}

/** `fieldMap[0].source`, `/fieldMap/0/source` and `['fieldMap', 0, 'source']` all become `fieldMap.0.source`. */
export function normalizePath(p) {
  if (Array.isArray(p)) return p.join('.');
  return String(p ?? '')
    .replace(/\[(\d+)\]/g, '.$1')
    .replace(/\//g, '.')
    .replace(/^\.+/, '');
}

/**
 * @param {string} method
 * @param {string} path
 * @param {{body?: unknown, ifMatch?: string, headers?: Record<string, string>}} [opts]
 * @returns {Promise<{data: any, etag: string | null, status: number}>}
 */
export async function request(method, path, opts = {}) {
  /** @type {Record<string, string>} */
  // The session cookie's CSRF check (functions/src/api/session-auth.ts): a page of another site cannot send it.
  const headers = { accept: 'application/json', 'x-requested-with': 'workspace-sync', ...opts.headers };
  if (opts.body !== undefined) headers['content-type'] = 'application/json';
  if (opts.ifMatch) headers['if-match'] = opts.ifMatch;
  let res;
  try {
    res = await fetch(path, {
      method,
      headers,
      body: opts.body === undefined ? undefined : JSON.stringify(opts.body),
      credentials: 'same-origin',
    });
  } catch {
    throw new ApiError(
      0,
      'network',
      'The Workspace Sync service could not be reached. Check your network connection and try again.',
    );
  }
  const text = await res.text();
  let data = null;
  try {
    data = text ? JSON.parse(text) : null;
  } catch {
    data = null;
  }
  if (!res.ok) {
    const e = data && typeof data === 'object' ? (data.error ?? {}) : {};
    const details = Array.isArray(e.details)
      ? e.details.map((d) => ({
          path: normalizePath(d.path),
          message: String(d.message ?? ''),
        }))
      : [];
    const err = new ApiError(
      res.status,
      e.code ?? `http_${res.status}`,
      e.message ?? defaultMessage(res.status),
      details,
    );
    if (res.status === 401) window.dispatchEvent(new CustomEvent('ws:unauthorized', { detail: err }));
    throw err;
  }
  return { data, etag: res.headers.get('etag'), status: res.status };
}

function defaultMessage(status) {
  if (status === 401) return 'Your session has expired. Sign in again.';
  if (status === 403) return 'You do not have permission to do that for this tenant.';
  if (status === 404) return 'Not found. It may have been deleted.';
  if (status >= 500) return 'The service had a problem. Try again in a moment.';
  return `The request failed (HTTP ${status}).`;
}

export const get = async (p) => (await request('GET', p)).data;
export const post = async (p, body = {}) => (await request('POST', p, { body })).data;

/** Lists come back either bare or wrapped ({mappings: [...]}) depending on the endpoint. */
export function listOf(data, key) {
  if (Array.isArray(data)) return data;
  if (data && Array.isArray(data[key])) return data[key];
  return [];
}

export const tenantPath = (t, rest = '') => `/api/tenants/${encodeURIComponent(t)}${rest}`;

import { randomUUID } from 'node:crypto';
import type { z } from 'zod';
import { ClientCredentialsTokenProvider, type AccessTokenSource } from './client-credentials-token.js';
import type { EntraConnection } from './entra-connection.js';
import { EntraError, safeServerText } from './entra-error.js';
import { fetchWithRetry, type FetchLike } from './fetch-with-retry.js';
import {
  deltaPageSchema,
  graphErrorSchema,
  usersPageSchema,
  type GraphUser,
  type RemovedUser,
} from './graph-schemas.js';
import { ENTRA_USER_SELECT } from './map-graph-user.js';
import { resolveRetryPolicy, type ResolvedRetryPolicy, type RetryOptions } from './retry-policy.js';

export interface EntraGraphClientOptions {
  retry?: RetryOptions;
  fetch?: FetchLike;
  /** Milliseconds since the epoch; injectable so tests can move past token expiry. */
  clock?: () => number;
  /** Replaces client-credentials acquisition (e.g. a shared cache); defaults to one provider per client. */
  tokenSource?: AccessTokenSource;
}

export interface ListUsersOptions {
  select?: readonly string[];
  /** OData $filter, e.g. `accountEnabled eq true`. */
  filter?: string;
  /** Page size, 1..999 (Graph's maximum, and the default here to minimise round trips). */
  top?: number;
  onPage: (users: GraphUser[]) => Promise<void> | void;
}

export interface DeltaPage {
  users: GraphUser[];
  removed: RemovedUser[];
  /** True in a round started without a deltaLink: the pages list everyone, so absentees can be reconciled. */
  fullSync: boolean;
}

/** One delta page, its entries in the order Graph listed them (the same user may appear more than once). */
export interface OrderedDeltaPage {
  entries: Array<{ kind: 'user'; user: GraphUser } | { kind: 'removed'; removed: RemovedUser }>;
  /** The next page of this round, or null on the round's last page. */
  nextLink: string | null;
  /** On the round's last page: where the next round starts. */
  deltaLink: string | null;
}

export interface DeltaUsersOptions {
  /** From the previous round; omit for an initial (full) round. */
  deltaLink?: string;
  /** Only used by a full round: Graph carries the selection inside its links. */
  select?: readonly string[];
  onPage: (page: DeltaPage) => Promise<void> | void;
}

const DEFAULT_TOP = 999;

/**
 * Microsoft Graph users for one tenant connection, over plain fetch. Follows @odata.nextLink only on the
 * configured Graph origin (a forged link must not receive our bearer token), refreshes the token once on a 401,
 * and reports an expired delta state as EntraError RESYNC_REQUIRED so the caller can run a full round.
 */
export class EntraGraphClient {
  readonly #connection: EntraConnection;
  readonly #policy: ResolvedRetryPolicy;
  readonly #fetch: FetchLike;
  readonly #tokens: AccessTokenSource;
  readonly #graphOrigin: string;

  constructor(connection: EntraConnection, options: EntraGraphClientOptions = {}) {
    this.#connection = connection;
    this.#policy = resolveRetryPolicy(options.retry);
    this.#fetch = options.fetch ?? ((url, init) => fetch(url, init));
    this.#tokens =
      options.tokenSource ??
      new ClientCredentialsTokenProvider(connection, this.#policy, this.#fetch, options.clock ?? Date.now);
    this.#graphOrigin = new URL(connection.graphBaseUrl).origin;
  }

  get tenantId(): string {
    return this.#connection.tenantId;
  }

  /** Every user (soft-deleted ones are not listed by Graph), page by page. */
  async listUsers(options: ListUsersOptions): Promise<{ pages: number; users: number }> {
    const top = options.top ?? DEFAULT_TOP;
    if (!Number.isInteger(top) || top < 1 || top > 999) {
      throw new EntraError('INVALID_ARGUMENT', `listUsers: top must be 1..999, got ${top}`);
    }
    const query = [
      `$select=${encodeURIComponent((options.select ?? ENTRA_USER_SELECT).join(','))}`,
      `$top=${top}`,
    ];
    if (options.filter) query.push(`$filter=${encodeURIComponent(options.filter)}`);
    let url: string | undefined = `${this.#connection.graphBaseUrl}/v1.0/users?${query.join('&')}`;
    let pages = 0;
    let users = 0;
    while (url) {
      const page: z.infer<typeof usersPageSchema> = await this.#getJson(
        url,
        usersPageSchema,
        'GET /v1.0/users',
      );
      pages++;
      users += page.value.length;
      await options.onPage(page.value);
      url =
        page['@odata.nextLink'] === undefined
          ? undefined
          : this.#checkedLink(page['@odata.nextLink'], '/v1.0/users');
    }
    return { pages, users };
  }

  /**
   * One delta round: all pages up to the new deltaLink, which the caller stores (only after its own writes
   * succeeded) for the next round. Throws EntraError RESYNC_REQUIRED when Graph no longer knows the state.
   */
  async deltaUsers(
    options: DeltaUsersOptions,
  ): Promise<{ deltaLink: string; pages: number; fullSync: boolean }> {
    const fullSync = options.deltaLink === undefined;
    let link: string | null = options.deltaLink ?? null;
    // Page by page through deltaPage, the one parser of delta responses; this only groups each page's entries.
    for (let pages = 1; ; pages++) {
      const page = await this.deltaPage(link, options.select);
      const users: GraphUser[] = [];
      const removed: RemovedUser[] = [];
      for (const entry of page.entries) {
        if (entry.kind === 'removed') removed.push(entry.removed);
        else users.push(entry.user);
      }
      await options.onPage({ users, removed, fullSync });
      if (page.nextLink === null) return { deltaLink: page.deltaLink!, pages, fullSync };
      link = page.nextLink;
    }
  }

  /**
   * One page of a delta round: the first page of a full round when `link` is null, else the page a nextLink or
   * deltaLink names. Entries stay in Graph's order, so a user removed and then restored in one page ends
   * restored. Throws EntraError RESYNC_REQUIRED when Graph no longer knows a delta state.
   */
  async deltaPage(link: string | null, select?: readonly string[]): Promise<OrderedDeltaPage> {
    const url =
      link === null
        ? `${this.#connection.graphBaseUrl}/v1.0/users/delta?$select=${encodeURIComponent((select ?? ENTRA_USER_SELECT).join(','))}`
        : this.#checkedLink(link, '/v1.0/users/delta', 'INVALID_ARGUMENT');
    const page: z.infer<typeof deltaPageSchema> = await this.#getJson(
      url,
      deltaPageSchema,
      'GET /v1.0/users/delta',
    );
    const entries: OrderedDeltaPage['entries'] = page.value.map((item) =>
      item.kind === 'removed'
        ? { kind: 'removed', removed: { id: item.id, reason: item.reason } }
        : { kind: 'user', user: item.user },
    );
    const next = page['@odata.nextLink'];
    const delta = page['@odata.deltaLink'];
    if (next === undefined && delta === undefined) {
      throw new EntraError('BAD_RESPONSE', 'GET /v1.0/users/delta: page has neither nextLink nor deltaLink');
    }
    return {
      entries,
      nextLink: next === undefined ? null : this.#checkedLink(next, '/v1.0/users/delta'),
      deltaLink:
        next === undefined && delta !== undefined ? this.#checkedLink(delta, '/v1.0/users/delta') : null,
    };
  }

  #checkedLink(
    link: string,
    expectedPath: string,
    code: 'BAD_RESPONSE' | 'INVALID_ARGUMENT' = 'BAD_RESPONSE',
  ): string {
    let url: URL;
    try {
      url = new URL(link);
    } catch {
      throw new EntraError(code, `${expectedPath}: link is not an absolute URL`);
    }
    if (url.origin !== this.#graphOrigin || !url.pathname.endsWith(expectedPath)) {
      throw new EntraError(
        code,
        `${expectedPath}: refusing to follow a link to ${url.origin}${url.pathname}`,
      );
    }
    return url.toString();
  }

  async #getJson<T>(url: string, schema: z.ZodType<T>, label: string): Promise<T> {
    let token = await this.#tokens.getToken();
    let response = await this.#send(url, token, label);
    if (response.status === 401) {
      // A cached token can die early (consent revoked, key rollover): retry once with a fresh one. If consent
      // is gone, the token request itself fails with CONSENT_REQUIRED.
      await response.body?.cancel().catch(() => undefined);
      this.#tokens.invalidate();
      token = await this.#tokens.getToken();
      response = await this.#send(url, token, label);
    }
    if (!response.ok) throw await this.#graphError(response, label, token);

    let body: unknown;
    try {
      body = await response.json();
    } catch {
      throw new EntraError('BAD_RESPONSE', `${label}: response is not JSON`, { httpStatus: response.status });
    }
    const parsed = schema.safeParse(body);
    if (!parsed.success) {
      const where = parsed.error.issues
        .slice(0, 3)
        .map((issue) => `${issue.path.join('.')}: ${issue.message}`)
        .join('; ');
      throw new EntraError('BAD_RESPONSE', `${label}: unexpected response shape (${where})`, {
        httpStatus: response.status,
        requestId: response.headers.get('request-id') ?? undefined,
      });
    }
    return parsed.data;
  }

  #send(url: string, token: string, label: string): Promise<Response> {
    return fetchWithRetry(
      this.#fetch,
      url,
      {
        method: 'GET',
        headers: {
          authorization: `Bearer ${token}`,
          accept: 'application/json',
          'client-request-id': randomUUID(),
        },
      },
      this.#policy,
      label,
    );
  }

  async #graphError(response: Response, label: string, token: string): Promise<EntraError> {
    const body: unknown = await response.json().catch(() => undefined);
    const parsed = graphErrorSchema.safeParse(body);
    const graphCode = parsed.success ? parsed.data.error.code : undefined;
    const serverText = parsed.success
      ? safeServerText(parsed.data.error.message, [this.#connection.clientSecret, token])
      : '';
    const status = response.status;
    const details = {
      httpStatus: status,
      graphCode,
      requestId:
        response.headers.get('request-id') ??
        (parsed.success ? parsed.data.error.innerError?.['request-id'] : undefined),
    };
    const suffix = graphCode ? ` [${graphCode}${serverText ? `: ${serverText}` : ''}]` : '';
    const tenant = `tenant ${this.#connection.tenantId}`;

    if (status === 410 || /^(syncStateNotFound|resyncRequired|syncStateInvalid)$/i.test(graphCode ?? '')) {
      return new EntraError(
        'RESYNC_REQUIRED',
        `${label} (${tenant}): delta state expired, a full sync is required${suffix}`,
        details,
      );
    }
    if (status === 401) {
      return new EntraError(
        'UNAUTHENTICATED',
        `${label} (${tenant}): Graph rejected a freshly issued token${suffix}`,
        details,
      );
    }
    if (status === 403) {
      return new EntraError(
        'PERMISSION_DENIED',
        `${label} (${tenant}): the application lacks the User.Read.All application permission or its admin consent${suffix}`,
        details,
      );
    }
    if (status === 429) {
      return new EntraError('THROTTLED', `${label} (${tenant}): throttled, retries exhausted${suffix}`, {
        ...details,
        retryable: true,
      });
    }
    if (status >= 500) {
      return new EntraError(
        'UNAVAILABLE',
        `${label} (${tenant}): HTTP ${status}, retries exhausted${suffix}`,
        { ...details, retryable: true },
      );
    }
    return new EntraError('REQUEST_FAILED', `${label} (${tenant}): HTTP ${status}${suffix}`, details);
  }
}

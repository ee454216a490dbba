import { invalidInput, invalidParameterValue } from './errors.js';
import type { Cursor, PageTokenPayload } from './paging.js';
import type { SimulatorState } from './state.js';

/** Query-string parsing with Google-style 400s for bad values. */
export class DirectoryParams {
  constructor(private readonly params: URLSearchParams) {}

  get(name: string): string | undefined {
    const v = this.params.get(name);
    return v === null || v === '' ? undefined : v;
  }

  bool(name: string): boolean | undefined {
    const v = this.get(name);
    if (v === undefined) return undefined;
    if (v.toLowerCase() === 'true') return true;
    if (v.toLowerCase() === 'false') return false;
    throw invalidParameterValue(name, `Invalid value '${v}' for ${name}. Expected true or false.`);
  }

  /** `overflow: 'clamp'` reproduces users.list quietly capping at 500; `'reject'` the devices' 400. */
  maxResults(defaultValue: number, max: number, overflow: 'clamp' | 'reject'): number {
    const raw = this.get('maxResults');
    if (raw === undefined) return defaultValue;
    const n = Number(raw);
    if (!Number.isInteger(n))
      throw invalidParameterValue('maxResults', `Invalid value '${raw}'. Values must be integers.`);
    if (n < 1 || (n > max && overflow === 'reject')) {
      throw invalidParameterValue(
        'maxResults',
        `Invalid value '${raw}'. Values must be within the range: [1, ${max}]`,
      );
    }
    return Math.min(n, max);
  }

  /** Case-insensitive enum; returns the canonical spelling. */
  choice<T extends string>(name: string, allowed: readonly T[]): T | undefined {
    const raw = this.get(name);
    if (raw === undefined) return undefined;
    const hit = allowed.find((a) => a.toLowerCase() === raw.toLowerCase());
    if (!hit) {
      throw invalidParameterValue(name, `Invalid value '${raw}' for ${name}. Allowed: ${allowed.join(', ')}`);
    }
    return hit;
  }

  descending(): boolean {
    return this.choice('sortOrder', ['ASCENDING', 'DESCENDING'] as const) === 'DESCENDING';
  }
}

/** Google documents users.list page tokens as valid for three days; devices are treated the same way. */
export const PAGE_TOKEN_TTL_MS = 3 * 86_400_000;

export interface PageScope {
  resource: string;
  customerId: string;
  ordering: string;
}

/**
 * Google answers an expired, stale, garbled or foreign pageToken on Directory list calls with the generic
 * `400 Invalid Input` (reason `invalid`), nothing that names the page token; clients can only tell from their
 * own request that the token was the problem. The expiredPageToken fault ends up here too.
 */
export function decodePageToken(
  state: SimulatorState,
  token: string | undefined,
  scope: PageScope,
  forceExpired: boolean,
): Cursor | undefined {
  if (token === undefined) return undefined;
  if (forceExpired) throw invalidInput();
  const payload = state.pageTokens.decode(token);
  if (
    !payload ||
    payload.r !== scope.resource ||
    payload.c !== scope.customerId ||
    payload.o !== scope.ordering ||
    Date.now() - payload.t > PAGE_TOKEN_TTL_MS
  ) {
    throw invalidInput();
  }
  return { key: payload.k, id: payload.i };
}

export function encodePageToken(
  state: SimulatorState,
  scope: PageScope,
  cursor: Cursor | undefined,
): string | undefined {
  if (!cursor) return undefined;
  const payload: PageTokenPayload = {
    r: scope.resource,
    c: scope.customerId,
    o: scope.ordering,
    k: cursor.key,
    i: cursor.id,
    t: Date.now(),
  };
  return state.pageTokens.encode(payload);
}

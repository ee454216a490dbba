import type { IncomingHttpHeaders } from 'node:http';
import type { UserProperty } from './directory-user.js';
import type { Tenant, UserEntry } from './graph-directory.js';
import { graphErrors } from './graph-error.js';
import {
  DEFAULT_LIST_PAGE_SIZE,
  parseFilter,
  parsePageSize,
  parseSelect,
  preferredPageSize,
  projectUser,
} from './odata-query.js';
import type { Reply } from './simulator-context.js';
import {
  decodeDeltaState,
  decodeListState,
  encodeDeltaState,
  encodeListState,
  type DeltaState,
} from './state-tokens.js';

const DEFAULT_DELTA_PAGE_SIZE = 100;
const GRAPH_CONTENT_HEADERS = { 'odata-version': '4.0' };

export interface GraphRequest {
  origin: string;
  /** Raw query string without the leading "?", to rebuild nextLinks the way Graph does. */
  rawQuery: string;
  query: URLSearchParams;
  headers: IncomingHttpHeaders;
  tenant: Tenant;
  roles: readonly string[];
}

const BASIC_PROPERTIES: ReadonlySet<UserProperty> = new Set([
  'id',
  'displayName',
  'givenName',
  'surname',
  'mail',
  'userPrincipalName',
]);

/** User.ReadBasic.All only covers basic profile properties; anything else needs User.Read.All. */
function checkPermissions(roles: readonly string[], select: readonly UserProperty[] | null): void {
  if (roles.includes('User.Read.All') || roles.includes('Directory.Read.All')) return;
  const basicOnly = select !== null && select.every((property) => BASIC_PROPERTIES.has(property));
  if (!roles.includes('User.ReadBasic.All') || !basicOnly) throw graphErrors.insufficientPrivileges();
}

function context(origin: string, select: readonly UserProperty[] | null): string {
  return `${origin}/v1.0/$metadata#users${select ? `(${select.join(',')})` : ''}`;
}

function sortedEntries(
  tenant: Tenant,
  include: (entry: UserEntry) => boolean,
  after: string | null,
): UserEntry[] {
  const out: UserEntry[] = [];
  for (const entry of tenant.entries.values()) {
    if ((after === null || entry.user.id > after) && include(entry)) out.push(entry);
  }
  return out.sort((a, b) => (a.user.id < b.user.id ? -1 : 1));
}

/** GET /v1.0/users */
export function listUsers(req: GraphRequest): Reply {
  const { tenant, query } = req;
  const select = parseSelect(query.get('$select'));
  checkPermissions(req.roles, select);
  const top = parsePageSize(query.get('$top'), DEFAULT_LIST_PAGE_SIZE);
  const filter = parseFilter(query.get('$filter'));
  const skipToken = query.get('$skiptoken');
  let after: string | null = null;
  if (skipToken !== null) {
    const state = decodeListState(skipToken);
    if (!state || state.t !== tenant.tenantId) throw graphErrors.invalidSkipToken();
    after = state.after;
  }

  const matching = sortedEntries(
    tenant,
    (e) => e.state === 'active' && (filter === null || filter(e.user)),
    after,
  );
  const page = matching.slice(0, top);
  const body: Record<string, unknown> = { '@odata.context': context(req.origin, select) };
  const last = page[page.length - 1];
  if (matching.length > top && last) {
    const kept = req.rawQuery.split('&').filter((part) => part !== '' && !/^(\$|%24)skiptoken=/i.test(part));
    kept.push(`$skiptoken=${encodeListState({ k: 'list', t: tenant.tenantId, after: last.user.id })}`);
    body['@odata.nextLink'] = `${req.origin}/v1.0/users?${kept.join('&')}`;
  }
  body.value = page.map((entry) => projectUser(entry.user, select));
  return { kind: 'json', status: 200, body, headers: GRAPH_CONTENT_HEADERS };
}

/** GET /v1.0/users/{id | userPrincipalName} */
export function getUser(req: GraphRequest, key: string): Reply {
  const select = parseSelect(req.query.get('$select'));
  checkPermissions(req.roles, select);
  const wanted = decodeURIComponent(key).toLowerCase();
  for (const entry of req.tenant.entries.values()) {
    if (
      entry.state === 'active' &&
      (entry.user.id === wanted || entry.user.userPrincipalName.toLowerCase() === wanted)
    ) {
      const body = {
        '@odata.context': `${context(req.origin, select)}/$entity`,
        ...projectUser(entry.user, select),
      };
      return { kind: 'json', status: 200, body, headers: GRAPH_CONTENT_HEADERS };
    }
  }
  throw graphErrors.userNotFound(key);
}

/**
 * GET /v1.0/users/delta. The initial round pages through current users; its deltaLink then yields only users
 * changed since the round started (full selected state, never-set properties omitted), soft-deleted users as
 * `@removed: {reason: 'changed'}` and permanently deleted ones as `@removed: {reason: 'deleted'}`; restored
 * users come back without an annotation (learn.microsoft.com/graph/delta-query-users). A tenant in
 * 'everyChange' mode lists each change of such a round in the order it happened, so one user may be listed
 * several times (graph-directory.ts DeltaChanges).
 */
export function deltaUsers(req: GraphRequest): Reply {
  const { tenant, query } = req;
  const skipToken = query.get('$skiptoken');
  const deltaToken = query.get('$deltatoken');
  let round: DeltaState;

  if (skipToken !== null) {
    const state = decodeDeltaState(skipToken);
    if (!state || state.t !== tenant.tenantId || state.e !== tenant.deltaEpoch)
      throw graphErrors.syncStateNotFound();
    round = state;
  } else if (deltaToken !== null) {
    if (deltaToken === 'latest') {
      // "Sync from now": no data, just a deltaLink for changes from here on.
      const sel = parseSelect(query.get('$select'));
      checkPermissions(req.roles, sel);
      const state: DeltaState = {
        k: 'delta',
        t: tenant.tenantId,
        e: tenant.deltaEpoch,
        from: tenant.seq,
        to: tenant.seq,
        after: null,
        sel,
      };
      const body = {
        '@odata.context': context(req.origin, sel),
        '@odata.deltaLink': `${req.origin}/v1.0/users/delta?$deltatoken=${encodeDeltaState(state)}`,
        value: [],
      };
      return { kind: 'json', status: 200, body, headers: GRAPH_CONTENT_HEADERS };
    }
    const state = decodeDeltaState(deltaToken);
    if (
      !state ||
      state.t !== tenant.tenantId ||
      state.e !== tenant.deltaEpoch ||
      state.after !== null ||
      state.afterSeq !== undefined
    ) {
      throw graphErrors.syncStateNotFound();
    }
    const { each: _each, ...rest } = state;
    round = { ...rest, from: state.to, to: tenant.seq };
    if (tenant.deltaChanges === 'everyChange') round.each = true;
  } else {
    if (query.get('$filter') !== null) {
      // Graph only allows `id eq` filters on users/delta; the simulator does not model them.
      throw graphErrors.unsupportedFilter('$filter on users/delta is not supported by the Graph simulator.');
    }
    const sel = parseSelect(query.get('$select'));
    checkPermissions(req.roles, sel);
    round = {
      k: 'delta',
      t: tenant.tenantId,
      e: tenant.deltaEpoch,
      from: -1,
      to: tenant.seq,
      after: null,
      sel,
    };
  }

  const select = round.sel as UserProperty[] | null;
  const pageSize = preferredPageSize(req.headers.prefer) ?? DEFAULT_DELTA_PAGE_SIZE;
  const listed = round.each ? everyChange(tenant, round) : latestStates(tenant, round);
  const page = listed.slice(0, pageSize);
  const value = page.map((item) => deltaItem(item.state, item.user, item.nulledProperties, select));

  const body: Record<string, unknown> = { '@odata.context': context(req.origin, select) };
  const last = page[page.length - 1];
  if (listed.length > pageSize && last) {
    const rest: DeltaState = round.each
      ? { ...round, afterSeq: last.seq }
      : { ...round, after: last.user.id };
    body['@odata.nextLink'] = `${req.origin}/v1.0/users/delta?$skiptoken=${encodeDeltaState(rest)}`;
  } else {
    const { each: _each, afterSeq: _afterSeq, ...rest } = round;
    const next: DeltaState = { ...rest, from: round.to, after: null };
    body['@odata.deltaLink'] = `${req.origin}/v1.0/users/delta?$deltatoken=${encodeDeltaState(next)}`;
  }
  body.value = value;
  const headers: Record<string, string> = { ...GRAPH_CONTENT_HEADERS };
  if (preferredPageSize(req.headers.prefer) !== undefined)
    headers['preference-applied'] = `odata.maxpagesize=${pageSize}`;
  return { kind: 'json', status: 200, body, headers };
}

interface Listed {
  seq: number;
  state: UserEntry['state'];
  user: UserEntry['user'];
  nulledProperties: ReadonlySet<UserProperty>;
}

/** The initial round's users, or one entry per user changed in the round, as it is now; by id. */
function latestStates(tenant: Tenant, round: DeltaState): Listed[] {
  const initial = round.from < 0;
  return sortedEntries(
    tenant,
    initial ? (e) => e.state === 'active' : (e) => e.changedSeq > round.from && e.changedSeq <= round.to,
    round.after,
  ).map((e) => ({ seq: e.changedSeq, state: e.state, user: e.user, nulledProperties: e.nulledProperties }));
}

/** Each change in the round, in the order it happened, showing the user as that change left it. */
function everyChange(tenant: Tenant, round: DeltaState): Listed[] {
  const after = round.afterSeq ?? round.from;
  return tenant.changeLog.filter((c) => c.seq > after && c.seq <= round.to);
}

function deltaItem(
  state: UserEntry['state'],
  user: UserEntry['user'],
  nulled: ReadonlySet<UserProperty>,
  select: readonly UserProperty[] | null,
): Record<string, unknown> {
  return state === 'active'
    ? projectUser(user, select, nulled)
    : { id: user.id, '@removed': { reason: state === 'softDeleted' ? 'changed' : 'deleted' } };
}

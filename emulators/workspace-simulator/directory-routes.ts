import type { DirectoryCall } from './directory-handlers.js';
import {
  getChromeOs,
  getCustomer,
  getMobile,
  getOrgUnit,
  getUser,
  listChromeOs,
  listMobile,
  listOrgUnits,
  listUsers,
} from './directory-handlers.js';
import { DirectoryParams } from './directory-params.js';
import { getGroup, listGroups, listMembers } from './group-handlers.js';
import {
  ApiError,
  forbidden,
  insufficientPermissions,
  invalidParameterValue,
  methodNotAllowed,
  notFound,
  unauthenticated,
  userRateLimitExceeded,
} from './errors.js';
import { applyFieldMask, parseFieldMask } from './fields-mask.js';
import type { ResetPhase } from './http-util.js';
import { sendJson } from './http-util.js';
import type { AccessTokenRecord } from './oauth-state.js';
import type { RequestContext, RouteHandler } from './request-context.js';
import type { DirectoryMethod } from './scopes.js';
import { hasAnyScope, METHOD_SCOPES, RPC_METHOD_NAMES } from './scopes.js';

const PREFIX = '/admin/directory/v1/';

interface MatchedRoute {
  method: DirectoryMethod;
  run: (call: DirectoryCall) => Record<string, unknown>;
}

/** Maps `/admin/directory/v1/...` segments (already percent-decoded) onto a handler. */
function matchRoute(s: readonly string[]): MatchedRoute | undefined {
  const [a, b, c, d, e, ...rest] = s;
  if (a === 'users' && s.length === 1) return { method: 'directory.users.list', run: listUsers };
  if (a === 'users' && b && s.length === 2)
    return { method: 'directory.users.get', run: (call) => getUser(call, b) };
  if (a === 'groups' && s.length === 1) return { method: 'directory.groups.list', run: listGroups };
  if (a === 'groups' && b && s.length === 2)
    return { method: 'directory.groups.get', run: (call) => getGroup(call, b) };
  if (a === 'groups' && b && c === 'members' && s.length === 3) {
    return { method: 'directory.members.list', run: (call) => listMembers(call, b) };
  }
  if (a === 'customers' && b && s.length === 2) {
    return { method: 'directory.customers.get', run: (call) => getCustomer(call, b) };
  }
  if (a !== 'customer' || !b) return undefined;
  if (c === 'orgunits' && s.length === 3) {
    return { method: 'directory.orgunits.list', run: (call) => listOrgUnits(call, b) };
  }
  if (c === 'orgunits' && s.length > 3) {
    // {+orgUnitPath}: the remaining segments form the path (slashes unescaped by the client).
    const path = s.slice(3).join('/');
    return { method: 'directory.orgunits.get', run: (call) => getOrgUnit(call, b, path) };
  }
  if (c === 'devices' && d === 'chromeos') {
    if (s.length === 4)
      return { method: 'directory.chromeosdevices.list', run: (call) => listChromeOs(call, b) };
    if (e && rest.length === 0) {
      return { method: 'directory.chromeosdevices.get', run: (call) => getChromeOs(call, b, e) };
    }
  }
  if (c === 'devices' && d === 'mobile') {
    if (s.length === 4) return { method: 'directory.mobiledevices.list', run: (call) => listMobile(call, b) };
    if (e && rest.length === 0)
      return { method: 'directory.mobiledevices.get', run: (call) => getMobile(call, b, e) };
  }
  return undefined;
}

function authenticate(ctx: RequestContext): AccessTokenRecord {
  const header = ctx.req.headers.authorization ?? '';
  const bearer =
    /^Bearer\s+(\S+)$/i.exec(header)?.[1] ?? ctx.url.searchParams.get('access_token') ?? undefined;
  const token = bearer ? ctx.state.oauth.accessToken(bearer) : undefined;
  // Tokens of suspended or deleted users stop working immediately.
  if (!token || !ctx.state.activeUser(token.customerId, token.userId)) throw unauthenticated();
  return token;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

function decodeSegments(path: string): string[] {
  try {
    return path.split('/').map((seg) => decodeURIComponent(seg));
  } catch {
    throw invalidParameterValue('path', 'Invalid URL path encoding');
  }
}

export const handleDirectory: RouteHandler = async (ctx) => {
  const { pathname } = ctx.url;
  if (!pathname.startsWith(PREFIX)) return false;
  const { state } = ctx;
  const query = ctx.url.searchParams;
  const pretty = query.get('prettyPrint') !== 'false';
  let reset: ResetPhase | undefined;
  ctx.route = 'directory.unknown';
  try {
    const segments = decodeSegments(pathname.slice(PREFIX.length));
    if (segments.length > 1 && segments[segments.length - 1] === '') segments.pop();
    const route = matchRoute(segments);
    if (!route) throw notFound('Not Found');
    ctx.route = route.method;
    if (ctx.req.method !== 'GET') throw methodNotAllowed(ctx.req.method ?? '?');

    const token = authenticate(ctx);
    if (!hasAnyScope(token.scopes, METHOD_SCOPES[route.method])) {
      throw insufficientPermissions(RPC_METHOD_NAMES[route.method]);
    }
    if (!state.quotas.take(`${token.customerId}:${token.userId}`)) throw userRateLimitExceeded();

    const fault = state.faults.evaluate(pathname, query.has('pageToken'));
    if (fault.latencyMs > 0) await sleep(fault.latencyMs);
    reset = fault.reset;
    if (reset === 'beforeHeaders') {
      ctx.req.socket.destroy();
      return true;
    }
    if (fault.error) throw fault.error;

    const ws = state.workspace(token.customerId);
    const principal = ws?.findUser(token.userId);
    if (!ws || !principal) throw unauthenticated();
    if (!principal.isAdmin && !principal.isDelegatedAdmin) throw forbidden();

    const fieldsParam = query.get('fields');
    const mask = fieldsParam ? parseFieldMask(fieldsParam) : undefined;
    const alt = query.get('alt');
    if (alt && alt !== 'json') throw invalidParameterValue('alt', `Invalid value '${alt}' for alt`);

    const body = route.run({
      state,
      ws,
      params: new DirectoryParams(query),
      expirePageToken: fault.expirePageToken,
    });
    await sendJson(ctx.req, ctx.res, 200, mask ? applyFieldMask(body, mask) : body, { pretty, reset });
  } catch (err) {
    if (!(err instanceof ApiError)) throw err;
    await sendJson(ctx.req, ctx.res, err.code, err.toBody(), { pretty, reset, headers: err.headers });
  }
  return true;
};

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
import {
  batchChangeChromeOsStatus,
  chromeOsAction,
  mobileAction,
  moveChromeOsToOu,
  writeChromeOs,
} from './device-write-handlers.js';
import { getGroup, listGroups, listMembers } from './group-handlers.js';
import {
  ApiError,
  badRequest,
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
import { BodyTooLargeError, readBody, sendBody, sendJson } from './http-util.js';
import type { AccessTokenRecord } from './oauth-state.js';
import type { RequestContext, RouteHandler } from './request-context.js';
import type { DirectoryMethod } from './scopes.js';
import { mayCall } from './admin-privileges.js';
import { hasAnyScope, METHOD_SCOPES, RPC_METHOD_NAMES } from './scopes.js';

const PREFIX = '/admin/directory/v1/';
/** channels.stop lives outside the Directory prefix (discovery: `admin/directory_v1/channels/stop`). */
const CHANNELS_STOP = '/admin/directory_v1/channels/stop';

type Verb = 'GET' | 'POST' | 'PUT' | 'PATCH';

interface MatchedRoute {
  method: DirectoryMethod;
  /** A body, or null for Google's empty 204 answer (the void methods: actions, moveDevicesToOu). */
  run: (call: DirectoryCall) => Record<string, unknown> | null;
}

type RouteSet = Partial<Record<Verb, MatchedRoute>>;

/** Maps `/admin/directory/v1/...` segments (already percent-decoded) onto the handlers per HTTP verb. */
function matchRoute(s: readonly string[]): RouteSet | undefined {
  const [a, b, c, d, e, f, ...rest] = s;
  if (a === 'users' && b === 'watch' && s.length === 2) {
    return { POST: { method: 'directory.users.watch', run: (call) => call.state.watch.watch(call) } };
  }
  if (a === 'users' && s.length === 1) return { GET: { method: 'directory.users.list', run: listUsers } };
  if (a === 'users' && b && s.length === 2)
    return { GET: { method: 'directory.users.get', run: (call) => getUser(call, b) } };
  if (a === 'groups' && s.length === 1) return { GET: { method: 'directory.groups.list', run: listGroups } };
  if (a === 'groups' && b && s.length === 2)
    return { GET: { method: 'directory.groups.get', run: (call) => getGroup(call, b) } };
  if (a === 'groups' && b && c === 'members' && s.length === 3) {
    return { GET: { method: 'directory.members.list', run: (call) => listMembers(call, b) } };
  }
  if (a === 'customers' && b && s.length === 2) {
    return { GET: { method: 'directory.customers.get', run: (call) => getCustomer(call, b) } };
  }
  if (a !== 'customer' || !b) return undefined;
  if (c === 'orgunits' && s.length === 3) {
    return { GET: { method: 'directory.orgunits.list', run: (call) => listOrgUnits(call, b) } };
  }
  if (c === 'orgunits' && s.length > 3) {
    // {+orgUnitPath}: the remaining segments form the path (slashes unescaped by the client).
    const path = s.slice(3).join('/');
    return { GET: { method: 'directory.orgunits.get', run: (call) => getOrgUnit(call, b, path) } };
  }
  if (c !== 'devices') return undefined;
  if (d === 'chromeos:batchChangeStatus' && s.length === 4) {
    return {
      POST: {
        method: 'directory.customer.devices.chromeos.batchChangeStatus',
        run: (call) => batchChangeChromeOsStatus(call, b),
      },
    };
  }
  if (d === 'chromeos') {
    if (s.length === 4)
      return { GET: { method: 'directory.chromeosdevices.list', run: (call) => listChromeOs(call, b) } };
    if (e && f === undefined) {
      return {
        GET: { method: 'directory.chromeosdevices.get', run: (call) => getChromeOs(call, b, e) },
        PUT: {
          method: 'directory.chromeosdevices.update',
          run: (call) => writeChromeOs(call, b, e, 'update'),
        },
        PATCH: {
          method: 'directory.chromeosdevices.patch',
          run: (call) => writeChromeOs(call, b, e, 'patch'),
        },
        // A literal path beside {deviceId}: only POST reaches it, as in Google's URL map.
        ...(e === 'moveDevicesToOu'
          ? {
              POST: {
                method: 'directory.chromeosdevices.moveDevicesToOu',
                run: (call) => moveChromeOsToOu(call, b),
              },
            }
          : {}),
      } satisfies RouteSet;
    }
    if (e && f === 'action' && rest.length === 0) {
      return {
        POST: { method: 'directory.chromeosdevices.action', run: (call) => chromeOsAction(call, b, e) },
      };
    }
  }
  if (d === 'mobile') {
    if (s.length === 4)
      return { GET: { method: 'directory.mobiledevices.list', run: (call) => listMobile(call, b) } };
    if (e && f === undefined)
      return { GET: { method: 'directory.mobiledevices.get', run: (call) => getMobile(call, b, e) } };
    if (e && f === 'action' && rest.length === 0)
      return { POST: { method: 'directory.mobiledevices.action', run: (call) => mobileAction(call, b, e) } };
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

/** Google answers a body that is not JSON with ESF's 400 before the method runs. */
async function readJsonBody(ctx: RequestContext): Promise<unknown> {
  let raw: string;
  try {
    raw = (await readBody(ctx.req)).toString('utf8');
  } catch (err) {
    if (err instanceof BodyTooLargeError) throw badRequest('Request payload size exceeds the limit');
    throw err;
  }
  if (raw.trim() === '') return {};
  try {
    return JSON.parse(raw) as unknown;
  } catch {
    throw badRequest('Invalid JSON payload received.');
  }
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
  const isStop = pathname === CHANNELS_STOP;
  if (!pathname.startsWith(PREFIX) && !isStop) return false;
  const { state } = ctx;
  const query = ctx.url.searchParams;
  const pretty = query.get('prettyPrint') !== 'false';
  let reset: ResetPhase | undefined;
  ctx.route = 'directory.unknown';
  try {
    const segments = decodeSegments(pathname.slice(PREFIX.length));
    if (segments.length > 1 && segments[segments.length - 1] === '') segments.pop();
    const routes: RouteSet | undefined = isStop
      ? { POST: { method: 'directory.channels.stop', run: (call) => call.state.watch.stop(call) } }
      : matchRoute(segments);
    if (!routes) throw notFound('Not Found');
    const route = routes[(ctx.req.method ?? 'GET') as Verb];
    if (!route) {
      const any = Object.values(routes)[0];
      if (any) ctx.route = any.method;
      throw methodNotAllowed(ctx.req.method ?? '?');
    }
    ctx.route = route.method;

    const token = authenticate(ctx);
    if (!hasAnyScope(token.scopes, METHOD_SCOPES[route.method])) {
      throw insufficientPermissions(RPC_METHOD_NAMES[route.method]);
    }
    if (!state.quotas.take(`${token.customerId}:${token.userId}`)) throw userRateLimitExceeded();

    const fault = state.faults.evaluate(pathname, query.has('pageToken'));
    if (fault.latencyMs > 0) {
      await sleep(fault.latencyMs);
      state.stats.recordLatency(route.method, fault.latencyMs);
    }
    reset = fault.reset;
    if (reset === 'beforeHeaders') {
      ctx.req.socket.destroy();
      return true;
    }
    if (fault.error) throw fault.error;

    const ws = state.workspace(token.customerId);
    const principal = ws?.findUser(token.userId);
    if (!ws || !principal) throw unauthenticated();
    if (!mayCall(principal, route.method)) throw forbidden();

    const fieldsParam = query.get('fields');
    const mask = fieldsParam ? parseFieldMask(fieldsParam) : undefined;
    const alt = query.get('alt');
    if (alt && alt !== 'json') throw invalidParameterValue('alt', `Invalid value '${alt}' for alt`);

    const body = route.run({
      state,
      ws,
      params: new DirectoryParams(query),
      expirePageToken: fault.expirePageToken,
      body: ctx.req.method === 'GET' ? undefined : await readJsonBody(ctx),
    });
    if (body === null) {
      await sendBody(ctx.req, ctx.res, 204, 'application/json; charset=UTF-8', '', { reset });
      return true;
    }
    await sendJson(ctx.req, ctx.res, 200, mask ? applyFieldMask(body, mask) : body, { pretty, reset });
  } catch (err) {
    if (!(err instanceof ApiError)) throw err;
    await sendJson(ctx.req, ctx.res, err.code, err.toBody(), { pretty, reset, headers: err.headers });
  }
  return true;
};

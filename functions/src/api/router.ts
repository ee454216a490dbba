import type { ZodType } from 'zod';
import { ApiError, type ErrorDetail } from './api-error.js';
import type { ApiRequest, ApiResult } from './http.js';
import type { RoleNeed } from './membership.js';
import { PARAM_SCHEMAS, type ParamName } from './path-params.js';

export type HttpMethod = 'GET' | 'POST' | 'PUT' | 'DELETE';

/**
 * Who may call a route. Declared per route and enforced before the route runs, so no route can forget it.
 *   public    no authentication (sign-in, OAuth callback)
 *   signedIn  any admin with a valid Google ID token
 *   tenant    a member of the path's tenant; `write` excludes viewers, `owner` admits owners only; `allowHost` also
 *             accepts an HMAC signature
 *   host      the host product's HMAC signature only
 */
export type Access =
  | { kind: 'public' }
  | { kind: 'signedIn' }
  | { kind: 'tenant'; need: RoleNeed; allowHost?: boolean }
  | { kind: 'host' };

/**
 * A route's entry in the API reference (GET /api/openapi.json, built by api/openapi/openapi-document.ts). The
 * schemas are the very zod schemas the route validates with, so the reference cannot drift from the checks; path
 * parameters come from path-params.ts and security from `access`. test/api/openapi.test.ts names every route
 * without one.
 */
export interface RouteDoc {
  summary: string;
  description?: string;
  /** Query string, a zod object (its input side is documented: defaults and coercion included). */
  query?: ZodType;
  /** JSON request body. `bodyOptional`: an empty body is accepted too (parseBody's emptyAllowed). */
  body?: ZodType;
  bodyOptional?: boolean;
  /** Request headers the route reads besides authentication, e.g. If-Match or Idempotency-Key. */
  headers?: Array<{ name: string; required?: boolean; description: string; schema?: ZodType }>;
  /** Successful answers by status; error answers follow from `access` and the API's error shape. */
  responses: Record<number, { description: string; schema?: ZodType; contentType?: string }>;
}

export interface Route<Ctx> {
  method: HttpMethod;
  pattern: string;
  access: Access;
  doc?: RouteDoc;
  /**
   * Optional admission before a host signature is spent (access-control.ts): it may wait or refuse (throw), and
   * must change nothing, since a replayed signature gets this far. Every write belongs in `handle`, which always
   * runs after the signature is spent, so no route can forget to spend it. Returns what to call once the request
   * is answered (or nothing). Skipped for requests with an Idempotency-Key, whose stored answer comes first.
   */
  admit?(ctx: Ctx): Promise<(() => void) | undefined>;
  handle(ctx: Ctx): Promise<ApiResult>;
}

export type RouteMatch<Ctx> = { route: Route<Ctx>; params: Record<string, string> };

function matchPattern(pattern: string, segments: readonly string[]): Record<string, string> | null {
  const parts = pattern.split('/').filter(Boolean);
  if (parts.length !== segments.length) return null;
  const params: Record<string, string> = {};
  for (let i = 0; i < parts.length; i++) {
    const part = parts[i]!;
    const seg = segments[i]!;
    if (part.startsWith(':')) params[part.slice(1)] = seg;
    else if (part !== seg) return null;
  }
  return params;
}

/** Literal segments beat parameters: `/mappings/preview` is not the mapping called "preview". */
const specificity = (pattern: string) => pattern.split('/').filter((p) => p && !p.startsWith(':')).length;

export class Router<Ctx> {
  private readonly routes: Array<Route<Ctx>>;

  constructor(routes: Array<Route<Ctx>>) {
    this.routes = [...routes].sort((a, b) => specificity(b.pattern) - specificity(a.pattern));
  }

  match(req: ApiRequest): RouteMatch<Ctx> {
    const allowed = new Set<string>();
    for (const route of this.routes) {
      const params = matchPattern(route.pattern, req.segments);
      if (!params) continue;
      if (route.method === req.method) return { route, params };
      allowed.add(route.method);
    }
    if (allowed.size > 0) {
      const allow = [...allowed, 'OPTIONS'].join(', ');
      throw new ApiError(
        'method_not_allowed',
        `${req.method} is not supported here; use ${[...allowed].join(' or ')}`,
        [],
        {
          allow,
        },
      );
    }
    throw new ApiError('not_found', `no such endpoint: ${req.method} ${req.path}`);
  }

  /** Methods served at a path, for CORS preflight answers. */
  methodsAt(segments: readonly string[]): string[] {
    return [...new Set(this.routes.filter((r) => matchPattern(r.pattern, segments)).map((r) => r.method))];
  }
}

export function validateParams(params: Record<string, string>): Record<string, string> {
  const details: ErrorDetail[] = [];
  for (const [name, value] of Object.entries(params)) {
    const schema = PARAM_SCHEMAS[name as ParamName];
    if (!schema) throw new Error(`route uses an unknown path parameter :${name}`);
    const parsed = schema.safeParse(value);
    if (!parsed.success)
      details.push(...parsed.error.issues.map((i) => ({ path: name, message: i.message })));
  }
  if (details.length > 0) throw new ApiError('invalid_argument', 'invalid path parameter', details);
  return params;
}

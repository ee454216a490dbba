import type { Request, Response } from '@google-cloud/functions-framework';
import type { App } from '../app.js';
import type { Logger } from '../platform/log.js';
import { authenticate, resolveTenantScope } from './access-control.js';
import { apiConfigOf, type ApiConfig } from './api-config.js';
import { ApiError } from './api-error.js';
import { corsHeaders, preflight } from './cors.js';
import { errorResult, send, toApiRequest, type ApiRequest, type ApiResult } from './http.js';
import { IdTokenVerifier } from './id-token-verifier.js';
import { wantsIdempotency, withIdempotency } from './idempotency.js';
import { assertRequestHead, readJsonBody, readRawBody } from './request-body.js';
import type { ApiServices, RouteContext } from './route-context.js';
import { Router, validateParams } from './router.js';
import { API_ROUTES } from './routes/index.js';

/**
 * The `api` HTTP function: admin console API, OAuth callbacks and the host product's endpoints. Each request
 * goes: header size and body size -> path syntax -> CORS preflight -> route -> JSON body (415/400) ->
 * authentication (a host signature is checked, and spent here unless the route has an admission step) -> path
 * parameters -> tenant access -> the route's effect-free admission, if any (e.g. the refresh webhook's 429) ->
 * the host signature is spent (a replay stops here) -> Idempotency-Key (host writes) -> route. framework-guard.ts answers what fails before this handler runs in the same JSON shape.
 */
export function createApiHandler(
  app: App,
  api: ApiConfig = apiConfigOf(app.config),
): (req: Request, res: Response) => Promise<void> {
  const services: ApiServices = {
    idTokens: new IdTokenVerifier({
      pemCertsUrl: app.config.google.pemCertsUrl,
      issuers: app.config.google.issuers,
      audience: app.config.oauthClient.clientId,
      clock: app.clock,
    }),
  };
  const router = new Router<RouteContext>(API_ROUTES);
  const log = app.log.child({ component: 'api' });

  return async (req, res) => {
    const started = Date.now();
    let request: ApiRequest | null = null;
    let result: ApiResult;
    try {
      assertRequestHead(req);
      request = toApiRequest(req, await readRawBody(req));
      result = await dispatch(request);
    } catch (err) {
      result = failure(err, request ?? { method: req.method ?? '?', path: '(unparsed)' }, log);
    }
    send(res, result, request ? corsHeaders(request, api.consoleOrigin) : {});
    // The path only: query strings carry OAuth codes and states.
    log.info('api request', {
      method: request?.method ?? req.method,
      path: request?.path ?? '(unparsed)',
      status: result.kind === 'redirect' ? 302 : result.status,
      ms: Date.now() - started,
    });
  };

  async function dispatch(request: ApiRequest): Promise<ApiResult> {
    if (request.method === 'OPTIONS')
      return preflight(request, api.consoleOrigin, router.methodsAt(request.segments));
    const { route, params } = router.match(request);
    request.body = readJsonBody(request);
    const { caller, spendSignature } = await authenticate(request, route.access, app, api, services);
    // A route without an admission step spends the signature first, before anything else is looked at.
    if (!route.admit) await spendSignature();
    validateParams(params);
    const tenant =
      route.access.kind === 'tenant'
        ? await resolveTenantScope(app, route.access, caller, params.tenantId!)
        : null;
    const ctx: RouteContext = { app, api, services, req: request, params, caller, tenant, log };
    const idempotent = wantsIdempotency(ctx);
    const admitted = route.admit && !idempotent ? await route.admit(ctx) : undefined;
    try {
      if (route.admit) await spendSignature();
      if (idempotent) return await withIdempotency(ctx, () => route.handle(ctx));
      return await route.handle(ctx);
    } finally {
      admitted?.();
    }
  }
}

/** gRPC ABORTED: Firestore gave up on a transaction after its retries because of concurrent writers. */
const ABORTED = 10;

function failure(err: unknown, request: Pick<ApiRequest, 'method' | 'path'>, log: Logger): ApiResult {
  if (err instanceof ApiError) return errorResult(err);
  if ((err as { code?: unknown } | null)?.code === ABORTED) {
    return errorResult(
      new ApiError('conflict', 'the data was being changed concurrently; reload and try again'),
    );
  }
  // Unexpected: logged (the logger masks token-shaped strings), answered without internals.
  log.error('api request failed', {
    method: request.method,
    path: request.path,
    error: err instanceof Error ? err.message : String(err),
  });
  return errorResult(new ApiError('internal', 'internal error; it was logged and can be retried'));
}

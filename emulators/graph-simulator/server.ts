import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { AadError, aad } from './aad-error.js';
import { authenticate } from './graph-auth.js';
import { handleControl } from './control-api.js';
import { ControlError } from './graph-directory.js';
import { GraphError, graphErrors } from './graph-error.js';
import { BodyTooLargeError, readBody, redirect, requestOrigin, sendJson, sleep } from './http-io.js';
import { adminConsent, issueToken } from './identity-endpoints.js';
import type { FaultDecision } from './fault-injector.js';
import type { Reply, SimulatorContext } from './simulator-context.js';
import { deltaUsers, getUser, listUsers, type GraphRequest } from './users-endpoints.js';

const GRAPH_JSON =
  'application/json;odata.metadata=minimal;odata.streaming=true;IEEE754Compatible=false;charset=utf-8';
const TOKEN_PATH = /^\/([^/]+)\/oauth2\/v2\.0\/token$/;
const CONSENT_PATH = /^\/([^/]+)\/(v2\.0\/)?adminconsent$/;

interface Correlation {
  requestId: string;
  clientRequestId: string;
}

function graphHeaders(c: Correlation): Record<string, string> {
  return {
    'request-id': c.requestId,
    'client-request-id': c.clientRequestId,
    'x-ms-ags-diagnostic': JSON.stringify({
      ServerInfo: {
        DataCenter: 'Local',
        Slice: 'E',
        Ring: '5',
        ScaleUnit: '000',
        RoleInstance: 'graph-simulator',
      },
    }),
  };
}

function send(
  res: ServerResponse,
  reply: Reply,
  extraHeaders: Record<string, string>,
  contentType?: string,
): void {
  if (reply.kind === 'redirect') {
    redirect(res, reply.location);
    return;
  }
  sendJson(res, reply.status, reply.body, { ...extraHeaders, ...reply.headers }, contentType);
}

function faultToGraphError(failure: NonNullable<FaultDecision['failure']>): GraphError {
  switch (failure.kind) {
    case 'throttle':
      return graphErrors.tooManyRequests(failure.retryAfterSeconds ?? 1);
    case 'unavailable':
      return graphErrors.serviceUnavailable(failure.retryAfterSeconds ?? undefined);
    case 'gatewayTimeout':
      return graphErrors.gatewayTimeout();
  }
}

function faultToAadError(failure: NonNullable<FaultDecision['failure']>): {
  error: AadError;
  headers: Record<string, string>;
} {
  const headers: Record<string, string> =
    failure.retryAfterSeconds === null ? {} : { 'retry-after': String(failure.retryAfterSeconds) };
  switch (failure.kind) {
    case 'throttle':
      return { error: aad.throttled(), headers: { 'retry-after': String(failure.retryAfterSeconds ?? 1) } };
    case 'unavailable':
      return { error: aad.unavailable(), headers };
    case 'gatewayTimeout':
      return { error: aad.gatewayTimeout(), headers };
  }
}

async function handleGraph(
  ctx: SimulatorContext,
  req: IncomingMessage,
  res: ServerResponse,
  url: URL,
  c: Correlation,
) {
  const path = url.pathname.replace(/\/+$/, '');
  const segments = path.split('/').slice(2);
  if (segments[0] === 'users' && segments[1] === undefined) ctx.stats.requests.users++;
  else if (segments[0] === 'users' && (segments[1] === 'delta' || segments[1] === 'microsoft.graph.delta'))
    ctx.stats.requests.delta++;
  else ctx.stats.requests.other++;

  const { tenant, issued } = authenticate(ctx.directory, req.headers);
  const decision = ctx.faults.decide({
    target: 'graph',
    path,
    tenantKeys: [tenant.tenantId, ...tenant.domains],
  });
  if (decision.latencyMs > 0) await sleep(decision.latencyMs);
  if (decision.failure) throw faultToGraphError(decision.failure);

  if (req.method !== 'GET') throw graphErrors.methodNotAllowed();
  const request: GraphRequest = {
    origin: requestOrigin(req),
    rawQuery: url.search.replace(/^\?/, ''),
    query: url.searchParams,
    headers: req.headers,
    tenant,
    roles: issued.roles,
  };
  if (segments[0] !== 'users') throw graphErrors.segmentNotFound(segments[0] ?? '');
  let reply: Reply;
  if (segments.length === 1) reply = listUsers(request);
  else if (segments.length === 2 && (segments[1] === 'delta' || segments[1] === 'microsoft.graph.delta'))
    reply = deltaUsers(request);
  else if (segments.length === 2) reply = getUser(request, segments[1] ?? '');
  else throw graphErrors.segmentNotFound(segments[2] ?? '');
  send(res, reply, graphHeaders(c), GRAPH_JSON);
}

async function handleIdentity(
  ctx: SimulatorContext,
  req: IncomingMessage,
  res: ServerResponse,
  url: URL,
  tenantSegment: string,
  kind: 'token' | 'consent-v1' | 'consent-v2',
) {
  if (kind === 'token') ctx.stats.requests.token++;
  else ctx.stats.requests.adminConsent++;
  const tenant = ctx.directory.findTenant(tenantSegment);
  const decision = ctx.faults.decide({
    target: 'identity',
    path: url.pathname,
    tenantKeys: [tenantSegment.toLowerCase(), ...(tenant ? [tenant.tenantId] : [])],
  });
  if (decision.latencyMs > 0) await sleep(decision.latencyMs);
  if (decision.failure) {
    const { error, headers } = faultToAadError(decision.failure);
    sendJson(res, error.status, error.toBody(), headers);
    return;
  }
  const reply =
    kind === 'token'
      ? issueToken(ctx, tenantSegment, req.method ?? 'GET', await readBody(req), req.headers)
      : adminConsent(ctx, tenantSegment, url.searchParams, kind === 'consent-v2');
  send(res, reply, { 'x-ms-request-id': randomUUID() });
}

async function dispatch(ctx: SimulatorContext, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const url = new URL(req.url ?? '/', 'http://graph-simulator.local');
  const path = url.pathname;
  const clientRequestIdHeader = req.headers['client-request-id'];
  const c: Correlation = {
    requestId: randomUUID(),
    clientRequestId: typeof clientRequestIdHeader === 'string' ? clientRequestIdHeader : randomUUID(),
  };

  if (path.startsWith('/_control/')) {
    try {
      send(res, await handleControl(ctx, req, url), {});
    } catch (err) {
      if (err instanceof ControlError)
        sendJson(res, err.status, { error: { code: err.code, message: err.message } });
      else if (err instanceof BodyTooLargeError)
        sendJson(res, 413, { error: { code: 'tooLarge', message: err.message } });
      else throw err;
    }
    return;
  }

  res.on('finish', () => {
    const key = String(res.statusCode);
    ctx.stats.statuses[key] = (ctx.stats.statuses[key] ?? 0) + 1;
  });
  try {
    const token = TOKEN_PATH.exec(path);
    const consent = CONSENT_PATH.exec(path);
    if (path === '/v1.0' || path.startsWith('/v1.0/')) await handleGraph(ctx, req, res, url, c);
    else if (token?.[1]) await handleIdentity(ctx, req, res, url, decodeURIComponent(token[1]), 'token');
    else if (consent?.[1]) {
      await handleIdentity(
        ctx,
        req,
        res,
        url,
        decodeURIComponent(consent[1]),
        consent[2] ? 'consent-v2' : 'consent-v1',
      );
    } else if (path === '/' || path === '/health') sendJson(res, 200, { name: 'graph-simulator', ok: true });
    else sendJson(res, 404, { error: { code: 'NotFound', message: `No simulator endpoint for ${path}` } });
  } catch (err) {
    if (err instanceof GraphError) {
      sendJson(
        res,
        err.status,
        err.toBody(c.requestId, c.clientRequestId),
        { ...graphHeaders(c), ...err.headers },
        GRAPH_JSON,
      );
    } else if (err instanceof AadError) {
      sendJson(res, err.status, err.toBody());
    } else {
      throw err;
    }
  }
}

export function createGraphSimulatorServer(ctx: SimulatorContext): Server {
  return createServer((req, res) => {
    dispatch(ctx, req, res).catch((err: unknown) => {
      console.error('graph-simulator: unhandled error', err);
      if (!res.headersSent)
        sendJson(res, 500, { error: { code: 'InternalServerError', message: 'simulator bug' } });
      else res.destroy();
    });
  });
}

import http, {
  type IncomingMessage,
  type RequestListener,
  type Server,
  type ServerResponse,
} from 'node:http';
import type { Socket } from 'node:net';
import { ApiError, type ErrorCode } from './api-error.js';
import { BASE_HEADERS } from './http.js';
import { assertRequestHead, readRawBody } from './request-body.js';

/**
 * Hardens the Functions Framework's HTTP server, which answers some requests before our handler runs:
 *   - its body parsers (JSON, text, urlencoded, raw, up to 1 GB) answer malformed JSON, unknown charsets and
 *     encodings with express's HTML error page, stack trace included unless NODE_ENV=production;
 *   - its router answers a path it cannot percent-decode the same way;
 *   - Node answers oversize or malformed request heads (431/400) with no body at all.
 * The framework offers no hook. Our seam is the server: `guardServer` where we build it (getTestServer), and in
 * production, where the framework's `main` builds it after loading our module, the `http.createServer` call it
 * makes (functions/src/index.ts installs that when the process serves the api function). A guarded server gets:
 *   1. a guard runs first: header size and declared body size are checked, then the body is read (at most
 *      64 KB) into `req.rawBody`, so the framework's parsers find the request finished and never run; the
 *      handler parses the bytes itself (request-body.ts);
 *   2. a last error handler turns anything express still raises into the API's JSON error shape;
 *   3. `clientError` answers Node's own refusals (431 header overflow, 400 bad request, 408 timeout) as JSON.
 * No answer carries a stack trace or an internal message, in any mode.
 */

const GUARDED = Symbol.for('workspace-sync.framework-guard');
let installed = false;

type ExpressLike = RequestListener & {
  use(
    fn: (err: unknown, req: IncomingMessage, res: ServerResponse, next: (e?: unknown) => void) => void,
  ): void;
  handle: unknown;
};

const isExpressApp = (fn: unknown): fn is ExpressLike =>
  typeof fn === 'function' &&
  typeof (fn as { use?: unknown }).use === 'function' &&
  typeof (fn as { handle?: unknown }).handle === 'function';

/**
 * Production: the framework's `main` builds the server after loading our module, so the guard is applied from the
 * `http.createServer` call it makes. Only in a process that serves the api function: the Pub/Sub functions need
 * the framework's own JSON parsing of push bodies.
 */
export function installFrameworkGuard(): void {
  if (installed) return;
  installed = true;
  const original = http.createServer.bind(http) as (...args: unknown[]) => Server;
  (http as { createServer: unknown }).createServer = (...args: unknown[]): Server => {
    const server = original(...args);
    if (isExpressApp(args.find((a) => typeof a === 'function'))) guardServer(server);
    return server;
  };
}

/** Whether this process was started to serve the api function (`functions-framework --target=api`). */
export function servesApiFunction(env: NodeJS.ProcessEnv = process.env, argv = process.argv): boolean {
  if (env.FUNCTION_TARGET === 'api') return true;
  const i = argv.findIndex((a) => a === '--target' || a.startsWith('--target='));
  return i >= 0 && (argv[i] === '--target' ? argv[i + 1] : argv[i]!.slice('--target='.length)) === 'api';
}

/**
 * Guards a Functions Framework server (getTestServer's in the local stack and the API tests, the framework's own
 * in production) that serves the api function.
 */
export function guardServer(server: Server): void {
  const app = server.listeners('request').find(isExpressApp);
  if (!app) throw new Error('not a Functions Framework server: no express app handles its requests');
  if ((server as unknown as Record<symbol, boolean>)[GUARDED]) return;
  (server as unknown as Record<symbol, boolean>)[GUARDED] = true;
  app.use(jsonErrorHandler);
  server.removeListener('request', app);
  server.on('request', (req: IncomingMessage, res: ServerResponse) => {
    void (async () => {
      try {
        assertRequestHead(req);
        await readRawBody(req);
      } catch (err) {
        writeError(res, err instanceof ApiError ? err : fromStatus(400));
        return;
      }
      // The framework answers these two itself, with an empty 404, before any handler of ours runs.
      const path = (req.url ?? '').split('?')[0];
      if (path === '/favicon.ico' || path === '/robots.txt') {
        writeError(res, fromStatus(404));
        return;
      }
      app(req, res);
    })();
  });
  server.on('clientError', answerClientError);
}

const CODE_BY_STATUS: Record<number, ErrorCode> = {
  400: 'invalid_argument',
  401: 'unauthenticated',
  403: 'permission_denied',
  404: 'not_found',
  405: 'method_not_allowed',
  408: 'request_timeout',
  413: 'payload_too_large',
  415: 'unsupported_media_type',
  431: 'request_header_fields_too_large',
};

const MESSAGE_BY_CODE: Partial<Record<ErrorCode, string>> = {
  invalid_argument: 'malformed request',
  payload_too_large: 'request body is too large',
  unsupported_media_type: 'unsupported request body encoding or charset',
  request_header_fields_too_large: 'request headers are too large',
  request_timeout: 'the request took too long to arrive',
};

/** An error's status if it carries a client-error one (body-parser and express set `status`), else 500. */
function fromStatus(status: number): ApiError {
  const code = CODE_BY_STATUS[status] ?? (status >= 400 && status < 500 ? 'invalid_argument' : 'internal');
  // Messages are ours, not the error's: framework messages can quote the body or name internals.
  const message = MESSAGE_BY_CODE[code] ?? (code === 'internal' ? 'internal error' : 'request refused');
  return new ApiError(code, message);
}

function jsonErrorHandler(
  err: unknown,
  _req: IncomingMessage,
  res: ServerResponse,
  next: (e?: unknown) => void,
) {
  if (res.headersSent) {
    next(err);
    return;
  }
  const e = err as { status?: unknown; statusCode?: unknown } | null;
  const status = Number(e?.status ?? e?.statusCode ?? 500);
  writeError(res, fromStatus(Number.isInteger(status) ? status : 500));
}

export function errorJson(err: ApiError): string {
  return JSON.stringify(err.toBody());
}

function writeError(res: ServerResponse, err: ApiError): void {
  if (res.headersSent) {
    res.destroy();
    return;
  }
  const body = errorJson(err);
  res.writeHead(err.status, {
    ...BASE_HEADERS,
    ...err.headers,
    'content-type': 'application/json',
    'content-length': Buffer.byteLength(body),
  });
  res.end(body);
}

const REASONS: Record<number, string> = {
  400: 'Bad Request',
  408: 'Request Timeout',
  431: 'Request Header Fields Too Large',
};

function answerClientError(err: Error & { code?: string }, socket: Socket): void {
  if (err.code === 'ECONNRESET' || !socket.writable) {
    socket.destroy();
    return;
  }
  const status =
    err.code === 'HPE_HEADER_OVERFLOW' ? 431 : err.code === 'ERR_HTTP_REQUEST_TIMEOUT' ? 408 : 400;
  const body = errorJson(fromStatus(status));
  socket.end(
    `HTTP/1.1 ${status} ${REASONS[status]}\r\n` +
      'content-type: application/json\r\n' +
      `content-length: ${Buffer.byteLength(body)}\r\n` +
      'cache-control: no-store\r\nx-content-type-options: nosniff\r\nconnection: close\r\n\r\n' +
      body,
  );
}

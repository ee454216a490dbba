import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { handleControl } from './control-api.js';
import { handleDirectory } from './directory-routes.js';
import { ApiError, internalError, notFound } from './errors.js';
import { sendJson } from './http-util.js';
import { handleOAuth } from './oauth-routes.js';
import type { RequestContext, RouteHandler } from './request-context.js';
import { SimulatorState } from './state.js';

export interface SimulatorOptions {
  /** 0 = pick a free port. */
  port?: number;
  /** Defaults to 127.0.0.1. */
  host?: string;
  /** Skip the consent page and approve every authorization request (default true). */
  autoApprove?: boolean;
}

export interface SimulatorHandle {
  /** e.g. http://127.0.0.1:PORT (no trailing slash). */
  url: string;
  port: number;
  close(): Promise<void>;
}

const HANDLERS: readonly RouteHandler[] = [handleControl, handleDirectory, handleOAuth];

async function dispatch(ctx: RequestContext): Promise<void> {
  for (const handler of HANDLERS) {
    if (await handler(ctx)) return;
  }
  const err = notFound(`The requested URL ${ctx.url.pathname} was not found on this server.`);
  await sendJson(ctx.req, ctx.res, 404, err.toBody());
}

export async function startWorkspaceSimulator(opts: SimulatorOptions = {}): Promise<SimulatorHandle> {
  const host = opts.host ?? '127.0.0.1';
  const state = new SimulatorState(opts.autoApprove ?? true);

  const server = createServer((req, res) => {
    const ctx: RequestContext = {
      req,
      res,
      url: new URL(req.url ?? '/', 'http://simulator.invalid'),
      state,
      route: undefined,
    };
    res.on('close', () => {
      if (ctx.route) state.stats.record(ctx.route, res.writableFinished ? res.statusCode : 'reset');
    });
    dispatch(ctx).catch((err: unknown) => {
      console.error('[workspace-simulator] unhandled error', err);
      if (res.headersSent) {
        res.destroy();
        return;
      }
      const body = (err instanceof ApiError ? err : internalError()).toBody();
      void sendJson(req, res, body.error.code, body).catch(() => res.destroy());
    });
  });
  // Keep-alive sockets would otherwise hold close() open until the client lets go.
  server.keepAliveTimeout = 5_000;

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port ?? 0, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const { port } = server.address() as AddressInfo;
  const publicHost =
    host === '0.0.0.0' || host === '::' ? '127.0.0.1' : host.includes(':') ? `[${host}]` : host;
  const url = `http://${publicHost}:${port}`;
  state.url = url;
  state.watch.baseUrl = url;

  return {
    url,
    port,
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.close((err) => (err ? reject(err) : resolve()));
        server.closeAllConnections();
      }),
  };
}

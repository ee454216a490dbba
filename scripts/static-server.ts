import { createReadStream, readFileSync } from 'node:fs';
import { stat } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { createServer, request, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { extname, join, normalize, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { z } from 'zod';

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.json': 'application/json',
};

export const FIREBASE_JSON = fileURLToPath(new URL('../firebase.json', import.meta.url));

/**
 * The hosting rewrites of firebase.json that send a path to a backend: a function (`functionId`, the form
 * Firebase documents for 2nd-gen functions) or a Cloud Run service. Other rewrite kinds are refused here rather
 * than silently ignored, so the local server never routes differently from the deployed site.
 */
const backendRewrite = z.union([
  z.strictObject({
    source: z.string().min(1),
    function: z.strictObject({
      functionId: z.string().min(1),
      region: z.string().min(1).optional(),
      pinTag: z.boolean().optional(),
    }),
  }),
  z.strictObject({
    source: z.string().min(1),
    run: z.strictObject({
      serviceId: z.string().min(1),
      region: z.string().min(1).optional(),
      pinTag: z.boolean().optional(),
    }),
  }),
]);
export type HostingRewrite = z.infer<typeof backendRewrite>;

const firebaseJsonHosting = z.object({
  hosting: z.object({ rewrites: z.array(backendRewrite).default([]) }).loose(),
});

/** The rewrites deployed with the console (firebase.json `hosting.rewrites`), in their order of precedence. */
export function readHostingRewrites(path = FIREBASE_JSON): HostingRewrite[] {
  return firebaseJsonHosting.parse(JSON.parse(readFileSync(path, 'utf8'))).hosting.rewrites;
}

export const backendOf = (rewrite: HostingRewrite): string =>
  'function' in rewrite ? rewrite.function.functionId : rewrite.run.serviceId;

/**
 * Firebase Hosting's own glob matching: superstatic (the open-source core of the hosting emulator that
 * firebase-tools ships) matches `source` globs with minimatch. Reusing it keeps `**`, `*` and braces meaning
 * exactly what they mean in the cloud, instead of a hand-written approximation.
 */
const { configMatcher } = createRequire(import.meta.url)('superstatic/lib/utils/patterns.js') as {
  configMatcher(path: string, config: { source: string }): boolean;
};

/** The first rewrite whose source matches the path (Hosting applies the first match), if any. */
export function rewriteFor(
  pathname: string,
  rewrites: readonly HostingRewrite[],
): HostingRewrite | undefined {
  return rewrites.find((r) => configMatcher(pathname, { source: r.source }));
}

/**
 * Local stand-in for Firebase Hosting: serves the console's static files and sends the paths firebase.json's
 * hosting rewrites name to the local backend of the function they name, as Hosting does in the cloud, so the
 * console and its API share one origin. `backends` maps a function id to the origin serving it locally.
 */
export function createConsoleServer(
  root: string,
  backends: Record<string, () => string>,
  rewrites: readonly HostingRewrite[] = readHostingRewrites(),
): Server {
  for (const r of rewrites) {
    if (!backends[backendOf(r)])
      throw new Error(`no local backend for hosting rewrite ${r.source} -> ${backendOf(r)}`);
  }
  const base = resolve(root);
  const proxy = (origin: string, req: IncomingMessage, res: ServerResponse) => {
    const target = new URL(req.url ?? '/', origin);
    const upstream = request(
      target,
      { method: req.method, headers: { ...req.headers, host: target.host } },
      (up) => {
        res.writeHead(up.statusCode ?? 502, up.headers);
        up.pipe(res);
      },
    );
    upstream.on('error', () => {
      if (!res.headersSent) res.writeHead(502, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ error: { code: 'unavailable', message: 'API is not reachable' } }));
    });
    req.pipe(upstream);
  };
  return createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://local');
    const rewrite = rewriteFor(url.pathname, rewrites);
    if (rewrite) return proxy(backends[backendOf(rewrite)]!(), req, res);
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405).end();
      return;
    }
    void (async () => {
      const rel = normalize(decodeURIComponent(url.pathname)).replace(/^(\.\.[/\\])+/, '');
      let file = join(base, rel);
      if (!file.startsWith(base)) {
        res.writeHead(403).end();
        return;
      }
      try {
        if ((await stat(file)).isDirectory()) file = join(file, 'index.html');
      } catch {
        // Single-page app: unknown paths get the shell.
        file = join(base, 'index.html');
      }
      try {
        await stat(file);
      } catch {
        res.writeHead(404).end('not found');
        return;
      }
      res.writeHead(200, {
        'content-type': TYPES[extname(file)] ?? 'application/octet-stream',
        'cache-control': 'no-cache',
        'x-content-type-options': 'nosniff',
      });
      createReadStream(file).pipe(res);
    })();
  });
}

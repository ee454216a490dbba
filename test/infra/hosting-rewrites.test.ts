import { readdirSync, readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { API_ROUTES } from '../../functions/src/api/routes/index.js';
import { HostingConfigError, hostingConfigFor } from '../../infra/hosting-config.js';
import {
  backendOf,
  createConsoleServer,
  FIREBASE_JSON,
  readHostingRewrites,
  rewriteFor,
} from '../../scripts/static-server.js';

const CONSOLE_DIR = fileURLToPath(new URL('../../console', import.meta.url));
const firebaseJson = JSON.parse(readFileSync(FIREBASE_JSON, 'utf8')) as Record<string, unknown>;
const rewrites = readHostingRewrites();

function consoleSources(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory()
      ? consoleSources(join(dir, e.name))
      : e.name.endsWith('.js') || e.name.endsWith('.html')
        ? [join(dir, e.name)]
        : [],
  );
}

/**
 * Every path the console calls, as written in its sources: string and template literals that start with /api/ or
 * /oauth/, and the tenant-relative paths handed to tenantPath(t, '/...') (console/js/api.js), which prefixes
 * them with /api/tenants/<t>. Template holes become a sample segment, as they would at run time.
 */
function consoleCalls(): Array<{ file: string; path: string }> {
  const calls: Array<{ file: string; path: string }> = [];
  const sample = (p: string) => p.replace(/\$\{[^}]*\}/g, 'x').split('?')[0]!;
  for (const file of consoleSources(CONSOLE_DIR)) {
    const text = readFileSync(file, 'utf8');
    for (const m of text.matchAll(/['"`](\/(?:api|oauth)\/[^'"`]*)/g))
      calls.push({ file, path: sample(m[1]!) });
    for (const m of text.matchAll(/tenantPath\(\s*[^,()]+,\s*['"`](\/[^'"`]*)/g)) {
      calls.push({ file, path: `/api/tenants/x${sample(m[1]!)}` });
    }
  }
  return calls;
}

describe('firebase.json hosting rewrites', () => {
  it('is a firebase.json firebase-tools accepts (its own JSON schema validator)', () => {
    const { getValidator } = createRequire(import.meta.url)(
      'firebase-tools/lib/firebaseConfigValidate.js',
    ) as {
      getValidator(): ((data: unknown) => boolean) & { errors?: unknown };
    };
    const validate = getValidator();
    expect(validate(firebaseJson), JSON.stringify(validate.errors)).toBe(true);
  });

  it('sends /api/** and /oauth/** to the api function, in the documented 2nd-gen form', () => {
    expect(rewrites).toEqual([
      { source: '/api/**', function: { functionId: 'api', region: expect.any(String) } },
      { source: '/oauth/**', function: { functionId: 'api', region: expect.any(String) } },
    ]);
  });

  it('routes every path the console calls to the api function', () => {
    const calls = consoleCalls();
    // The sign-in link, /api/me, /api/entities and the tenant paths at least: a scan that finds nothing would
    // prove nothing.
    expect(calls.map((c) => c.path)).toEqual(
      expect.arrayContaining([
        '/api/auth/login',
        '/api/me',
        '/api/entities',
        '/api/tenants/x/devices/actions',
      ]),
    );
    for (const { file, path } of calls) {
      const rewrite = rewriteFor(path, rewrites);
      expect(rewrite && backendOf(rewrite), `${path} (${file})`).toBe('api');
    }
  });

  it('routes every endpoint of the api router, including the OAuth callbacks Google and Microsoft redirect to', () => {
    expect(API_ROUTES.map((r) => r.pattern)).toEqual(
      expect.arrayContaining(['/oauth/callback', '/oauth/entra/callback']),
    );
    for (const route of API_ROUTES) {
      const path = route.pattern.replace(/:[A-Za-z]+/g, 'x');
      const rewrite = rewriteFor(path, rewrites);
      expect(rewrite && backendOf(rewrite), `${route.method} ${route.pattern}`).toBe('api');
    }
  });

  it('leaves the console files to Hosting', () => {
    for (const path of ['/', '/index.html', '/app.js', '/js/api.js', '/styles.css', '/apiary', '/oauthx']) {
      expect(rewriteFor(path, rewrites), path).toBeUndefined();
    }
  });
});

describe('the deployed firebase.json (infra/hosting-config.ts)', () => {
  it('points every rewrite at the region the functions are deployed to and keeps the rest', () => {
    const deployed = hostingConfigFor(firebaseJson, { region: 'europe-west1', httpFunctions: ['api'] }) as {
      hosting: { rewrites: unknown[]; public: string };
      firestore: unknown;
    };
    expect(deployed.hosting.rewrites).toEqual([
      { source: '/api/**', function: { functionId: 'api', region: 'europe-west1' } },
      { source: '/oauth/**', function: { functionId: 'api', region: 'europe-west1' } },
    ]);
    expect(deployed.hosting.public).toBe('console');
    expect(deployed.firestore).toEqual(firebaseJson.firestore);
  });

  it('refuses a rewrite to a function that is not deployed as a public HTTP function', () => {
    expect(() => hostingConfigFor(firebaseJson, { region: 'europe-west1', httpFunctions: ['tick'] })).toThrow(
      HostingConfigError,
    );
  });
});

describe('the local static server (scripts/static-server.ts)', () => {
  let backend: Server;
  let consoleServer: Server;
  let consoleUrl = '';
  const seen: string[] = [];

  beforeAll(async () => {
    backend = createServer((req, res) => {
      seen.push(`${req.method} ${req.url}`);
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ backend: 'api' }));
    });
    await new Promise<void>((r) => backend.listen(0, '127.0.0.1', r));
    const apiOrigin = `http://127.0.0.1:${(backend.address() as AddressInfo).port}`;
    consoleServer = createConsoleServer(CONSOLE_DIR, { api: () => apiOrigin });
    await new Promise<void>((r) => consoleServer.listen(0, '127.0.0.1', r));
    consoleUrl = `http://127.0.0.1:${(consoleServer.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    consoleServer.closeAllConnections();
    backend.closeAllConnections();
    await new Promise((r) => consoleServer.close(r));
    await new Promise((r) => backend.close(r));
  });

  it('proxies what the rewrites of firebase.json name, with method, path and query', async () => {
    const api = await fetch(`${consoleUrl}/api/tenants/acme/runs?limit=5`, { method: 'POST', body: '{}' });
    expect(await api.json()).toEqual({ backend: 'api' });
    const oauth = await fetch(`${consoleUrl}/oauth/entra/callback?state=s`);
    expect(await oauth.json()).toEqual({ backend: 'api' });
    expect(seen).toEqual(['POST /api/tenants/acme/runs?limit=5', 'GET /oauth/entra/callback?state=s']);
  });

  it('serves the console files itself', async () => {
    const res = await fetch(`${consoleUrl}/js/api.js`);
    expect(res.headers.get('content-type')).toContain('text/javascript');
    expect(await res.text()).toBe(readFileSync(join(CONSOLE_DIR, 'js/api.js'), 'utf8'));
  });

  it('refuses to start with a rewrite it has no local backend for', () => {
    expect(() => createConsoleServer(CONSOLE_DIR, {})).toThrow(
      /no local backend for hosting rewrite \/api\/\*\* -> api/,
    );
  });
});

import type { AddressInfo } from 'node:net';
import { expect } from 'vitest';
import type { Server } from 'node:http';
import * as functions from '@google-cloud/functions-framework';
import { getTestServer } from '@google-cloud/functions-framework/testing';
import type { CollectionReference, Firestore } from '@google-cloud/firestore';
import type { PubSub } from '@google-cloud/pubsub';
import { startSecretManagerEmulator } from '../../emulators/secret-manager/index.js';
import {
  DEFAULT_OAUTH_CLIENT,
  SimulatorControl,
  startWorkspaceSimulator,
} from '../../emulators/workspace-simulator/index.js';
import { createApiHandler } from '../../functions/src/api/api-handler.js';
import { loadApiConfig } from '../../functions/src/api/api-config.js';
import { guardServer } from '../../functions/src/api/framework-guard.js';
import { hostSignatureHeaders } from '../../functions/src/api/host-hmac.js';
import { createApp, type App } from '../../functions/src/app.js';
import { loadConfig } from '../../functions/src/platform/config.js';
import type { Clock } from '../../functions/src/platform/clock.js';
import { createLogger, setLogSink } from '../../functions/src/platform/log.js';
import {
  createSecretStoreFromEnv,
  type SecretManagerSecretStore,
} from '../../functions/src/secrets/index.js';
import type { SyncMessage } from '../../functions/src/engine/messages.js';
import { paths } from '../../shared/firestore-paths.js';
import { TOPICS } from '../../shared/topology.js';
import { emulatorEnv, testFirestore, testPubSub, uniqueProjectId } from '../support/emulator-clients.js';
import { authorizeAgainstSimulator } from '../support/google-oauth.js';

export const CONSOLE_ORIGIN = 'http://console.test';
export const HOST_KEY_ID = 'host-1';
export const HOST_SECRET = 'host-product-shared-secret-0123456789';

/** Wall clock plus an offset the test can move, e.g. to let an OAuth state or an ID token expire. */
export class TestClock implements Clock {
  offsetMs = 0;
  now(): number {
    return Date.now() + this.offsetMs;
  }
  sleep(ms: number): Promise<void> {
    return new Promise((r) => setTimeout(r, Math.min(ms, 50)));
  }
}

export interface HttpResult {
  status: number;
  headers: Headers;
  text: string;
  /** Parsed JSON body, or undefined. */
  body: any; // eslint-disable-line @typescript-eslint/no-explicit-any
}

export interface RequestOptions {
  token?: string;
  body?: unknown;
  rawBody?: string;
  headers?: Record<string, string>;
}

export interface Workspace {
  customerId: string;
  domain: string;
  adminEmail: string;
}

/**
 * One test file's world, all real: the `api` function served by the Functions Framework over HTTP, the
 * Workspace simulator (Google's OAuth + Directory), the Secret Manager emulator, and the Firestore and Pub/Sub
 * emulators under a project of the file's own.
 */
export interface ApiHarness {
  url: string;
  simUrl: string;
  control: SimulatorControl;
  ws: Workspace;
  projectId: string;
  db: Firestore;
  pubsub: PubSub;
  secrets: SecretManagerSecretStore;
  app: App;
  clock: TestClock;
  /** Every log line written while the harness runs (all levels). */
  logLines: string[];
  request(method: string, path: string, opts?: RequestOptions): Promise<HttpResult>;
  hostRequest(
    method: string,
    path: string,
    body: unknown,
    opts?: { keyId?: string; secret?: string; timestamp?: number },
  ): Promise<HttpResult>;
  /** Starts sign-in and consents at Google: where Google sends the browser back, and the browser's binding cookie. */
  startSignIn(email?: string, returnTo?: string): Promise<{ back: string; cookie: string }>;
  /**
   * A Google ID token of the account, as a bearer client holds it (Google's OAuth flow against the simulator; the
   * console's own sign-in ends in a session cookie instead, see signInSession).
   */
  signIn(email: string): Promise<string>;
  /** Signs in through /api/auth/login -> Google -> /api/auth/callback; returns the session cookie (`name=value`). */
  signInSession(email: string): Promise<string>;
  createTenant(tenantId: string, ownerEmail: string, name?: string): Promise<void>;
  addMember(tenantId: string, email: string, role: 'owner' | 'admin' | 'viewer'): Promise<void>;
  addUser(email: string): Promise<string>;
  /** POST authorize; returns the authorization URL and the browser-binding cookie. */
  authorize(
    tenantId: string,
    token: string,
    loginHint?: string,
  ): Promise<{ authorizationUrl: string; cookie: string; state: string }>;
  /** Follows Google's consent redirect (manual) and returns where Google sends the browser back to. */
  consent(authorizationUrl: string): Promise<string>;
  /** GET the OAuth callback with the cookie; returns the redirect location (the console). */
  callback(
    callbackUrl: string,
    cookie?: string,
  ): Promise<{ status: number; location: string; setCookie: string | null }>;
  /** Full connect round trip. */
  connect(tenantId: string, token: string, loginHint?: string): Promise<URL>;
  /** Turns device management on: the API call, Google's (approving) consent, the callback; the console URL. */
  enableDeviceManagement(tenantId: string, token: string): Promise<URL>;
  /** Sync messages published since the last call (pulled from a subscription on the sync topic). */
  pullSyncMessages(): Promise<SyncMessage[]>;
  /**
   * Every document of the project: path -> JSON of its data; except the replay guard's and Idempotency-Key
   * bookkeeping (hostSignatures, idempotencyKeys), which every signed request writes, accepted or refused, by
   * design: a spent signature is not data. Tests of those read them directly.
   */
  dump(): Promise<Map<string, string>>;
  close(): Promise<void>;
}

const BOOKKEEPING = new Set(['hostSignatures', 'idempotencyKeys']);

let registered = false;
let current: ((req: functions.Request, res: functions.Response) => Promise<void>) | null = null;

export async function startApiHarness(
  opts: {
    users?: number;
    chromeos?: number;
    mobile?: number;
    env?: Record<string, string>;
    /** More variables for the app's configuration (e.g. SMTP and NOTIFY_* for the notification tests). */
    appEnv?: Record<string, string>;
  } = {},
): Promise<ApiHarness> {
  // The server must listen before the config can name its callback URL, so it forwards to a handler set later.
  if (!registered) {
    functions.http('api', (req, res) => (current ? current(req, res) : res.status(503).send('not ready')));
    registered = true;
  }
  const server: Server = getTestServer('api');
  // As in production (functions/src/index.ts): the framework's server answers its own errors as JSON too.
  guardServer(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

  // Captured rather than printed: tests inspect them (token hygiene) and the output stays readable.
  const logLines: string[] = [];
  setLogSink((line) => logLines.push(line), 'DEBUG');
  const sim = await startWorkspaceSimulator({ port: 0, autoApprove: true });
  const control = new SimulatorControl(sim.url);
  const ws = await control.createWorkspace({
    domain: 'school.example',
    seed: 11,
    users: opts.users ?? 30,
    chromeos: opts.chromeos ?? 5,
    mobile: opts.mobile ?? 3,
  });
  const secretsEmu = await startSecretManagerEmulator({ port: 0 });
  const projectId = uniqueProjectId('api');
  const db = testFirestore(projectId);
  const pubsub = testPubSub(projectId);
  const [topic] = await pubsub.createTopic(TOPICS.sync);
  await topic.createSubscription('test-pull');

  const config = loadConfig({
    GOOGLE_CLOUD_PROJECT: projectId,
    WORKSPACE_ENDPOINT: sim.url,
    GOOGLE_OAUTH_CLIENT_ID: DEFAULT_OAUTH_CLIENT.clientId,
    GOOGLE_OAUTH_CLIENT_SECRET: DEFAULT_OAUTH_CLIENT.clientSecret,
    OAUTH_REDIRECT_URI: `${url}/oauth/callback`,
    ...opts.appEnv,
  });
  const secrets = createSecretStoreFromEnv({
    GOOGLE_CLOUD_PROJECT: projectId,
    SECRET_MANAGER_EMULATOR_HOST: secretsEmu.host,
  });
  const clock = new TestClock();
  const app = createApp({ config, db, pubsub, secrets, clock, log: createLogger({ test: projectId }) });
  const api = loadApiConfig({
    CONSOLE_ORIGIN,
    HOST_PRODUCT_HMAC_KEYS: `${HOST_KEY_ID}:${HOST_SECRET},host-old:another-shared-secret-abcdefgh`,
    SYNC_WEBHOOK_MAX_REQUESTS: '10',
    ...opts.env,
  });
  current = createApiHandler(app, api);

  const request = async (method: string, path: string, o: RequestOptions = {}): Promise<HttpResult> => {
    const headers: Record<string, string> = { ...o.headers };
    if (o.token) headers.authorization = `Bearer ${o.token}`;
    let body: string | undefined;
    if (o.rawBody !== undefined) body = o.rawBody;
    else if (o.body !== undefined) {
      body = JSON.stringify(o.body);
      headers['content-type'] ??= 'application/json';
    }
    const res = await fetch(`${url}${path}`, { method, headers, body, redirect: 'manual' });
    const text = await res.text();
    let parsed: unknown;
    try {
      parsed = text ? JSON.parse(text) : undefined;
    } catch {
      parsed = undefined;
    }
    return { status: res.status, headers: res.headers, text, body: parsed };
  };

  const hostRequest: ApiHarness['hostRequest'] = (method, path, body, o = {}) => {
    // No body (a GET) is signed as the empty string and sent as none.
    const raw = body === undefined ? '' : JSON.stringify(body);
    return request(method, path, {
      ...(body === undefined ? {} : { rawBody: raw }),
      headers: {
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
        ...hostSignatureHeaders(
          { keyId: o.keyId ?? HOST_KEY_ID, secret: o.secret ?? HOST_SECRET },
          // The path as sent, query included: the signature covers both.
          { method, path, rawBody: raw },
          o.timestamp === undefined ? Date.now() : o.timestamp * 1000,
        ),
      },
    });
  };

  const consent = async (authorizationUrl: string): Promise<string> => {
    const res = await fetch(authorizationUrl, { redirect: 'manual' });
    const location = res.headers.get('location');
    if (res.status !== 302 || !location)
      throw new Error(`Google did not redirect: ${res.status} ${await res.text()}`);
    return location;
  };

  const startSignIn: ApiHarness['startSignIn'] = async (email, returnTo = '/after') => {
    const hint = email ? `&loginHint=${encodeURIComponent(email)}` : '';
    const login = await request('GET', `/api/auth/login?returnTo=${encodeURIComponent(returnTo)}${hint}`);
    if (login.status !== 302) throw new Error(`login did not redirect: ${login.status} ${login.text}`);
    const cookie = (login.headers.get('set-cookie') ?? '').split(';')[0]!;
    return { back: await consent(login.headers.get('location')!), cookie };
  };

  const signIn = async (email: string): Promise<string> => {
    // The console's sign-in scopes (openid email profile): `profile` is what puts the name in the ID token.
    const { idToken } = await authorizeAgainstSimulator(config, email, ['profile']);
    if (!idToken) throw new Error(`no ID token for ${email}`);
    return idToken;
  };

  const signInSession = async (email: string): Promise<string> => {
    const { back, cookie } = await startSignIn(email);
    const res = await fetch(back, { redirect: 'manual', headers: { cookie } });
    await res.text();
    const session = res.headers
      .getSetCookie()
      .map((c) => c.split(';')[0]!)
      .find((c) => c.startsWith('__session=ws_s_'));
    if (res.status !== 302 || !session)
      throw new Error(`sign-in failed: ${res.status} ${res.headers.get('location') ?? ''}`);
    return session;
  };

  const authorize: ApiHarness['authorize'] = async (tenantId, token, loginHint) => {
    const res = await request('POST', `/api/tenants/${tenantId}/connection/authorize`, {
      token,
      body: { loginHint: loginHint ?? ws.adminEmail },
    });
    if (res.status !== 200) throw new Error(`authorize failed: ${res.status} ${res.text}`);
    const cookie = (res.headers.get('set-cookie') ?? '').split(';')[0]!;
    const authorizationUrl = res.body.authorizationUrl as string;
    return { authorizationUrl, cookie, state: new URL(authorizationUrl).searchParams.get('state')! };
  };

  const callback: ApiHarness['callback'] = async (callbackUrl, cookie) => {
    const res = await fetch(callbackUrl, { redirect: 'manual', headers: cookie ? { cookie } : {} });
    await res.text();
    return {
      status: res.status,
      location: res.headers.get('location') ?? '',
      setCookie: res.headers.get('set-cookie'),
    };
  };

  const pullEndpoint = `http://${emulatorEnv().PUBSUB_EMULATOR_HOST}/v1/projects/${projectId}/subscriptions/test-pull`;
  const pullSyncMessages = async (): Promise<SyncMessage[]> => {
    const out: SyncMessage[] = [];
    for (;;) {
      const res = await fetch(`${pullEndpoint}:pull`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ maxMessages: 100, returnImmediately: true }),
      });
      const body = (await res.json()) as {
        receivedMessages?: Array<{ ackId: string; message: { data: string } }>;
      };
      const received = body.receivedMessages ?? [];
      if (received.length === 0) return out;
      for (const r of received)
        out.push(JSON.parse(Buffer.from(r.message.data, 'base64').toString('utf8')) as SyncMessage);
      await fetch(`${pullEndpoint}:acknowledge`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ ackIds: received.map((r) => r.ackId) }),
      });
    }
  };

  const dump = async (): Promise<Map<string, string>> => {
    const out = new Map<string, string>();
    const walk = async (collections: CollectionReference[]): Promise<void> => {
      await Promise.all(
        collections.map(async (col) => {
          const refs = await col.listDocuments();
          await Promise.all(
            refs.map(async (ref) => {
              const snap = await ref.get();
              if (snap.exists) out.set(ref.path, JSON.stringify(snap.data()));
              await walk(await ref.listCollections());
            }),
          );
        }),
      );
    };
    await walk((await db.listCollections()).filter((c) => !BOOKKEEPING.has(c.id)));
    return new Map([...out].sort(([a], [b]) => a.localeCompare(b)));
  };

  const addUser = async (email: string) => {
    const [given = 'Test', family = 'User'] = email.split('@')[0]!.split('.');
    await control.addUser(ws.customerId, { primaryEmail: email, givenName: given, familyName: family });
    return email;
  };

  return {
    url,
    simUrl: sim.url,
    control,
    ws,
    projectId,
    db,
    pubsub,
    secrets,
    app,
    clock,
    logLines,
    request,
    hostRequest,
    startSignIn,
    signIn,
    signInSession,
    async createTenant(tenantId, ownerEmail, name = `Tenant ${tenantId}`) {
      const res = await hostRequest('POST', '/api/tenants', { tenantId, name, ownerEmail });
      if (res.status !== 201) throw new Error(`createTenant failed: ${res.status} ${res.text}`);
    },
    async addMember(tenantId, email, role) {
      await db.doc(paths.member(tenantId, email.toLowerCase())).set({ email: email.toLowerCase(), role });
    },
    addUser,
    authorize,
    consent,
    callback,
    async connect(tenantId, token, loginHint) {
      const { authorizationUrl, cookie } = await authorize(tenantId, token, loginHint);
      const back = await consent(authorizationUrl);
      const res = await callback(back, cookie);
      if (res.status !== 302) throw new Error(`callback answered ${res.status}`);
      return new URL(res.location);
    },
    async enableDeviceManagement(tenantId, token) {
      const res = await request('POST', `/api/tenants/${tenantId}/connection/device-management`, {
        token,
        body: { enabled: true },
      });
      if (res.status !== 200) throw new Error(`device-management answered ${res.status}: ${res.text}`);
      const cookie = (res.headers.get('set-cookie') ?? '').split(';')[0]!;
      const cb = await callback(await consent(res.body.authorizationUrl as string), cookie);
      if (cb.status !== 302) throw new Error(`callback answered ${cb.status}`);
      return new URL(cb.location);
    },
    pullSyncMessages,
    dump,
    async close() {
      current = null;
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
      await secrets.close();
      await db.terminate();
      await pubsub.close();
      await sim.close();
      await secretsEmu.close();
    },
  };
}

/** A valid mapping body for the Users entity. */
export function usersMapping(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    name: 'Staff',
    entity: 'users',
    identifier: 'primaryEmail',
    target: { kind: 'collection', objectId: 'staff' },
    fieldMap: [
      { source: 'primaryEmail', target: 'email' },
      { source: 'name.fullName', target: 'fullName' },
      { source: 'orgUnitPath', target: 'orgUnit' },
    ],
    ...overrides,
  };
}

/** Runs a request and proves Firestore is exactly as it was before. */
export async function withoutWrites(h: ApiHarness, run: () => Promise<HttpResult>): Promise<HttpResult> {
  const before = await h.dump();
  const res = await run();
  expect(await h.dump()).toEqual(before);
  return res;
}

/** Runs a request that must be refused with `status` and error `code`, changing nothing. */
export async function rejectedUnchanged(
  h: ApiHarness,
  run: () => Promise<HttpResult>,
  status: number,
  code: string,
): Promise<HttpResult> {
  const res = await withoutWrites(h, run);
  expect(res.status, res.text).toBe(status);
  expect(res.body.error.code).toBe(code);
  return res;
}

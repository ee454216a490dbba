import { SimulatorControl } from '../emulators/workspace-simulator/index.js';
import type { App } from '../functions/src/app.js';
import { newOAuthClient } from '../functions/src/sources/google/workspace-auth.js';
import { HostApiError, HostClient } from '../shared/host-client.js';

export const LOCAL_HMAC_KEY = { keyId: 'local', secret: 'local-host-product-hmac-secret' };

export const DEMO = { tenantId: 'demo', name: 'Demo School District', domain: 'demo-school.example' };

export const DEMO_MAPPINGS = [
  {
    name: 'Staff and students (people)',
    entity: 'users',
    identifier: 'primaryEmail',
    // Merged people (objects/people, keyed by normalized email; `email` is written by the merge itself). Field
    // names match the Entra source's, so a connected Entra directory fills the same person fields.
    target: { kind: 'people' },
    fieldMap: [
      { source: 'name.givenName', target: 'givenName' },
      { source: 'name.familyName', target: 'familyName' },
      { source: 'name.fullName', target: 'fullName' },
      { source: 'orgUnitPath', target: 'orgUnit' },
      { source: 'customSchemas.EmployeeData.employeeNumber', target: 'employeeId' },
    ],
  },
  {
    name: 'IT staff can sign in',
    entity: 'users',
    identifier: 'primaryEmail',
    target: { kind: 'loginUsers', role: 'technician' },
    fieldMap: [{ source: 'name.fullName', target: 'displayName' }],
    orgUnitScope: { paths: ['/Staff'], includeChildren: true },
  },
  {
    name: 'Chromebooks',
    entity: 'chromeos',
    identifier: 'serialNumber',
    target: { kind: 'collection', objectId: 'chromebooks' },
    fieldMap: [
      { source: 'serialNumber', target: 'serial' },
      { source: 'annotatedAssetId', target: 'assetTag' },
      { source: 'model', target: 'model' },
      { source: 'annotatedUser', target: 'assignedTo' },
      { source: 'orgUnitPath', target: 'location' },
      { source: 'status', target: 'status' },
    ],
  },
  {
    name: 'Mobile devices',
    entity: 'mobile',
    identifier: 'deviceId',
    target: { kind: 'collection', objectId: 'mobile-devices' },
    fieldMap: [
      { source: 'model', target: 'model' },
      { source: 'os', target: 'os' },
      { source: 'email', target: 'owners' },
      { source: 'status', target: 'status' },
    ],
  },
];

export interface DemoTenant {
  tenantId: string;
  adminEmail: string;
  idToken: string;
  runs: Array<{ mappingId: string; status: string; counts: Record<string, number> }>;
}

interface Ctx {
  app: App;
  simulatorUrl: string;
  consoleUrl: string;
  size?: { users: number; chromeos: number; mobile: number } | undefined;
  log: (line: string) => void;
}

async function call(consoleUrl: string, path: string, init: RequestInit & { idToken?: string } = {}) {
  const headers = new Headers(init.headers);
  if (init.idToken) headers.set('authorization', `Bearer ${init.idToken}`);
  if (init.body) headers.set('content-type', 'application/json');
  const res = await fetch(`${consoleUrl}${path}`, { ...init, headers, redirect: 'manual' });
  return res;
}

async function json<T>(res: Response, what: string): Promise<T> {
  if (!res.ok) throw new Error(`${what}: HTTP ${res.status} ${await res.text()}`);
  return (await res.json()) as T;
}

/**
 * Signs the admin in at the (simulated) Google, as the console's sign-in does, for an ID token. With `approveAt`
 * the script answers the simulator's consent page itself (a scripted "Allow"), for a simulator that shows it.
 */
export async function signInAs(app: App, email: string, approveAt?: SimulatorControl): Promise<string> {
  const client = newOAuthClient(app.config);
  const { codeVerifier, codeChallenge } = await client.generateCodeVerifierAsync();
  const url = client.generateAuthUrl({
    scope: ['openid', 'email', 'profile'],
    login_hint: email,
    state: 'demo-signin',
    code_challenge: codeChallenge!,
    code_challenge_method: 'S256' as never,
  });
  await approveAt?.setNextConsentDecision({ decision: 'approve' });
  const res = await fetch(url, { redirect: 'manual' });
  const code = new URL(res.headers.get('location') ?? 'http://x/').searchParams.get('code');
  if (!code) throw new Error('sign-in at the Workspace simulator returned no code');
  const { tokens } = await client.getToken({ code, codeVerifier });
  if (!tokens.id_token) throw new Error('no ID token');
  return tokens.id_token;
}

/**
 * Sets up the demo the way a host product and an admin would: the product creates the tenant (HMAC-signed),
 * the admin signs in, adds mappings and connects Google Workspace; the connection starts the first sync.
 */
export async function provisionDemoTenant(ctx: Ctx): Promise<DemoTenant> {
  const control = new SimulatorControl(ctx.simulatorUrl);
  const size = ctx.size ?? { users: 250, chromeos: 120, mobile: 60 };
  const ws = await control.createWorkspace({ domain: DEMO.domain, seed: 42, ...size });
  ctx.log(
    `workspace simulator: ${ws.domain} (${size.users} users, ${size.chromeos} Chromebooks, ${size.mobile} mobiles)`,
  );

  // The host product's part, through the client host products use (shared/host-client.ts).
  const host = new HostClient({ baseUrl: ctx.consoleUrl, key: LOCAL_HMAC_KEY });
  await host
    .createTenant({ tenantId: DEMO.tenantId, name: DEMO.name, ownerEmail: ws.adminEmail })
    .catch((err: unknown) => {
      // Already there from an earlier start against the same emulator data, with another owner.
      if (!(err instanceof HostApiError && err.status === 409)) throw err;
    });

  // The admin's consents are scripted here, so `npm start` can keep the consent page for people (local-stack.ts).
  const idToken = await signInAs(ctx.app, ws.adminEmail, control);
  const existing = await json<{ mappings: unknown[] }>(
    await call(ctx.consoleUrl, `/api/tenants/${DEMO.tenantId}/mappings`, { idToken }),
    'listing mappings',
  );
  if (existing.mappings.length === 0) {
    for (const m of DEMO_MAPPINGS) {
      await json(
        await call(ctx.consoleUrl, `/api/tenants/${DEMO.tenantId}/mappings`, {
          method: 'POST',
          idToken,
          body: JSON.stringify(m),
        }),
        `creating mapping ${m.name}`,
      );
    }
  }

  const authorize = await call(ctx.consoleUrl, `/api/tenants/${DEMO.tenantId}/connection/authorize`, {
    method: 'POST',
    idToken,
    body: JSON.stringify({ loginHint: ws.adminEmail }),
  });
  // The flow is bound to the browser that started it by an HttpOnly cookie; play that browser's part.
  const cookie = authorize.headers
    .getSetCookie()
    .map((c) => c.split(';')[0])
    .join('; ');
  const { authorizationUrl } = await json<{ authorizationUrl: string }>(authorize, 'starting authorization');
  await control.setNextConsentDecision({ decision: 'approve' });
  const consent = await fetch(authorizationUrl, { redirect: 'manual' });
  const callback = consent.headers.get('location');
  if (!callback) throw new Error(`Google consent did not redirect (${consent.status})`);
  const done = await fetch(callback, { redirect: 'manual', headers: { cookie } });
  const landing = new URL(done.headers.get('location') ?? '', ctx.consoleUrl);
  if (landing.searchParams.get('connectError'))
    throw new Error(`connecting failed: ${landing.searchParams.get('connectError')}`);
  ctx.log('connected the demo tenant to its Google Workspace; first sync started');

  const runs = await waitForFirstRuns(ctx.consoleUrl, idToken, DEMO_MAPPINGS.length);
  for (const r of runs) ctx.log(`  ${r.mappingId}: ${r.status} ${JSON.stringify(r.counts)}`);
  return { tenantId: DEMO.tenantId, adminEmail: ws.adminEmail, idToken, runs };
}

async function waitForFirstRuns(consoleUrl: string, idToken: string, expected: number, timeoutMs = 120_000) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const { runs } = await json<{
      runs: Array<{ mappingId: string; status: string; counts: Record<string, number> }>;
    }>(await call(consoleUrl, `/api/tenants/${DEMO.tenantId}/runs?limit=50`, { idToken }), 'reading runs');
    const finished = runs.filter((r) => r.status !== 'running');
    const byMapping = new Map(finished.map((r) => [r.mappingId, r]));
    if (byMapping.size >= expected) return [...byMapping.values()];
    if (Date.now() > deadline)
      throw new Error(`demo sync did not finish in ${timeoutMs} ms: ${JSON.stringify(runs)}`);
    await new Promise((r) => setTimeout(r, 500));
  }
}

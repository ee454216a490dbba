import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  GraphSimulatorControl,
  startGraphSimulator,
  type AppRegistration,
  type RunningGraphSimulator,
} from '../../emulators/graph-simulator/index.js';
import { fanOutTick } from '../../functions/src/engine/fan-out.js';
import { runSync } from '../../functions/src/engine/engine.js';
import { mapGraphUser, type GraphUser } from '../../functions/src/sources/entra/index.js';
import type { SyncMessage } from '../../functions/src/engine/messages.js';
import { paths } from '../../shared/firestore-paths.js';
import { ensureEntraPeopleMapping } from '../../functions/src/sources/entra/entra-mapping.js';
import { listMappingsOfSource } from '../../functions/src/store/mappings.js';
import { CONSOLE_ORIGIN, startApiHarness, type ApiHarness } from '../api/api-harness.js';

let h: ApiHarness;
let graph: RunningGraphSimulator;
let control: GraphSimulatorControl;
let entraApp: AppRegistration;
let owner: string;
let viewer: string;
let domains = 0;

beforeAll(async () => {
  graph = await startGraphSimulator({ port: 0 });
  control = new GraphSimulatorControl(graph.url);
  entraApp = await control.registerApp({ displayName: 'workspace-sync service' });
  h = await startApiHarness({
    env: {
      ENTRA_CLIENT_ID: entraApp.clientId,
      ENTRA_CLIENT_SECRET: entraApp.clientSecret,
      ENTRA_AUTHORITY_BASE_URL: graph.url,
      ENTRA_GRAPH_BASE_URL: graph.url,
    },
  });
  const viewerC = await h.addUser('carl.viewer@school.example');
  owner = await h.signIn(h.ws.adminEmail);
  viewer = await h.signIn(viewerC);
});
afterAll(async () => {
  await h?.close();
  await graph?.close();
});

let seq = 0;
async function newTenant(): Promise<{ t: string; domain: string; directoryId: string }> {
  const t = `entra-${++seq}`;
  await h.createTenant(t, h.ws.adminEmail);
  await h.addMember(t, 'carl.viewer@school.example', 'viewer');
  const dir = await control.createTenant({ domain: `school${++domains}.onmicrosoft.com`, users: 5 });
  return { t, domain: dir.domain, directoryId: dir.tenantId };
}

async function authorize(t: string, domainHint: string) {
  const res = await h.request('POST', `/api/tenants/${t}/entra/authorize`, {
    token: owner,
    body: { domainHint },
  });
  expect(res.status, res.text).toBe(200);
  return {
    authorizationUrl: res.body.authorizationUrl as string,
    setCookie: res.headers.get('set-cookie') ?? '',
    cookie: (res.headers.get('set-cookie') ?? '').split(';')[0]!,
  };
}

/** The simulated admin-consent page answers at once with a redirect back to our callback. */
async function consent(authorizationUrl: string): Promise<string> {
  const res = await fetch(authorizationUrl, { redirect: 'manual' });
  expect(res.status).toBe(302);
  return res.headers.get('location')!;
}

/** How many Entra people syncs a tick for the tenant publishes. */
async function entraSyncsPublished(t: string): Promise<number> {
  const published: SyncMessage[] = [];
  await fanOutTick(
    { ...h.app.syncDeps(), publishSync: async (m) => void published.push(m) },
    { kind: 'tick', job: 'ws-sync-tick', tenantId: t },
    `tick-${t}-${Date.now()}`,
  );
  const entraMappings = new Set((await listMappingsOfSource(h.db, t, 'entra')).map((m) => m.id));
  return published.filter((m) => entraMappings.has(m.mappingId)).length;
}

/** The tenant's Entra people mapping (connecting Entra creates it). */
async function entraMappingOf(t: string): Promise<string> {
  const [m] = await listMappingsOfSource(h.db, t, 'entra');
  if (!m) throw new Error(`tenant ${t} has no Entra mapping`);
  return m.id;
}

const tenantDoc = async (t: string) => (await h.db.doc(paths.tenant(t)).get()).data()!;

describe('Microsoft Entra connect round trip', () => {
  it('authorize -> admin consent -> callback connects the directory; the secret is stored in Secret Manager only', async () => {
    const { t, domain, directoryId } = await newTenant();
    const { authorizationUrl, setCookie, cookie } = await authorize(t, domain);
    const url = new URL(authorizationUrl);
    expect(`${url.origin}${url.pathname}`).toBe(`${graph.url}/organizations/v2.0/adminconsent`);
    expect(url.searchParams.get('client_id')).toBe(entraApp.clientId);
    expect(url.searchParams.get('redirect_uri')).toBe(`${h.url}/oauth/entra/callback`);
    expect(url.searchParams.get('domain_hint')).toBe(domain);
    expect(authorizationUrl).not.toContain(entraApp.clientSecret);
    const state = url.searchParams.get('state')!;
    expect((await h.db.doc(`oauthStates/${state}`).get()).data()).toMatchObject({
      purpose: 'entra',
      tenantId: t,
      adminEmail: h.ws.adminEmail,
      usedAt: null,
    });
    expect(setCookie).toMatch(
      new RegExp(
        `^__session=${t}\\.[A-Za-z0-9_-]{43}; Max-Age=600; Path=/oauth/entra/callback; HttpOnly; SameSite=Lax`,
      ),
    );

    const back = await consent(authorizationUrl);
    expect(back.startsWith(`${h.url}/oauth/entra/callback?`)).toBe(true);
    await h.pullSyncMessages();
    const res = await h.callback(back, cookie);
    expect(res.status).toBe(302);
    expect(res.location).toBe(`${CONSOLE_ORIGIN}/?tenant=${t}&entraConnected=1`);
    expect(res.setCookie).toMatch(/^__session=; Max-Age=0; Path=\/oauth\/entra\/callback; HttpOnly/);

    // The first, full Entra round starts right away.
    expect(await h.pullSyncMessages()).toEqual([
      expect.objectContaining({ tenantId: t, mappingId: await entraMappingOf(t), trigger: 'initial' }),
    ]);

    const doc = await tenantDoc(t);
    expect(doc.entra).toMatchObject({
      state: 'connected',
      tenantId: directoryId,
      clientId: entraApp.clientId,
      connectedBy: h.ws.adminEmail,
    });
    expect(await h.secrets.getRefreshToken(t, 'entra')).toBe(entraApp.clientSecret);
    for (const [path, json] of await h.dump()) expect(json, path).not.toContain(entraApp.clientSecret);
    for (const line of h.logLines) expect(line).not.toContain(entraApp.clientSecret);

    const view = await h.request('GET', `/api/tenants/${t}`, { token: viewer });
    expect(view.body.entraAvailable).toBe(true);
    expect(view.body.entra).toMatchObject({ state: 'connected', tenantId: directoryId });
    expect(Object.keys(view.body.entra).sort()).toEqual([
      'connectedAt',
      'connectedBy',
      'state',
      'stateChangedAt',
      'stateReason',
      'tenantId',
    ]);
    expect(view.text).not.toContain(entraApp.clientSecret);

    // The state is single use: replaying the same callback connects nothing more.
    const replay = await h.callback(back, cookie);
    expect(new URL(replay.location).searchParams.get('entraError')).toBe('state_replayed');
  });

  it('"Sync now" covers the Entra round once connected, and passes an admin\'s removal confirmation on', async () => {
    const { t, domain } = await newTenant();
    await h.db.doc(paths.tenant(t)).update({ status: 'active' });
    const mappingId = await ensureEntraPeopleMapping(h.db, t, 'test', new Date().toISOString());
    const notYet = await h.request('POST', `/api/tenants/${t}/sync`, {
      token: owner,
      body: { mappingId },
    });
    expect(notYet.status).toBe(409);
    expect(notYet.text).toMatch(/Microsoft Entra is not connected/);

    const { authorizationUrl, cookie } = await authorize(t, domain);
    await h.callback(await consent(authorizationUrl), cookie);
    await h.pullSyncMessages();
    const res = await h.request('POST', `/api/tenants/${t}/sync`, {
      token: owner,
      body: { mappingId, confirmRemovals: true },
    });
    expect(res.status, res.text).toBe(202);
    const runId = res.body.runs[0].runId as string;
    expect(await entraMappingOf(t)).toBe(mappingId); // connecting kept the existing mapping
    expect(res.body.runs).toEqual([{ mappingId, runId, deduplicated: false }]);
    expect(await h.pullSyncMessages()).toEqual([
      expect.objectContaining({
        tenantId: t,
        mappingId,
        confirmRemovals: true,
        plannedRunId: runId,
      }),
    ]);
    // "Sync all" includes the Entra round; the one just queued covers it.
    const all = await h.request('POST', `/api/tenants/${t}/sync`, { token: owner, body: {} });
    expect(all.body.runs).toEqual([{ mappingId, runId, deduplicated: true }]);
  });

  it('denied consent connects nothing and says so', async () => {
    const { t, domain, directoryId } = await newTenant();
    await control.setConsentDecision(directoryId, 'deny');
    const { authorizationUrl, cookie } = await authorize(t, domain);
    const res = await h.callback(await consent(authorizationUrl), cookie);
    const loc = new URL(res.location);
    expect(loc.searchParams.get('tenant')).toBe(t);
    expect(loc.searchParams.get('entraError')).toBe('access_denied');
    expect(loc.searchParams.get('entraMessage')).toMatch(/not granted/);
    expect((await tenantDoc(t)).entra).toBeUndefined();
    expect(await h.secrets.getRefreshToken(t, 'entra')).toBeNull();
  });
});

describe('state and browser binding', () => {
  it('rejects a forged state', async () => {
    const { t, domain } = await newTenant();
    const { authorizationUrl, cookie } = await authorize(t, domain);
    const back = new URL(await consent(authorizationUrl));
    back.searchParams.set('state', 'A'.repeat(43));
    const res = await h.callback(back.toString(), cookie);
    expect(new URL(res.location).searchParams.get('entraError')).toBe('invalid_state');
    expect((await tenantDoc(t)).entra).toBeUndefined();
  });

  it('a Google connect state is not accepted by the Entra callback', async () => {
    const { t, domain } = await newTenant();
    const google = await h.authorize(t, owner);
    const { authorizationUrl } = await authorize(t, domain);
    const back = new URL(await consent(authorizationUrl));
    back.searchParams.set('state', google.state);
    const res = await h.callback(back.toString(), google.cookie);
    expect(new URL(res.location).searchParams.get('entraError')).toBe('invalid_state');
  });

  it('rejects the callback without the binding cookie (another browser), and the state is then spent', async () => {
    const { t, domain } = await newTenant();
    const { authorizationUrl, cookie } = await authorize(t, domain);
    const back = await consent(authorizationUrl);
    const res = await h.callback(back);
    expect(new URL(res.location).searchParams.get('entraError')).toBe('browser_mismatch');
    expect((await tenantDoc(t)).entra).toBeUndefined();
    const again = await h.callback(back, cookie);
    expect(new URL(again.location).searchParams.get('entraError')).toBe('state_replayed');
    expect(await h.secrets.getRefreshToken(t, 'entra')).toBeNull();
  });

  it('a viewer cannot start a connection', async () => {
    const { t, domain } = await newTenant();
    const res = await h.request('POST', `/api/tenants/${t}/entra/authorize`, {
      token: viewer,
      body: { domainHint: domain },
    });
    expect(res.status).toBe(403);
    expect(res.headers.get('set-cookie')).toBeNull();
  });
});

describe('disconnect', () => {
  it('destroys the secret, records who and when, and the fan-out then skips the tenant', async () => {
    const { t, domain } = await newTenant();
    const { authorizationUrl, cookie } = await authorize(t, domain);
    await h.callback(await consent(authorizationUrl), cookie);
    expect((await tenantDoc(t)).entra.state).toBe('connected');
    await h.db.doc(paths.tenant(t)).update({ status: 'active' });
    expect(await entraSyncsPublished(t)).toBe(1);

    const viewerTry = await h.request('POST', `/api/tenants/${t}/entra/disconnect`, { token: viewer });
    expect(viewerTry.status).toBe(403);

    const res = await h.request('POST', `/api/tenants/${t}/entra/disconnect`, { token: owner });
    expect(res.status, res.text).toBe(200);
    expect(res.body.entra.state).toBe('disconnected');
    const entra = (await tenantDoc(t)).entra;
    expect(entra).toMatchObject({ state: 'disconnected', disconnectedBy: h.ws.adminEmail });
    expect(Date.parse(entra.disconnectedAt as string)).toBeGreaterThan(Date.now() - 60_000);
    expect(await h.secrets.getRefreshToken(t, 'entra')).toBeNull();

    expect(await entraSyncsPublished(t)).toBe(0);
    const view = await h.request('GET', `/api/tenants/${t}`, { token: viewer });
    expect(view.body.entra).toMatchObject({ state: 'disconnected', disconnectedBy: h.ws.adminEmail });

    const again = await h.request('POST', `/api/tenants/${t}/entra/disconnect`, { token: owner });
    expect(again.status).toBe(200);
  });

  it('answers failed_precondition when the tenant never connected Entra', async () => {
    const { t } = await newTenant();
    const res = await h.request('POST', `/api/tenants/${t}/entra/disconnect`, { token: owner });
    expect(res.status).toBe(409);
    expect(res.body.error.code).toBe('failed_precondition');
  });
});

describe('a tenant with only Microsoft Entra connected', () => {
  it('never connected Google (status pending): ticks publish its Entra sync, which completes, and "Sync now" covers it', async () => {
    const { t, domain, directoryId } = await newTenant();
    for (let i = 0; i < 3; i++) {
      await control.addUser(directoryId, {
        userPrincipalName: `only${i}@${domain}`,
        mail: `only${i}@${domain}`,
        givenName: `Only${i}`,
      });
    }
    const { authorizationUrl, cookie } = await authorize(t, domain);
    expect((await h.callback(await consent(authorizationUrl), cookie)).status).toBe(302);
    await h.pullSyncMessages();
    expect(await tenantDoc(t)).toMatchObject({ status: 'pending', entra: { state: 'connected' } });
    const mappingId = await entraMappingOf(t);

    // The scheduled tick (every tenant) and a tick for this tenant both publish its Entra mapping, and only it.
    const published: SyncMessage[] = [];
    const publishSync = async (m: SyncMessage) => void published.push(m);
    await fanOutTick({ ...h.app.syncDeps(), publishSync }, { kind: 'tick', job: 'ws-sync-tick' }, 'all-1');
    await fanOutTick(
      { ...h.app.syncDeps(), publishSync },
      { kind: 'tick', job: 'ws-sync-tick', tenantId: t },
      'one-1',
    );
    const ofTenant = published.filter((m) => m.tenantId === t);
    expect(ofTenant.map((m) => [m.mappingId, m.trigger])).toEqual([
      [mappingId, 'schedule'],
      [mappingId, 'manual'],
    ]);

    const first = await runSync(h.app.syncDeps(), ofTenant[0]);
    expect(first).toMatchObject({ status: 'completed', pass: 'full', held: false });
    const people = await h.db.collection(paths.records(t, 'people')).get();
    const persons = (await control.listUsers(directoryId)).filter(
      (u) => mapGraphUser(u as GraphUser).kind === 'person',
    ).length;
    expect(first.status === 'completed' && first.counts.created).toBe(persons);
    expect(people.size).toBe(persons);
    expect(people.docs.map((d) => d.get('email'))).toEqual(
      expect.arrayContaining([0, 1, 2].map((i) => `only${i}@${domain}`)),
    );
    for (const d of people.docs) expect(d.get('_sync.sources')).toEqual(['entra']);

    // "Sync now" for everything the tenant has is its Entra mapping; the run it queues completes too.
    const res = await h.request('POST', `/api/tenants/${t}/sync`, { token: owner, body: {} });
    expect(res.status, res.text).toBe(202);
    expect(res.body.runs).toEqual([{ mappingId, runId: expect.any(String), deduplicated: false }]);
    const [queued, ...rest] = await h.pullSyncMessages();
    expect(rest).toEqual([]);
    expect(queued).toMatchObject({ tenantId: t, mappingId, plannedRunId: res.body.runs[0].runId });
    await control.updateUser(directoryId, (await control.listUsers(directoryId))[0]!.id, {
      jobTitle: 'Registrar (acting)',
    });
    const second = await runSync(h.app.syncDeps(), queued!);
    expect(second).toMatchObject({
      status: 'completed',
      runId: res.body.runs[0].runId,
      pass: 'incremental',
      counts: expect.objectContaining({ seen: 1 }),
    });
    expect((await tenantDoc(t)).status).toBe('pending');
  });
});

import type { CloudEvent } from '@google-cloud/functions-framework';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ControlUser, TenantView } from '../../emulators/graph-simulator/index.js';
import {
  EntraGraphClient,
  buildAdminConsentUrl,
  completeAdminConsent,
  mapGraphUser,
  entraSource,
  type GraphUser,
} from '../../functions/src/sources/entra/index.js';
import { personRecordId } from '../../functions/src/people/index.js';
import { handleSyncEvent } from '../../functions/src/pubsub-handlers.js';
import { fanOutTick } from '../../functions/src/engine/fan-out.js';
import type { SyncMessage } from '../../functions/src/engine/messages.js';
import { runSync, type EngineDeps, type SyncOutcome } from '../../functions/src/engine/engine.js';
import { ensureEntraPeopleMapping } from '../../functions/src/sources/entra/entra-mapping.js';
import { paths } from '../../shared/firestore-paths.js';
import { mappingInputSchema } from '../../shared/mapping.js';
import { runDoc, startSyncHarness, type SyncHarness } from '../support/sync-harness.js';
import { FAST_RETRY, useGraphSimulator } from './graph-test-setup.js';

/**
 * Google Workspace (simulator) and Microsoft Entra (Graph simulator), both over HTTP, merged by normalized email
 * into tenants/{t}/objects/people in the real Firestore emulator.
 */

const PEOPLE_MAPPING = {
  name: 'People',
  entity: 'users',
  identifier: 'primaryEmail',
  target: { kind: 'people' },
  fieldMap: [
    { source: 'name.givenName', target: 'givenName' },
    { source: 'name.familyName', target: 'familyName' },
    { source: 'name.fullName', target: 'fullName' },
    { source: 'orgUnitPath', target: 'orgUnit' },
  ],
  removalThresholdPercent: 50,
};

const REDIRECT_URI = 'https://app.example/entra/callback';

type GoogleUser = Awaited<ReturnType<SyncHarness['ws']['listUsers']>>[number];
type PersonDoc = Record<string, unknown> & {
  email: string;
  active: boolean;
  _people: {
    provenance: Record<string, string>;
    sources: Partial<
      Record<
        'google' | 'entra',
        { sourceId: string; fields: Record<string, unknown>; active: boolean; removedAt?: string }
      >
    >;
    status: string;
    removedReasons: Record<string, string>;
  };
  _sync: {
    status: string;
    sources: string[];
    removedAt: string | null;
    removedReason: string | null;
    runId: string;
  };
};

const graph = useGraphSimulator();

function completed<T extends SyncOutcome>(out: T): Extract<T, { status: 'completed' }> {
  if (out.status !== 'completed') throw new Error(`expected a completed run, got ${JSON.stringify(out)}`);
  return out as Extract<T, { status: 'completed' }>;
}

describe('people from Google Workspace and Microsoft Entra, merged by email', () => {
  let h: SyncHarness;
  let entraTenant: TenantView;
  let google: GoogleUser[];
  /** Google users that also exist in Entra, with the address as Entra has it (case, whitespace). */
  let overlap: GoogleUser[];
  let googleOnly: GoogleUser;
  let deps: EngineDeps;
  /** The tenant's Entra people mapping, as connecting Entra creates it. */
  let entraMappingId: string;
  let seq = 0;

  const person = async (email: string) => {
    const snap = await h.db.doc(paths.record(h.tenantId, 'people', personRecordId(email))).get();
    return { exists: snap.exists, data: snap.data() as PersonDoc, updateTime: snap.updateTime?.toMillis() };
  };
  const allPeople = async () => {
    const snap = await h.db.collection(paths.records(h.tenantId, 'people')).get();
    return new Map(
      snap.docs.map((d) => [d.id, { data: d.data() as PersonDoc, updateTime: d.updateTime.toMillis() }]),
    );
  };
  const entraSync = (
    requestId = `entra-${++seq}`,
    extra: Partial<EngineDeps> = {},
    message: Partial<SyncMessage> = {},
  ) =>
    runSync(
      { ...deps, ...extra },
      {
        kind: 'sync',
        tenantId: h.tenantId,
        mappingId: entraMappingId,
        requestId,
        trigger: 'manual',
        ...message,
      },
    );
  const entraUsers = () => graph.control.listUsers(entraTenant.tenantId);
  const entraUserFor = async (email: string): Promise<ControlUser> => {
    const found = (await entraUsers()).find((u) => u.userPrincipalName === email.toLowerCase());
    if (!found) throw new Error(`no Entra user for ${email}`);
    return found;
  };
  /** Entra users that become people (guests without mail do not), by normalized email. */
  const entraPeople = async () => {
    const out = new Map<string, ControlUser>();
    for (const u of await entraUsers()) {
      const mapped = mapGraphUser(u as GraphUser);
      if (mapped.kind === 'person') out.set(mapped.person.email, u);
    }
    return out;
  };

  beforeAll(async () => {
    h = await startSyncHarness({ users: 40, chromeos: 2, mobile: 1, env: { SYNC_PAGE_SIZE: '15' } });
    await h.addMapping('people', PEOPLE_MAPPING);
    google = await h.ws.listUsers();
    const candidates = google.filter(
      (u) => !u.suspended && !u.archived && /^[a-z0-9.'_-]+@[a-z0-9.-]+$/.test(u.primaryEmail),
    );
    overlap = candidates.slice(0, 12);
    googleOnly = candidates[candidates.length - 1]!;
    // Entra has some of the same people, a third of them with their address in capitals.
    entraTenant = await graph.control.createTenant({
      domain: `entra-${Date.now()}.onmicrosoft.com`,
      users: 8,
      // A fixed seed: the domain is unique per run, and the default seed derives from it.
      seed: 11,
      overlapWith: {
        domain: h.ws.domain,
        emails: overlap.map((u, i) => (i % 3 === 0 ? u.primaryEmail.toUpperCase() : u.primaryEmail)),
      },
      consentedClientIds: [],
    });
    // ...and one with stray whitespace around it.
    const padded = await entraUserFor(overlap[1]!.primaryEmail);
    await graph.control.updateUser(entraTenant.tenantId, padded.id, {
      mail: `  ${overlap[1]!.primaryEmail.toUpperCase()} `,
    });
    const engine = h.app.syncDeps();
    deps = {
      ...engine,
      sources: {
        ...engine.sources,
        entra: entraSource({
          db: h.db,
          clock: h.app.clock,
          log: h.app.log,
          secrets: h.app.secrets,
          graphClientFor: (connection) => new EntraGraphClient(connection, { retry: FAST_RETRY }),
        }),
      },
    };
  });
  afterAll(() => h?.close());

  it('rejects mapping people from anything but users by primaryEmail, and reserves the people object', () => {
    expect(mappingInputSchema.safeParse(PEOPLE_MAPPING).success).toBe(true);
    expect(mappingInputSchema.safeParse({ ...PEOPLE_MAPPING, identifier: 'id' }).success).toBe(false);
    expect(
      mappingInputSchema.safeParse({
        ...PEOPLE_MAPPING,
        entity: 'chromeos',
        identifier: 'serialNumber',
        fieldMap: [{ source: 'model', target: 'model' }],
      }).success,
    ).toBe(false);
    expect(
      mappingInputSchema.safeParse({
        ...PEOPLE_MAPPING,
        fieldMap: [{ source: 'primaryEmail', target: 'email' }],
      }).success,
    ).toBe(false);
    expect(
      mappingInputSchema.safeParse({ ...PEOPLE_MAPPING, target: { kind: 'collection', objectId: 'people' } })
        .success,
    ).toBe(false);
  });

  it('connects Entra through admin consent: metadata on the tenant, the client secret only in the SecretStore', async () => {
    const url = buildAdminConsentUrl({
      authorityBaseUrl: graph.url,
      clientId: graph.app.clientId,
      redirectUri: REDIRECT_URI,
      state: 'state-1',
      tenant: entraTenant.tenantId,
    });
    expect(url).toContain(`/${entraTenant.tenantId}/v2.0/adminconsent?`);
    const back = await fetch(url, { redirect: 'manual' });
    expect(back.status).toBe(302);
    const callback = new URL(back.headers.get('location')!).searchParams;
    const input = {
      tenantId: h.tenantId,
      callback,
      clientId: graph.app.clientId,
      clientSecret: graph.app.clientSecret,
      authorityBaseUrl: graph.url,
      graphBaseUrl: graph.url,
    };
    const connectDeps = { db: h.db, secrets: h.app.secrets, clock: h.app.clock, retry: FAST_RETRY };

    expect(await completeAdminConsent(connectDeps, { ...input, expectedState: 'forged' })).toMatchObject({
      kind: 'invalid',
    });
    const denied = new URLSearchParams({ error: 'access_denied', state: 'state-1' });
    expect(
      await completeAdminConsent(connectDeps, { ...input, callback: denied, expectedState: 'state-1' }),
    ).toMatchObject({
      kind: 'denied',
    });
    expect((await h.db.doc(paths.tenant(h.tenantId)).get()).get('entra')).toBeUndefined();

    const done = await completeAdminConsent(connectDeps, { ...input, expectedState: 'state-1' });
    // What the connect flow does next: the tenant gets its Entra people mapping.
    entraMappingId = await ensureEntraPeopleMapping(h.db, h.tenantId, 'test', new Date().toISOString());
    expect(done).toMatchObject({
      kind: 'connected',
      entra: { tenantId: entraTenant.tenantId, state: 'connected' },
    });
    const tenant = (await h.db.doc(paths.tenant(h.tenantId)).get()).data()!;
    expect(tenant.entra).toMatchObject({
      tenantId: entraTenant.tenantId,
      clientId: graph.app.clientId,
      graphBaseUrl: graph.url,
      authorityBaseUrl: graph.url,
      state: 'connected',
    });
    expect(typeof tenant.entra.connectedAt).toBe('string');
    expect(JSON.stringify(tenant)).not.toContain(graph.app.clientSecret);
    expect(await h.app.secrets.getRefreshToken(h.tenantId, 'entra')).toBe(graph.app.clientSecret);
  });

  it('a tick publishes the Entra people sync next to the mappings, and syncEntity routes it', async () => {
    const published: SyncMessage[] = [];
    await fanOutTick(
      { ...deps, publishSync: async (m) => void published.push(m) },
      { kind: 'tick', job: 'ws-sync-tick', tenantId: h.tenantId },
      'tick-1',
    );
    expect(published.map((m) => m.mappingId).sort()).toEqual([entraMappingId, 'people'].sort());
    // Delivered to syncEntity: an Entra round (the first is a full one) of the ordinary Entra mapping.
    const msg = published.find((m) => m.mappingId === entraMappingId)!;
    const event = {
      id: 'evt-1',
      data: { message: { data: Buffer.from(JSON.stringify(msg)).toString('base64') } },
    };
    const out = completed(await handleSyncEvent(h.app, event as unknown as CloudEvent<unknown>));
    expect(out.fullSync).toBe(true);
    const people = await entraPeople();
    expect(out.counts.created).toBe(people.size);
    const run = await runDoc(h.db, h.tenantId, out.runId);
    expect(run).toMatchObject({
      status: 'succeeded',
      mappingId: entraMappingId,
      source: 'entra',
      entity: 'users',
      objectId: 'people',
      trigger: 'manual',
    });
    expect(run.counts.created).toBe(people.size);
    // Entra alone so far: no Google source on anyone yet.
    const all = await allPeople();
    expect(all.size).toBe(people.size);
    for (const { data } of all.values()) expect(Object.keys(data._people.sources)).toEqual(['entra']);
  });

  it('a Google sync merges into the same people: one record per normalized email, both sources, provenance per field', async () => {
    const out = completed(await h.sync('people'));
    expect(out.counts.created).toBe(google.length);

    const entra = await entraPeople();
    const all = await allPeople();
    const googleIds = new Set(google.map((u) => personRecordId(u.primaryEmail)));
    const entraOnly = [...entra.keys()].filter((e) => !googleIds.has(personRecordId(e)));
    expect(all.size).toBe(google.length + entraOnly.length);
    expect(entraOnly.length).toBe(entra.size - overlap.length);

    for (const [i, u] of overlap.entries()) {
      const { data } = await person(u.primaryEmail);
      const entraUser = await entraUserFor(u.primaryEmail);
      expect(data.email).toBe(u.primaryEmail.toLowerCase());
      expect(data._sync).toMatchObject({ status: 'active', sources: ['google', 'entra'] });
      expect(data._people.sources.google).toMatchObject({ sourceId: u.id, active: true });
      expect(data._people.sources.entra).toMatchObject({ sourceId: entraUser.id, active: true });
      // Default order: Google first, Entra overwrites what both have; what only Google has stays Google's.
      expect(data.givenName).toBe(entraUser.givenName);
      expect(data._people.provenance).toMatchObject({
        givenName: 'entra',
        orgUnit: 'google',
        jobTitle: 'entra',
        active: 'entra',
      });
      expect(data.orgUnit).toBe(u.orgUnitPath);
      expect(data.jobTitle).toBe(entraUser.jobTitle);
      expect(data._people.sources.google!.fields.givenName).toBe(u.name.givenName);
      if (i === 1) expect(entraUser.mail).toMatch(/^\s+\S+@\S+\s+$/); // the padded, upper-case one merged too
    }
  });

  it('a person in one source only carries that source alone', async () => {
    const { data: g } = await person(googleOnly.primaryEmail);
    expect(Object.keys(g._people.sources)).toEqual(['google']);
    expect(new Set(Object.values(g._people.provenance))).toEqual(new Set(['google']));
    expect(g).toMatchObject({
      givenName: googleOnly.name.givenName,
      orgUnit: googleOnly.orgUnitPath,
      active: true,
    });

    const entraOnly = [...(await entraPeople()).entries()].find(([e]) => !e.endsWith(`@${h.ws.domain}`))!;
    const { data: e } = await person(entraOnly[0]);
    expect(Object.keys(e._people.sources)).toEqual(['entra']);
    expect(e).toMatchObject({
      email: entraOnly[0],
      fullName: entraOnly[1].displayName,
      _sync: { status: e.active ? 'active' : 'inactive' },
    });
    expect(e.orgUnit).toBeUndefined();
  });

  it('conflicting names: the merged field follows precedence, each source keeps its own value', async () => {
    const u = overlap[2]!;
    const entraUser = await entraUserFor(u.primaryEmail);
    await h.ws.updateUser(u.primaryEmail, { name: { givenName: 'Gwendolyn' } });
    await graph.control.updateUser(entraTenant.tenantId, entraUser.id, {
      givenName: 'Wendy',
      displayName: 'Wendy Entra',
    });

    const g = completed(await h.sync('people'));
    expect(g.counts.updated).toBe(1);
    expect(g.meter.recordWrites).toBe(1);
    const e = completed(await entraSync());
    expect(e.fullSync).toBe(false);
    expect(e.counts).toMatchObject({ seen: 1, updated: 1, created: 0 });

    const { data } = await person(u.primaryEmail);
    expect(data.givenName).toBe('Wendy');
    expect(data.fullName).toBe('Wendy Entra');
    expect(data._people.provenance.givenName).toBe('entra');
    expect(data._people.sources.google!.fields.givenName).toBe('Gwendolyn');
    expect(data._people.sources.entra!.fields.givenName).toBe('Wendy');
  });

  it('an unchanged re-sync of either source writes no person', async () => {
    const before = await allPeople();
    const g = completed(await h.sync('people'));
    expect(g.counts.unchanged).toBe(google.length);
    expect(g.counts.created + g.counts.updated + g.counts.removed).toBe(0);
    expect(g.meter.recordWrites).toBe(0);
    const e = completed(await entraSync());
    expect(e.counts.seen).toBe(0);
    expect(e.meter.recordWrites).toBe(0);
    const after = await allPeople();
    for (const [id, p] of before) expect(after.get(id)!.updateTime).toBe(p.updateTime);
  });

  it('removed from Google: the person stays active from Entra; a Google-only person is removed', async () => {
    const u = overlap[3]!;
    await h.ws.deleteUser(u.primaryEmail);
    await h.ws.deleteUser(googleOnly.primaryEmail);
    const out = completed(await h.sync('people'));
    expect(out.held).toBe(false);
    expect(out.counts.removed).toBe(2);

    const { data } = await person(u.primaryEmail);
    expect(data._sync).toMatchObject({ status: 'active', sources: ['entra'], removedAt: null });
    expect(data._people.status).toBe('active');
    expect(data._people.sources.google!.removedAt).toEqual(expect.any(String));
    expect(data._people.removedReasons.google).toMatch(/not returned by Google Workspace/);
    expect(data.orgUnit).toBeUndefined(); // only Google had it
    expect(data.givenName).toBe((await entraUserFor(u.primaryEmail)).givenName);
    expect(new Set(Object.values(data._people.provenance))).toEqual(new Set(['entra']));

    const gone = await person(googleOnly.primaryEmail);
    expect(gone.exists).toBe(true);
    expect(gone.data._sync).toMatchObject({ status: 'removed', removedAt: expect.any(String) });
    expect(gone.data._sync.removedReason).toMatch(/Google Workspace \(not returned by Google Workspace/);
    expect(gone.data).toMatchObject({ active: false, givenName: googleOnly.name.givenName });
  });

  it('removed from Entra too (soft delete): the person is marked removed, never deleted', async () => {
    const u = overlap[3]!;
    const entraUser = await entraUserFor(u.primaryEmail);
    await graph.control.deleteUser(entraTenant.tenantId, entraUser.id);
    const out = completed(await entraSync());
    expect(out.counts).toMatchObject({ seen: 1, removed: 1 });

    const { exists, data } = await person(u.primaryEmail);
    expect(exists).toBe(true);
    expect(data._sync).toMatchObject({ status: 'removed', sources: [], removedAt: expect.any(String) });
    expect(data._sync.removedReason).toMatch(
      /Google Workspace .*Microsoft Entra \(deleted in Microsoft Entra/,
    );
    expect(data._people.status).toBe('removed');
    expect(data).toMatchObject({ active: false, givenName: entraUser.givenName });
    const listed = await h.db
      .collection(paths.records(h.tenantId, 'people'))
      .where('_sync.status', '==', 'removed')
      .get();
    expect(listed.docs.map((d) => d.id)).toContain(personRecordId(u.primaryEmail));
  });

  it('hard-deleted in Entra while still in Google: the person goes on from Google alone', async () => {
    const u = overlap[4]!;
    const entraUser = await entraUserFor(u.primaryEmail);
    await graph.control.hardDeleteUser(entraTenant.tenantId, entraUser.id);
    const out = completed(await entraSync());
    expect(out.counts.removed).toBe(1);
    const { data } = await person(u.primaryEmail);
    expect(data._sync).toMatchObject({ status: 'active', sources: ['google'] });
    expect(data.givenName).toBe(u.name.givenName);
    expect(data._people.provenance.givenName).toBe('google');
    expect(data._people.removedReasons.entra).toMatch(/permanently deleted/);
    expect(data.jobTitle).toBeUndefined();
  });

  it('an address change in Entra moves the Entra source from the old person to the new one', async () => {
    const [oldEmail, user] = [...(await entraPeople()).entries()].find(
      ([e]) => !e.endsWith(`@${h.ws.domain}`),
    )!;
    const newEmail = `renamed.${oldEmail}`;
    await graph.control.updateUser(entraTenant.tenantId, user.id, { mail: newEmail });
    const out = completed(await entraSync());
    expect(out.counts).toMatchObject({ created: 1, removed: 1 });
    expect((await person(oldEmail)).data._sync.status).toBe('removed');
    expect((await person(newEmail)).data).toMatchObject({ email: newEmail, _sync: { sources: ['entra'] } });
    expect((await person(newEmail)).data._people.sources.entra!.sourceId).toBe(user.id);
  });

  it('concurrent Entra runs: one works, the other is dropped, nothing is applied twice', async () => {
    const targets = overlap.slice(5, 8);
    for (const u of targets) {
      await graph.control.updateUser(entraTenant.tenantId, (await entraUserFor(u.primaryEmail)).id, {
        // Not a title the seed can produce, so every update is a real change.
        jobTitle: 'Acting Principal (interim)',
      });
    }
    let inner: SyncOutcome | undefined;
    const outer = completed(
      await entraSync('outer-1', {
        afterPageCommitted: async () => {
          inner ??= await entraSync('inner-1');
        },
      }),
    );
    expect(inner).toMatchObject({ status: 'dropped', reason: expect.stringMatching(/in progress/) });
    expect(outer.counts.updated).toBe(3);
    // Redelivery of the finished request does nothing; a new request finds nothing new.
    expect(await entraSync('outer-1')).toMatchObject({
      status: 'dropped',
      reason: expect.stringMatching(/already handled/),
    });
    const again = completed(await entraSync('inner-1'));
    expect(again.counts.seen).toBe(0);

    // Started together: whichever gets the lease applies the change once, the other is dropped or finds nothing.
    const u = overlap[8]!;
    await graph.control.updateUser(entraTenant.tenantId, (await entraUserFor(u.primaryEmail)).id, {
      department: 'Library',
    });
    const both = await Promise.all([entraSync('race-a'), entraSync('race-b')]);
    const updated = both.map((o) => (o.status === 'completed' ? o.counts.updated : 0));
    expect(updated.reduce((a, b) => a + b, 0)).toBe(1);
    expect(both.every((o) => o.status === 'completed' || o.status === 'dropped')).toBe(true);
    expect((await person(u.primaryEmail)).data.department).toBe('Library');
    const runs = await h.db.collection(paths.runs(h.tenantId)).where('mappingId', '==', entraMappingId).get();
    expect(runs.docs.every((d) => d.get('status') === 'succeeded')).toBe(true);
  });

  it('an expired delta state runs a full round that removes whoever Entra no longer returns', async () => {
    const entraOnly = [...(await entraPeople()).entries()].filter(([e]) => !e.endsWith(`@${h.ws.domain}`));
    const [goneEmail, goneUser] = entraOnly[entraOnly.length - 1]!;
    const before = await allPeople();
    await graph.control.expireDeltaTokens(entraTenant.tenantId);
    await graph.control.hardDeleteUser(entraTenant.tenantId, goneUser.id);
    const out = completed(await entraSync());
    expect(out.fullSync).toBe(true);
    expect(out.counts).toMatchObject({ removed: 1, created: 0, updated: 0 });
    // Everyone else comes back unchanged and is not rewritten.
    expect(out.meter.recordWrites).toBe(1);
    const after = await allPeople();
    for (const [id, p] of before)
      if (id !== personRecordId(goneEmail)) expect(after.get(id)!.updateTime).toBe(p.updateTime);
    const { data } = await person(goneEmail);
    expect(data._sync.status).toBe('removed');
    expect(data._people.removedReasons.entra).toMatch(/not returned by Microsoft Entra in a full sync/);
    const run = await runDoc(h.db, h.tenantId, out.runId);
    expect(run.errors.some((e) => /full sync/.test(e.message))).toBe(true);
  });

  it('a full round that would remove more than the safety threshold is held until an admin confirms', async () => {
    const entra = [...(await entraPeople()).entries()];
    const victims = entra.slice(0, Math.ceil(entra.length * 0.3));
    await graph.control.expireDeltaTokens(entraTenant.tenantId);
    for (const [, u] of victims) await graph.control.hardDeleteUser(entraTenant.tenantId, u.id);

    const held = completed(await entraSync());
    expect(held).toMatchObject({ fullSync: true, held: true });
    expect(held.counts.removed).toBe(0);
    const run = await runDoc(h.db, h.tenantId, held.runId);
    expect(run.status).toBe('held');
    expect(run.removal).toMatchObject({ candidates: victims.length, held: true, thresholdPercent: 10 });
    expect(run.removal!.message).toMatch(/safety threshold/);
    for (const [email] of victims) expect((await person(email)).data._people.sources.entra).toBeTruthy();
    // No delta link is kept: the next round is full again (and holds again) until someone confirms.
    const state = await h.db.doc(paths.syncState(h.tenantId, entraMappingId)).get();
    expect(state.get('resumeCursor')).toBeNull();

    const confirmed = completed(await entraSync('confirm-entra', {}, { confirmRemovals: true }));
    expect(confirmed).toMatchObject({ fullSync: true, held: false });
    expect(confirmed.counts.removed).toBe(victims.length);
    for (const [email] of victims) {
      const { data } = await person(email);
      expect(data._people.sources.entra?.removedAt ?? data._people.removedReasons?.entra).toBeTruthy();
    }
  });

  it('per-field precedence from the tenant: Google wins givenName, jobTitle excluded from Entra', async () => {
    await h.db.doc(paths.tenant(h.tenantId)).update({
      peoplePrecedence: {
        default: ['google', 'entra'],
        perField: { givenName: ['entra', 'google'], jobTitle: ['google'] },
      },
    });
    const u = overlap[2]!;
    const entraUser = await entraUserFor(u.primaryEmail);
    await graph.control.updateUser(entraTenant.tenantId, entraUser.id, { department: 'Facilities' });
    completed(await entraSync());

    const { data } = await person(u.primaryEmail);
    expect(data.givenName).toBe('Gwendolyn');
    expect(data._people.provenance.givenName).toBe('google');
    expect(data.fullName).toBe('Wendy Entra'); // the default order still applies to other fields
    expect(data._people.provenance.fullName).toBe('entra');
    expect(data.department).toBe('Facilities');
    expect(data.jobTitle).toBeUndefined();
    expect(data._people.sources.entra!.fields.jobTitle).toBe(entraUser.jobTitle);
  });

  it('revoked consent marks the connection "needs consent" and stops its syncs without retrying', async () => {
    await graph.control.revokeConsent(entraTenant.tenantId, graph.app.clientId);
    const out = await entraSync();
    expect(out.status).toBe('failed');
    const tenant = (await h.db.doc(paths.tenant(h.tenantId)).get()).data()!;
    expect(tenant.entra).toMatchObject({
      state: 'needs_consent',
      stateReason: expect.stringMatching(/consent/),
    });
    expect(tenant.status).toBe('active'); // Google syncs go on
    expect(await entraSync()).toMatchObject({
      status: 'dropped',
      reason: 'the Entra connection is needs_consent',
    });
    const published: SyncMessage[] = [];
    await fanOutTick(
      { ...deps, publishSync: async (m) => void published.push(m) },
      { kind: 'tick', job: 'ws-sync-tick', tenantId: h.tenantId },
      'tick-2',
    );
    expect(published.map((m) => m.mappingId)).toEqual(['people']);
    // People stay as they were.
    expect((await person(overlap[0]!.primaryEmail)).data._sync.sources).toEqual(['google', 'entra']);
  });
});

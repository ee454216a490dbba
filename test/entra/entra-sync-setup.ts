import { afterAll, beforeAll } from 'vitest';
import type { ControlUser, CreateTenantInput, TenantView } from '../../emulators/graph-simulator/index.js';
import { runSync, type EngineDeps, type SyncOutcome } from '../../functions/src/engine/engine.js';
import type { SyncMessage } from '../../functions/src/engine/messages.js';
import { personRecordId } from '../../functions/src/people/index.js';
import {
  EntraGraphClient,
  buildAdminConsentUrl,
  completeAdminConsent,
  entraSource,
} from '../../functions/src/sources/entra/index.js';
import { ensureEntraPeopleMapping } from '../../functions/src/sources/entra/entra-mapping.js';
import { paths } from '../../shared/firestore-paths.js';
import { runDoc, startSyncHarness, type SyncHarness } from '../support/sync-harness.js';
import { FAST_RETRY, type GraphTestEnv } from './graph-test-setup.js';

/**
 * A harness tenant with Microsoft Entra connected (admin consent against the Graph simulator) and its Entra people
 * mapping, for tests of the engine's Entra passes. Each person is an Entra user with a mailbox address.
 */
export interface EntraSyncEnv {
  h: SyncHarness;
  directory: TenantView;
  mappingId: string;
  /** The directory's users as created, in creation order. */
  users: ControlUser[];
  /**
   * One sync of the Entra mapping. `pageSize` asks Graph for at most that many entries per delta page (Prefer:
   * odata.maxpagesize), to have one round's changes span pages.
   */
  sync(opts?: { message?: Partial<SyncMessage>; pageSize?: number }): Promise<Completed>;
  person(email: string): Promise<PersonDoc>;
  resumeCursor(): Promise<string | null>;
  run(runId: string): ReturnType<typeof runDoc>;
}

export type Completed = Extract<SyncOutcome, { status: 'completed' }>;

export type PersonDoc = {
  email: string;
  active: boolean;
  _people: {
    sources: Partial<
      Record<'google' | 'entra', { sourceId: string; active: boolean; removedAt?: string | null }>
    >;
    status: string;
    removedReasons?: Record<string, string>;
  };
  _sync: { status: string; sources: string[]; removedAt: string | null; removedReason: string | null };
};

let seq = 0;

export function useEntraSync(
  graph: GraphTestEnv,
  opts: { users: number; directory?: Partial<CreateTenantInput> },
): EntraSyncEnv {
  const env = {} as EntraSyncEnv;
  let deps: EngineDeps;

  beforeAll(async () => {
    const h = await startSyncHarness({ users: 3, chromeos: 0, mobile: 0 });
    const directory = await graph.tenant({ users: 0, ...opts.directory });
    const users: ControlUser[] = [];
    for (let i = 0; i < opts.users; i++) {
      users.push(
        await graph.control.addUser(directory.tenantId, {
          userPrincipalName: `person${i}@${directory.domain}`,
          mail: `person${i}@${directory.domain}`,
          givenName: `Person${i}`,
          surname: 'Entra',
          displayName: `Person${i} Entra`,
        }),
      );
    }
    const back = await fetch(
      buildAdminConsentUrl({
        authorityBaseUrl: graph.url,
        clientId: graph.app.clientId,
        redirectUri: 'https://app.example/entra/callback',
        state: 'state-1',
        tenant: directory.tenantId,
      }),
      { redirect: 'manual' },
    );
    const connected = await completeAdminConsent(
      { db: h.db, secrets: h.app.secrets, clock: h.app.clock },
      {
        tenantId: h.tenantId,
        callback: new URL(back.headers.get('location')!).searchParams,
        expectedState: 'state-1',
        clientId: graph.app.clientId,
        clientSecret: graph.app.clientSecret,
        authorityBaseUrl: graph.url,
        graphBaseUrl: graph.url,
      },
    );
    if (connected.kind !== 'connected')
      throw new Error(`Entra did not connect: ${JSON.stringify(connected)}`);
    const mappingId = await ensureEntraPeopleMapping(h.db, h.tenantId, 'test', new Date().toISOString());
    deps = h.deps();
    Object.assign(env, { h, directory, mappingId, users });
  });
  afterAll(() => env.h?.close());

  env.sync = async ({ message = {}, pageSize } = {}) => {
    const pageFetch = (url: string, init: RequestInit) => {
      const headers = new Headers(init.headers);
      if (pageSize !== undefined && url.includes('/users/delta'))
        headers.set('prefer', `odata.maxpagesize=${pageSize}`);
      return fetch(url, { ...init, headers });
    };
    const source = entraSource({
      db: env.h.db,
      clock: env.h.app.clock,
      log: env.h.app.log,
      secrets: env.h.app.secrets,
      graphClientFor: (connection) =>
        new EntraGraphClient(connection, { retry: FAST_RETRY, fetch: pageFetch }),
    });
    const out = await runSync(
      { ...deps, sources: { ...deps.sources, entra: source } },
      {
        kind: 'sync',
        tenantId: env.h.tenantId,
        mappingId: env.mappingId,
        requestId: `entra-${++seq}`,
        trigger: 'manual',
        ...message,
      },
    );
    if (out.status !== 'completed') throw new Error(`expected a completed run, got ${JSON.stringify(out)}`);
    return out;
  };
  env.person = async (email) => {
    const snap = await env.h.db.doc(paths.record(env.h.tenantId, 'people', personRecordId(email))).get();
    if (!snap.exists) throw new Error(`no person ${email}`);
    return snap.data() as PersonDoc;
  };
  env.resumeCursor = async () =>
    ((await env.h.db.doc(paths.syncState(env.h.tenantId, env.mappingId)).get()).get('resumeCursor') as
      string | null | undefined) ?? null;
  env.run = (runId) => runDoc(env.h.db, env.h.tenantId, runId);
  return env;
}

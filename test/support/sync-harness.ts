import type { Firestore } from '@google-cloud/firestore';
import { createApp, type App } from '../../functions/src/app.js';
import { loadConfig, type RuntimeConfig } from '../../functions/src/platform/config.js';
import { createLogger, type Logger } from '../../functions/src/platform/log.js';
import { createSecretStore } from '../../functions/src/secrets/index.js';
import type { SyncMessage } from '../../functions/src/engine/messages.js';
import { runSync, type EngineDeps, type SyncOutcome } from '../../functions/src/engine/engine.js';
import { startSecretManagerEmulator } from '../../emulators/secret-manager/index.js';
import { paths } from '../../shared/firestore-paths.js';
import type { MappingInput } from '../../shared/mapping.js';
import { mappingInputSchema } from '../../shared/mapping.js';
import { authorizeAgainstSimulator } from './google-oauth.js';
import { emulatorEnv, testFirestore, testPubSub, uniqueProjectId } from './emulator-clients.js';
import { startWorkspace, type WorkspaceUnderTest } from './workspace.js';

export interface HarnessOptions {
  users?: number;
  chromeos?: number;
  mobile?: number;
  groups?: number;
  seed?: number;
  env?: Record<string, string>;
}

/**
 * Everything one sync test file needs, all real: the Workspace simulator over HTTP, the Secret Manager emulator
 * over gRPC holding a refresh token obtained through the OAuth flow, and the Firestore emulator.
 */
export interface SyncHarness {
  ws: WorkspaceUnderTest;
  /** The environment a separate function process needs to reach the same emulators, simulator and project. */
  env: Record<string, string>;
  db: Firestore;
  app: App;
  config: RuntimeConfig;
  tenantId: string;
  published: SyncMessage[];
  logLines: string[];
  deps(overrides?: Partial<EngineDeps>): EngineDeps;
  addMapping(id: string, input: Record<string, unknown>): Promise<void>;
  sync(
    mappingId: string,
    extra?: Partial<SyncMessage>,
    overrides?: Partial<EngineDeps>,
  ): Promise<SyncOutcome>;
  connectTenant(tenantId: string): Promise<void>;
  close(): Promise<void>;
}

let requestSeq = 0;

export async function startSyncHarness(opts: HarnessOptions = {}): Promise<SyncHarness> {
  const ws = await startWorkspace({
    users: opts.users ?? 120,
    chromeos: opts.chromeos ?? 40,
    mobile: opts.mobile ?? 20,
    seed: opts.seed ?? 7,
    ...(opts.groups !== undefined ? { groups: opts.groups } : {}),
  });
  const secretsEmu = await startSecretManagerEmulator({ port: 0 });
  const projectId = uniqueProjectId('sync');
  const db = testFirestore(projectId);
  const env: Record<string, string> = {
    GOOGLE_CLOUD_PROJECT: projectId,
    WORKSPACE_ENDPOINT: ws.url,
    SECRET_MANAGER_EMULATOR_HOST: secretsEmu.host,
    // Fast retries: the behaviour under test is the same, only the waits are shorter.
    SYNC_BACKOFF_INITIAL_MS: '5',
    SYNC_BACKOFF_MAX_MS: '40',
    SYNC_LEASE_MS: '60000',
    ...opts.env,
  };
  const config = loadConfig(env);
  const secrets = createSecretStore(config.secrets);
  const logLines: string[] = [];
  const log: Logger = createLogger({ test: true });
  const pubsub = testPubSub(projectId);
  const app = createApp({ config, db, pubsub, secrets, log });
  const published: SyncMessage[] = [];
  const tenantId = 'tenant-a';

  const connectTenant = async (t: string) => {
    const { refreshToken } = await authorizeAgainstSimulator(config, ws.adminEmail);
    await secrets.putRefreshToken(t, refreshToken);
    await db.doc(paths.tenant(t)).set({ name: `Tenant ${t}`, status: 'active', statusReason: null });
  };
  await connectTenant(tenantId);

  const deps = (overrides: Partial<EngineDeps> = {}): EngineDeps => ({
    ...app.syncDeps(),
    publishSync: async (m) => {
      published.push(m);
    },
    ...overrides,
  });

  return {
    ws,
    env: { ...env, ...emulatorEnv(), METADATA_SERVER_DETECTION: 'none' },
    db,
    app,
    config,
    tenantId,
    published,
    logLines,
    deps,
    async addMapping(id, input) {
      const parsed: MappingInput = mappingInputSchema.parse(input);
      await db.doc(paths.mapping(tenantId, id)).set({
        ...parsed,
        version: 1,
        createdAt: new Date().toISOString(),
        updatedAt: new Date().toISOString(),
        updatedBy: 'test',
      });
    },
    sync(mappingId, extra = {}, overrides = {}) {
      const msg: SyncMessage = {
        kind: 'sync',
        tenantId,
        mappingId,
        requestId: `test-${++requestSeq}`,
        trigger: 'manual',
        ...extra,
      };
      return runSync(deps(overrides), msg);
    },
    connectTenant,
    async close() {
      await db.terminate();
      await pubsub.close();
      await ws.close();
      await secretsEmu.close();
    },
  };
}

export async function recordsOf(db: Firestore, tenantId: string, objectId: string) {
  const snap = await db.collection(paths.records(tenantId, objectId)).get();
  return new Map(snap.docs.map((d) => [d.id, { data: d.data(), updateTime: d.updateTime.toMillis() }]));
}

export async function runDoc(db: Firestore, tenantId: string, runId: string) {
  return (await db.doc(paths.run(tenantId, runId)).get()).data() as Record<string, unknown> & {
    status: string;
    counts: Record<string, number>;
    pages: number;
    apiRetries: number;
    errors: Array<{ message: string }>;
    removal: { candidates: number; held: boolean; message?: string } | null;
    invocations: number;
  };
}

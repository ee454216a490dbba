import { Firestore } from '@google-cloud/firestore';
import { PubSub } from '@google-cloud/pubsub';
import type { EntraSyncDeps } from './sources/entra/entra-sync.js';
import { GoogleDirectoryLister } from './sources/google/directory-lister.js';
import { WorkspaceAuth } from './sources/google/workspace-auth.js';
import { systemClock, type Clock } from './platform/clock.js';
import { loadConfig, type RuntimeConfig } from './platform/config.js';
import { log, setLogLevel, type Logger } from './platform/log.js';
import { syncPublisher } from './platform/sync-publisher.js';
import { createSecretStore, type SecretStore } from './secrets/index.js';
import type { SyncDeps } from './engine/sync-runner.js';

/**
 * The composition root: real clients built once per instance from the one validated configuration (a bad
 * variable fails here, at start-up, with a ConfigError naming it). Entry points take what they need from here;
 * tests build the same object around the emulators.
 */
export interface App {
  config: RuntimeConfig;
  db: Firestore;
  pubsub: PubSub;
  secrets: SecretStore;
  auth: WorkspaceAuth;
  clock: Clock;
  log: Logger;
  syncDeps(): SyncDeps;
  /** The Entra people sync (Microsoft Graph -> merged people); the client secret comes from `secrets`. */
  entraSyncDeps(): EntraSyncDeps;
}

export function createApp(overrides: Partial<Omit<App, 'syncDeps' | 'entraSyncDeps'>> = {}): App {
  const config = overrides.config ?? loadConfig();
  const db = overrides.db ?? new Firestore({ projectId: config.projectId, ignoreUndefinedProperties: true });
  const pubsub = overrides.pubsub ?? new PubSub({ projectId: config.projectId });
  const secrets = overrides.secrets ?? createSecretStore(config.secrets);
  const auth = overrides.auth ?? new WorkspaceAuth(config, secrets);
  const clock = overrides.clock ?? systemClock;
  // The level is the process-wide logger's; an injected logger's owner has set its own (tests capture DEBUG).
  if (!overrides.log) setLogLevel(config.log.level);
  const logger = overrides.log ?? log;
  const publishSync = syncPublisher(pubsub);
  const app: App = {
    config,
    db,
    pubsub,
    secrets,
    auth,
    clock,
    log: logger,
    syncDeps: () => ({
      db,
      config: config.sync,
      clock,
      log: logger,
      listerFor: async (tenantId) => new GoogleDirectoryLister(config, await auth.clientFor(tenantId)),
      publishSync,
    }),
    entraSyncDeps: () => ({ db, clock, log: logger, secrets, leaseMs: config.sync.leaseMs }),
  };
  return app;
}

let singleton: App | null = null;

/** Lazily, so importing the module (e.g. for deploy analysis) needs no environment. */
export function app(): App {
  singleton ??= createApp();
  return singleton;
}

export function setApp(next: App | null): void {
  singleton = next;
}

import { PubSub } from '@google-cloud/pubsub';
import { WorkspaceAuth } from './sources/google/workspace-auth.js';
import { systemClock, type Clock } from './platform/clock.js';
import { loadConfig, type RuntimeConfig } from './platform/config.js';
import { log, setLogLevel, type Logger } from './platform/log.js';
import { syncPublisher, tickPublisher } from './platform/sync-publisher.js';
import { createSecretStore, type SecretStore } from './secrets/index.js';
import type { EngineDeps } from './engine/engine.js';
import type { EntraConnection } from './sources/entra/entra-connection.js';
import type { EntraGraphClient } from './sources/entra/entra-graph-client.js';
import { entraSource } from './sources/entra/entra-source.js';
import { googleSource } from './sources/google/google-source.js';
import { openFirestore, type Db } from './store/firestore.js';

/**
 * The composition root: real clients built once per instance from the one validated configuration (a bad
 * variable fails here, at start-up, with a ConfigError naming it). Entry points take what they need from here;
 * tests build the same object around the emulators.
 */
export interface App {
  config: RuntimeConfig;
  db: Db;
  pubsub: PubSub;
  secrets: SecretStore;
  auth: WorkspaceAuth;
  clock: Clock;
  log: Logger;
  /** The sync engine with every source: Google Workspace (Directory API) and Microsoft Entra (Graph). */
  syncDeps(): EngineDeps;
  /** Publishes on the tick topic (a tick's shards, engine/fan-out.ts), batched like sync messages. */
  publishTickTopic: ReturnType<typeof tickPublisher>;
  /** The Graph client for an Entra connection (tests pass faster retries). */
  entraGraphClientFor?(connection: EntraConnection): EntraGraphClient;
}

export function createApp(overrides: Partial<Omit<App, 'syncDeps' | 'publishTickTopic'>> = {}): App {
  const config = overrides.config ?? loadConfig();
  const db = overrides.db ?? openFirestore(config.projectId);
  const pubsub = overrides.pubsub ?? new PubSub({ projectId: config.projectId });
  const secrets = overrides.secrets ?? createSecretStore(config.secrets);
  const auth = overrides.auth ?? new WorkspaceAuth(config, secrets);
  const clock = overrides.clock ?? systemClock;
  // The level is the process-wide logger's; an injected logger's owner has set its own (tests capture DEBUG).
  if (!overrides.log) setLogLevel(config.log.level);
  const logger = overrides.log ?? log;
  const publishSync = syncPublisher(pubsub);
  const sources = {
    google: googleSource({ db, config, auth, clock }),
    entra: entraSource({
      db,
      clock,
      log: logger,
      secrets,
      ...(overrides.entraGraphClientFor ? { graphClientFor: overrides.entraGraphClientFor } : {}),
    }),
  };
  const app: App = {
    config,
    db,
    pubsub,
    secrets,
    auth,
    clock,
    log: logger,
    publishTickTopic: tickPublisher(pubsub),
    syncDeps: () => ({
      db,
      config: config.sync,
      clock,
      log: logger,
      sources,
      publishSync,
    }),
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

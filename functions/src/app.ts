import { createRequire } from 'node:module';
import type * as PubSubModule from '@google-cloud/pubsub';
import type { PubSub } from '@google-cloud/pubsub';
import { WorkspaceAuth } from './sources/google/workspace-auth.js';
import { systemClock, type Clock } from './platform/clock.js';
import { loadConfig, type RuntimeConfig } from './platform/config.js';
import { log, setLogLevel, type Logger } from './platform/log.js';
import { syncPublisher, tickPublisher } from './platform/sync-publisher.js';
import { lazySecretStore } from './secrets/lazy-secret-store.js';
import type { SecretStore } from './secrets/secret-store.js';
import type { EngineDeps } from './engine/engine.js';
import type { EntraConnection } from './sources/entra/entra-connection.js';
import type { EntraGraphClient } from './sources/entra/entra-graph-client.js';
import { entraSource } from './sources/entra/entra-source.js';
import { googleSource } from './sources/google/google-source.js';
import { directoryWatchClient } from './push/directory-watch.js';
import { notifiedChangesReader } from './push/notified-changes.js';
import { openFirestore, type Db } from './store/firestore.js';
import { readGoogleAuth } from './store/tenants.js';
import type { NotifyDeps } from './notifications/emit.js';
import { notificationPublisher, type PublishNotification } from './notifications/publisher.js';

/**
 * The composition root: real clients built once per instance from the one validated configuration (a bad
 * variable fails here, at start-up, with a ConfigError naming it). Entry points take what they need from here;
 * tests build the same object around the emulators.
 *
 * Heavy clients are built, and their packages loaded, on first use, not here: a cold instance of one function
 * imports only what its first request needs (bench/cold-start.ts measures it, test/foundation/import-graph.test.ts
 * guards it). Pub/Sub is loaded when something publishes, Secret Manager when a secret is read or written, the
 * Directory API client when a Directory call is made (sources/google/directory-client.ts).
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
  /** Publishes `{tenantId, eventId}` for the deliverNotifications function. */
  publishNotification: PublishNotification;
  /** What emitTenantEvent (functions/src/notifications) needs. */
  notifyDeps(): NotifyDeps;
  /** The Graph client for an Entra connection (tests pass faster retries). */
  entraGraphClientFor?(connection: EntraConnection): EntraGraphClient;
}

export function createApp(
  overrides: Partial<Omit<App, 'syncDeps' | 'publishTickTopic' | 'notifyDeps'>> = {},
): App {
  const config = overrides.config ?? loadConfig();
  const db = overrides.db ?? openFirestore(config.projectId);
  let pubsub = overrides.pubsub;
  const pubsubClient = () => (pubsub ??= new (loadPubSub().PubSub)({ projectId: config.projectId }));
  const secrets = overrides.secrets ?? lazySecretStore(config.secrets);
  const auth =
    overrides.auth ?? new WorkspaceAuth(config, secrets, (tenantId) => readGoogleAuth(db, tenantId));
  const clock = overrides.clock ?? systemClock;
  // The level is the process-wide logger's; an injected logger's owner has set its own (tests capture DEBUG).
  if (!overrides.log) setLogLevel(config.log.level);
  const logger = overrides.log ?? log;
  const publishSync = syncPublisher(pubsubClient);
  const publishNotification = overrides.publishNotification ?? notificationPublisher(pubsubClient);
  const notify: NotifyDeps = {
    db,
    clock,
    log: logger,
    publishNotification,
    emailEnabled: config.notifications.smtp !== null,
  };
  const sources = {
    google: googleSource({
      db,
      config,
      auth,
      clock,
      // Push on: users mappings get incremental passes over notified users (functions/src/push).
      ...(config.push.receiverUrl
        ? {
            push: notifiedChangesReader({
              db,
              clientFor: async (t) => directoryWatchClient(config, await auth.clientFor(t)),
            }),
          }
        : {}),
    }),
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
    get pubsub() {
      return pubsubClient();
    },
    secrets,
    auth,
    clock,
    log: logger,
    publishTickTopic: tickPublisher(pubsubClient),
    publishNotification,
    notifyDeps: () => notify,
    syncDeps: () => ({
      db,
      config: config.sync,
      clock,
      log: logger,
      sources,
      publishSync,
      notify,
    }),
  };
  return app;
}

/**
 * Pub/Sub is CommonJS, so it can be loaded synchronously on first use: `app.pubsub` stays a plain property for
 * its many callers instead of becoming a promise.
 */
const loadCommonJs = createRequire(import.meta.url);
const loadPubSub = () => loadCommonJs('@google-cloud/pubsub') as typeof PubSubModule;

let singleton: App | null = null;

/** Lazily, so importing the module (e.g. for deploy analysis) needs no environment. */
export function app(): App {
  singleton ??= createApp();
  return singleton;
}

export function setApp(next: App | null): void {
  singleton = next;
}

import type { App } from '../app.js';
import type { Clock } from '../platform/clock.js';
import type { RuntimeConfig } from '../platform/config.js';
import type { Logger } from '../platform/log.js';
import type { Db } from '../store/firestore.js';
import type { SyncMessage } from '../engine/messages.js';
import { directoryWatchClient, type DirectoryWatchClient } from './directory-watch.js';

/** What channel management and the receiver use; built from the App (tests build it around the emulators). */
export interface PushDeps {
  db: Db;
  config: RuntimeConfig;
  clock: Clock;
  log: Logger;
  clientFor(tenantId: string): Promise<DirectoryWatchClient>;
  publishSync(msg: SyncMessage): Promise<void>;
}

export function pushDepsOf(app: App): PushDeps {
  return {
    db: app.db,
    config: app.config,
    clock: app.clock,
    log: app.log,
    clientFor: async (tenantId) => directoryWatchClient(app.config, await app.auth.clientFor(tenantId)),
    publishSync: (msg) => app.syncDeps().publishSync(msg),
  };
}

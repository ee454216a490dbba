import * as functions from '@google-cloud/functions-framework';
import type { CloudEvent } from '@google-cloud/functions-framework';
import { createApiHandler } from './api/api-handler.js';
import { installFrameworkGuard, servesApiFunction } from './api/framework-guard.js';
import { app } from './app.js';
import { handleDeadLetterEvent, handleSyncEvent, handleTickEvent } from './pubsub-handlers.js';

/**
 * Entry points only: parsing and work happen in the modules behind them.
 *   api         HTTP: admin API, OAuth connect/callback, refresh webhook (behind the console's /api rewrite)
 *   tick        Pub/Sub (Cloud Scheduler's topic) -> one sync message per tenant x mapping
 *   syncEntity  Pub/Sub -> one tenant/mapping sync invocation of the engine (resumable), for any source
 *   deadLetter  Pub/Sub (the dead-letter topic) -> records what Pub/Sub gave up on; ends a run it left running
 */
// Before the framework builds its server (it loads this module first): its own errors answer as JSON too.
if (servesApiFunction()) installFrameworkGuard();

let api: ReturnType<typeof createApiHandler> | null = null;
functions.http('api', (req, res) => {
  api ??= createApiHandler(app());
  return api(req, res);
});
functions.cloudEvent('tick', async (event: CloudEvent<unknown>) => {
  await handleTickEvent(app(), event);
});
functions.cloudEvent('syncEntity', async (event: CloudEvent<unknown>) => {
  await handleSyncEvent(app(), event);
});
functions.cloudEvent('deadLetter', async (event: CloudEvent<unknown>) => {
  await handleDeadLetterEvent(app(), event);
});

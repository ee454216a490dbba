import * as functions from '@google-cloud/functions-framework';
import type { CloudEvent } from '@google-cloud/functions-framework';
import { app } from './app.js';
import { handleTickEvent, handleSyncEvent } from './pubsub-handlers.js';

/**
 * Entry points only: parsing and work happen in the modules behind them.
 *   tick        Pub/Sub (Cloud Scheduler's topic) -> one sync message per tenant x mapping
 *   syncEntity  Pub/Sub -> one tenant/mapping sync invocation (resumable)
 */
functions.cloudEvent('tick', async (event: CloudEvent<unknown>) => {
  await handleTickEvent(app(), event);
});
functions.cloudEvent('syncEntity', async (event: CloudEvent<unknown>) => {
  await handleSyncEvent(app(), event);
});

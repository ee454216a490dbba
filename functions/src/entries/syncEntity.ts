import * as functions from '@google-cloud/functions-framework';
import type { CloudEvent } from '@google-cloud/functions-framework';
import { app } from '../app.js';
import { handleSyncEvent } from '../pubsub-handlers.js';

/** The `syncEntity` function alone: one tenant/mapping sync invocation of the engine (resumable), any source. */
functions.cloudEvent('syncEntity', async (event: CloudEvent<unknown>) => {
  await handleSyncEvent(app(), event);
});

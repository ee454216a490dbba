import * as functions from '@google-cloud/functions-framework';
import type { CloudEvent } from '@google-cloud/functions-framework';
import { app } from '../app.js';
import { handleTickEvent } from '../pubsub-handlers.js';

/** The `tick` function alone: Cloud Scheduler's topic -> one sync message per tenant x mapping. */
functions.cloudEvent('tick', async (event: CloudEvent<unknown>) => {
  await handleTickEvent(app(), event);
});

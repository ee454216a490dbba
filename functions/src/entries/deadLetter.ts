import * as functions from '@google-cloud/functions-framework';
import type { CloudEvent } from '@google-cloud/functions-framework';
import { app } from '../app.js';
import { handleDeadLetterEvent } from '../pubsub-handlers.js';

/** The `deadLetter` function alone: records what Pub/Sub gave up on; ends a run it left running. */
functions.cloudEvent('deadLetter', async (event: CloudEvent<unknown>) => {
  await handleDeadLetterEvent(app(), event);
});

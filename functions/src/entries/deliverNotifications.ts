import * as functions from '@google-cloud/functions-framework';
import type { CloudEvent } from '@google-cloud/functions-framework';
import { app } from '../app.js';
import { handleNotificationEvent } from '../notifications/handler.js';

/** The `deliverNotifications` function alone: signed webhooks and email for one outbox event, with bounded retries. */
functions.cloudEvent('deliverNotifications', async (event: CloudEvent<unknown>) => {
  await handleNotificationEvent(app(), event);
});

import type { CloudEvent } from '@google-cloud/functions-framework';
import { z } from 'zod';
import type { App } from '../app.js';
import { decodeJsonPayload } from '../engine/messages.js';
import { deliverNotification, type DeliverDeps, type DeliverOutcome } from './deliver.js';
import { smtpMailer } from './mailer.js';

const pubsubEventSchema = z.object({
  message: z.object({ data: z.string().optional() }).loose(),
});

/** One set of delivery dependencies per app: the SMTP transport is opened once per instance. */
const deliverDepsOf = new WeakMap<App, DeliverDeps>();

export function deliverDepsFor(app: App): DeliverDeps {
  let deps = deliverDepsOf.get(app);
  if (!deps) {
    const n = app.config.notifications;
    deps = {
      db: app.db,
      clock: app.clock,
      log: app.log,
      secrets: app.secrets,
      config: n,
      consoleOrigin: app.config.api.consoleOrigin,
      sendMail: n.smtp ? smtpMailer(n.smtp, app.secrets, n.timeoutMs) : null,
    };
    deliverDepsOf.set(app, deps);
  }
  return deps;
}

/** The deliverNotifications function: one outbox event per message. Throwing (Firestore down) nacks it. */
export async function handleNotificationEvent(app: App, event: CloudEvent<unknown>): Promise<DeliverOutcome> {
  const parsed = pubsubEventSchema.safeParse(event.data);
  const payload = parsed.success ? decodeJsonPayload(parsed.data.message.data) : undefined;
  return deliverNotification(deliverDepsFor(app), payload);
}

import { randomUUID } from 'node:crypto';
import type { Clock } from '../platform/clock.js';
import type { Logger } from '../platform/log.js';
import type { Db } from '../store/firestore.js';
import { createOutboxEvent, type OutboxEvent } from '../store/notification-outbox.js';
import { readNotificationSettings, type NotificationSettings } from '../store/notification-settings.js';
import { eventIdFor, type EventBody, type EventType, type TenantEvent } from './events.js';
import type { PublishNotification } from './publisher.js';

/** What emitting needs: Firestore for the outbox, a publisher on the notifications topic. */
export interface NotifyDeps {
  db: Db;
  clock: Clock;
  log: Logger;
  publishNotification: PublishNotification;
  /** SMTP is configured: email channels are used. */
  emailEnabled: boolean;
}

export interface StagedEvent {
  eventId: string;
  /** Publishes it for delivery; a lost publish is caught up by the sweep (notifications/sweep.ts). */
  publish(): Promise<void>;
}

/** Which channels want this event type under these settings. */
export function channelsFor(
  settings: NotificationSettings,
  type: EventType,
  emailEnabled: boolean,
): { webhook: string | null; email: boolean } {
  return {
    webhook: settings.webhook.url && settings.webhook.events.includes(type) ? settings.webhook.url : null,
    email: emailEnabled && settings.email.events.includes(type),
  };
}

/**
 * Writes the event to the outbox (nothing is published yet), or returns null when no channel of the tenant
 * wants it (then nothing is written). The record sink stages before it writes the records the event describes,
 * so a crash between the two loses no event: the redone page stages the same event id again.
 */
export async function stageTenantEvent(
  deps: NotifyDeps,
  tenantId: string,
  event: TenantEvent,
  opts: { dedupeKey?: string; settings?: NotificationSettings } = {},
): Promise<StagedEvent | null> {
  const settings = opts.settings ?? (await readNotificationSettings(deps.db, tenantId));
  const channels = channelsFor(settings, event.type, deps.emailEnabled);
  if (!channels.webhook && !channels.email) return null;
  const now = deps.clock.now();
  const eventId = eventIdFor(tenantId, event.type, opts.dedupeKey ?? randomUUID());
  const body: EventBody = {
    id: eventId,
    type: event.type,
    timestamp: new Date(now).toISOString(),
    tenantId,
    data: event.data,
  };
  const fresh = { status: 'pending' as const, attempts: 0, lastAttemptAt: null, lastError: null };
  const outbox: OutboxEvent = {
    eventId,
    tenantId,
    type: event.type,
    createdAt: body.timestamp,
    status: 'pending',
    body: JSON.stringify(body),
    channels: {
      ...(channels.webhook ? { webhook: { ...fresh, target: channels.webhook } } : {}),
      ...(channels.email ? { email: { ...fresh, target: null } } : {}),
    },
  };
  await createOutboxEvent(deps.db, outbox, now);
  return {
    eventId,
    publish: async () => {
      try {
        await deps.publishNotification({ tenantId, eventId });
      } catch (err) {
        deps.log.warn('could not publish a notification; the sweep will', {
          tenantId,
          eventId,
          error: err instanceof Error ? err.message : String(err),
        });
      }
    },
  };
}

/**
 * The one call for "tell the tenant": run outcomes (engine/run-ledger.ts), re-authorization needed, record
 * changes. Written to the outbox, then published to the deliverNotifications function. `dedupeKey` makes a
 * repeated emit of the same thing one event (e.g. the run id for a run's outcome).
 */
export async function emitTenantEvent(
  deps: NotifyDeps,
  tenantId: string,
  event: TenantEvent,
  opts: { dedupeKey?: string; settings?: NotificationSettings } = {},
): Promise<string | null> {
  const staged = await stageTenantEvent(deps, tenantId, event, opts);
  if (!staged) return null;
  await staged.publish();
  return staged.eventId;
}

/**
 * For callers whose own work must not fail because a notification could not be written (a run that already
 * ended): logs instead of throwing.
 */
export async function emitTenantEventSafely(
  deps: NotifyDeps | undefined,
  tenantId: string,
  event: TenantEvent,
  opts: { dedupeKey?: string } = {},
): Promise<void> {
  if (!deps) return;
  try {
    await emitTenantEvent(deps, tenantId, event, opts);
  } catch (err) {
    deps.log.error('could not write a notification event', {
      tenantId,
      type: event.type,
      error: err instanceof Error ? err.message : String(err),
    });
  }
}

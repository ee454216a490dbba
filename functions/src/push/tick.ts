import type { App } from '../app.js';
import { tickMessageSchema } from '../engine/messages.js';
import { reconcilePushChannels } from './channels.js';
import { pushDepsOf } from './push-deps.js';

/**
 * Channel upkeep rides on the scheduler tick (hourly: pubsub-handlers.ts skips the quarter-hour ticks): PUSH_RENEW_BEFORE_SECONDS is longer than the longest
 * gap between ticks, so a channel is replaced at least one tick before it expires. A tenant tick (sync now,
 * the initial sync) maintains that tenant only. Never fails the tick: the next one tries again.
 */
export async function maintainPushChannelsOnTick(app: App, payload: unknown): Promise<void> {
  const tick = tickMessageSchema.safeParse(payload);
  if (tick.success) await maintainPushChannels(app, tick.data.tenantId);
}

export async function maintainPushChannels(app: App, tenantId?: string): Promise<void> {
  try {
    await reconcilePushChannels(pushDepsOf(app), tenantId);
  } catch (err) {
    app.log.warn('push channel upkeep failed', { error: String(err), ...(tenantId ? { tenantId } : {}) });
  }
}

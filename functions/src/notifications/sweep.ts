import type { Clock } from '../platform/clock.js';
import type { Logger } from '../platform/log.js';
import type { Db } from '../store/firestore.js';
import { listStalledOutboxEvents } from '../store/notification-outbox.js';
import type { PublishNotification } from './publisher.js';

/** Longer than a delivery's in-process retries take, so a delivery still going is not published twice. */
export const STALLED_AFTER_MS = 15 * 60_000;
const SWEEP_LIMIT = 200;

/**
 * The outbox's other half: events still pending well after they were written (their publish was lost, or every
 * delivery of their message crashed) are published again. Run by the scheduler tick; bounded per run.
 */
export async function republishStalledNotifications(deps: {
  db: Db;
  clock: Clock;
  log: Logger;
  publishNotification: PublishNotification;
}): Promise<number> {
  const olderThan = new Date(deps.clock.now() - STALLED_AFTER_MS).toISOString();
  const stalled = await listStalledOutboxEvents(deps.db, olderThan, SWEEP_LIMIT);
  await Promise.all(stalled.map((e) => deps.publishNotification(e)));
  if (stalled.length > 0) deps.log.info('re-published stalled notifications', { count: stalled.length });
  return stalled.length;
}

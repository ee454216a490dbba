import type { Db } from '../store/firestore.js';
import type { Clock } from '../platform/clock.js';
import type { Logger } from '../platform/log.js';
import {
  payloadText,
  recordDeadLetter,
  type DeadLetterAction,
  type DeadLetterRecord,
} from '../store/dead-letters.js';
import { endStalledRun, readSyncState, runOfRequest } from '../store/sync-state.js';
import { decodeJsonPayload, syncMessageSchema, tickMessageSchema, type SyncMessage } from './messages.js';

/**
 * The consumer of the dead-letter topic. Pub/Sub forwards a message there once a subscription gave up on it
 * (its maxDeliveryAttempts); for a sync request that means nobody will deliver it again, so a run it left
 * `running` would stay so. The consumer records every letter and ends such a run as failed, freeing the
 * mapping. It never throws for what a letter contains (that would only loop on the dead-letter subscription);
 * Firestore trouble does throw, so the letter is pushed again.
 */

export interface DeadLetterDeps {
  db: Db;
  clock: Clock;
  log: Logger;
}

export interface DeadLetter {
  messageId: string;
  /** `projects/P/topics/T` or just `T`, when known. */
  topic: string | null;
  attributes: Readonly<Record<string, string>>;
  /** base64, as Pub/Sub delivers it. */
  data: string | undefined;
  publishTime: string | null;
}

/** Attributes Pub/Sub adds to a message it forwards to a dead-letter topic. */
const SOURCE_DELIVERY_COUNT = 'CloudPubSubDeadLetterSourceDeliveryCount';
const SOURCE_SUBSCRIPTION = 'CloudPubSubDeadLetterSourceSubscription';

export async function handleDeadLetter(deps: DeadLetterDeps, letter: DeadLetter): Promise<DeadLetterRecord> {
  const now = deps.clock.now();
  const payload = decodeJsonPayload(letter.data);
  const attempts = Number.parseInt(letter.attributes[SOURCE_DELIVERY_COUNT] ?? '', 10);
  const deliveryAttempts = Number.isFinite(attempts) ? attempts : null;
  const sourceSubscription = letter.attributes[SOURCE_SUBSCRIPTION] ?? null;

  const sync = syncMessageSchema.safeParse(payload);
  let kind: DeadLetterRecord['kind'] = 'unknown';
  let action: DeadLetterAction = 'malformed';
  let runId: string | null = null;
  if (sync.success) {
    kind = 'sync';
    ({ action, runId } = await endAbandonedRun(deps, sync.data, deliveryAttempts, now));
  } else if (tickMessageSchema.safeParse(payload).success) {
    // A lost tick is caught up by the next one; there is no run to end.
    kind = 'tick';
    action = 'not-a-sync-message';
  }

  const record: DeadLetterRecord = {
    messageId: letter.messageId,
    topic: letter.topic ? letter.topic.slice(letter.topic.lastIndexOf('/') + 1) : null,
    sourceSubscription,
    deliveryAttempts,
    publishedAt: letter.publishTime,
    payload: payloadText(payload),
    kind,
    tenantId: sync.success ? sync.data.tenantId : null,
    mappingId: sync.success ? sync.data.mappingId : null,
    requestId: sync.success ? sync.data.requestId : null,
    runId,
    action,
    receivedAt: new Date(now).toISOString(),
  };
  await recordDeadLetter(deps.db, record, now);
  deps.log.warn('Pub/Sub dead-lettered a message', {
    messageId: letter.messageId,
    sourceSubscription,
    deliveryAttempts,
    kind,
    action,
    ...(runId ? { runId } : {}),
  });
  return record;
}

/** The run the dead-lettered request belongs to, ended as failed if it is still running and nobody holds it. */
async function endAbandonedRun(
  deps: DeadLetterDeps,
  msg: SyncMessage,
  attempts: number | null,
  now: number,
): Promise<{ action: DeadLetterAction; runId: string | null }> {
  const state = await readSyncState(deps.db, msg.tenantId, msg.mappingId);
  if (!state || state.status !== 'running' || state.runId === null) {
    return { action: 'run-not-running', runId: null };
  }
  // A continuation names its run; a request's document names the run it started or took over; the state
  // names the request of its run (the request document may have expired).
  const runId =
    msg.runId ??
    (await runOfRequest(deps.db, msg.tenantId, msg.mappingId, msg.requestId)) ??
    (state.requestId === msg.requestId ? state.runId : null);
  if (runId !== state.runId) return { action: 'run-not-running', runId };
  const reason = `Pub/Sub gave up delivering this request${attempts === null ? '' : ` after ${attempts} attempts`}`;
  const ended = await endStalledRun(
    deps.db,
    { tenantId: msg.tenantId, mappingId: msg.mappingId, runId },
    reason,
    now,
  );
  return { action: ended ? 'ended-run' : 'run-held', runId };
}

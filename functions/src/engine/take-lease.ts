import { objectIdOf, type Mapping } from '../../../shared/mapping.js';
import { acquireLease, endStalledRun, type HeldLease } from '../store/sync-state.js';
import { passFor, waitBudgetMs } from './decisions.js';
import {
  MAX_STALLED_DELIVERIES,
  RetryLaterError,
  type EngineDeps,
  type SyncOutcome,
} from './engine-types.js';
import type { SyncMessage } from './messages.js';
import { newRunId } from './run-id.js';
import type { Source } from './source.js';
import { emitTenantEventSafely } from '../notifications/emit.js';

/** How often a delivery waiting for a live lease looks again (the holder may finish or hand over sooner). */
const LEASE_POLL_MS = 1000;

/**
 * Takes the lease, or says why not. A delivery of the running run waits out a live lease in-process (its holder
 * may have crashed; a nack would have Pub/Sub back off for minutes) for at most the lease plus 30 s, looking
 * again every second; a lease that keeps being renewed means a live holder, and the message goes back to Pub/Sub.
 */
export async function takeLease(
  deps: EngineDeps,
  msg: SyncMessage,
  mapping: Mapping,
  source: Source,
): Promise<HeldLease | Extract<SyncOutcome, { status: 'dropped' | 'failed' }>> {
  const { config, clock } = deps;
  const startedWaiting = clock.now();
  let firstUntil: number | null = null;
  for (;;) {
    const now = clock.now();
    const result = await acquireLease(deps.db, {
      tenantId: msg.tenantId,
      mappingId: msg.mappingId,
      delivery: {
        trigger: msg.trigger,
        requestId: msg.requestId,
        ...(msg.runId ? { runId: msg.runId } : {}),
        ...(msg.notifiedAt !== undefined ? { notifiedAt: msg.notifiedAt } : {}),
      },
      now,
      leaseMs: config.leaseMs,
      maxStalledDeliveries: MAX_STALLED_DELIVERIES,
      passFor: (state) =>
        passFor({
          incrementalSupported: source.incremental === true,
          resumeCursor: state.resumeCursor,
          confirmRemovals: msg.confirmRemovals === true,
          trigger: msg.trigger,
          incrementalOnlyOnPush: source.incrementalOnlyOnPush === true,
        }),
      newRunId: msg.plannedRunId ?? newRunId(now),
      runFields: {
        tenantId: msg.tenantId,
        mappingId: msg.mappingId,
        mappingName: mapping.name,
        mappingVersion: mapping.version,
        source: mapping.source,
        entity: mapping.entity,
        objectId: objectIdOf(mapping.target),
        trigger: msg.trigger,
        startedAt: new Date(now).toISOString(),
      },
    });
    switch (result.kind) {
      case 'acquired':
        return result.lease;
      case 'drop':
        return { status: 'dropped', reason: result.reason };
      case 'give-up': {
        const reason = `gave up after ${result.deliveries} deliveries without progress (see the errors above)`;
        // Not ended: another delivery took the run over in between; judge this one again.
        if (!(await endStalledRun(deps.db, { ...msg, runId: result.runId }, reason, now))) continue;
        deps.log.warn('sync run given up', { runId: result.runId, reason });
        await emitTenantEventSafely(
          deps.notify,
          msg.tenantId,
          {
            type: 'run.failed',
            data: {
              runId: result.runId,
              mappingId: mapping.id,
              mappingName: mapping.name,
              source: mapping.source,
              entity: mapping.entity,
              status: 'failed',
              message: reason,
              errors: [reason],
            },
          },
          { dedupeKey: result.runId },
        );
        if (result.thenStart) continue; // another request: it starts a run of its own
        return { status: 'failed', runId: result.runId, reason };
      }
      case 'wait': {
        firstUntil ??= result.untilMs;
        const renewed = result.untilMs > firstUntil;
        const wait = waitBudgetMs(result.untilMs, startedWaiting, config.leaseMs + 30_000);
        if (renewed || wait === null) {
          throw new RetryLaterError(`run ${result.runId} is in progress on another invocation`);
        }
        await clock.sleep(Math.min(LEASE_POLL_MS, Math.max(50, result.untilMs - now + 50)));
      }
    }
  }
}

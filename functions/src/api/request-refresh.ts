import { forgetPlanned, planRefresh, type Planned } from '../store/refresh-requests.js';
import type { SyncMessage } from '../engine/messages.js';
import { newRunId } from '../engine/run-id.js';
import { ApiError } from './api-error.js';
import type { RouteContext } from './route-context.js';

/**
 * Syncs `mappingIds` of a tenant now: one transaction (store/refresh-requests.ts) counts the request against the
 * tenant's window and decides per mapping: a run already going (or queued by an earlier request) answers with
 * its run id; otherwise a run id is planned and the message carrying it is published. The refresh webhook and
 * device actions (which refresh the devices they changed) both sync through here.
 * Throws the API's 429 when the window is full and 503 when publishing failed (the plan is then forgotten).
 */
export async function requestRefresh(
  ctx: Pick<RouteContext, 'app' | 'api' | 'log'>,
  tenantId: string,
  mappingIds: readonly string[],
  opts: { confirmRemovals?: boolean } = {},
): Promise<Planned[]> {
  const { app } = ctx;
  const { maxRequests, windowMs } = ctx.api.syncRateLimit;
  const outcome = await planRefresh(app.db, tenantId, mappingIds, {
    maxRequests,
    windowMs,
    now: app.clock.now(),
    newRunId,
  });
  if (outcome.kind === 'rate_limited') {
    throw new ApiError(
      'rate_limited',
      `at most ${maxRequests} sync requests per ${windowMs / 60_000} minutes; try again in ${outcome.retryAfterSeconds} s`,
      [],
      { 'retry-after': String(outcome.retryAfterSeconds) },
    );
  }
  const planned = outcome.planned;
  const { publishSync } = app.syncDeps();
  const fresh = planned.filter((p) => !p.deduplicated);
  try {
    for (const p of fresh) {
      const msg: SyncMessage = {
        kind: 'sync',
        tenantId,
        mappingId: p.mappingId,
        requestId: `manual:${p.runId}`,
        trigger: 'manual',
        plannedRunId: p.runId,
        ...(opts.confirmRemovals ? { confirmRemovals: true } : {}),
      };
      await publishSync(msg);
    }
  } catch (err) {
    await forgetPlanned(app.db, tenantId, fresh).catch(() => undefined);
    ctx.log.error('publishing a sync request failed', {
      tenantId,
      error: err instanceof Error ? err.message : String(err),
    });
    throw new ApiError('unavailable', 'the sync could not be queued; try again');
  }
  return planned;
}

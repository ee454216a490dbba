/**
 * The engine's decisions, as pure functions of what was read: which run a delivery belongs to, whether a
 * removal is applied or held, whether an invocation goes on, hands over or gives up. The engine does the I/O
 * around them; these are unit-tested without Firestore (test/engine/decisions.test.ts).
 */

/** The lease fields of a mapping's sync state that a delivery is judged by. */
export interface LeaseView {
  status: 'idle' | 'running';
  runId: string | null;
  requestId: string | null;
  leaseId: string | null;
  leaseExpiresAt: number;
  /** Deliveries that took the run over without a page committed since (a crash or failure loop). */
  stalledDeliveries: number;
  /** When the latest run started (ms; 0 before the first): what a push request is judged covered by. */
  runStartedAt?: number;
}

export interface DeliveryView {
  /** 'continuation' for a run handed over by its previous invocation; the request's trigger otherwise. */
  trigger: string;
  requestId: string;
  /** A continuation names the run it continues. */
  runId?: string;
  /** A push request: when its notification was recorded (ms). */
  notifiedAt?: number;
}

/**
 * A push request is covered by a run that started after its notification was recorded (that run reads the
 * notification, or lists the user after the change). The margin absorbs clock skew between the receiver's
 * and the engine's instances: a notification just before a run's start asks for one more (cheap) run.
 */
export const PUSH_COVER_MARGIN_MS = 500;

function pushCovered(state: LeaseView, delivery: DeliveryView): boolean {
  return (
    delivery.trigger === 'push' &&
    delivery.notifiedAt !== undefined &&
    (state.runStartedAt ?? 0) >= delivery.notifiedAt + PUSH_COVER_MARGIN_MS
  );
}

export type LeaseVerdict =
  /** A new run for this request. */
  | { kind: 'start' }
  /** Take over the running run at its checkpoint (its holder handed over or died). */
  | { kind: 'resume'; runId: string }
  /** The running run's holder may still be alive: wait for its lease to end, then ask again. */
  | { kind: 'wait'; runId: string; untilMs: number }
  /**
   * A run that keeps failing without progress: end it as failed instead of trying forever. thenStart: the
   * delivery is another request, which then starts a run of its own.
   */
  | { kind: 'give-up'; runId: string; deliveries: number; thenStart: boolean }
  /** Nothing to do: ack. */
  | { kind: 'drop'; reason: string };

/**
 * At-least-once delivery means every message may arrive twice, late, or while another invocation works:
 *  - a request already handled (requestHandled) is dropped, however many runs came after it;
 *  - a delivery of the running run waits out a live lease (the holder may have crashed: Pub/Sub's backoff for a
 *    nacked message would otherwise grow to minutes) and then resumes from the checkpoint;
 *  - any other request while a run's holder is alive (live lease) is covered by that run, except a push request
 *    whose notification came after the run started: it waits for the run to end, then starts its own (a burst
 *    of notifications thus runs one pass after another, each covering every notification before its start);
 *  - any other request while nobody holds the run (its holder died, and the message that would resume it may
 *    be gone: acked, dead-lettered, expired) takes the run over, so a stuck run never blocks later syncs.
 */
export function leaseVerdict(
  state: LeaseView,
  delivery: DeliveryView,
  requestHandled: boolean,
  now: number,
  maxStalledDeliveries: number,
): LeaseVerdict {
  if (state.status === 'running' && state.runId !== null) {
    const sameRun = delivery.runId === state.runId || delivery.requestId === state.requestId;
    const leaseLive = state.leaseId !== null && state.leaseExpiresAt > now;
    if (!sameRun) {
      if (delivery.trigger === 'continuation')
        return { kind: 'drop', reason: `stale continuation for run ${delivery.runId}` };
      if (leaseLive && delivery.trigger === 'push' && !pushCovered(state, delivery))
        return { kind: 'wait', runId: state.runId, untilMs: state.leaseExpiresAt };
      if (leaseLive)
        return { kind: 'drop', reason: `run ${state.runId} is in progress; this request is covered by it` };
      // Checked only here: while its holder works, a request is covered whether or not it was seen before.
      if (requestHandled)
        return { kind: 'drop', reason: `request ${delivery.requestId} was already handled` };
    }
    if (leaseLive) return { kind: 'wait', runId: state.runId, untilMs: state.leaseExpiresAt };
    if (delivery.trigger !== 'continuation' && state.stalledDeliveries >= maxStalledDeliveries) {
      return {
        kind: 'give-up',
        runId: state.runId,
        deliveries: state.stalledDeliveries,
        thenStart: !sameRun,
      };
    }
    return { kind: 'resume', runId: state.runId };
  }
  if (delivery.trigger === 'continuation')
    return { kind: 'drop', reason: `run ${delivery.runId} already finished` };
  if (requestHandled) return { kind: 'drop', reason: `request ${delivery.requestId} was already handled` };
  if (pushCovered(state, delivery))
    return { kind: 'drop', reason: 'a run that started after the notification covered it' };
  return { kind: 'start' };
}

/** How long a delivery may wait in-process for a live lease before it hands the message back to Pub/Sub. */
export function waitBudgetMs(untilMs: number, now: number, maxWaitMs: number): number | null {
  const wait = untilMs - now;
  return wait <= maxWaitMs ? Math.max(0, wait) : null;
}

export interface RemovalVerdict {
  candidates: number;
  previousRecords: number;
  sharePercent: number;
  thresholdPercent: number;
  held: boolean;
}

/**
 * Removals (absent from a complete full pass, or reported removed by an incremental one) are applied only
 * when they are at most the mapping's threshold share of the records it had, or an admin confirmed them.
 */
export function removalVerdict(
  candidates: number,
  previousRecords: number,
  thresholdPercent: number,
  confirmed: boolean,
): RemovalVerdict {
  const share = previousRecords === 0 ? 0 : (candidates / previousRecords) * 100;
  return {
    candidates,
    previousRecords,
    sharePercent: Math.round(share * 10) / 10,
    thresholdPercent,
    held: candidates > 0 && share > thresholdPercent && !confirmed,
  };
}

export type PageStep = 'next-page' | 'hand-over' | 'complete';

/** After a committed page: the pass is done, or goes on here, or in a new message before the budget runs out. */
export function afterPage(next: string | null, elapsedMs: number, budgetMs: number): PageStep {
  if (next === null) return 'complete';
  return elapsedMs >= budgetMs ? 'hand-over' : 'next-page';
}

export type PassKind = 'full' | 'incremental';

/**
 * A new run lists changes since the last pass when the source can and a cursor is stored; a full pass
 * otherwise, and always when an admin confirmed removals (they are judged on a complete listing). A source
 * whose changes come as push notifications is incremental only for push-triggered runs: every other run is the
 * full pass that repairs what a lost notification missed.
 */
export function passFor(opts: {
  incrementalSupported: boolean;
  resumeCursor: string | null;
  confirmRemovals: boolean;
  trigger?: string;
  incrementalOnlyOnPush?: boolean;
}): PassKind {
  if (opts.incrementalOnlyOnPush && opts.trigger !== 'push') return 'full';
  return opts.incrementalSupported && opts.resumeCursor !== null && !opts.confirmRemovals
    ? 'incremental'
    : 'full';
}

/** What an admin's review says about the removal candidates of a pass (store/removal-review.ts). */
export interface ReviewedCandidates<T> {
  /** Confirmed by an admin in a held run's review: removed whatever the threshold. */
  approved: Map<string, T>;
  /** Excluded by an admin: kept as stored, not counted against the threshold, never held again while absent. */
  excluded: Map<string, T>;
  /** Everything else: judged by the threshold as before. */
  judged: Map<string, T>;
}

/**
 * Splits a pass's removal candidates by the review: an exclusion wins over an approval (an admin kept the
 * record), an approval covers only the records the reviewed run held (a record that disappeared since is
 * judged on its own).
 */
export function reviewCandidates<T>(
  candidates: ReadonlyMap<string, T>,
  review: { approvedIds: ReadonlySet<string>; excludedIds: ReadonlySet<string> },
): ReviewedCandidates<T> {
  const out: ReviewedCandidates<T> = { approved: new Map(), excluded: new Map(), judged: new Map() };
  for (const [id, v] of candidates) {
    if (review.excludedIds.has(id)) out.excluded.set(id, v);
    else if (review.approvedIds.has(id)) out.approved.set(id, v);
    else out.judged.set(id, v);
  }
  return out;
}

import { randomUUID } from 'node:crypto';
import { FieldValue, type Firestore, type Timestamp } from '@google-cloud/firestore';
import { paths } from '../../../shared/firestore-paths.js';
import type { Mapping } from '../../../shared/mapping.js';
import { objectIdOf } from '../../../shared/mapping.js';
import type { SyncMessage } from './messages.js';
import { zeroCounts, type SyncCounts } from './sync-counts.js';

/** The lease + checkpoint document of one tenant/mapping: at most one invocation works a mapping at a time. */
export interface SyncState {
  mappingId: string;
  status: 'idle' | 'running';
  runId: string | null;
  requestId: string | null;
  leaseId: string | null;
  leaseExpiresAt: number;
  pageToken: string | null;
  pageNo: number;
  counts: SyncCounts;
  lastRequestId: string | null;
  lastCompletedRunId: string | null;
  lastCompletedAt: string | null;
  updatedAt: string;
}

export type LeaseDecision =
  | { kind: 'acquired'; resumed: boolean; state: SyncState; updateTime: Timestamp }
  /** Nothing to do, ack the message. */
  | { kind: 'drop'; reason: string }
  /** Another invocation holds the lease on this very request: retry later, it may die before finishing. */
  | { kind: 'retry-later'; reason: string };

/**
 * What a run's end (finished or failed) writes to the lease fields of its state document: idle, and free for
 * the next request at once rather than at lease expiry. Google and Entra runs end the same way.
 */
export const ENDED_RUN_LEASE = { status: 'idle', leaseId: null, leaseExpiresAt: 0 } as const;

export function idleState(mappingId: string, now: number): SyncState {
  return {
    mappingId,
    status: 'idle',
    runId: null,
    requestId: null,
    leaseId: null,
    leaseExpiresAt: 0,
    pageToken: null,
    pageNo: 0,
    counts: zeroCounts(),
    lastRequestId: null,
    lastCompletedRunId: null,
    lastCompletedAt: null,
    updatedAt: new Date(now).toISOString(),
  };
}

/** A new run's history document; Google and Entra runs share the shape the API and console read. */
export function initialRunDoc(fields: {
  runId: string;
  tenantId: string;
  mappingId: string;
  mappingName: string;
  mappingVersion: number | null;
  entity: string;
  objectId: string;
  trigger: string;
  requestId: string;
  startedAt: string;
  [extra: string]: unknown;
}): Record<string, unknown> {
  return {
    ...fields,
    status: 'running',
    finishedAt: null,
    durationMs: null,
    counts: zeroCounts(),
    pages: 0,
    invocations: 1,
    apiRetries: 0,
    errors: [],
    removal: null,
  };
}

export function newRunId(now: number): string {
  // Sortable by start time, unique across instances.
  return `${new Date(now)
    .toISOString()
    .replace(/[-:.TZ]/g, '')
    .slice(0, 14)}-${randomUUID().slice(0, 8)}`;
}

/**
 * Decides, in one transaction, whether this message starts a run, resumes one, or is a duplicate. At-least-once
 * delivery means every outcome must be safe to see twice.
 */
export async function acquireLease(
  db: Firestore,
  msg: SyncMessage,
  mapping: Mapping,
  now: number,
  leaseMs: number,
): Promise<LeaseDecision> {
  const stateRef = db.doc(paths.syncState(msg.tenantId, msg.mappingId));
  const decision = await db.runTransaction(
    async (tx): Promise<LeaseDecision | { kind: 'ok'; resumed: boolean }> => {
      const snap = await tx.get(stateRef);
      const state = snap.exists ? (snap.data() as SyncState) : idleState(msg.mappingId, now);
      const leaseLive = state.leaseId !== null && state.leaseExpiresAt > now;
      const leaseId = randomUUID();

      if (state.status === 'running') {
        const sameRun = msg.runId === state.runId || msg.requestId === state.requestId;
        if (leaseLive) {
          return sameRun
            ? { kind: 'retry-later', reason: `run ${state.runId} is in progress on another invocation` }
            : {
                kind: 'drop',
                reason: `run ${state.runId} is already in progress; this request is covered by it`,
              };
        }
        if (msg.trigger === 'continuation' && msg.runId !== state.runId) {
          return { kind: 'drop', reason: `stale continuation for run ${msg.runId}` };
        }
        // The previous holder released the lease for a continuation, or died: pick up at its checkpoint.
        tx.update(stateRef, {
          leaseId,
          leaseExpiresAt: now + leaseMs,
          updatedAt: new Date(now).toISOString(),
        });
        tx.update(db.doc(paths.run(msg.tenantId, state.runId!)), { invocations: FieldValue.increment(1) });
        return { kind: 'ok', resumed: true };
      }

      if (msg.trigger === 'continuation')
        return { kind: 'drop', reason: `run ${msg.runId} already finished` };
      if (msg.requestId === state.lastRequestId) {
        return {
          kind: 'drop',
          reason: `request ${msg.requestId} was already synced (run ${state.lastCompletedRunId})`,
        };
      }
      const runId = msg.plannedRunId ?? newRunId(now);
      const next: SyncState = {
        ...state,
        status: 'running',
        runId,
        requestId: msg.requestId,
        leaseId,
        leaseExpiresAt: now + leaseMs,
        pageToken: null,
        pageNo: 0,
        counts: zeroCounts(),
        updatedAt: new Date(now).toISOString(),
      };
      tx.set(stateRef, next);
      tx.set(
        db.doc(paths.run(msg.tenantId, runId)),
        initialRunDoc({
          runId,
          tenantId: msg.tenantId,
          mappingId: msg.mappingId,
          mappingName: mapping.name,
          mappingVersion: mapping.version,
          entity: mapping.entity,
          objectId: objectIdOf(mapping.target),
          trigger: msg.trigger,
          requestId: msg.requestId,
          startedAt: new Date(now).toISOString(),
        }),
      );
      return { kind: 'ok', resumed: false };
    },
  );
  if (decision.kind !== 'ok') return decision;
  // Re-read for the update time: later checkpoint writes use it as a precondition, so a writer that lost its
  // lease to another invocation fails instead of overwriting newer progress.
  const snap = await stateRef.get();
  return {
    kind: 'acquired',
    resumed: decision.resumed,
    state: snap.data() as SyncState,
    updateTime: snap.updateTime!,
  };
}

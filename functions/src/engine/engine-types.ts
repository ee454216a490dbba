import type { SourceKind } from '../../../shared/entities.js';
import type { Mapping } from '../../../shared/mapping.js';
import type { Clock } from '../platform/clock.js';
import type { SyncConfig } from '../platform/config.js';
import type { Logger } from '../platform/log.js';
import type { Db as Firestore, Timestamp } from '../store/firestore.js';
import type { RequestBudget } from '../store/request-budget.js';
import type { HeldLease } from '../store/sync-state.js';
import type { PassKind } from './decisions.js';
import type { FirestoreMeter } from './firestore-meter.js';
import type { SyncMessage } from './messages.js';
import type { RecordSink } from './record-sink.js';
import type { Source } from './source.js';
import type { SyncCounts } from './sync-counts.js';
import type { NotifyDeps } from '../notifications/emit.js';

/** What the engine is given, what it answers, and the state of one run in one invocation. */

export interface EngineDeps {
  db: Firestore;
  config: SyncConfig;
  clock: Clock;
  log: Logger;
  sources: Record<SourceKind, Source>;
  publishSync(msg: SyncMessage): Promise<void>;
  /** The tenant's Directory request budget; by default shared across instances through Firestore. */
  requestBudgetFor?(tenantId: string): RequestBudget;
  /** Run outcomes and record changes for the tenant's webhook and email (functions/src/notifications). */
  notify?: NotifyDeps;
  /** Test seam to stop an invocation at a page boundary, as a crash or timeout would. */
  afterPageCommitted?(info: { runId: string; pageNo: number }): Promise<void> | void;
}

export type SyncOutcome =
  | { status: 'dropped'; reason: string }
  | { status: 'continued'; runId: string; pages: number }
  | {
      status: 'completed';
      runId: string;
      counts: SyncCounts;
      held: boolean;
      pass: PassKind;
      /** Kept for callers of the Entra sync before the engine was one. */
      fullSync: boolean;
      meter: ReturnType<FirestoreMeter['snapshot']>;
    }
  | { status: 'failed'; runId: string | null; reason: string };

/** Thrown to have Pub/Sub deliver the message again (transient trouble, or another invocation holds the lease). */
export class RetryLaterError extends Error {
  override name = 'RetryLaterError';
}

/** Firestore's answer to a write whose update-time precondition failed: another invocation took the lease. */
export class LeaseLostError extends Error {
  override name = 'LeaseLostError';
}

/** Restarts of a listing (expired page tokens, delta links) one invocation tolerates, per partition, before failing the run. */
export const MAX_LISTING_RESTARTS = 3;

/** Deliveries that take a run over without committing a page before the engine gives up on it. */
export const MAX_STALLED_DELIVERIES = 5;

export interface Run {
  deps: EngineDeps;
  log: Logger;
  msg: SyncMessage;
  mapping: Mapping;
  source: Source;
  lease: HeldLease;
  updateTime: Timestamp;
  pass: PassKind;
  cursor: string | null;
  pageNo: number;
  counts: SyncCounts;
  meter: FirestoreMeter;
  sink: RecordSink;
  startedAt: number;
  progress: { writtenAt: number; pendingRetries: number };
}

/**
 * A removal an incremental pass reported. `stored` is the record as an earlier page of this run wrote it, if one
 * did: a user restored on one page and deleted again on a later one has a record the index does not know yet,
 * and that record is removed (or, if held, indexed) like any other.
 */
export interface PendingRemoval {
  reason: string;
  stored?: string;
}

export function iso(run: Run): string {
  return new Date(run.deps.clock.now()).toISOString();
}

export function isPreconditionFailure(err: unknown): boolean {
  return (err as { code?: unknown } | null)?.code === 9;
}

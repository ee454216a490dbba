import type { Mapping } from '../../../shared/mapping.js';
import type { SourceKind } from '../../../shared/entities.js';
import type { RequestBudget } from '../store/request-budget.js';
import type { TenantDoc } from '../store/tenants.js';

/**
 * The port every identity or device source implements. A source only reads: it lists pages of objects from a
 * cursor and says what went wrong in the engine's terms. The engine (engine/engine.ts) owns everything else:
 * the lease, the run document, checkpoints, change detection, removals and their safety threshold, retries
 * and the tenant's request budget. Adding a source or an entity means implementing this, nothing more.
 */

/** One change as the source reports it; a page's changes are applied in this order. */
export type SourceChange =
  /** The object as it is now (the engine maps it with the mapping's field map and detects changes). */
  | { kind: 'upsert'; object: Record<string, unknown> }
  /** The source says this object is gone (Graph `@removed`, a push deletion). */
  | { kind: 'remove'; sourceId: string; reason: string };

export interface SourcePage {
  changes: SourceChange[];
  /** Where this pass goes on; null = this page ends the pass. */
  next: string | null;
  /**
   * On the page that ends a pass, where the next incremental pass starts (a Graph deltaLink); null or absent
   * for a source without incremental passes.
   */
  resumeCursor?: string | null;
}

/** Opened once per invocation for one mapping. */
export interface SourceReader {
  /**
   * A full pass lists every object in scope: `cursor` null is the first page. Objects the index holds and a
   * complete full pass did not return are removal candidates.
   */
  fullPage(cursor: string | null): Promise<SourcePage>;
  /** An incremental pass lists only changes since `cursor` (a previous pass's resumeCursor). */
  changesPage?(cursor: string): Promise<SourcePage>;
  /**
   * A full pass listed as disjoint partitions, concurrently (engine/partitioned-pass.ts). Called once, at the
   * start of a full pass; the keys are kept in the run's checkpoint, so they need not be stable across runs.
   * null: this listing is not partitioned (the engine walks fullPage). Every object in scope must be in at
   * least one partition at the time it is listed; an object in two is deduplicated.
   */
  partitions?(hint: {
    /** Records the mapping's last complete pass left (0 before its first): a source may not partition a small listing. */
    knownObjects: number;
  }): Promise<string[] | null>;
  /** One page of one partition: `cursor` null is its first page. Its `next` is that partition's page token. */
  partitionPage?(partition: string, cursor: string | null): Promise<SourcePage>;
  /**
   * The same partition walked from its other end: its pages list the partition's objects in exactly the
   * reverse of `partition`'s order (a sort on a unique key, both ways), so the two walks have covered the
   * whole partition once one of them lists an object the other has listed. null: not possible for this key.
   * Lets a large partition take half as many round trips one after another (engine/partitioned-pass.ts).
   */
  reversePartition?(partition: string): string | null;
  /** A stable identity of a listed object (the source's own id), for telling that two walks met. */
  objectKey?(object: Record<string, unknown>): string | null;
  /**
   * Reads objects by identifier value (the mapping's identifier, as in the record id) one by one: what a
   * partitioned pass did not return is checked here before it may be removed. Returns the objects that still
   * exist (in or out of scope), or null when some value cannot be checked this way (the engine then lists
   * everything sequentially instead).
   */
  recheck?(identifierValues: string[]): Promise<Array<Record<string, unknown>> | null>;
  /**
   * Where the next incremental pass starts after a partitioned full pass, which has no single last page to
   * carry a resumeCursor (a push-notified reader's notice position). Absent: null.
   */
  partitionedResumeCursor?(): string | null;
}

/** Why a source call failed, in the terms the engine acts on. */
export type SourceErrorKind =
  /** Throttled, unavailable, a network fault: the same call may succeed later. */
  | 'retry_later'
  /** The tenant's authorization is gone (revoked, expired, never given): stop until an admin reconnects. */
  | 'reauthorize'
  /** The authorizing admin may not read this entity: this mapping cannot sync, others may. */
  | 'not_permitted'
  /** The cursor is no longer valid (an expired page token or delta link): start the pass over. */
  | 'restart_listing'
  /** Anything else: the run fails with the reason. */
  | 'fatal';

export class SourceError extends Error {
  override name = 'SourceError';
  constructor(
    readonly kind: SourceErrorKind,
    message: string,
    /** For retry_later: how long the source asked us to wait (Retry-After), if it said. */
    readonly retryAfterMs?: number,
  ) {
    super(message);
  }
}

export interface OpenContext {
  /** The tenant's request budget across instances: acquire before each request to a quota-limited API. */
  budget: RequestBudget;
}

export interface Source {
  kind: SourceKind;
  /** Human name, for run documents and messages. */
  label: string;
  /** Whether the tenant has this source connected at all; a mapping of an unconnected source is not synced. */
  connected(tenant: TenantDoc): boolean;
  /** Why not, in words for the run log and the API. */
  whyNotConnected(tenant: TenantDoc): string;
  /** Why a record a complete full pass did not return is removed (the words may depend on the mapping's scope). */
  absentReason(mapping: Mapping): string;
  /** Whether its readers list changes since a cursor (then a run after a completed pass is incremental). */
  incremental?: boolean;
  /**
   * Incremental passes only for push-triggered runs: the change feed is notifications, which can be lost, so
   * scheduled and manual runs list in full and repair what a lost notification missed (Google users).
   */
  incrementalOnlyOnPush?: boolean;
  /** Throws SourceError ('reauthorize' when there is no usable credential). */
  open(tenantId: string, mapping: Mapping, tenant: TenantDoc, ctx: OpenContext): Promise<SourceReader>;
  /** What the source learns when the engine stops for re-authorization (marks the tenant or the connection). */
  markNeedsReauthorization(tenantId: string, reason: string): Promise<void>;
}

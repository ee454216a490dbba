import type { Db as Firestore } from '../store/firestore.js';
import type { Logger } from '../platform/log.js';
import {
  countEnabledMappings,
  pageEnabledMappings,
  type MappingRange,
  type MappingSummary,
} from '../store/mappings.js';
import { readTenant, readTenants } from '../store/tenants.js';
import { recordScheduledRuns } from '../store/tenant-settings.js';
import { tickTopicMessageSchema, type ShardMessage, type SyncMessage, type TickMessage } from './messages.js';
import { continuationCuts } from './tenant-key-space.js';
import { syncsOf, tenantSyncs, type ConnectedSources } from './tenant-syncs.js';
import { isScheduleDue, scheduleOfTenant } from './tenant-schedule.js';

export interface FanOutLimits {
  /** Enabled mappings one invocation reads and publishes: its bounded work. */
  shardMappings: number;
  /** Shards one full invocation cuts the rest of its range into at most. */
  maxShardsPerCut: number;
  /** Publishes in flight at once; the publisher batches them (platform/sync-publisher.ts). */
  publishConcurrency: number;
}

export const FAN_OUT_LIMITS: FanOutLimits = {
  // About 2-3 s of work in Cloud Functions (one query, batched tenant reads, batched publishes): far inside the
  // tick subscription's 60 s push deadline, and 1,000 tenants x 4 mappings in one invocation.
  shardMappings: 5000,
  maxShardsPerCut: 200,
  // A sync message is about 200 bytes: a thousand pending is little memory and keeps several batches going.
  publishConcurrency: 1000,
};

export interface FanOutDeps {
  db: Firestore;
  log: Logger;
  sources: ConnectedSources;
  publishSync(msg: SyncMessage): Promise<void>;
  /**
   * Publishes a shard on the tick topic, for another invocation to run. Without it the shards run here, one
   * after another: for tests and tools that want a whole tick in one call, never for the deployed function.
   */
  publishShard?(msg: ShardMessage): Promise<unknown>;
  limits?: Partial<FanOutLimits>;
  /** The clock for a tick that does not say when it was published (tests, tools). */
  now?: () => number;
}

export interface FanOutResult {
  /** Sync messages published. */
  published: number;
  /** Shards published (or run here, without publishShard). */
  shards: number;
}

/**
 * Everything the tick topic carries, in bounded work per invocation:
 * - a tick for one tenant (the "sync now" path, the initial sync) publishes that tenant's syncs;
 * - a scheduled tick is a shard over every tenant id;
 * - a shard reads one page (shardMappings) of its range's enabled mappings with one collection-group query and
 *   the tenants they belong to in batched reads, and publishes one sync message per mapping whose source the
 *   tenant has connected (engine/tenant-syncs.ts). When the page was full it counts what is left of its range
 *   and cuts it into shards of about a page each, placed by the page's own density of tenant ids
 *   (engine/tenant-key-space.ts), and publishes those on the tick topic.
 * A deployment with fewer enabled mappings than a page is done in the tick; 100,000 tenants take a tick and
 * about a hundred shards, each of a page.
 * Every request id is `job:tickId:mappingId`, with tickId the scheduled tick's message id whatever shard
 * published it: a redelivered tick or shard (even one cut differently, say after a mapping was added) asks
 * for runs the engine has already seen, and its request dedupe (store/sync-state.ts) drops them.
 *
 * Per-tenant schedules (engine/tenant-schedule.ts): Cloud Scheduler ticks every 15 minutes, and a scheduled tick
 * publishes only the syncs of tenants whose schedule is due at the tick's time (`tickAt`: the tick message's
 * publish time, carried by its shards, so a redelivery decides the same). Due is judged from the tenant
 * documents the shard reads anyway, so a schedule costs no read; the due tenants get `lastScheduledAt = tickAt`
 * in batched writes after their syncs are published. A failure before that write redelivers the message, which
 * publishes the same request ids again (dropped by the engine); after it, the tenants are no longer due.
 */
export async function fanOutTick(
  deps: FanOutDeps,
  payload: unknown,
  messageId: string,
  publishedAt?: number,
): Promise<FanOutResult> {
  const parsed = tickTopicMessageSchema.safeParse(payload);
  if (!parsed.success) {
    deps.log.warn('rejected malformed tick-topic message', {
      issues: parsed.error.issues.map((i) => i.message),
    });
    return { published: 0, shards: 0 };
  }
  const msg = parsed.data;
  if (msg.kind === 'tick' && msg.tenantId) return tickOneTenant(deps, msg, msg.tenantId, messageId);
  const tickAt = publishedAt ?? (deps.now ?? Date.now)();
  const shard: ShardMessage =
    msg.kind === 'shard' ? msg : { kind: 'shard', job: msg.job, tickId: messageId, from: '', tickAt };
  return dispatch(deps, msg, await runShard(deps, shard));
}

function limitsOf(deps: FanOutDeps): FanOutLimits {
  return { ...FAN_OUT_LIMITS, ...deps.limits };
}

function syncMessage(
  tick: { job: string; tickId: string },
  tenantId: string,
  mappingId: string,
  trigger: SyncMessage['trigger'],
): SyncMessage {
  return { kind: 'sync', tenantId, mappingId, requestId: `${tick.job}:${tick.tickId}:${mappingId}`, trigger };
}

async function tickOneTenant(
  deps: FanOutDeps,
  tick: TickMessage,
  tenantId: string,
  tickId: string,
): Promise<FanOutResult> {
  const tenant = await readTenant(deps.db, tenantId);
  const syncs = tenant ? await tenantSyncs(deps.db, tenantId, tenant, deps.sources) : [];
  const messages = syncs.map((m) => syncMessage({ job: tick.job, tickId }, tenantId, m.id, 'manual'));
  await forEachBounded(messages, limitsOf(deps).publishConcurrency, deps.publishSync);
  deps.log.info('tick fanned out', { job: tick.job, tickId, tenantId, published: messages.length });
  return { published: messages.length, shards: 0 };
}

interface ShardOutcome {
  published: number;
  /** What is left of the shard's range, when its page was full. */
  shards: ShardMessage[];
}

async function runShard(deps: FanOutDeps, shard: ShardMessage): Promise<ShardOutcome> {
  const limits = limitsOf(deps);
  const page = await pageEnabledMappings(deps.db, rangeOf(shard), limits.shardMappings);
  const byTenant = new Map<string, MappingSummary[]>();
  for (const m of page.mappings) byTenant.set(m.tenantId, [...(byTenant.get(m.tenantId) ?? []), m]);
  // Tenants in batches of TENANT_BATCH, a few batches at once; then every sync under one bound, so the publisher
  // fills its batches.
  const tenantIds = [...byTenant.keys()];
  const batches: string[][] = [];
  for (let i = 0; i < tenantIds.length; i += TENANT_BATCH) batches.push(tenantIds.slice(i, i + TENANT_BATCH));
  const messages: SyncMessage[] = [];
  const due: string[] = [];
  // A shard published before schedules were per tenant carries no tickAt: every tenant is due, as it was then.
  const tickAt = shard.tickAt;
  await forEachBounded(batches, BATCHES_AT_ONCE, async (batch) => {
    const tenants = await readTenants(deps.db, batch);
    for (const tenantId of batch) {
      const tenant = tenants.get(tenantId);
      if (!tenant) continue;
      if (tickAt !== undefined && !isScheduleDue(scheduleOfTenant(tenant), tickAt)) continue;
      due.push(tenantId);
      for (const m of syncsOf(tenant, byTenant.get(tenantId) ?? [], deps.sources))
        messages.push(syncMessage(shard, tenantId, m.id, 'schedule'));
    }
  });
  await forEachBounded(messages, limits.publishConcurrency, deps.publishSync);
  // A page holds whole tenants (store/mappings.ts), so each due tenant's syncs all went out above.
  if (tickAt !== undefined) await recordScheduledRuns(deps.db, due, tickAt);
  const published = messages.length;

  const rest: ShardMessage[] = [];
  const first = page.mappings[0];
  const last = page.mappings[page.mappings.length - 1];
  if (page.full && first && last) {
    const remainder: ShardMessage = { ...shard, from: last.tenantId, after: last.id };
    const left = await countEnabledMappings(deps.db, rangeOf(remainder));
    const parts = Math.min(limits.maxShardsPerCut, Math.ceil(left / limits.shardMappings));
    const cuts = parts > 1 ? continuationCuts(first.tenantId, last.tenantId, shard.to, parts) : [];
    const ends = [...cuts, shard.to];
    if (left > 0) rest.push({ ...remainder, ...bound(ends[0]) });
    cuts.forEach((cut, i) => rest.push({ ...withoutRange(shard), from: cut, ...bound(ends[i + 1]) }));
  }
  deps.log.info('shard fanned out', {
    job: shard.job,
    tickId: shard.tickId,
    from: shard.from,
    to: shard.to ?? null,
    mappings: page.mappings.length,
    dueTenants: due.length,
    published,
    shards: rest.length,
  });
  return { published, shards: rest };
}

const TENANT_BATCH = 100;
const BATCHES_AT_ONCE = 4;

function rangeOf(shard: ShardMessage): MappingRange {
  return {
    from: shard.from,
    ...(shard.after !== undefined ? { after: shard.after } : {}),
    ...(shard.to !== undefined ? { to: shard.to } : {}),
  };
}

function bound(to: string | undefined): { to?: string } {
  return to === undefined ? {} : { to };
}

function withoutRange(shard: ShardMessage): ShardMessage {
  const { after: _after, to: _to, ...rest } = shard;
  return rest;
}

/** Publishes the shards, or, without a shard publisher, runs them (and theirs) here. */
async function dispatch(
  deps: FanOutDeps,
  origin: TickMessage | ShardMessage,
  outcome: ShardOutcome,
): Promise<FanOutResult> {
  const { publishShard } = deps;
  if (publishShard) {
    await forEachBounded(outcome.shards, limitsOf(deps).publishConcurrency, (s) => publishShard(s));
    return { published: outcome.published, shards: outcome.shards.length };
  }
  let published = outcome.published;
  let shards = 0;
  const queue = [...outcome.shards];
  for (let shard = queue.shift(); shard; shard = queue.shift()) {
    shards++;
    const ran = await runShard(deps, shard);
    published += ran.published;
    queue.push(...ran.shards);
  }
  if (origin.kind === 'tick') deps.log.info('tick fanned out', { job: origin.job, shards, published });
  return { published, shards };
}

/**
 * Runs `fn` over `items` with at most `limit` calls pending: never a pile of 100,000 promises. The first
 * failure stops taking new items and is thrown once the pending ones settle (the message is then redelivered;
 * what was published already is dropped by the engine's request dedupe).
 */
export async function forEachBounded<T>(
  items: readonly T[],
  limit: number,
  fn: (item: T) => Promise<unknown>,
): Promise<void> {
  let next = 0;
  let failure: { error: unknown } | null = null;
  const worker = async () => {
    while (failure === null && next < items.length) {
      const item = items[next++]!;
      try {
        await fn(item);
      } catch (error) {
        failure ??= { error };
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  if (failure) throw (failure as { error: unknown }).error;
}

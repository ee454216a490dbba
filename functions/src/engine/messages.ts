import { z } from 'zod';
import { TENANT_ID_PATTERN } from '../store/tenants.js';

/** Pub/Sub payloads. Anything else on these topics is rejected (and acked, so it cannot loop). */
export const tickMessageSchema = z.strictObject({
  kind: z.literal('tick'),
  job: z.string().min(1).max(100),
  /** Restrict a tick to one tenant (the "sync now" webhook and the initial sync after connecting use it). */
  tenantId: z.string().regex(TENANT_ID_PATTERN).optional(),
});
export type TickMessage = z.infer<typeof tickMessageSchema>;

/**
 * A point of the tenant-id line (engine/tenant-key-space.ts): a tenant id, or a cut between two (a shared
 * prefix of up to 40 characters and up to 10 more).
 */
const tenantKey = z.string().regex(/^[a-z0-9-]{1,60}$/);

/**
 * A part of a scheduled tick (engine/fan-out.ts), published on the tick topic: the enabled mappings of tenants
 * with from <= id < to (after mapping `after` of tenant `from`, when set). `tickId` is the message id of the
 * tick it came from, which every request id it publishes carries.
 */
export const shardMessageSchema = z
  .strictObject({
    kind: z.literal('shard'),
    job: z.string().min(1).max(100),
    tickId: z.string().min(1).max(80),
    from: z.union([z.literal(''), tenantKey]),
    after: z
      .string()
      .regex(/^[^/]{1,100}$/)
      .optional(),
    to: tenantKey.optional(),
    /** The scheduled tick's time (epoch ms): tenants whose schedule is due then are synced (fan-out.ts). */
    tickAt: z.number().int().nonnegative().optional(),
  })
  .refine((m) => m.to === undefined || m.from < m.to, { message: 'an empty tenant range' })
  .refine((m) => m.after === undefined || m.from !== '', { message: '`after` names a mapping of `from`' });
export type ShardMessage = z.infer<typeof shardMessageSchema>;

/** What the tick topic carries: the scheduler's (or a webhook's) ticks, and the shards a tick is cut into. */
export const tickTopicMessageSchema = z.discriminatedUnion('kind', [tickMessageSchema, shardMessageSchema]);

/** 'push': a Google push notification named changed users (functions/src/push); its run is incremental. */
export const SYNC_TRIGGERS = ['schedule', 'manual', 'initial', 'continuation', 'push'] as const;

export const syncMessageSchema = z.strictObject({
  kind: z.literal('sync'),
  tenantId: z.string().regex(TENANT_ID_PATTERN),
  mappingId: z.string().min(1).max(100),
  /** Identifies the request that asked for a run; a redelivered request never starts a second run. */
  requestId: z.string().min(1).max(300),
  trigger: z.enum(SYNC_TRIGGERS),
  /** Set on continuations: the run to resume. */
  runId: z.string().min(1).max(100).optional(),
  /** The run id to use if this request starts a run: lets the refresh webhook answer with it right away. */
  plannedRunId: z
    .string()
    .regex(/^[A-Za-z0-9-]{8,100}$/)
    .optional(),
  /** An admin confirmed that a removal above the safety threshold is intended. */
  confirmRemovals: z.boolean().optional(),
  /** On push requests: when the notification was recorded (ms); a run that started after it covers it. */
  notifiedAt: z.number().int().nonnegative().optional(),
});
export type SyncMessage = z.infer<typeof syncMessageSchema>;

export function decodeJsonPayload(data: string | undefined): unknown {
  if (!data) return undefined;
  try {
    return JSON.parse(Buffer.from(data, 'base64').toString('utf8')) as unknown;
  } catch {
    return undefined;
  }
}

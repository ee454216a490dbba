import { z } from 'zod';
import { CronSyntaxError, describeCron, isValidTimeZone, nextCronTime } from '../../../infra/cron.js';

/**
 * A tenant's own sync schedule: a five-field cron in the tenant's IANA time zone, stored on the tenant document
 * as `schedule: {cron, timeZone, lastScheduledAt}` (store/tenant-settings.ts writes it). Cloud Scheduler only
 * ticks (every 15 minutes, shared/topology.ts); the fan-out (engine/fan-out.ts) starts a tenant's syncs at the
 * first tick at or after a due time of its schedule, i.e. when the schedule has a firing time after the last
 * scheduled run and not after the tick.
 */

/** Several times a day, as K12 Panel syncs: early morning, midday and evening, in the tenant's own zone. */
export const DEFAULT_SCHEDULE = { cron: '0 6,12,18 * * *', timeZone: 'Etc/UTC' } as const;

/** How often Cloud Scheduler ticks: due times closer together than this would run together anyway. */
export const TICK_MINUTES = 15;
/** The closest two scheduled runs may be: 24 a day at most, so a schedule cannot spend the tenant's quota. */
export const MIN_SCHEDULE_GAP_MINUTES = 60;

export const timeZoneSchema = z
  .string()
  .max(64)
  .refine(isValidTimeZone, 'must be an IANA time zone such as America/New_York or Etc/UTC');

export const cronSchema = z
  .string()
  .trim()
  .max(100)
  .superRefine((cron, ctx) => {
    try {
      describeCron(cron);
    } catch (err) {
      ctx.addIssue({ code: 'custom', message: err instanceof CronSyntaxError ? err.message : String(err) });
      return;
    }
    const gap = shortestGapMinutes(cron);
    if (gap === null) ctx.addIssue({ code: 'custom', message: 'this schedule never runs' });
    else if (gap < MIN_SCHEDULE_GAP_MINUTES)
      ctx.addIssue({
        code: 'custom',
        message: `runs must be at least ${MIN_SCHEDULE_GAP_MINUTES} minutes apart (24 a day at most); this one has runs ${gap} minutes apart`,
      });
  });

export const scheduleSchema = z.strictObject({ cron: cronSchema, timeZone: timeZoneSchema });
export type TenantSchedule = z.infer<typeof scheduleSchema>;

/** The shortest gap between the next 60 firings (UTC; a zone only moves them by whole DST hours), or null. */
function shortestGapMinutes(cron: string): number | null {
  let prev = nextCronTime(cron, new Date(Date.UTC(2026, 0, 1)));
  if (!prev) return null;
  let shortest = Infinity;
  for (let i = 0; i < 60; i++) {
    const next = nextCronTime(cron, prev);
    if (!next) break;
    shortest = Math.min(shortest, (next.getTime() - prev.getTime()) / 60_000);
    prev = next;
  }
  return shortest === Infinity ? 24 * 60 : shortest;
}

/** What the tenant document holds under `schedule`, leniently: anything invalid reads as the default. */
const storedScheduleSchema = z
  .object({
    // Absent until an owner sets a schedule: the fan-out records its runs of the default schedule too.
    cron: z.string().optional(),
    timeZone: z.string().optional(),
    /** Epoch ms of the tick that last started the tenant's scheduled syncs. */
    lastScheduledAt: z.number().int().nonnegative().optional(),
  })
  .loose();

export interface EffectiveSchedule extends TenantSchedule {
  lastScheduledAt: number | null;
  /** Whether the tenant set it (false: DEFAULT_SCHEDULE). */
  custom: boolean;
}

export function scheduleOfTenant(tenant: Record<string, unknown>): EffectiveSchedule {
  const stored = storedScheduleSchema.safeParse(tenant.schedule);
  const lastScheduledAt = stored.success ? (stored.data.lastScheduledAt ?? null) : null;
  const valid = stored.success
    ? scheduleSchema.safeParse({ cron: stored.data.cron, timeZone: stored.data.timeZone })
    : null;
  if (valid?.success) return { ...valid.data, lastScheduledAt, custom: true };
  return { ...DEFAULT_SCHEDULE, lastScheduledAt, custom: false };
}

/**
 * Whether a tick at `tickAt` starts the tenant's scheduled syncs: a firing time lies after its last scheduled run
 * and not after the tick. A tenant never run on schedule is due at once (it was connected, or existed, before
 * schedules were per tenant). Deterministic in `tickAt`, so a redelivered tick (same publish time) decides the
 * same, and after the run is recorded (lastScheduledAt = tickAt) finds nothing due.
 */
export function isScheduleDue(schedule: EffectiveSchedule, tickAt: number): boolean {
  if (schedule.lastScheduledAt === null) return true;
  if (schedule.lastScheduledAt >= tickAt) return false;
  const next = nextCronTime(schedule.cron, new Date(schedule.lastScheduledAt), schedule.timeZone);
  return next !== null && next.getTime() <= tickAt;
}

/** When the schedule next starts a sync: its next firing time, run by the first tick at or after it. */
export function nextScheduledRun(schedule: TenantSchedule, now: number): Date | null {
  return nextCronTime(schedule.cron, new Date(now), schedule.timeZone);
}

/** The schedule as the API shows it: with words and the next run. */
export function scheduleView(schedule: EffectiveSchedule, now: number, active: boolean) {
  const next = active ? nextScheduledRun(schedule, now) : null;
  return {
    cron: schedule.cron,
    timeZone: schedule.timeZone,
    description: describeCron(schedule.cron),
    custom: schedule.custom,
    nextRunAt: next ? next.toISOString() : null,
    lastScheduledAt:
      schedule.lastScheduledAt === null ? null : new Date(schedule.lastScheduledAt).toISOString(),
  };
}

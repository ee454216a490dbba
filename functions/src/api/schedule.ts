import { scheduleOfTenant, scheduleView } from '../engine/tenant-schedule.js';

/**
 * When the tenant's scheduled sync runs next, from its own schedule and time zone (engine/tenant-schedule.ts),
 * with the schedule in words (cronstrue, on the server: the console has no build step). Only active tenants are
 * picked up by the scheduled tick.
 */
export function tenantSchedule(tenant: Record<string, unknown>, status: string, now: number) {
  return scheduleView(scheduleOfTenant(tenant), now, status === 'active');
}

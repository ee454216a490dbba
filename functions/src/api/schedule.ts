import { SCHEDULER_JOBS } from '../../../shared/topology.js';
import { nextCronTime } from '../../../infra/cron.js';

/** When the scheduled sync of every active tenant runs next (the Cloud Scheduler tick job). */
export function syncSchedule(now: number): { cron: string; timeZone: string; nextRunAt: string | null } {
  const job = SCHEDULER_JOBS[0];
  if (!job) return { cron: '', timeZone: 'Etc/UTC', nextRunAt: null };
  const next = nextCronTime(job.schedule, new Date(now), job.timeZone);
  return { cron: job.schedule, timeZone: job.timeZone, nextRunAt: next ? next.toISOString() : null };
}

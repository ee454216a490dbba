import { Cron } from 'croner';
import cronstrue from 'cronstrue';

/**
 * Five-field unix-cron (minute hour day-of-month month day-of-week), the dialect Cloud Scheduler accepts, on kept
 * libraries: `croner` parses and steps through time zones, `cronstrue` describes an expression in words. What is
 * ours is only the contract the callers rely on: five fields (croner also takes seconds and years, which Cloud
 * Scheduler refuses), a named error, and "the next firing strictly after an instant".
 *
 * Daylight-saving changes are croner's (Vixie cron's rules): a fixed-time job (one minute, one hour, e.g.
 * `30 2 * * *`) whose time a spring-forward skips runs right after the gap, and runs once, at the first
 * occurrence, when fall-back repeats it; an interval job (a list, range, step or star in minute or hour) skips the
 * missing times and runs in both passes of a repeated hour.
 */

export type CronSchedule = Cron;

export class CronSyntaxError extends Error {
  constructor(expression: string, reason: string) {
    super(`invalid cron expression "${expression}": ${reason}`);
  }
}

/** Paused: croner only computes times here, it never runs a timer. */
function cronOf(expression: string, timeZone?: string): Cron {
  try {
    return new Cron(expression.trim(), {
      paused: true,
      mode: '5-part',
      ...(timeZone ? { timezone: timeZone } : {}),
    });
  } catch (err) {
    const reason = err instanceof Error ? err.message.replace(/^CronPattern: /, '') : String(err);
    throw new CronSyntaxError(expression, reason);
  }
}

export function parseCron(expression: string): CronSchedule {
  return cronOf(expression);
}

/** IANA names only (`Europe/Berlin`, `Etc/UTC`), as Cloud Scheduler wants them; no bare offsets. */
const IANA_NAME = /^[A-Za-z][A-Za-z0-9_+-]*(\/[A-Za-z0-9_+-]+){0,2}$/;

export function isValidTimeZone(timeZone: string): boolean {
  if (!IANA_NAME.test(timeZone)) return false;
  try {
    new Intl.DateTimeFormat('en-US', { timeZone });
    return true;
  } catch {
    return false;
  }
}

const MINUTE_MS = 60_000;

function patternOf(schedule: CronSchedule | string): string {
  return typeof schedule === 'string' ? schedule : (schedule.getPattern() ?? '');
}

/** The first firing minute strictly after `after` in `timeZone`, or null when the expression never fires. */
export function nextCronTime(
  schedule: CronSchedule | string,
  after: Date,
  timeZone = 'Etc/UTC',
): Date | null {
  return cronOf(patternOf(schedule), timeZone).nextRun(after);
}

/** Whether the minute containing `instant` is a firing time (real instants, so DST rules are croner's). */
export function cronMatches(schedule: CronSchedule | string, instant: Date, timeZone = 'Etc/UTC'): boolean {
  const minute = Math.floor(instant.getTime() / MINUTE_MS) * MINUTE_MS;
  return nextCronTime(schedule, new Date(minute - 1), timeZone)?.getTime() === minute;
}

/** The expression in words, 24-hour clock: "At 06:00, 12:00 and 18:00". */
export function describeCron(expression: string): string {
  cronOf(expression);
  return cronstrue.toString(expression.trim(), {
    use24HourTimeFormat: true,
    throwExceptionOnParseError: true,
  });
}

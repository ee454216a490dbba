import { describe, expect, it } from 'vitest';
import {
  CronSyntaxError,
  cronMatches,
  describeCron,
  isValidTimeZone,
  nextCronTime,
  parseCron,
} from '../../infra/cron.js';
import { SCHEDULER_JOBS } from '../../shared/topology.js';

const at = (iso: string) => new Date(iso);

describe('parseCron', () => {
  it('accepts the unix-cron forms Cloud Scheduler takes: stars, lists, ranges, steps and names', () => {
    expect(cronMatches('*/15 9-17/4 1,15 JAN-mar MON-FRI', at('2025-01-15T13:45:00Z'))).toBe(true);
    expect(cronMatches('*/15 9-17/4 1,15 JAN-mar MON-FRI', at('2025-01-15T14:45:00Z'))).toBe(false);
    // Day-of-week 7 is Sunday, as 0 is (2025-01-05 is a Sunday).
    expect(cronMatches('0 0 * * 7', at('2025-01-05T00:00:00Z'))).toBe(true);
  });

  it.each([
    ['* * * *', /five, six, or seven/],
    ['0 0 * * * *', /5-part/],
    ['60 * * * *', /minute: 60/],
    ['* 24 * * *', /hour/],
    ['* * 0 * *', /day/],
    ['* * * 13 *', /month/],
    ['a * * * *', /invalid cron expression/],
  ])('rejects %s', (expr, message) => {
    expect(() => parseCron(expr)).toThrow(CronSyntaxError);
    expect(() => parseCron(expr)).toThrow(message);
  });
});

describe('isValidTimeZone and describeCron', () => {
  it('takes IANA names only', () => {
    expect(isValidTimeZone('America/New_York')).toBe(true);
    expect(isValidTimeZone('Etc/UTC')).toBe(true);
    expect(isValidTimeZone('America/Argentina/Buenos_Aires')).toBe(true);
    expect(isValidTimeZone('Mars/Base')).toBe(false);
    expect(isValidTimeZone('+01:00')).toBe(false);
    expect(isValidTimeZone('')).toBe(false);
  });

  it('describes an expression in words, on a 24-hour clock', () => {
    expect(describeCron('0 6,12,18 * * *')).toBe('At 06:00, 12:00 and 18:00');
    expect(describeCron('*/15 * * * *')).toBe('Every 15 minutes');
    expect(() => describeCron('61 * * * *')).toThrow(CronSyntaxError);
  });
});

describe('cronMatches', () => {
  it('matches the topology tick schedule every quarter of an hour (UTC)', () => {
    const tick = SCHEDULER_JOBS[0]!;
    const fires = [];
    for (let m = 0; m < 24 * 60; m++) {
      const t = new Date(Date.UTC(2025, 0, 6, 0, m));
      if (cronMatches(tick.schedule, t, tick.timeZone)) fires.push(t.toISOString().slice(11, 16));
    }
    expect(fires).toHaveLength(96);
    expect(fires.slice(0, 5)).toEqual(['00:00', '00:15', '00:30', '00:45', '01:00']);
  });

  it('evaluates wall-clock time in the job time zone', () => {
    // 09:00 in Berlin is 08:00 UTC in winter and 07:00 UTC in summer.
    expect(cronMatches('0 9 * * *', at('2025-01-15T08:00:00Z'), 'Europe/Berlin')).toBe(true);
    expect(cronMatches('0 9 * * *', at('2025-01-15T09:00:00Z'), 'Europe/Berlin')).toBe(false);
    expect(cronMatches('0 9 * * *', at('2025-07-15T07:00:00Z'), 'Europe/Berlin')).toBe(true);
    // A half-hour offset, and a day-of-week that differs from the UTC one (Monday 04:30 IST = Sunday 23:00 UTC).
    expect(cronMatches('30 4 * * MON', at('2025-01-05T23:00:00Z'), 'Asia/Kolkata')).toBe(true);
    expect(cronMatches('30 4 * * MON', at('2025-01-05T23:00:00Z'), 'Etc/UTC')).toBe(false);
  });

  it('ignores seconds within the minute', () => {
    expect(cronMatches('5 * * * *', at('2025-03-01T10:05:59.999Z'))).toBe(true);
  });

  it('matches either day field when both are restricted, both when one is a star', () => {
    // 2025-06-13 is a Friday.
    expect(cronMatches('0 0 13 * FRI', at('2025-06-13T00:00:00Z'))).toBe(true);
    expect(cronMatches('0 0 1 * FRI', at('2025-06-13T00:00:00Z'))).toBe(true);
    expect(cronMatches('0 0 1 * MON', at('2025-06-13T00:00:00Z'))).toBe(false);
    expect(cronMatches('0 0 * * MON', at('2025-06-13T00:00:00Z'))).toBe(false);
    expect(cronMatches('0 0 */2 * *', at('2025-06-13T00:00:00Z'))).toBe(true);
  });

  it('on DST days, runs a fixed time after a skipped hour and once in a repeated one (Vixie cron, as croner)', () => {
    // Europe/Berlin springs from 02:00 to 03:00 on 2025-03-30 and falls back from 03:00 to 02:00 on 2025-10-26.
    const firings = (expr: string, from: number) => {
      const out: string[] = [];
      for (let m = 0; m < 6 * 60; m++) {
        const t = new Date(from + m * 60_000);
        if (cronMatches(expr, t, 'Europe/Berlin')) out.push(t.toISOString().slice(11, 16));
      }
      return out;
    };
    const spring = Date.UTC(2025, 2, 29, 22, 0);
    const fall = Date.UTC(2025, 9, 25, 22, 0);
    // 02:30 does not exist on the spring day: the job runs at 03:00 local (01:00 UTC).
    expect(firings('30 2 * * *', spring)).toEqual(['01:00']);
    // 02:30 happens twice on the fall day: once, at the first (00:30 UTC, still summer time).
    expect(firings('30 2 * * *', fall)).toEqual(['00:30']);
    // An interval job (a list of hours) skips the missing time and runs in both passes of the repeated one.
    expect(firings('30 2,4 * * *', spring)).toEqual(['02:30']);
    expect(firings('30 2,4 * * *', fall)).toEqual(['00:30', '01:30', '03:30']);
  });
});

describe('nextCronTime', () => {
  it('finds the next firing minute in a time zone', () => {
    expect(nextCronTime('0 5,9 * * *', at('2025-01-15T09:00:00Z'), 'America/New_York')?.toISOString()).toBe(
      '2025-01-15T10:00:00.000Z',
    );
    expect(nextCronTime('0 0 29 2 *', at('2025-03-01T00:00:00Z'), 'Etc/UTC')?.toISOString()).toBe(
      '2028-02-29T00:00:00.000Z',
    );
    expect(nextCronTime('0 0 30 2 *', at('2025-03-01T00:00:00Z'))).toBeNull();
    // Strictly after: a firing minute itself is not the next one.
    expect(nextCronTime('0 6 * * *', at('2026-03-08T11:00:00Z'), 'America/New_York')?.toISOString()).toBe(
      '2026-03-09T10:00:00.000Z',
    );
  });
});

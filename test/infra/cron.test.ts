import { describe, expect, it } from 'vitest';
import { CronSyntaxError, cronMatches, nextCronTime, parseCron } from '../../infra/cron.js';
import { SCHEDULER_JOBS } from '../../shared/topology.js';

const at = (iso: string) => new Date(iso);

describe('parseCron', () => {
  it('expands stars, lists, ranges and steps', () => {
    const c = parseCron('*/15 9-17/4 1,15 JAN-mar MON-FRI');
    expect([...c.minutes]).toEqual([0, 15, 30, 45]);
    expect([...c.hours]).toEqual([9, 13, 17]);
    expect([...c.daysOfMonth]).toEqual([1, 15]);
    expect([...c.months]).toEqual([1, 2, 3]);
    expect([...c.daysOfWeek]).toEqual([1, 2, 3, 4, 5]);
  });

  it('reads "a/n" as from a to the maximum, and folds day-of-week 7 into Sunday', () => {
    const c = parseCron('50/5 * * * 5-7');
    expect([...c.minutes]).toEqual([50, 55]);
    expect([...c.daysOfWeek].sort()).toEqual([0, 5, 6]);
  });

  it.each([
    ['* * * *', /expected 5 fields/],
    ['60 * * * *', /minute 60 is outside 0-59/],
    ['* 24 * * *', /hour 24/],
    ['* * 0 * *', /day-of-month 0/],
    ['* * * 13 *', /month 13/],
    ['*/0 * * * *', /step "0"/],
    ['5-1 * * * *', /reversed/],
    ['a * * * *', /"a" is not a valid minute/],
    ['1,,2 * * * *', /not a valid minute/],
  ])('rejects %s', (expr, message) => {
    expect(() => parseCron(expr)).toThrow(CronSyntaxError);
    expect(() => parseCron(expr)).toThrow(message);
  });
});

describe('cronMatches', () => {
  it('matches the topology tick schedule at its five daily passes (UTC)', () => {
    const tick = SCHEDULER_JOBS[0]!;
    const fires = [];
    for (let m = 0; m < 24 * 60; m++) {
      const t = new Date(Date.UTC(2025, 0, 6, 0, m));
      if (cronMatches(tick.schedule, t, tick.timeZone)) fires.push(t.toISOString().slice(11, 16));
    }
    expect(fires).toEqual(['05:00', '09:00', '12:00', '15:00', '19:00']);
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

  it('skips a wall-clock time that a DST jump removes, and fires twice in a repeated hour', () => {
    // Europe/Berlin springs from 02:00 to 03:00 on 2025-03-30 and falls back from 03:00 to 02:00 on 2025-10-26.
    let spring = 0;
    let fall = 0;
    for (let m = 0; m < 6 * 60; m++) {
      if (cronMatches('30 2 * * *', new Date(Date.UTC(2025, 2, 29, 22, m)), 'Europe/Berlin')) spring++;
      if (cronMatches('30 2 * * *', new Date(Date.UTC(2025, 9, 25, 22, m)), 'Europe/Berlin')) fall++;
    }
    expect(spring).toBe(0);
    expect(fall).toBe(2);
  });
});

describe('nextCronTime', () => {
  it('finds the next firing minute in a time zone', () => {
    expect(nextCronTime('0 5,9 * * *', at('2025-01-15T09:00:00Z'), 'America/New_York')?.toISOString()).toBe(
      '2025-01-15T10:00:00.000Z',
    );
    expect(nextCronTime('0 0 29 2 *', at('2025-03-01T00:00:00Z'), 'Etc/UTC', 1500)?.toISOString()).toBe(
      '2028-02-29T00:00:00.000Z',
    );
    expect(nextCronTime('0 0 30 2 *', at('2025-03-01T00:00:00Z'))).toBeNull();
  });
});

/**
 * A five-field unix-cron matcher (minute hour day-of-month month day-of-week), the dialect Cloud Scheduler
 * accepts, so the local scheduler fires a job at exactly the minutes the cloud one would.
 */

export interface CronSchedule {
  readonly expression: string;
  readonly minutes: ReadonlySet<number>;
  readonly hours: ReadonlySet<number>;
  readonly daysOfMonth: ReadonlySet<number>;
  readonly months: ReadonlySet<number>;
  /** 0 = Sunday; a 7 in the expression is folded into 0. */
  readonly daysOfWeek: ReadonlySet<number>;
  /** Whether the day fields were written as a restriction rather than starting with `*`. */
  readonly dayOfMonthRestricted: boolean;
  readonly dayOfWeekRestricted: boolean;
}

export class CronSyntaxError extends Error {
  constructor(expression: string, reason: string) {
    super(`invalid cron expression "${expression}": ${reason}`);
  }
}

interface FieldSpec {
  name: string;
  min: number;
  max: number;
  aliases?: readonly string[];
  aliasOffset?: number;
}

const MONTH_NAMES = [
  'JAN',
  'FEB',
  'MAR',
  'APR',
  'MAY',
  'JUN',
  'JUL',
  'AUG',
  'SEP',
  'OCT',
  'NOV',
  'DEC',
] as const;
const DAY_NAMES = ['SUN', 'MON', 'TUE', 'WED', 'THU', 'FRI', 'SAT'] as const;

const FIELDS: readonly FieldSpec[] = [
  { name: 'minute', min: 0, max: 59 },
  { name: 'hour', min: 0, max: 23 },
  { name: 'day-of-month', min: 1, max: 31 },
  { name: 'month', min: 1, max: 12, aliases: MONTH_NAMES, aliasOffset: 1 },
  { name: 'day-of-week', min: 0, max: 7, aliases: DAY_NAMES, aliasOffset: 0 },
];

function parseValue(raw: string, field: FieldSpec, expression: string): number {
  const alias = field.aliases?.indexOf(raw.toUpperCase() as never) ?? -1;
  if (alias >= 0) return alias + (field.aliasOffset ?? 0);
  if (!/^\d+$/.test(raw)) throw new CronSyntaxError(expression, `"${raw}" is not a valid ${field.name}`);
  const value = Number(raw);
  if (value < field.min || value > field.max) {
    throw new CronSyntaxError(expression, `${field.name} ${value} is outside ${field.min}-${field.max}`);
  }
  return value;
}

function parseField(text: string, field: FieldSpec, expression: string): Set<number> {
  const values = new Set<number>();
  for (const part of text.split(',')) {
    const [rangeText = '', stepText, extra] = part.split('/');
    if (extra !== undefined || rangeText === '') {
      throw new CronSyntaxError(expression, `"${part}" is not a valid ${field.name}`);
    }
    let step = 1;
    if (stepText !== undefined) {
      if (!/^\d+$/.test(stepText) || Number(stepText) === 0) {
        throw new CronSyntaxError(
          expression,
          `step "${stepText}" in ${field.name} must be a positive integer`,
        );
      }
      step = Number(stepText);
    }
    let from: number;
    let to: number;
    if (rangeText === '*') {
      from = field.min;
      to = field.max;
    } else if (rangeText.includes('-')) {
      const [a = '', b = '', more] = rangeText.split('-');
      if (more !== undefined) throw new CronSyntaxError(expression, `"${rangeText}" is not a valid range`);
      from = parseValue(a, field, expression);
      to = parseValue(b, field, expression);
      if (from > to) throw new CronSyntaxError(expression, `range ${rangeText} in ${field.name} is reversed`);
    } else {
      from = parseValue(rangeText, field, expression);
      // "5/15" means "from 5, every 15" up to the field's maximum, as in Vixie cron.
      to = stepText === undefined ? from : field.max;
    }
    for (let v = from; v <= to; v += step) values.add(v);
  }
  return values;
}

export function parseCron(expression: string): CronSchedule {
  const parts = expression.trim().split(/\s+/);
  if (parts.length !== FIELDS.length) {
    throw new CronSyntaxError(expression, `expected 5 fields, got ${parts.length}`);
  }
  const [minute, hour, dom, month, dow] = FIELDS.map((field, i) =>
    parseField(parts[i] ?? '', field, expression),
  );
  const daysOfWeek = new Set([...dow!].map((d) => d % 7));
  return {
    expression,
    minutes: minute!,
    hours: hour!,
    daysOfMonth: dom!,
    months: month!,
    daysOfWeek,
    dayOfMonthRestricted: !parts[2]!.startsWith('*'),
    dayOfWeekRestricted: !parts[4]!.startsWith('*'),
  };
}

/** Wall-clock fields of an instant in a time zone. */
export interface ZonedTime {
  year: number;
  month: number;
  day: number;
  hour: number;
  minute: number;
  dayOfWeek: number;
}

const formatters = new Map<string, Intl.DateTimeFormat>();
const WEEKDAYS: Record<string, number> = { Sun: 0, Mon: 1, Tue: 2, Wed: 3, Thu: 4, Fri: 5, Sat: 6 };

function formatterFor(timeZone: string): Intl.DateTimeFormat {
  let formatter = formatters.get(timeZone);
  if (!formatter) {
    formatter = new Intl.DateTimeFormat('en-US', {
      timeZone,
      hourCycle: 'h23',
      year: 'numeric',
      month: 'numeric',
      day: 'numeric',
      hour: 'numeric',
      minute: 'numeric',
      weekday: 'short',
    });
    formatters.set(timeZone, formatter);
  }
  return formatter;
}

export function isValidTimeZone(timeZone: string): boolean {
  try {
    formatterFor(timeZone);
    return true;
  } catch {
    return false;
  }
}

export function zonedTime(instant: Date, timeZone: string): ZonedTime {
  const parts: Record<string, string> = {};
  for (const p of formatterFor(timeZone).formatToParts(instant)) parts[p.type] = p.value;
  const dayOfWeek = WEEKDAYS[parts.weekday ?? ''];
  if (dayOfWeek === undefined)
    throw new Error(`cannot read the weekday of ${instant.toISOString()} in ${timeZone}`);
  return {
    year: Number(parts.year),
    month: Number(parts.month),
    day: Number(parts.day),
    hour: Number(parts.hour),
    minute: Number(parts.minute),
    dayOfWeek,
  };
}

/**
 * Whether the minute containing `instant` is a firing time. Evaluating real instants (not wall-clock
 * times) means a time skipped by a DST jump never fires and a repeated one fires twice, as the local
 * wall clock shows it.
 */
export function cronMatches(schedule: CronSchedule | string, instant: Date, timeZone = 'Etc/UTC'): boolean {
  const cron = typeof schedule === 'string' ? parseCron(schedule) : schedule;
  const t = zonedTime(instant, timeZone);
  if (!cron.minutes.has(t.minute) || !cron.hours.has(t.hour) || !cron.months.has(t.month)) return false;
  return dayMatchesOf(cron, t);
}

function dayMatchesOf(cron: CronSchedule, t: ZonedTime): boolean {
  const domMatch = cron.daysOfMonth.has(t.day);
  const dowMatch = cron.daysOfWeek.has(t.dayOfWeek);
  // Classic cron: when both day fields are restricted, either one matching is enough.
  if (cron.dayOfMonthRestricted && cron.dayOfWeekRestricted) return domMatch || dowMatch;
  return domMatch && dowMatch;
}

const MINUTE_MS = 60_000;

/** The first firing minute strictly after `after`, searching up to `horizonDays` ahead. */
export function nextCronTime(
  schedule: CronSchedule | string,
  after: Date,
  timeZone = 'Etc/UTC',
  horizonDays = 366,
): Date | null {
  const cron = typeof schedule === 'string' ? parseCron(schedule) : schedule;
  let t = Math.floor(after.getTime() / MINUTE_MS) * MINUTE_MS + MINUTE_MS;
  const end = t + horizonDays * 24 * 60 * MINUTE_MS;
  while (t < end) {
    const zoned = zonedTime(new Date(t), timeZone);
    const dayMatches = cron.months.has(zoned.month) && dayMatchesOf(cron, zoned);
    if (dayMatches && cron.hours.has(zoned.hour)) {
      if (cron.minutes.has(zoned.minute)) return new Date(t);
      t += MINUTE_MS;
    } else {
      // Jump to the next wall-clock hour; never further, as DST days are not 24 hours long.
      t += (60 - zoned.minute) * MINUTE_MS;
    }
  }
  return null;
}

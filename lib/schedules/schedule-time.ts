import { Cron } from 'croner';
import { isTimeZone } from '../util/time-zone.js';

/**
 * When a schedule fires: once at an instant, or on a five-field cron pattern read in a time zone
 * (so "every Monday 10:00" stays 10:00 local across daylight-saving changes).
 */
export type ScheduleWhen = { kind: 'once'; at: number } | { kind: 'cron'; cron: string; timeZone: string };

export type ScheduleTimeErrorCode = 'BAD_CRON' | 'BAD_TIME_ZONE' | 'BAD_TIME' | 'IN_THE_PAST' | 'TOO_FREQUENT';

/** A time the user gave that cannot be scheduled; `message` is shown to them. */
export class ScheduleTimeError extends Error {
  constructor(
    readonly code: ScheduleTimeErrorCode,
    message: string,
  ) {
    super(message);
    this.name = 'ScheduleTimeError';
  }
  static isInstance(error: unknown): error is ScheduleTimeError {
    return error instanceof ScheduleTimeError;
  }
}

/** Throws BAD_TIME_ZONE unless `timeZone` is an IANA zone this runtime knows. */
export function checkTimeZone(timeZone: string): string {
  if (isTimeZone(timeZone)) return timeZone;
  throw new ScheduleTimeError(
    'BAD_TIME_ZONE',
    `Unknown time zone "${timeZone}" (use an IANA name such as Asia/Shanghai)`,
  );
}

function cronFor(pattern: string, timeZone: string): Cron {
  if (pattern.trim().split(/\s+/).length !== 5) {
    throw new ScheduleTimeError(
      'BAD_CRON',
      `"${pattern}" is not a five-field cron pattern (minute hour day month weekday)`,
    );
  }
  try {
    return new Cron(pattern.trim(), { timezone: checkTimeZone(timeZone), paused: true });
  } catch (error) {
    if (ScheduleTimeError.isInstance(error)) throw error;
    throw new ScheduleTimeError('BAD_CRON', `"${pattern}" is not a cron pattern croner accepts`);
  }
}

/**
 * The first time `when` fires strictly after `after` (epoch ms), or null when it never will again
 * (a one-off already past).
 *
 * @example
 * nextRunAfter({ kind: 'cron', cron: '0 10 * * 1', timeZone: 'Europe/Berlin' }, Date.now());
 */
export function nextRunAfter(when: ScheduleWhen, after: number): number | null {
  if (when.kind === 'once') return when.at > after ? when.at : null;
  return cronFor(when.cron, when.timeZone).nextRun(new Date(after))?.getTime() ?? null;
}

/**
 * Checks a cron schedule before it is stored: a valid pattern and zone, firing at least once, and
 * never more often than every `minIntervalMs` (a reminder every minute is a spam machine).
 */
export function checkCron(
  cron: string,
  timeZone: string,
  { now, minIntervalMs }: { now: number; minIntervalMs: number },
) {
  const runs = cronFor(cron, timeZone).nextRuns(4, new Date(now));
  if (runs.length === 0) throw new ScheduleTimeError('BAD_CRON', `"${cron}" never fires`);
  for (let index = 1; index < runs.length; index += 1) {
    const gap = (runs[index] as Date).getTime() - (runs[index - 1] as Date).getTime();
    if (gap < minIntervalMs) {
      throw new ScheduleTimeError(
        'TOO_FREQUENT',
        `"${cron}" fires more often than every ${Math.round(minIntervalMs / 60_000)} minutes`,
      );
    }
  }
}

const LOCAL_DATE_TIME = /^(\d{4})-(\d{2})-(\d{2})[T ](\d{1,2}):(\d{2})$/;

/**
 * The instant of a wall-clock time in a zone, e.g. `2026-12-08 09:00` in Asia/Shanghai. A time a
 * daylight-saving change skips is moved past the gap; one it repeats is the first of the two.
 *
 * @example
 * localTimeToInstant('2026-12-08 09:00', 'Asia/Shanghai'); // Date.UTC(2026, 11, 8, 1, 0)
 */
export function localTimeToInstant(text: string, timeZone: string): number {
  const match = LOCAL_DATE_TIME.exec(text.trim());
  if (!match) throw new ScheduleTimeError('BAD_TIME', `"${text}" is not a date and time like 2026-12-08 09:00`);
  const [, year, month, day, hour, minute] = match;
  const iso = `${year}-${month}-${day}T${String(hour).padStart(2, '0')}:${minute}:00`;
  const probe = new Date(`${iso}Z`);
  if (Number.isNaN(probe.getTime()) || probe.toISOString().slice(0, 16) !== iso.slice(0, 16)) {
    throw new ScheduleTimeError('BAD_TIME', `"${text}" is not a real date and time`);
  }
  try {
    const instant = new Cron(iso, { timezone: checkTimeZone(timeZone), paused: true }).nextRun(new Date(0));
    if (instant) return instant.getTime();
  } catch (error) {
    if (ScheduleTimeError.isInstance(error)) throw error;
  }
  throw new ScheduleTimeError('BAD_TIME', `"${text}" is not a date and time like 2026-12-08 09:00`);
}

/** The calendar date `days` after the one `now` falls on in `timeZone`, as YYYY-MM-DD. */
export function localDate(now: number, timeZone: string, days = 0): string {
  const today = new Intl.DateTimeFormat('en-CA', {
    timeZone: checkTimeZone(timeZone),
    year: 'numeric',
    month: '2-digit',
    day: '2-digit',
  }).format(now);
  const shifted = new Date(`${today}T00:00:00Z`);
  shifted.setUTCDate(shifted.getUTCDate() + days);
  return shifted.toISOString().slice(0, 10);
}

/** `2026-12-08 09:00 (Asia/Shanghai)`: how a due time is shown to people. */
export function formatInZone(at: number, timeZone: string): string {
  const parts = new Intl.DateTimeFormat('en-CA', {
    timeZone,
    year: 'numeric',
    month: '2-digit',
    day: '2-digit',
    hour: '2-digit',
    minute: '2-digit',
    hourCycle: 'h23',
  }).formatToParts(at);
  const part = (type: Intl.DateTimeFormatPartTypes) => parts.find((each) => each.type === type)?.value ?? '';
  return `${part('year')}-${part('month')}-${part('day')} ${part('hour')}:${part('minute')} (${timeZone})`;
}

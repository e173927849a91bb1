/**
 * Days in a time zone, for daily budgets: which day a moment belongs to, and when that day ends.
 * Intl does the zone arithmetic (DST included), so no offset is ever hard-coded.
 */

function formatter(timeZone: string): Intl.DateTimeFormat {
  return new Intl.DateTimeFormat('en-CA', {
    timeZone,
    year: 'numeric',
    month: '2-digit',
    day: '2-digit',
    hour: '2-digit',
    minute: '2-digit',
    second: '2-digit',
    hourCycle: 'h23',
  });
}

const formatters = new Map<string, Intl.DateTimeFormat>();
/** One formatter per zone (building one costs far more than using it); zones are few. */
function cachedFormatter(timeZone: string): Intl.DateTimeFormat {
  let found = formatters.get(timeZone);
  if (found === undefined) {
    found = formatter(timeZone);
    if (formatters.size < 64) formatters.set(timeZone, found);
  }
  return found;
}

function localParts(
  at: number,
  timeZone: string,
): Record<'year' | 'month' | 'day' | 'hour' | 'minute' | 'second', number> {
  const parts: Record<string, number> = {};
  for (const part of cachedFormatter(timeZone).formatToParts(at)) {
    if (part.type !== 'literal') parts[part.type] = Number(part.value);
  }
  return {
    year: parts.year ?? 1970,
    month: parts.month ?? 1,
    day: parts.day ?? 1,
    hour: parts.hour ?? 0,
    minute: parts.minute ?? 0,
    second: parts.second ?? 0,
  };
}

/**
 * The calendar day of `at` in `timeZone`, as YYYY-MM-DD.
 *
 * @example
 * dayOf(Date.UTC(2026, 11, 6, 17), 'Asia/Shanghai'); // '2026-12-07' (01:00 there)
 */
export function dayOf(at: number, timeZone: string): string {
  const { year, month, day } = localParts(at, timeZone);
  return `${year}-${String(month).padStart(2, '0')}-${String(day).padStart(2, '0')}`;
}

/**
 * The first moment (ms) of the day after `at`'s day in `timeZone`: when a daily budget resets.
 *
 * @example
 * nextDayStart(Date.UTC(2026, 11, 6, 17), 'Asia/Shanghai'); // Date.UTC(2026, 11, 7, 16)
 */
export function nextDayStart(at: number, timeZone: string): number {
  const local = localParts(at, timeZone);
  // The zone's offset at `at`, then midnight of the next local day with that offset; a DST
  // change during the night moves the answer by the change, which the second pass corrects.
  const wallAsUtc = Date.UTC(local.year, local.month - 1, local.day, local.hour, local.minute, local.second);
  const offset = wallAsUtc - Math.floor(at / 1000) * 1000;
  let candidate = Date.UTC(local.year, local.month - 1, local.day + 1) - offset;
  const check = localParts(candidate, timeZone);
  const drift =
    Date.UTC(check.year, check.month - 1, check.day, check.hour, check.minute, check.second) -
    Date.UTC(local.year, local.month - 1, local.day + 1);
  candidate -= drift;
  return candidate;
}

/**
 * The `count` calendar days ending with `day` (YYYY-MM-DD), newest first: date arithmetic on the
 * calendar, so a 23- or 25-hour day of a zone never repeats or skips one.
 *
 * @example
 * daysUpTo('2026-03-01', 3); // ['2026-03-01', '2026-02-28', '2026-02-27']
 */
export function daysUpTo(day: string, count: number): string[] {
  const [year = 1970, month = 1, date = 1] = day.split('-').map(Number);
  return Array.from({ length: Math.max(0, count) }, (_, back) =>
    new Date(Date.UTC(year, month - 1, date - back)).toISOString().slice(0, 10),
  );
}

/** A time span in epoch milliseconds, end exclusive. */
export interface Interval {
  start: number;
  end: number;
}

const partsCache = new Map<string, Intl.DateTimeFormat>();

function formatter(timeZone: string): Intl.DateTimeFormat {
  let format = partsCache.get(timeZone);
  if (format === undefined) {
    format = new Intl.DateTimeFormat('en-GB', {
      timeZone,
      weekday: 'short',
      year: 'numeric',
      month: '2-digit',
      day: '2-digit',
      hour: '2-digit',
      minute: '2-digit',
      hour12: false,
    });
    if (partsCache.size < 50) partsCache.set(timeZone, format);
  }
  return format;
}

/** Weekday (0 = Sunday), hour and minute of `ms` in `timeZone`. */
export function localParts(ms: number, timeZone: string): { weekday: number; hour: number; minute: number } {
  const parts = Object.fromEntries(
    formatter(timeZone)
      .formatToParts(ms)
      .map((part) => [part.type, part.value]),
  );
  const weekday = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'].indexOf(parts.weekday ?? '');
  return { weekday, hour: Number(parts.hour) % 24, minute: Number(parts.minute) };
}

/** `Tue 2025-03-04 09:30` in `timeZone`. */
export function formatLocal(ms: number, timeZone: string): string {
  const parts = Object.fromEntries(
    formatter(timeZone)
      .formatToParts(ms)
      .map((part) => [part.type, part.value]),
  );
  return `${parts.weekday} ${parts.year}-${parts.month}-${parts.day} ${String(Number(parts.hour) % 24).padStart(2, '0')}:${parts.minute}`;
}

export interface CommonSlotOptions {
  /** Busy intervals per person. */
  busy: readonly (readonly Interval[])[];
  range: Interval;
  durationMs: number;
  /** Working hours in `timeZone`, e.g. 9 and 18; weekends are skipped. */
  workday: { startHour: number; endHour: number; timeZone: string };
  /** Slots returned at most. */
  max: number;
  /** Candidate starts are aligned to this step. Default 15 minutes. */
  stepMs?: number;
}

/**
 * The first free slots of `durationMs` that everyone has, inside working hours on weekdays,
 * each as long as the common free time there lasts (at least the duration). Pure.
 *
 * @example
 * commonFreeSlots({ busy: [[{ start, end }]], range, durationMs: 30 * 60_000, workday: { startHour: 9, endHour: 18, timeZone: 'Asia/Shanghai' }, max: 3 });
 */
export function commonFreeSlots({
  busy,
  range,
  durationMs,
  workday,
  max,
  stepMs = 15 * 60_000,
}: CommonSlotOptions): Interval[] {
  const all = busy.flat();
  const isFree = (start: number, end: number) =>
    all.every((interval) => interval.end <= start || interval.start >= end);
  const inWorkday = (ms: number, isEnd: boolean) => {
    const { weekday, hour, minute } = localParts(ms, workday.timeZone);
    if (weekday === 0 || weekday === 6) return false;
    const minutes = hour * 60 + minute;
    return isEnd
      ? minutes > workday.startHour * 60 && minutes <= workday.endHour * 60
      : minutes >= workday.startHour * 60 && minutes < workday.endHour * 60;
  };
  const fits = (start: number) =>
    start + durationMs <= range.end &&
    inWorkday(start, false) &&
    inWorkday(start + durationMs, true) &&
    localDay(start, workday.timeZone) === localDay(start + durationMs - 1, workday.timeZone) &&
    isFree(start, start + durationMs);
  const slots: Interval[] = [];
  let start = Math.ceil(range.start / stepMs) * stepMs;
  // Bounded: a fortnight at 15-minute steps is 1 344 candidates.
  for (let steps = 0; start + durationMs <= range.end && slots.length < max && steps < 20_000; steps++) {
    if (!fits(start)) {
      start += stepMs;
      continue;
    }
    let end = start + durationMs;
    while (end + stepMs <= range.end && fits(end + stepMs - durationMs) && isFree(start, end + stepMs)) end += stepMs;
    slots.push({ start, end });
    start = end + stepMs;
  }
  return slots;
}

function localDay(ms: number, timeZone: string): string {
  return formatLocal(ms, timeZone).slice(4, 14);
}

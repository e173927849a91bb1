import { describe, expect, it } from 'vitest';
import {
  checkCron,
  formatInZone,
  localDate,
  localTimeToInstant,
  nextRunAfter,
  ScheduleTimeError,
} from './schedule-time.js';

const codeOf = (run: () => unknown): string | undefined => {
  try {
    run();
  } catch (error) {
    return ScheduleTimeError.isInstance(error) ? error.code : 'not a ScheduleTimeError';
  }
  return undefined;
};

describe('nextRunAfter', () => {
  it('keeps a weekly local time across the spring daylight-saving change', () => {
    const weekly = { kind: 'cron' as const, cron: '0 10 * * 1', timeZone: 'Europe/Berlin' };
    // Monday 23 March 2026 10:00 CET is 09:00 UTC; Monday 30 March (after the change) 10:00 CEST is 08:00 UTC.
    const first = nextRunAfter(weekly, Date.UTC(2026, 2, 20));
    expect(first).toBe(Date.UTC(2026, 2, 23, 9));
    expect(nextRunAfter(weekly, first as number)).toBe(Date.UTC(2026, 2, 30, 8));
  });

  it('keeps a daily local time across the autumn change and is strictly after the given instant', () => {
    const daily = { kind: 'cron' as const, cron: '0 9 * * *', timeZone: 'America/New_York' };
    // 1 November 2026: New York falls back from EDT (UTC-4) to EST (UTC-5).
    expect(nextRunAfter(daily, Date.UTC(2026, 9, 31, 13))).toBe(Date.UTC(2026, 10, 1, 14));
    expect(nextRunAfter(daily, Date.UTC(2026, 9, 31, 12, 59))).toBe(Date.UTC(2026, 9, 31, 13));
  });

  it('fires a one-off once and then never', () => {
    const once = { kind: 'once' as const, at: 5_000 };
    expect(nextRunAfter(once, 4_999)).toBe(5_000);
    expect(nextRunAfter(once, 5_000)).toBeNull();
  });
});

describe('checkCron', () => {
  const now = Date.UTC(2026, 0, 1);
  it('accepts a weekly pattern and refuses bad, too frequent and seconds patterns with a code', () => {
    expect(() => checkCron('0 10 * * 1', 'Asia/Shanghai', { now, minIntervalMs: 300_000 })).not.toThrow();
    expect(codeOf(() => checkCron('* * * * *', 'UTC', { now, minIntervalMs: 300_000 }))).toBe('TOO_FREQUENT');
    expect(codeOf(() => checkCron('0 0 10 * * 1', 'UTC', { now, minIntervalMs: 300_000 }))).toBe('BAD_CRON');
    expect(codeOf(() => checkCron('every monday', 'UTC', { now, minIntervalMs: 1 }))).toBe('BAD_CRON');
    expect(codeOf(() => checkCron('0 70 * * *', 'UTC', { now, minIntervalMs: 1 }))).toBe('BAD_CRON');
    expect(codeOf(() => checkCron('0 10 * * 1', 'Mars/Base', { now, minIntervalMs: 1 }))).toBe('BAD_TIME_ZONE');
  });
});

describe('local times', () => {
  it('reads a wall-clock time in a zone', () => {
    expect(localTimeToInstant('2026-12-08 09:00', 'Asia/Shanghai')).toBe(Date.UTC(2026, 11, 8, 1));
    expect(localTimeToInstant('2026-07-01T9:30', 'Europe/Berlin')).toBe(Date.UTC(2026, 6, 1, 7, 30));
  });

  it('moves a time the spring change skips past the gap', () => {
    // 02:30 does not exist in Berlin on 29 March 2026; it becomes 03:30 CEST.
    expect(localTimeToInstant('2026-03-29 02:30', 'Europe/Berlin')).toBe(Date.UTC(2026, 2, 29, 1, 30));
  });

  it('refuses dates that do not exist and text that is not a time', () => {
    expect(codeOf(() => localTimeToInstant('2026-02-30 09:00', 'UTC'))).toBe('BAD_TIME');
    expect(codeOf(() => localTimeToInstant('tomorrow', 'UTC'))).toBe('BAD_TIME');
    expect(codeOf(() => localTimeToInstant('2026-12-08 25:00', 'UTC'))).toBe('BAD_TIME');
  });

  it('names today and tomorrow in the zone, not in UTC', () => {
    // 20:00 UTC on 7 December is already 8 December in Shanghai.
    const now = Date.UTC(2026, 11, 7, 20);
    expect(localDate(now, 'UTC')).toBe('2026-12-07');
    expect(localDate(now, 'Asia/Shanghai')).toBe('2026-12-08');
    expect(localDate(now, 'Asia/Shanghai', 1)).toBe('2026-12-09');
    expect(localDate(Date.UTC(2026, 11, 31, 20), 'Asia/Shanghai', 1)).toBe('2027-01-02');
  });

  it('formats a due time in its zone', () => {
    expect(formatInZone(Date.UTC(2026, 11, 8, 1), 'Asia/Shanghai')).toBe('2026-12-08 09:00 (Asia/Shanghai)');
  });
});

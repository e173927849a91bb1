import { describe, expect, it } from 'vitest';
import { dayOf, nextDayStart } from './budget-day.js';

describe('budget days', () => {
  it('puts a moment on the calendar day of the zone', () => {
    const at = Date.UTC(2026, 11, 6, 17, 30);
    expect(dayOf(at, 'UTC')).toBe('2026-12-06');
    expect(dayOf(at, 'Asia/Shanghai')).toBe('2026-12-07');
    expect(dayOf(at, 'America/Los_Angeles')).toBe('2026-12-06');
  });

  it('ends the day at the zone midnight', () => {
    expect(nextDayStart(Date.UTC(2026, 11, 6, 17, 30), 'Asia/Shanghai')).toBe(Date.UTC(2026, 11, 7, 16));
    expect(nextDayStart(Date.UTC(2026, 11, 6, 15, 59, 59, 999), 'Asia/Shanghai')).toBe(Date.UTC(2026, 11, 6, 16));
    expect(nextDayStart(Date.UTC(2026, 11, 6, 0, 0), 'UTC')).toBe(Date.UTC(2026, 11, 7));
  });

  it('follows a daylight-saving change during the night', () => {
    // New York springs forward on 2026-03-08 (UTC-5 → UTC-4) and falls back on 2026-11-01.
    expect(nextDayStart(Date.UTC(2026, 2, 7, 20), 'America/New_York')).toBe(Date.UTC(2026, 2, 8, 5));
    expect(nextDayStart(Date.UTC(2026, 2, 8, 12), 'America/New_York')).toBe(Date.UTC(2026, 2, 9, 4));
    expect(nextDayStart(Date.UTC(2026, 9, 31, 12), 'America/New_York')).toBe(Date.UTC(2026, 10, 1, 4));
    expect(nextDayStart(Date.UTC(2026, 10, 1, 12), 'America/New_York')).toBe(Date.UTC(2026, 10, 2, 5));
  });
});

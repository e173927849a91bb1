import { describe, expect, it } from 'vitest';
import { commonFreeSlots, formatLocal } from './calendar-time.js';

const at = (text: string) => Date.parse(text);
const workday = { startHour: 9, endHour: 18, timeZone: 'Asia/Shanghai' };

describe('commonFreeSlots', () => {
  it('finds the first common slots inside working hours, skipping busy times and weekends', () => {
    const slots = commonFreeSlots({
      busy: [
        [{ start: at('2026-03-06T09:00:00+08:00'), end: at('2026-03-06T12:00:00+08:00') }],
        [{ start: at('2026-03-06T13:00:00+08:00'), end: at('2026-03-06T17:30:00+08:00') }],
      ],
      range: { start: at('2026-03-06T08:00:00+08:00'), end: at('2026-03-10T00:00:00+08:00') },
      durationMs: 60 * 60_000,
      workday,
      max: 2,
    });
    // Friday 12:00–13:00 is free for both; the next is Monday 09:00 (the weekend is skipped).
    expect(
      slots.map((slot) => `${formatLocal(slot.start, 'Asia/Shanghai')}–${formatLocal(slot.end, 'Asia/Shanghai')}`),
    ).toEqual(['Fri 2026-03-06 12:00–Fri 2026-03-06 13:00', 'Mon 2026-03-09 09:00–Mon 2026-03-09 18:00']);
  });

  it('returns nothing when there is no room', () => {
    expect(
      commonFreeSlots({
        busy: [[{ start: at('2026-03-02T00:00:00+08:00'), end: at('2026-03-03T00:00:00+08:00') }]],
        range: { start: at('2026-03-02T09:00:00+08:00'), end: at('2026-03-02T18:00:00+08:00') },
        durationMs: 30 * 60_000,
        workday,
        max: 3,
      }),
    ).toEqual([]);
  });
});

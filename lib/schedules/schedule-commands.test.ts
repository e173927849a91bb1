import { describe, expect, it } from 'vitest';
import { openStore } from '../store/open-store.js';
import { parseRemind, runScheduleCommand } from './schedule-commands.js';
import { createScheduleService } from './schedule-service.js';

// Monday 7 December 2026, 20:00 UTC: already Tuesday 8 December 04:00 in Shanghai.
const now = Date.UTC(2026, 11, 7, 20);
const shanghai = { now, timeZone: 'Asia/Shanghai' };

describe('parseRemind', () => {
  it('reads relative, day-named and dated one-off times in the chat’s zone', () => {
    expect(parseRemind('in 30m Stand-up', shanghai)).toEqual({ when: { at: now + 30 * 60_000 }, text: 'Stand-up' });
    expect(parseRemind('in 2h to call Bob', shanghai)).toEqual({ when: { at: now + 7_200_000 }, text: 'call Bob' });
    // "tomorrow" is Shanghai's tomorrow (9 December), not UTC's.
    expect(parseRemind('tomorrow 9:00 to send the report', shanghai)).toEqual({
      when: { at: Date.UTC(2026, 11, 9, 1) },
      text: 'send the report',
    });
    expect(parseRemind('明天 09:30 交周报', shanghai)).toEqual({
      when: { at: Date.UTC(2026, 11, 9, 1, 30) },
      text: '交周报',
    });
    expect(parseRemind('2026-12-24 18:00 Party\nbring cake', shanghai)).toEqual({
      when: { at: Date.UTC(2026, 11, 24, 10) },
      text: 'Party\nbring cake',
    });
  });

  it('reads repeating forms as cron patterns', () => {
    expect(parseRemind('every monday 10:00 Plan the week', shanghai)).toEqual({
      when: { cron: '0 10 * * 1' },
      text: 'Plan the week',
    });
    expect(parseRemind('every weekday 9:05 Stand-up', shanghai)?.when).toEqual({ cron: '5 9 * * 1-5' });
    expect(parseRemind('every day 18:00 Go home', shanghai)?.when).toEqual({ cron: '0 18 * * *' });
    expect(parseRemind('cron 0 10 * * 1 Plan', shanghai)).toEqual({ when: { cron: '0 10 * * 1' }, text: 'Plan' });
  });

  it('answers undefined for words it does not know, and throws for an impossible time', () => {
    expect(parseRemind('sometime soon do it', shanghai)).toBeUndefined();
    expect(parseRemind('every fortnight 10:00 x', shanghai)).toBeUndefined();
    expect(parseRemind('', shanghai)).toBeUndefined();
    expect(() => parseRemind('every day 25:00 x', shanghai)).toThrow(/not a time of day/);
    expect(() => parseRemind('2026-02-30 09:00 x', shanghai)).toThrow(/not a real date/);
  });
});

describe('runScheduleCommand', () => {
  it('answers in the chat’s language, else in the language the person wrote in, with refusals worded too', async () => {
    const store = await openStore('sqlite::memory:');
    try {
      const service = createScheduleService({
        store,
        defaultTimeZone: 'Asia/Shanghai',
        maxPerChat: 1,
        minIntervalMs: 900_000,
        now: () => now,
      });
      const context = { service, target: { chatId: 'oc_zh', chatType: 'group' as const }, userId: 'ou_a' };
      expect(await runScheduleCommand('remind', '明天 09:30 交周报', context)).toMatch(
        /^⏰ 提醒已设置：下次 2026-12-09 09:30/,
      );
      expect(await runScheduleCommand('remind', 'tomorrow 9:00 more', context)).toMatch(/already has 1 schedules/);
      expect(await runScheduleCommand('remind', 'tomorrow 9:00 more', { ...context, language: 'zh' })).toBe(
        '本群的定时任务已达上限，请先取消一个（/schedules）。',
      );
      expect(await runScheduleCommand('schedules', '', { ...context, language: 'en' })).toMatch(
        /^\*\*Schedules in this chat\*\* \(1\)/,
      );
      expect(await runScheduleCommand('schedules', '', { ...context, language: 'zh' })).toMatch(
        /^\*\*本群的定时任务\*\*（1）/,
      );
    } finally {
      await store.close();
    }
  });
});

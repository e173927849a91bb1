import * as lark from '@larksuiteoapi/node-sdk';
import { describe, expect, it } from 'vitest';
import { useFakeFeishuPerTest } from './sdk-harness.js';

describe('fake Feishu calendar with the real lark SDK client', () => {
  const feishu = useFakeFeishuPerTest();

  it("serves the caller's primary calendar, its events in a range, and free/busy of several people", async () => {
    const { fake, client } = feishu();
    const start = Date.parse('2026-03-02T01:00:00Z');
    fake.seedCalendarEvent('ou_a', { summary: 'Standup', start, end: start + 1_800_000 });
    const asUser = lark.withUserAccessToken(fake.issueUserToken('ou_a'));
    const primary = await client.calendar.v4.calendar.primary({}, asUser);
    const calendarId = primary.data?.calendars?.[0]?.calendar?.calendar_id ?? '';
    expect(primary.data?.calendars?.[0]?.user_id).toBe('ou_a');
    const events = await client.calendar.v4.calendarEvent.list({
      path: { calendar_id: calendarId },
      params: { start_time: String(start / 1000 - 60), end_time: String(start / 1000 + 3600) },
    });
    expect(events.data?.items?.map((event) => event.summary)).toEqual(['Standup']);
    expect(events.data?.items?.[0]?.start_time.timestamp).toBe(String(start / 1000));
    const busy = await client.calendar.v4.freebusy.batch({
      data: { time_min: '2026-03-02T00:00:00Z', time_max: '2026-03-03T00:00:00Z', user_ids: ['ou_a', 'ou_b'] },
    });
    expect(busy.data?.freebusy_lists?.map((list) => list.freebusy_items?.length)).toEqual([1, 0]);
  });
});

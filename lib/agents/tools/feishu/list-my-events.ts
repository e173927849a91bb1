import { z } from 'zod';
import { checkTimeZone } from '../../../util/time-zone.js';
import { markdownTable } from '../markdown.js';
import { defineTool } from '../tool-definition.js';
import { ToolError } from '../tool-error.js';
import { itemsNote } from '../tool-result.js';
import { formatLocal } from './calendar-time.js';
import { primaryCalendarId } from './primary-calendar.js';
import { parseTime, readResponse } from './response.js';

const eventTime = z.looseObject({ date: z.string().optional(), timestamp: z.string().optional() });
const eventPage = z.object({
  items: z
    .array(
      z.looseObject({
        event_id: z.string(),
        summary: z.string().optional(),
        status: z.string().optional(),
        start_time: eventTime,
        end_time: eventTime,
        location: z.looseObject({ name: z.string().optional() }).optional(),
        vchat: z.looseObject({ meeting_url: z.string().optional() }).optional(),
      }),
    )
    .nullable()
    .default([]),
  has_more: z.boolean().optional(),
  page_token: z.string().optional(),
});

function when(time: z.output<typeof eventTime>, zone: string): { ms: number; text: string } {
  if (time.timestamp !== undefined) {
    const ms = Number(time.timestamp) * 1000;
    return { ms, text: formatLocal(ms, zone) };
  }
  const ms = Date.parse(time.date ?? '');
  return { ms, text: `${time.date ?? '?'} (all day)` };
}

/**
 * `listMyEvents`: the asking user's own calendar events in a range. Acts as the user: their
 * primary calendar is theirs only (`calendar.v4.calendar.primary` with their token).
 */
export const listMyEventsTool = defineTool({
  name: 'listMyEvents',
  description: "The asking user's Feishu calendar events between two times (their primary calendar), oldest first.",
  inputSchema: z.object({
    from: z.string().min(8).max(40).describe('Start, ISO 8601'),
    to: z.string().min(8).max(40).describe('End, ISO 8601; at most 31 days after the start'),
    timeZone: z.string().max(64).optional(),
  }),
  scopes: ['calendar:calendar:readonly'],
  access: 'read',
  identity: 'user',
  execute: async ({ from, to, timeZone }, { feishu, conversation, limits }) => {
    if (feishu === undefined) throw new ToolError('OTHER', 'no Feishu connection');
    const start = parseTime(from, 'from');
    const end = parseTime(to, 'to');
    if (end <= start || end - start > 31 * 86_400_000)
      throw new ToolError('BAD_INPUT', 'the range must span 1 minute to 31 days');
    const zone = checkTimeZone(timeZone ?? conversation.timeZone ?? 'Asia/Shanghai');
    const calendarId = await primaryCalendarId(feishu);
    const events: Array<z.output<typeof eventPage>['items'] extends (infer T)[] | null ? T : never> = [];
    let pageToken: string | undefined;
    let more = false;
    do {
      const body = await feishu.call('calendar.v4.calendarEvent.list', (options) =>
        feishu.client.calendar.v4.calendarEvent.list(
          {
            path: { calendar_id: calendarId },
            params: {
              start_time: String(Math.floor(start / 1000)),
              end_time: String(Math.floor(end / 1000)),
              page_size: 50,
              ...(pageToken ? { page_token: pageToken } : {}),
            },
          },
          options,
        ),
      );
      const data = readResponse(eventPage, body?.data, 'calendar.v4.calendarEvent.list');
      events.push(...(data.items ?? []).filter((event) => event.status !== 'cancelled'));
      more = data.has_more === true && Boolean(data.page_token);
      pageToken = data.page_token;
    } while (more && events.length < limits.maxItems);
    if (events.length === 0)
      return `No events between ${formatLocal(start, zone)} and ${formatLocal(end, zone)} (${zone}).`;
    const rows = events
      .map((event) => ({ event, start: when(event.start_time, zone), end: when(event.end_time, zone) }))
      .sort((a, b) => a.start.ms - b.start.ms)
      .slice(0, limits.maxItems)
      .map(({ event, start: begins, end: ends }) => [
        begins.text,
        ends.text,
        event.summary ?? '(no title)',
        event.location?.name ?? event.vchat?.meeting_url ?? '',
      ]);
    const table = markdownTable(['start', 'end', 'event', 'where'], rows, { before: `Times in ${zone}` });
    return more || events.length > rows.length ? `${table}\n${itemsNote(rows.length, undefined, 'events')}` : table;
  },
});

import { z } from 'zod';
import { checkTimeZone } from '../../../util/time-zone.js';
import { approvalTexts } from '../approval-texts.js';
import { defineTool } from '../tool-definition.js';
import { ToolError } from '../tool-error.js';
import { formatLocal } from './calendar-time.js';
import { changeKey } from './idempotency-key.js';
import { primaryCalendarId } from './primary-calendar.js';
import { isoDateTime, readResponse } from './response.js';

const created = z.object({
  event: z.looseObject({ event_id: z.string(), app_link: z.string().optional() }),
});

/**
 * `createCalendarEvent`: an event in the asking person's own primary calendar (their
 * authorization: a bot cannot write people's calendars), once they approved title and times.
 * The same approved event re-run sends the same `idempotency_key`.
 */
export const createCalendarEventTool = defineTool({
  name: 'createCalendarEvent',
  description:
    "Add an event to the asking person's own Feishu calendar: title, start, end (ISO 8601 with offset), optional description. The person is asked to approve first.",
  inputSchema: z.object({
    summary: z.string().trim().min(1).max(200).describe('The event title'),
    start: isoDateTime.describe('Start, ISO 8601 with offset'),
    end: isoDateTime.describe('End, ISO 8601 with offset'),
    description: z.string().trim().max(2000).optional(),
  }),
  scopes: ['calendar:calendar', 'calendar:calendar.event:create'],
  access: 'write',
  identity: 'user',
  approval: {
    describe: ({ summary, start, end, description }, language) => {
      const say = approvalTexts(language);
      return {
        action: say.createCalendarEvent.action,
        target: say.createCalendarEvent.target,
        fields: [
          { label: say.labels.title, value: summary },
          { label: say.labels.start, value: start },
          { label: say.labels.end, value: end },
          ...(description === undefined ? [] : [{ label: say.labels.description, value: description }]),
        ],
      };
    },
  },
  execute: async (event, { feishu, conversation }) => {
    if (feishu === undefined) throw new ToolError('OTHER', 'no Feishu connection');
    const start = Date.parse(event.start);
    const end = Date.parse(event.end);
    if (end <= start || end - start > 7 * 86_400_000)
      throw new ToolError('BAD_INPUT', 'the event must end after it starts, within 7 days');
    const calendarId = await primaryCalendarId(feishu);
    const body = await feishu.call('calendar.v4.calendarEvent.create', (options) =>
      feishu.client.calendar.v4.calendarEvent.create(
        {
          path: { calendar_id: calendarId },
          params: {
            idempotency_key: changeKey(conversation.traceId, 'createCalendarEvent', event),
            user_id_type: 'open_id',
          },
          data: {
            summary: event.summary,
            ...(event.description === undefined ? {} : { description: event.description }),
            start_time: { timestamp: String(Math.floor(start / 1000)) },
            end_time: { timestamp: String(Math.floor(end / 1000)) },
          },
        },
        options,
      ),
    );
    const made = readResponse(created, body?.data, 'calendar.v4.calendarEvent.create').event;
    const zone = checkTimeZone(conversation.timeZone ?? 'Asia/Shanghai');
    return [
      `Added "${event.summary}" to your calendar: ${formatLocal(start, zone)} – ${formatLocal(end, zone)} (${zone}).`,
      ...(made.app_link ? [`Link: ${made.app_link}`] : []),
    ].join('\n');
  },
});

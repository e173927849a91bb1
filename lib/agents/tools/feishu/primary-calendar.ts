import { z } from 'zod';
import type { FeishuAccess } from '../tool-definition.js';
import { ToolError } from '../tool-error.js';
import { readResponse } from './response.js';

const primary = z.object({
  calendars: z.array(z.looseObject({ calendar: z.looseObject({ calendar_id: z.string() }).optional() })).default([]),
});

/**
 * The caller's primary calendar id (`calendar.v4.calendar.primary`): the asking user's with their
 * token, the bot's with the app's.
 */
export async function primaryCalendarId(feishu: FeishuAccess): Promise<string> {
  const calendars = await feishu.call('calendar.v4.calendar.primary', (options) =>
    feishu.client.calendar.v4.calendar.primary({ params: { user_id_type: 'open_id' } }, options),
  );
  const calendarId = readResponse(primary, calendars?.data, 'calendar.v4.calendar.primary').calendars[0]?.calendar
    ?.calendar_id;
  if (calendarId === undefined) throw new ToolError('NOT_FOUND', 'no primary calendar');
  return calendarId;
}

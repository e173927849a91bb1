import { z } from 'zod';
import { checkTimeZone } from '../../../util/time-zone.js';
import { defineTool } from '../tool-definition.js';
import { ToolError } from '../tool-error.js';
import { formatLocal } from './calendar-time.js';
import { busyTimes, peopleInRange, readRange } from './free-busy.js';

/** `getFreeBusy`: when each of several people is busy in a time range (their calendars' free/busy). */
export const getFreeBusyTool = defineTool({
  name: 'getFreeBusy',
  description:
    'When several people are busy between two times, from their Feishu calendars (free/busy only, no event details). People are open_ids (ou_…); use findUser to get them from names.',
  inputSchema: z.object({
    ...peopleInRange,
    timeZone: z.string().max(64).optional().describe('IANA zone for showing times; default the chat’s'),
  }),
  scopes: ['calendar:calendar.free_busy:read'],
  access: 'read',
  identity: 'tenant',
  execute: async ({ people, from, to, timeZone }, { feishu, conversation }) => {
    if (feishu === undefined) throw new ToolError('OTHER', 'no Feishu connection');
    const range = readRange({ from, to });
    const zone = checkTimeZone(timeZone ?? conversation.timeZone ?? 'Asia/Shanghai');
    const busy = await busyTimes(feishu, people, range);
    return people
      .map((person, index) => {
        const intervals = busy[index] ?? [];
        if (intervals.length === 0) return `${person}: free the whole time`;
        const spans = intervals.map(
          (interval) => `${formatLocal(interval.start, zone)}–${formatLocal(interval.end, zone).slice(15)}`,
        );
        return `${person}: busy ${spans.join(', ')}`;
      })
      .join('\n')
      .concat(`\n(times in ${zone})`);
  },
});

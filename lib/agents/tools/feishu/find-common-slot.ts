import { z } from 'zod';
import { checkTimeZone } from '../../../util/time-zone.js';
import { defineTool } from '../tool-definition.js';
import { ToolError } from '../tool-error.js';
import { commonFreeSlots, formatLocal } from './calendar-time.js';
import { busyTimes, peopleInRange, readRange } from './free-busy.js';

/** `findCommonSlot`: the first times several people are all free for a meeting, in working hours. */
export const findCommonSlotTool = defineTool({
  name: 'findCommonSlot',
  description:
    'Find the first times when several people (open_ids) are all free for a meeting of a given length, on weekdays within working hours, from their Feishu calendars.',
  inputSchema: z.object({
    ...peopleInRange,
    durationMinutes: z.number().int().min(5).max(480).default(30),
    workdayStartHour: z.number().int().min(0).max(23).default(9),
    workdayEndHour: z.number().int().min(1).max(24).default(18),
    timeZone: z.string().max(64).optional().describe('IANA zone of the working hours; default the chat’s'),
  }),
  scopes: ['calendar:calendar.free_busy:read'],
  access: 'read',
  identity: 'tenant',
  execute: async (input, { feishu, conversation, limits }) => {
    if (feishu === undefined) throw new ToolError('OTHER', 'no Feishu connection');
    const range = readRange(input);
    if (input.workdayEndHour <= input.workdayStartHour)
      throw new ToolError('BAD_INPUT', 'the workday must end after it starts');
    const zone = checkTimeZone(input.timeZone ?? conversation.timeZone ?? 'Asia/Shanghai');
    const busy = await busyTimes(feishu, input.people, range);
    const slots = commonFreeSlots({
      busy,
      range,
      durationMs: input.durationMinutes * 60_000,
      workday: { startHour: input.workdayStartHour, endHour: input.workdayEndHour, timeZone: zone },
      max: Math.min(5, limits.maxItems),
    });
    if (slots.length === 0) {
      return `No common free ${input.durationMinutes}-minute slot for these ${input.people.length} people in that range (weekdays ${input.workdayStartHour}:00–${input.workdayEndHour}:00 ${zone}).`;
    }
    return [
      `Common free time for ${input.people.length} people (${zone}), each at least ${input.durationMinutes} minutes:`,
      ...slots.map((slot) => `- ${formatLocal(slot.start, zone)} – ${formatLocal(slot.end, zone).slice(15)}`),
    ].join('\n');
  },
});

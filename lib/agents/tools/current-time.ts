import { z } from 'zod';
import { defineTool } from './tool-definition.js';

/** The date and time `now` in `timeZone`, e.g. `Tuesday 4 March 2025 at 09:30 (Asia/Shanghai)`. */
export function formatNow(now: Date, timeZone: string): string {
  const text = new Intl.DateTimeFormat('en-GB', {
    timeZone,
    weekday: 'long',
    year: 'numeric',
    month: 'long',
    day: 'numeric',
    hour: '2-digit',
    minute: '2-digit',
    hour12: false,
  }).format(now);
  return `${text} (${timeZone})`;
}

/** `currentTime`: the exact time now in a time zone (the instructions carry the date already). */
export const currentTimeTool = defineTool({
  name: 'currentTime',
  description: 'The current date and time, optionally in a given IANA time zone such as Europe/Berlin.',
  inputSchema: z.object({ timeZone: z.string().max(64).optional() }),
  scopes: [],
  access: 'read',
  identity: 'none',
  execute: async ({ timeZone }, { conversation, now }) => {
    const zone = timeZone ?? conversation.timeZone ?? 'Asia/Shanghai';
    try {
      return formatNow(now(), zone);
    } catch {
      return `Unknown time zone "${zone}". ${formatNow(now(), 'UTC')}`;
    }
  },
});

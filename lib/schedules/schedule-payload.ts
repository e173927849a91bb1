import { z } from 'zod';
import { proactiveTarget } from './proactive-job.js';

/** What a stored schedule does and when, as the Store's `payload` of a schedule. */
export const schedulePayload = z.strictObject({
  when: z.discriminatedUnion('kind', [
    z.strictObject({ kind: z.literal('once'), at: z.number().int() }),
    z.strictObject({ kind: z.literal('cron'), cron: z.string().min(1).max(100), timeZone: z.string().max(64) }),
  ]),
  /** `remind`: post the text; `run`: the manager answers the text as a request. */
  action: z.enum(['remind', 'run']),
  text: z.string().min(1).max(2_000),
  target: proactiveTarget,
  /** The zone times are shown in (and a one-off was read in). */
  timeZone: z.string().max(64),
  createdBy: z.string().max(128).optional(),
});
export type SchedulePayload = z.infer<typeof schedulePayload>;

/** The scope a chat's schedules are counted, listed and cancelled in. */
export function scheduleScope(chatId: string): string {
  return `chat:${chatId}`;
}

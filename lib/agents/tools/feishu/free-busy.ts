import { z } from 'zod';
import type { FeishuAccess } from '../tool-definition.js';
import { ToolError } from '../tool-error.js';
import type { Interval } from './calendar-time.js';
import { parseTime, readResponse } from './response.js';

const batch = z.object({
  freebusy_lists: z
    .array(
      z.looseObject({
        user_id: z.string().optional(),
        freebusy_items: z
          .array(z.looseObject({ start_time: z.string(), end_time: z.string() }))
          .nullable()
          .default([]),
      }),
    )
    .nullable()
    .default([]),
});

/** People whose free/busy one call asks for at most. */
export const MAX_PEOPLE = 10;
/** The longest range one call looks at. */
const MAX_RANGE_MS = 14 * 86_400_000;

/** The input both free/busy tools take: who, and between which times. */
export const peopleInRange = {
  people: z
    .array(
      z
        .string()
        .trim()
        .regex(/^ou_[A-Za-z0-9]+$/),
    )
    .min(1)
    .max(MAX_PEOPLE)
    .describe('open_ids (ou_…); findUser gets them from names'),
  from: z.string().min(8).max(40).describe('Start, ISO 8601 with an offset, e.g. 2025-03-04T09:00:00+08:00'),
  to: z.string().min(8).max(40).describe('End, ISO 8601; at most 14 days after the start'),
};

/** The range a model asked for, checked: it must end after it starts and span at most 14 days. */
export function readRange({ from, to }: { from: string; to: string }): Interval {
  const range = { start: parseTime(from, 'from'), end: parseTime(to, 'to') };
  if (range.end <= range.start || range.end - range.start > MAX_RANGE_MS) {
    throw new ToolError('BAD_INPUT', 'the range must end after it starts and span at most 14 days');
  }
  return range;
}

/**
 * Busy intervals of each person (open_ids) in `range`, from `calendar.v4.freebusy.batch`, in the
 * order asked for. Times Feishu cannot parse are skipped.
 */
export async function busyTimes(
  feishu: FeishuAccess,
  people: readonly string[],
  range: Interval,
): Promise<Interval[][]> {
  const body = await feishu.call('calendar.v4.freebusy.batch', (options) =>
    feishu.client.calendar.v4.freebusy.batch(
      {
        data: {
          time_min: new Date(range.start).toISOString(),
          time_max: new Date(range.end).toISOString(),
          user_ids: [...people],
          include_external_calendar: true,
          only_busy: true,
        },
        params: { user_id_type: 'open_id' },
      },
      options,
    ),
  );
  const lists = readResponse(batch, body?.data, 'calendar.v4.freebusy.batch').freebusy_lists ?? [];
  return people.map((person) => {
    const list = lists.find((entry) => entry.user_id === person);
    return (list?.freebusy_items ?? [])
      .map((item) => ({ start: Date.parse(item.start_time), end: Date.parse(item.end_time) }))
      .filter((interval) => Number.isFinite(interval.start) && Number.isFinite(interval.end));
  });
}

import { z } from 'zod';
import type { FeishuAccess } from '../tool-definition.js';
import type { Interval } from './calendar-time.js';
import { readResponse } from './response.js';

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

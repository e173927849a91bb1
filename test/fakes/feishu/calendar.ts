import { defineFeishuArea, type FakeFeishu } from './core.js';
import { page } from './paging.js';
import { fail, ok } from './reply.js';
import { hex } from './util.js';

/**
 * Calendars: `POST /open-apis/calendar/v4/calendars/primary` (the caller's primary calendar: the
 * user's with a user token, the bot's with the tenant token), `GET …/calendars/:calendar_id/events`
 * (`start_time`/`end_time` in Unix seconds, page_size ≤ 1000) and `POST …/freebusy/batch`
 * (`time_min`/`time_max` RFC 3339, `user_ids`), shaped as the SDK's `calendar.v4` types. Busy
 * times come from the seeded events of each person.
 */

declare module './core.js' {
  interface FeishuApis {
    'calendar.calendar.primary': true;
    'calendar.calendarEvent.list': true;
    'calendar.freebusy.batch': true;
    'calendar.calendarEvent.create': true;
  }
  interface FakeFeishu {
    /** Puts an event in `openId`'s primary calendar (times in epoch ms). */
    seedCalendarEvent(
      openId: string,
      event: { summary: string; start: number; end: number; location?: string },
    ): string;
  }
}

export const CALENDAR_CODES = {
  /** The fake's pick for an unknown calendar (docs list several not-found codes). */
  calendarNotFound: 191002,
  /** The fake's pick for invalid times (docs: invalid parameters). */
  calendarInvalidParameter: 190002,
  /** The fake's pick for writing a calendar the caller does not own. */
  calendarNoPermission: 190003,
} as const;

interface Event {
  eventId: string;
  summary: string;
  start: number;
  end: number;
  location?: string;
}

const calendarIdOf = (openId: string) => `feishu.cn_${openId}@group.calendar.feishu.cn`;

export const calendarArea = defineFeishuArea({
  name: 'calendar',
  codes: CALENDAR_CODES,
  install(core): Pick<FakeFeishu, 'seedCalendarEvent'> {
    const byCalendar = new Map<string, Event[]>();
    core.onReset(() => byCalendar.clear());

    core.route({
      api: 'calendar.calendar.primary',
      method: 'POST',
      path: '/open-apis/calendar/v4/calendars/primary',
      handle({ caller }) {
        const owner = caller.kind === 'user' ? caller.openId : core.botOpenId;
        return ok({
          calendars: [
            {
              calendar: {
                calendar_id: calendarIdOf(owner),
                summary: 'Primary',
                permissions: 'private',
                type: 'primary',
                role: 'owner',
                is_deleted: false,
                is_third_party: false,
              },
              user_id: owner,
            },
          ],
        });
      },
    });
    // POST …/calendars/:calendar_id/events: only into the caller's own primary calendar (the
    // user's with a user token, the bot's with the app's); `start_time` / `end_time` timestamps in
    // seconds; `idempotency_key` makes a repeat return the first event.
    const byKey = new Map<string, string>();
    core.onReset(() => byKey.clear());
    core.route({
      api: 'calendar.calendarEvent.create',
      method: 'POST',
      path: '/open-apis/calendar/v4/calendars/:calendar_id/events',
      handle({ params, query, body, caller }) {
        const owner = caller.kind === 'user' ? caller.openId : core.botOpenId;
        if (params.calendar_id !== calendarIdOf(owner)) {
          return fail(CALENDAR_CODES.calendarNoPermission, 'no permission to write this calendar');
        }
        const seconds = (value: unknown) => Number((value as { timestamp?: unknown } | undefined)?.timestamp);
        const start = seconds(body.start_time) * 1000;
        const end = seconds(body.end_time) * 1000;
        if (!Number.isFinite(start) || !Number.isFinite(end) || end <= start) {
          return fail(CALENDAR_CODES.calendarInvalidParameter, 'invalid start_time / end_time');
        }
        const events = byCalendar.get(params.calendar_id) ?? [];
        byCalendar.set(params.calendar_id, events);
        const key = query.idempotency_key === undefined ? undefined : `${params.calendar_id}:${query.idempotency_key}`;
        let event = events.find((candidate) => candidate.eventId === (key === undefined ? undefined : byKey.get(key)));
        if (event === undefined) {
          event = {
            eventId: `${hex(8)}-${hex(4)}-${hex(4)}-${hex(4)}-${hex(12)}_0`,
            summary: typeof body.summary === 'string' ? body.summary : '',
            start,
            end,
          };
          events.push(event);
          if (key !== undefined) byKey.set(key, event.eventId);
        }
        return ok({
          event: {
            event_id: event.eventId,
            organizer_calendar_id: params.calendar_id,
            summary: event.summary,
            start_time: { timestamp: String(Math.floor(event.start / 1000)) },
            end_time: { timestamp: String(Math.floor(event.end / 1000)) },
            status: 'confirmed',
            app_link: `https://applink.feishu.cn/client/calendar/event/detail?eventId=${event.eventId}`,
          },
        });
      },
    });
    core.route({
      api: 'calendar.calendarEvent.list',
      method: 'GET',
      path: '/open-apis/calendar/v4/calendars/:calendar_id/events',
      handle({ params, query }) {
        const events = byCalendar.get(params.calendar_id ?? '');
        if (events === undefined) return fail(CALENDAR_CODES.calendarNotFound, 'calendar not found');
        const from = Number(query.start_time ?? 0) * 1000;
        const to = query.end_time === undefined ? Number.POSITIVE_INFINITY : Number(query.end_time) * 1000;
        if (!Number.isFinite(from)) return fail(CALENDAR_CODES.calendarInvalidParameter, 'invalid start_time');
        const inRange = events.filter((event) => event.end > from && event.start < to);
        const { items, has_more, page_token } = page(inRange, query, 1000, 50);
        return ok({
          has_more,
          ...(page_token ? { page_token } : {}),
          items: items.map((event) => ({
            event_id: event.eventId,
            organizer_calendar_id: params.calendar_id,
            summary: event.summary,
            description: '',
            start_time: { timestamp: String(Math.floor(event.start / 1000)), timezone: 'Asia/Shanghai' },
            end_time: { timestamp: String(Math.floor(event.end / 1000)), timezone: 'Asia/Shanghai' },
            visibility: 'default',
            status: 'confirmed',
            ...(event.location ? { location: { name: event.location } } : {}),
          })),
        });
      },
    });
    core.route({
      api: 'calendar.freebusy.batch',
      method: 'POST',
      path: '/open-apis/calendar/v4/freebusy/batch',
      handle({ body }) {
        const from = Date.parse(String(body.time_min ?? ''));
        const to = Date.parse(String(body.time_max ?? ''));
        const users = Array.isArray(body.user_ids)
          ? body.user_ids.filter((id): id is string => typeof id === 'string')
          : [];
        if (!Number.isFinite(from) || !Number.isFinite(to) || users.length === 0 || users.length > 10) {
          return fail(CALENDAR_CODES.calendarInvalidParameter, 'invalid time_min, time_max or user_ids');
        }
        return ok({
          freebusy_lists: users.map((user) => ({
            user_id: user,
            freebusy_items: (byCalendar.get(calendarIdOf(user)) ?? [])
              .filter((event) => event.end > from && event.start < to)
              .map((event) => ({
                start_time: new Date(event.start).toISOString().replace('.000Z', '+00:00'),
                end_time: new Date(event.end).toISOString().replace('.000Z', '+00:00'),
              })),
          })),
        });
      },
    });
    return {
      seedCalendarEvent(openId, event) {
        const calendarId = calendarIdOf(openId);
        const events = byCalendar.get(calendarId) ?? [];
        const eventId = `${hex(8)}_0`;
        events.push({ eventId, ...event });
        byCalendar.set(calendarId, events);
        return eventId;
      },
    };
  },
});

import { randomBytes } from 'node:crypto';
import type { Schedule, Store } from '../store/store.js';
import type { ProactiveTarget } from './proactive-job.js';
import { type SchedulePayload, schedulePayload, scheduleScope } from './schedule-payload.js';
import { checkCron, checkTimeZone, formatInZone, nextRunAfter, ScheduleTimeError } from './schedule-time.js';

/** Where a chat's own time zone is kept (`/schedules timezone …`). */
const TIME_ZONE_COLLECTION = 'schedule-time-zones';
/** Chats with a time zone of their own, at most (the oldest setting is forgotten past it). */
const MAX_TIME_ZONES = 100_000;

export interface NewScheduleRequest {
  target: ProactiveTarget;
  /** One-off instant (epoch ms) or a five-field cron pattern, read in `timeZone`. */
  when: { at: number } | { cron: string };
  action: SchedulePayload['action'];
  text: string;
  /** Default: the chat's zone, else the configured default. */
  timeZone?: string | undefined;
  createdBy?: string | undefined;
}

/** What people see of a schedule: its id, what it does, its next time in its zone. */
export interface ScheduleView {
  id: string;
  action: SchedulePayload['action'];
  text: string;
  /** `once` or the cron pattern. */
  repeat: string;
  next: string;
  timeZone: string;
  /** The newest run, e.g. `ran 2026-12-07 10:00 (Asia/Shanghai)`, when there was one. */
  lastRun?: string;
}

export type ScheduleServiceErrorCode = 'SCHEDULE_LIMIT' | 'TEXT_TOO_LONG' | 'EMPTY_TEXT';

/** A request the service refuses for a reason the user can fix; `message` is shown to them. */
export class ScheduleServiceError extends Error {
  constructor(
    readonly code: ScheduleServiceErrorCode,
    message: string,
  ) {
    super(message);
    this.name = 'ScheduleServiceError';
  }
}

export interface ScheduleServiceOptions {
  store: Store;
  /** Zone for chats that set none (SCHEDULE_TIME_ZONE). */
  defaultTimeZone: string;
  /** Schedules per chat at most (SCHEDULES_PER_CHAT). */
  maxPerChat: number;
  /** A cron schedule may not fire more often than this. */
  minIntervalMs: number;
  maxTextChars?: number;
  now?: () => number;
}

export interface ScheduleService {
  /** Stores a schedule; throws ScheduleTimeError or ScheduleServiceError with a message for the user. */
  create(request: NewScheduleRequest): Promise<ScheduleView>;
  list(chatId: string, limit?: number): Promise<ScheduleView[]>;
  cancel(chatId: string, id: string): Promise<boolean>;
  /** Cancels every schedule of a chat (the bot left it); returns how many. */
  forgetChat(chatId: string): Promise<number>;
  timeZoneOf(chatId: string): Promise<string>;
  setTimeZone(chatId: string, timeZone: string): Promise<void>;
  readonly maxPerChat: number;
  /** The clock schedules are read by ("in 30m" counts from it). */
  now(): number;
}

/**
 * Creating, listing and cancelling a chat's schedules, shared by the `/remind` and `/schedules`
 * commands and the manager's schedule tools, so both check the same limits the same way.
 *
 * @example
 * const service = createScheduleService({ store, defaultTimeZone: 'Asia/Shanghai', maxPerChat: 20, minIntervalMs: 900_000 });
 * await service.create({ target, when: { cron: '0 10 * * 1' }, action: 'run', text: "Summarize this chat's week" });
 */
export function createScheduleService({
  store,
  defaultTimeZone,
  maxPerChat,
  minIntervalMs,
  maxTextChars = 2_000,
  now = Date.now,
}: ScheduleServiceOptions): ScheduleService {
  async function timeZoneOf(chatId: string): Promise<string> {
    const stored = await store.getRecord(TIME_ZONE_COLLECTION, chatId);
    return typeof stored === 'string' ? stored : defaultTimeZone;
  }

  return {
    maxPerChat,
    timeZoneOf,
    now,

    async setTimeZone(chatId, timeZone) {
      await store.putRecord(TIME_ZONE_COLLECTION, chatId, checkTimeZone(timeZone), MAX_TIME_ZONES);
    },

    async create({ target, when, action, text, timeZone, createdBy }) {
      const trimmed = text.trim();
      if (trimmed === '') throw new ScheduleServiceError('EMPTY_TEXT', 'Say what the schedule should do.');
      if (trimmed.length > maxTextChars) {
        throw new ScheduleServiceError('TEXT_TOO_LONG', `Keep it under ${maxTextChars} characters.`);
      }
      const zone = checkTimeZone(timeZone ?? (await timeZoneOf(target.chatId)));
      const current = now();
      let payloadWhen: SchedulePayload['when'];
      if ('cron' in when) {
        checkCron(when.cron, zone, { now: current, minIntervalMs });
        payloadWhen = { kind: 'cron', cron: when.cron.trim(), timeZone: zone };
      } else {
        if (when.at <= current) {
          throw new ScheduleTimeError('IN_THE_PAST', `${formatInZone(when.at, zone)} has already passed.`);
        }
        payloadWhen = { kind: 'once', at: when.at };
      }
      const nextRunAt = nextRunAfter(payloadWhen, current);
      if (nextRunAt === null) throw new ScheduleTimeError('BAD_CRON', 'That schedule never fires.');
      const payload: SchedulePayload = {
        when: payloadWhen,
        action,
        text: trimmed,
        target,
        timeZone: zone,
        ...(createdBy === undefined ? {} : { createdBy }),
      };
      const id = randomBytes(4).toString('hex');
      const result = await store.addSchedule(
        { id, scope: scheduleScope(target.chatId), nextRunAt, payload },
        maxPerChat,
        current,
      );
      if (result === 'full') {
        throw new ScheduleServiceError(
          'SCHEDULE_LIMIT',
          `This chat already has ${maxPerChat} schedules, the most it may have. Cancel one first (/schedules).`,
        );
      }
      if (result === 'exists') return this.create({ target, when, action, text, timeZone, createdBy });
      return view({ id, nextRunAt, payload });
    },

    async list(chatId, limit = maxPerChat) {
      const schedules = await store.listSchedules(scheduleScope(chatId), limit);
      return schedules.flatMap((schedule) => {
        const parsed = schedulePayload.safeParse(schedule.payload);
        return parsed.success ? [view({ ...schedule, payload: parsed.data })] : [];
      });
    },

    cancel(chatId, id) {
      return store.cancelSchedule(scheduleScope(chatId), id.trim().toLowerCase());
    },

    async forgetChat(chatId) {
      const scope = scheduleScope(chatId);
      let cancelled = 0;
      // Page until empty (a chat may hold more than a page if SCHEDULES_PER_CHAT was higher), bounded.
      for (let round = 0; round < 100; round += 1) {
        const schedules = await store.listSchedules(scope, 100);
        if (schedules.length === 0) break;
        for (const schedule of schedules) if (await store.cancelSchedule(scope, schedule.id)) cancelled += 1;
      }
      return cancelled;
    },
  };
}

function view({
  id,
  nextRunAt,
  payload,
  runs = [],
}: Pick<Schedule, 'id' | 'nextRunAt'> & { payload: SchedulePayload; runs?: Schedule['runs'] }): ScheduleView {
  const [last] = runs;
  return {
    ...(last === undefined ? {} : { lastRun: `${last.outcome} ${formatInZone(last.dueAt, payload.timeZone)}` }),
    id,
    action: payload.action,
    text: payload.text,
    repeat: payload.when.kind === 'cron' ? payload.when.cron : 'once',
    next: formatInZone(nextRunAt, payload.timeZone),
    timeZone: payload.timeZone,
  };
}

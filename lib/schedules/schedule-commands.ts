import type { ChatLanguage } from '../conversation/chat-settings.js';
import type { ProactiveTarget } from './proactive-job.js';
import { languageFor } from './schedule-language.js';
import { type ScheduleService, ScheduleServiceError } from './schedule-service.js';
import { scheduleTexts } from './schedule-texts.js';
import { localDate, localTimeToInstant, ScheduleTimeError } from './schedule-time.js';

export type ScheduleCommandName = 'remind' | 'schedules';

const WEEKDAYS: Record<string, number> = {
  sun: 0,
  sunday: 0,
  mon: 1,
  monday: 1,
  tue: 2,
  tuesday: 2,
  wed: 3,
  wednesday: 3,
  thu: 4,
  thursday: 4,
  fri: 5,
  friday: 5,
  sat: 6,
  saturday: 6,
};
const UNIT_MS: Record<string, number> = { m: 60_000, h: 3_600_000, d: 86_400_000 };

type When = { at: number } | { cron: string };

/** The time and text of `/remind …`, or undefined when the words are none of the forms above. */
export function parseRemind(args: string, { now, timeZone }: { now: number; timeZone: string }) {
  const text = args.trim();
  const clock = '(\\d{1,2}):(\\d{2})';
  const rest = '\\s+(?:to\\s+)?([\\s\\S]+)$';
  const result = (when: When, what: string | undefined) => ({ when, text: (what ?? '').trim() });

  let match = new RegExp(`^in\\s+(\\d{1,4})\\s*([mhd])${rest}`, 'i').exec(text);
  if (match) return result({ at: now + Number(match[1]) * (UNIT_MS[match[2]?.toLowerCase() ?? 'm'] ?? 0) }, match[3]);

  match = new RegExp(`^(today|tomorrow|今天|明天)\\s+${clock}${rest}`, 'i').exec(text);
  if (match) {
    const day = localDate(now, timeZone, /tomorrow|明天/i.test(match[1] ?? '') ? 1 : 0);
    return result({ at: localTimeToInstant(`${day} ${match[2]}:${match[3]}`, timeZone) }, match[4]);
  }

  match = new RegExp(`^(\\d{4}-\\d{2}-\\d{2})\\s+${clock}${rest}`).exec(text);
  if (match) return result({ at: localTimeToInstant(`${match[1]} ${match[2]}:${match[3]}`, timeZone) }, match[4]);

  match = new RegExp(`^every\\s+([a-z]+)\\s+${clock}${rest}`, 'i').exec(text);
  if (match) {
    const day = match[1]?.toLowerCase() ?? '';
    const [hour, minute] = [Number(match[2]), Number(match[3])];
    if (hour > 23 || minute > 59)
      throw new ScheduleTimeError('BAD_TIME', `${match[2]}:${match[3]} is not a time of day`);
    const weekday = day === 'day' ? '*' : day === 'weekday' ? '1-5' : WEEKDAYS[day];
    if (weekday === undefined) return undefined;
    return result({ cron: `${minute} ${hour} * * ${weekday}` }, match[4]);
  }

  match = /^cron\s+(\S+\s+\S+\s+\S+\s+\S+\s+\S+)\s+([\s\S]+)$/i.exec(text);
  if (match) return result({ cron: match[1] ?? '' }, match[2]);
  return undefined;
}

export interface ScheduleCommandContext {
  service: ScheduleService;
  target: ProactiveTarget;
  userId?: string | undefined;
  /** The chat's language setting; `auto` or absent: the language the person wrote in. */
  language?: ChatLanguage | undefined;
  /** Default: the service's clock. */
  now?: number;
}

/**
 * Runs `/remind …` or `/schedules [cancel <id> | timezone <zone>]` and returns the reply text, in
 * the chat's language (or the person's, when the chat leaves it to them). Mistakes (a time in the
 * past, an unknown zone, the chat's limit) are answered, never thrown.
 *
 * @example
 * await runScheduleCommand('remind', 'tomorrow 9:00 send the report', { service, target, now: Date.now() });
 */
export async function runScheduleCommand(
  name: ScheduleCommandName,
  args: string,
  { service, target, userId, language, now = service.now() }: ScheduleCommandContext,
): Promise<string> {
  const say = scheduleTexts(languageFor(language, args));
  try {
    if (name === 'remind') {
      const timeZone = await service.timeZoneOf(target.chatId);
      const parsed = parseRemind(args, { now, timeZone });
      if (parsed === undefined) return args.trim() === '' ? say.usage : say.unreadableTime;
      const created = await service.create({
        target,
        when: parsed.when,
        action: 'remind',
        text: parsed.text,
        createdBy: userId,
      });
      return say.reminderSet(created);
    }
    const [sub = '', ...rest] = args.trim().split(/\s+/);
    const value = rest.join(' ');
    switch (sub.toLowerCase()) {
      case '':
      case 'list': {
        const schedules = await service.list(target.chatId);
        return schedules.length === 0 ? say.noSchedules(await service.timeZoneOf(target.chatId)) : say.list(schedules);
      }
      case 'cancel':
        if (value === '') return say.whichOne;
        return (await service.cancel(target.chatId, value)) ? say.cancelled(value) : say.noSuchSchedule(value);
      case 'timezone':
      case 'tz':
        if (value === '') return say.timeZoneIs(await service.timeZoneOf(target.chatId));
        await service.setTimeZone(target.chatId, value);
        return say.timeZoneSet(value);
      default:
        return say.schedulesUsage;
    }
  } catch (error) {
    if (ScheduleTimeError.isInstance(error) || error instanceof ScheduleServiceError) {
      return say.refusal(error.code, error.message);
    }
    throw error;
  }
}

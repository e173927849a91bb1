import type { ProactiveTarget } from './proactive-job.js';
import { type ScheduleService, ScheduleServiceError, type ScheduleView } from './schedule-service.js';
import { localDate, localTimeToInstant, ScheduleTimeError } from './schedule-time.js';

export type ScheduleCommandName = 'remind' | 'schedules';

export const REMIND_USAGE = [
  '**Set a reminder**',
  '- `/remind in 30m Stand-up` (m, h or d)',
  '- `/remind tomorrow 9:00 Send the report` (also `today`)',
  '- `/remind 2026-12-08 09:00 Release review`',
  '- `/remind every monday 10:00 Plan the week` (`every day`, `every weekday`, a weekday)',
  '- `/remind cron 0 10 * * 1 Plan the week` (five cron fields)',
  '',
  'Times are in this chat’s time zone (`/schedules timezone Asia/Shanghai` sets it). `/schedules` lists them,',
  '`/schedules cancel <id>` cancels one. You can also just ask me, e.g. “every Monday 10:00 summarize this chat’s week”.',
].join('\n');

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
  /** Default: the service's clock. */
  now?: number;
}

/**
 * Runs `/remind …` or `/schedules [cancel <id> | timezone <zone>]` and returns the reply text.
 * Mistakes (a time in the past, an unknown zone, the chat's limit) are answered, never thrown.
 *
 * @example
 * await runScheduleCommand('remind', 'tomorrow 9:00 send the report', { service, target, now: Date.now() });
 */
export async function runScheduleCommand(
  name: ScheduleCommandName,
  args: string,
  { service, target, userId, now = service.now() }: ScheduleCommandContext,
): Promise<string> {
  try {
    if (name === 'remind') {
      const timeZone = await service.timeZoneOf(target.chatId);
      const parsed = parseRemind(args, { now, timeZone });
      if (parsed === undefined)
        return args.trim() === '' ? REMIND_USAGE : `I could not read that time.\n\n${REMIND_USAGE}`;
      const created = await service.create({
        target,
        when: parsed.when,
        action: 'remind',
        text: parsed.text,
        createdBy: userId,
      });
      return [
        `⏰ Reminder set: ${created.repeat === 'once' ? '' : `repeats \`${created.repeat}\`, `}next ${created.next}.`,
        `> ${created.text}`,
        '',
        `Cancel it with \`/schedules cancel ${created.id}\`.`,
      ].join('\n');
    }
    const [sub = '', ...rest] = args.trim().split(/\s+/);
    const value = rest.join(' ');
    switch (sub.toLowerCase()) {
      case '':
      case 'list':
        return listText(await service.list(target.chatId), await service.timeZoneOf(target.chatId));
      case 'cancel':
        if (value === '') return 'Which one? `/schedules cancel <id>` (the ids are in `/schedules`).';
        return (await service.cancel(target.chatId, value))
          ? `Cancelled schedule \`${value}\`.`
          : `This chat has no schedule \`${value}\`. \`/schedules\` lists them.`;
      case 'timezone':
      case 'tz':
        if (value === '') return `This chat’s time zone is ${await service.timeZoneOf(target.chatId)}.`;
        await service.setTimeZone(target.chatId, value);
        return `This chat’s time zone is now ${value}; new schedules use it.`;
      default:
        return 'Use `/schedules`, `/schedules cancel <id>` or `/schedules timezone <zone>`.';
    }
  } catch (error) {
    if (ScheduleTimeError.isInstance(error) || error instanceof ScheduleServiceError) return error.message;
    throw error;
  }
}

function listText(schedules: readonly ScheduleView[], timeZone: string): string {
  if (schedules.length === 0) return `No schedules in this chat. \`/remind\` sets one (time zone ${timeZone}).`;
  const lines = [`**Schedules in this chat** (${schedules.length})`];
  for (const each of schedules) {
    const what = each.action === 'run' ? 'task' : 'reminder';
    const repeat = each.repeat === 'once' ? 'once' : `\`${each.repeat}\``;
    const last = each.lastRun === undefined ? '' : ` (last: ${each.lastRun})`;
    const text = each.text.replace(/\n/g, ' ').slice(0, 120);
    lines.push(`- \`${each.id}\` ${what}, ${repeat}, next ${each.next}${last}: ${text}`);
  }
  lines.push('', 'Cancel one with `/schedules cancel <id>`.');
  return lines.join('\n');
}

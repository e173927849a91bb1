import { bilingual } from '../i18n/bilingual.js';
import type { TextLanguage } from './schedule-language.js';
import type { ScheduleView } from './schedule-service.js';

/*
 * Everything the schedules part of the bot writes to people, in Chinese and English. Errors the
 * service throws carry stable codes; `refusal` words them here.
 */

const USAGE: Record<TextLanguage, string> = {
  en: [
    '**Set a reminder**',
    '- `/remind in 30m Stand-up` (m, h or d)',
    '- `/remind tomorrow 9:00 Send the report` (also `today`)',
    '- `/remind 2026-12-08 09:00 Release review`',
    '- `/remind every monday 10:00 Plan the week` (`every day`, `every weekday`, a weekday)',
    '- `/remind cron 0 10 * * 1 Plan the week` (five cron fields)',
    '',
    'Times are in this chat’s time zone (`/schedules timezone Asia/Shanghai` sets it). `/schedules` lists them,',
    '`/schedules cancel <id>` cancels one. You can also just ask me, e.g. “every Monday 10:00 summarize this chat’s week”.',
  ].join('\n'),
  zh: [
    '**设置提醒**',
    '- `/remind in 30m 站会`（m 分钟、h 小时、d 天）',
    '- `/remind 明天 9:00 交周报`（也可以用 `今天`）',
    '- `/remind 2026-12-08 09:00 发布评审`',
    '- `/remind every monday 10:00 规划本周`（`every day` 每天、`every weekday` 工作日，或某个星期几）',
    '- `/remind cron 0 10 * * 1 规划本周`（五段 cron 表达式）',
    '',
    '时间按本群的时区计算（`/schedules timezone Asia/Shanghai` 可设置）。`/schedules` 列出所有定时任务，',
    '`/schedules cancel <id>` 取消其中一个。也可以直接对我说，例如“每周一 10:00 总结本群这一周的讨论”。',
  ].join('\n'),
};

/** The words of one language; each entry takes what it shows. */
export interface ScheduleTexts {
  usage: string;
  unreadableTime: string;
  reminderSet(view: ScheduleView): string;
  noSchedules(timeZone: string): string;
  list(schedules: readonly ScheduleView[]): string;
  whichOne: string;
  cancelled(id: string): string;
  noSuchSchedule(id: string): string;
  timeZoneIs(zone: string): string;
  timeZoneSet(zone: string): string;
  schedulesUsage: string;
  notAvailable: string;
  reminderCard(text: string): string;
  missedNote(what: 'remind' | 'run' | 'message', due: string, minutesLate: number, text: string): string;
  givenUp: string;
  noAgent: string;
  interrupted: string;
  failed: string;
  /** A refusal of the service (its error code) in these words; the English message as it was otherwise. */
  refusal(code: string, message: string): string;
}

const quote = (text: string) => `> ${text.replace(/\n/g, ' ').slice(0, 300)}`;

const ENGLISH: ScheduleTexts = {
  usage: USAGE.en,
  unreadableTime: `I could not read that time.\n\n${USAGE.en}`,
  reminderSet: (view) =>
    [
      `⏰ Reminder set: ${view.repeat === 'once' ? '' : `repeats \`${view.repeat}\`, `}next ${view.next}.`,
      quote(view.text),
      '',
      `Cancel it with \`/schedules cancel ${view.id}\`.`,
    ].join('\n'),
  noSchedules: (zone) => `No schedules in this chat. \`/remind\` sets one (time zone ${zone}).`,
  list: (schedules) =>
    [
      `**Schedules in this chat** (${schedules.length})`,
      ...schedules.map((each) => {
        const what = each.action === 'run' ? 'task' : 'reminder';
        const repeat = each.repeat === 'once' ? 'once' : `\`${each.repeat}\``;
        const last = each.lastRun === undefined ? '' : ` (last: ${each.lastRun})`;
        return `- \`${each.id}\` ${what}, ${repeat}, next ${each.next}${last}: ${each.text.replace(/\n/g, ' ').slice(0, 120)}`;
      }),
      '',
      'Cancel one with `/schedules cancel <id>`.',
    ].join('\n'),
  whichOne: 'Which one? `/schedules cancel <id>` (the ids are in `/schedules`).',
  cancelled: (id) => `Cancelled schedule \`${id}\`.`,
  noSuchSchedule: (id) => `This chat has no schedule \`${id}\`. \`/schedules\` lists them.`,
  timeZoneIs: (zone) => `This chat’s time zone is ${zone}.`,
  timeZoneSet: (zone) => `This chat’s time zone is now ${zone}; new schedules use it.`,
  schedulesUsage: 'Use `/schedules`, `/schedules cancel <id>` or `/schedules timezone <zone>`.',
  notAvailable: 'Schedules post into Feishu chats; they are not available here.',
  reminderCard: (text) => `⏰ **Reminder**\n\n${text}`,
  missedNote: (what, due, minutes, text) =>
    [
      `Skipped a ${what === 'remind' ? 'reminder' : 'scheduled task'} that was due at ${due}:`,
      `I was not running then, and ${minutes} minutes late is too late to be useful.`,
      '',
      quote(text),
    ].join('\n'),
  givenUp: 'Sorry, I could not finish this scheduled post.',
  noAgent: 'A scheduled task came due, but no model is configured to run it.',
  interrupted: 'I was interrupted by a restart and will pick this up again in a moment.',
  failed: 'Something went wrong. Please try again.',
  refusal: (_code, message) => message,
};

const CHINESE: ScheduleTexts = {
  usage: USAGE.zh,
  unreadableTime: `没看懂这个时间。\n\n${USAGE.zh}`,
  reminderSet: (view) =>
    [
      `⏰ 提醒已设置：${view.repeat === 'once' ? '' : `按 \`${view.repeat}\` 重复，`}下次 ${view.next}。`,
      quote(view.text),
      '',
      `取消请发送 \`/schedules cancel ${view.id}\`。`,
    ].join('\n'),
  noSchedules: (zone) => `本群还没有定时任务。用 \`/remind\` 设置一个（时区 ${zone}）。`,
  list: (schedules) =>
    [
      `**本群的定时任务**（${schedules.length}）`,
      ...schedules.map((each) => {
        const what = each.action === 'run' ? '任务' : '提醒';
        const repeat = each.repeat === 'once' ? '一次' : `\`${each.repeat}\``;
        const last = each.lastRun === undefined ? '' : `（上次：${each.lastRun}）`;
        return `- \`${each.id}\` ${what}，${repeat}，下次 ${each.next}${last}：${each.text.replace(/\n/g, ' ').slice(0, 120)}`;
      }),
      '',
      '取消请发送 `/schedules cancel <id>`。',
    ].join('\n'),
  whichOne: '取消哪一个？请发送 `/schedules cancel <id>`（id 见 `/schedules`）。',
  cancelled: (id) => `已取消定时任务 \`${id}\`。`,
  noSuchSchedule: (id) => `本群没有定时任务 \`${id}\`。\`/schedules\` 可以列出全部。`,
  timeZoneIs: (zone) => `本群的时区是 ${zone}。`,
  timeZoneSet: (zone) => `本群的时区已设为 ${zone}，之后的定时任务按它计算。`,
  schedulesUsage: '用法：`/schedules`、`/schedules cancel <id>` 或 `/schedules timezone <时区>`。',
  notAvailable: '定时任务只能在飞书会话中使用，这里不可用。',
  reminderCard: (text) => `⏰ **提醒**\n\n${text}`,
  missedNote: (what, due, minutes, text) =>
    [
      `已跳过原定于 ${due} 的${what === 'remind' ? '提醒' : '定时任务'}：`,
      `当时我没有在运行，晚了 ${minutes} 分钟，已经没有意义了。`,
      '',
      quote(text),
    ].join('\n'),
  givenUp: '抱歉，这条定时消息没能发完。',
  noAgent: '定时任务到时间了，但没有配置可以执行它的模型。',
  interrupted: '我被重启打断了，稍后会继续。',
  failed: '出了点问题，请稍后再试。',
  refusal: (code, message) => {
    switch (code) {
      case 'IN_THE_PAST':
        return '这个时间已经过去了。';
      case 'TOO_FREQUENT':
        return '重复得太频繁了，请把间隔设得长一些。';
      case 'BAD_TIME_ZONE':
        return '不认识这个时区，请使用 IANA 名称，例如 Asia/Shanghai。';
      case 'BAD_TIME':
        return '这不是一个有效的日期和时间，请写成 2026-12-08 09:00 这样的格式。';
      case 'BAD_CRON':
        return '这不是一个有效的五段 cron 表达式（分 时 日 月 星期）。';
      case 'SCHEDULE_LIMIT':
        return '本群的定时任务已达上限，请先取消一个（/schedules）。';
      case 'TEXT_TOO_LONG':
        return '内容太长了，请缩短一些。';
      case 'EMPTY_TEXT':
        return '请写明要提醒或执行的内容。';
      default:
        return message;
    }
  },
};

/** The texts in `language` (both languages checked against `ScheduleTexts` by the compiler). */
export const scheduleTexts: (language: TextLanguage) => ScheduleTexts = bilingual({ en: ENGLISH, zh: CHINESE });

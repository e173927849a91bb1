import { z } from 'zod';
import type { ConversationContext } from '../agents/conversation-context.js';
import { type AnyToolDefinition, defineTool } from '../agents/tools/tool-definition.js';
import { ToolError } from '../agents/tools/tool-error.js';
import { type ProactiveTarget, proactiveTargetOf } from './proactive-job.js';
import { type ScheduleService, ScheduleServiceError, type ScheduleView } from './schedule-service.js';
import { localTimeToInstant, ScheduleTimeError } from './schedule-time.js';

/** Why the schedule tools may write without asking first (see ToolDefinition.withoutApproval). */
const OWN_STATE =
  "changes only this chat's schedules in the bot's own store; the answer confirms it and /schedules cancel undoes it";

function targetOf(conversation: ConversationContext): ProactiveTarget {
  const { appId, chatId, chatType, messageId, threadId, rootId } = conversation;
  if (chatType === 'local') {
    throw new ToolError('BAD_INPUT', 'Schedules post into Feishu chats; the devtools playground cannot hold one.');
  }
  return proactiveTargetOf({ appId, chatId, chatType, messageId: messageId ?? '', threadId, rootId });
}

function describe(schedule: ScheduleView): string {
  const repeat = schedule.repeat === 'once' ? 'once' : `cron "${schedule.repeat}"`;
  return `id ${schedule.id}: ${schedule.action}, ${repeat}, next ${schedule.next}: ${schedule.text}`;
}

/** A refusal the user can act on (a past time, a full chat) reaches the model as BAD_INPUT with its reason. */
function asToolError(error: unknown): never {
  if (ScheduleTimeError.isInstance(error) || error instanceof ScheduleServiceError) {
    throw new ToolError('BAD_INPUT', error.message);
  }
  throw error;
}

/**
 * The manager's tools for schedules in natural language ("remind me tomorrow 9:00 to …", "every
 * Monday 10:00 summarize this chat's week"): the model turns the words into a local time or a cron
 * pattern, the service checks and stores it as `/remind` would.
 *
 * @example
 * const tools = createScheduleTools(service); // scheduleTask, listSchedules, cancelSchedule
 */
export function createScheduleTools(service: ScheduleService): AnyToolDefinition[] {
  const scheduleTask = defineTool({
    name: 'scheduleTask',
    description: [
      'Schedule something in this chat, once or repeating. Use it when the user asks to be reminded',
      'or asks for something to happen later or regularly.',
      'action "remind" posts the text as a reminder; action "run" has you answer the text as a request at that time',
      '(e.g. "Summarize this chat\'s week"), with your tools.',
      'Give exactly one of: at (local date and time "YYYY-MM-DD HH:mm" in the time zone) or cron (five fields',
      '"minute hour day month weekday", e.g. "0 10 * * 1" for every Monday 10:00).',
      "timeZone: an IANA zone only when the user names one; otherwise the chat's zone is used.",
    ].join(' '),
    inputSchema: z.object({
      action: z.enum(['remind', 'run']),
      text: z.string().min(1).max(2_000),
      at: z.string().max(40).optional(),
      cron: z.string().max(100).optional(),
      timeZone: z.string().max(64).optional(),
    }),
    scopes: [],
    access: 'write',
    withoutApproval: OWN_STATE,
    identity: 'none',
    execute: async ({ action, text, at, cron, timeZone }, { conversation }) => {
      const target = targetOf(conversation);
      if ((at === undefined) === (cron === undefined)) {
        throw new ToolError('BAD_INPUT', 'Give exactly one of "at" (YYYY-MM-DD HH:mm) or "cron".');
      }
      try {
        const zone = timeZone ?? (await service.timeZoneOf(target.chatId));
        const when = at === undefined ? { cron: cron ?? '' } : { at: localTimeToInstant(at, zone) };
        const created = await service.create({
          target,
          when,
          action,
          text,
          timeZone: zone,
          createdBy: conversation.userId,
        });
        return `Scheduled (${describe(created)}). Tell the user it is set, when it next runs, and that /schedules cancel ${created.id} cancels it.`;
      } catch (error) {
        return asToolError(error);
      }
    },
  });

  const listSchedules = defineTool({
    name: 'listSchedules',
    description: "This chat's schedules (reminders and scheduled tasks), soonest first, with their ids.",
    inputSchema: z.object({}),
    scopes: [],
    access: 'read',
    identity: 'none',
    execute: async (_input, { conversation, limits }) => {
      const target = targetOf(conversation);
      const schedules = await service.list(target.chatId, Math.min(limits.maxItems, service.maxPerChat));
      if (schedules.length === 0) return 'This chat has no schedules.';
      return schedules.map((schedule) => `- ${describe(schedule)}`).join('\n');
    },
  });

  const cancelSchedule = defineTool({
    name: 'cancelSchedule',
    description:
      "Cancel one of this chat's schedules by its id (from listSchedules). Only when the user asks to cancel it.",
    inputSchema: z.object({ id: z.string().min(1).max(32) }),
    scopes: [],
    access: 'write',
    withoutApproval: OWN_STATE,
    identity: 'none',
    execute: async ({ id }, { conversation }) => {
      const target = targetOf(conversation);
      if (!(await service.cancel(target.chatId, id)))
        throw new ToolError('NOT_FOUND', `This chat has no schedule ${id}.`);
      return `Cancelled schedule ${id}.`;
    },
  });

  return [scheduleTask, listSchedules, cancelSchedule];
}

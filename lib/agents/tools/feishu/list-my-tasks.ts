import { z } from 'zod';
import { checkTimeZone } from '../../../util/time-zone.js';
import { markdownTable } from '../markdown.js';
import { defineTool } from '../tool-definition.js';
import { ToolError } from '../tool-error.js';
import { itemsNote } from '../tool-result.js';
import { formatLocal } from './calendar-time.js';
import { readResponse } from './response.js';

export const taskItem = z.looseObject({
  guid: z.string(),
  summary: z.string().optional(),
  description: z.string().optional(),
  due: z.looseObject({ timestamp: z.string().optional(), is_all_day: z.boolean().optional() }).optional(),
  completed_at: z.string().optional(),
  url: z.string().optional(),
  members: z
    .array(z.looseObject({ id: z.string().optional(), role: z.string().optional(), name: z.string().optional() }))
    .optional(),
  creator: z.looseObject({ id: z.string().optional(), name: z.string().optional() }).optional(),
});
const taskPage = z.object({
  items: z.array(taskItem).nullable().default([]),
  has_more: z.boolean().optional(),
  page_token: z.string().optional(),
});

/** Pages of 100 tasks read at most. */
const MAX_PAGES = 5;

/** A task's due time as epoch ms, or undefined. */
export function dueMs(task: z.output<typeof taskItem>): number | undefined {
  const value = Number(task.due?.timestamp);
  return Number.isFinite(value) && value > 0 ? value : undefined;
}

/** Completed tasks carry `completed_at` in ms; "0" means open. */
export function isDone(task: z.output<typeof taskItem>): boolean {
  return task.completed_at !== undefined && task.completed_at !== '' && task.completed_at !== '0';
}

/**
 * `listMyTasks`: the asking user's own Feishu tasks (`task.v2.task.list`, `type: my_tasks`,
 * which accepts only a user's token): open, overdue, due soon or done.
 */
export const listMyTasksTool = defineTool({
  name: 'listMyTasks',
  description:
    "The asking user's Feishu tasks: 'open' (not done), 'overdue' (open and past due), 'due-soon' (open, due within `days`), or 'done'. Sorted by due date.",
  inputSchema: z.object({
    which: z.enum(['open', 'overdue', 'due-soon', 'done']).default('open'),
    days: z.number().int().min(1).max(60).default(7).describe("For 'due-soon': how many days ahead"),
    timeZone: z.string().max(64).optional(),
  }),
  scopes: ['task:task:read'],
  access: 'read',
  identity: 'user',
  execute: async ({ which, days, timeZone }, { feishu, conversation, limits, now }) => {
    if (feishu === undefined) throw new ToolError('OTHER', 'no Feishu connection');
    const zone = checkTimeZone(timeZone ?? conversation.timeZone ?? 'Asia/Shanghai');
    const tasks: Array<z.output<typeof taskItem>> = [];
    let pageToken: string | undefined;
    for (let page = 0; page < MAX_PAGES; page++) {
      const body = await feishu.call('task.v2.task.list', (options) =>
        feishu.client.task.v2.task.list(
          {
            params: {
              type: 'my_tasks',
              completed: which === 'done',
              page_size: 100,
              user_id_type: 'open_id',
              ...(pageToken ? { page_token: pageToken } : {}),
            },
          },
          options,
        ),
      );
      const data = readResponse(taskPage, body?.data, 'task.v2.task.list');
      tasks.push(...(data.items ?? []));
      if (data.has_more !== true || !data.page_token) break;
      pageToken = data.page_token;
    }
    const nowMs = now().getTime();
    const selected = tasks.filter((task) => {
      const due = dueMs(task);
      if (which === 'done') return isDone(task);
      if (isDone(task)) return false;
      if (which === 'overdue') return due !== undefined && due < nowMs;
      if (which === 'due-soon') return due !== undefined && due >= nowMs && due <= nowMs + days * 86_400_000;
      return true;
    });
    if (selected.length === 0) return `No ${which} tasks.`;
    selected.sort((a, b) => (dueMs(a) ?? Number.POSITIVE_INFINITY) - (dueMs(b) ?? Number.POSITIVE_INFINITY));
    const kept = selected.slice(0, limits.maxItems);
    const rows = kept.map((task) => {
      const due = dueMs(task);
      return [
        task.summary ?? '(no title)',
        due === undefined ? '' : task.due?.is_all_day ? formatLocal(due, zone).slice(0, 14) : formatLocal(due, zone),
        isDone(task) ? 'done' : due !== undefined && due < nowMs ? 'overdue' : 'open',
        task.guid,
      ];
    });
    const table = markdownTable(['task', 'due', 'status', 'id'], rows, { before: `${which} tasks (times in ${zone})` });
    return selected.length > kept.length ? `${table}\n${itemsNote(kept.length, selected.length, 'tasks')}` : table;
  },
});

import { z } from 'zod';
import { checkTimeZone } from '../../../util/time-zone.js';
import { defineTool } from '../tool-definition.js';
import { ToolError } from '../tool-error.js';
import { formatLocal } from './calendar-time.js';
import { dueMs, isDone, taskItem } from './list-my-tasks.js';
import { readResponse } from './response.js';

/** Task guids are UUIDs; task links carry one as `guid=`. */
export const TASK_GUID = /[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/i;

/** `getTask`: one task's details (title, description, due, status, people), as the asking user sees it. */
export const getTaskTool = defineTool({
  name: 'getTask',
  description:
    'The details of one Feishu task: title, description, due date, status, assignees. Takes its id (guid) or link.',
  inputSchema: z.object({ task: z.string().trim().min(8).max(500).describe('The task id (guid) or a task link') }),
  scopes: ['task:task:read'],
  access: 'read',
  identity: 'user',
  execute: async ({ task }, { feishu, conversation }) => {
    if (feishu === undefined) throw new ToolError('OTHER', 'no Feishu connection');
    const guid = TASK_GUID.exec(task)?.[0];
    if (guid === undefined) throw new ToolError('BAD_INPUT', `"${task.slice(0, 60)}" holds no task id`);
    const zone = checkTimeZone(conversation.timeZone ?? 'Asia/Shanghai');
    const body = await feishu.call('task.v2.task.get', (options) =>
      feishu.client.task.v2.task.get({ path: { task_guid: guid }, params: { user_id_type: 'open_id' } }, options),
    );
    const found = readResponse(z.object({ task: taskItem }), body?.data, 'task.v2.task.get').task;
    const due = dueMs(found);
    const assignees = (found.members ?? [])
      .filter((member) => member.role === 'assignee')
      .map((member) => member.name ?? member.id ?? '?');
    return [
      `# ${found.summary ?? '(no title)'}`,
      `Status: ${isDone(found) ? 'done' : due !== undefined && due < Date.now() ? 'overdue' : 'open'}`,
      `Due: ${due === undefined ? 'none' : `${formatLocal(due, zone)} (${zone})`}`,
      `Assignees: ${assignees.length > 0 ? assignees.join(', ') : 'none'}`,
      ...(found.creator?.name || found.creator?.id ? [`Created by: ${found.creator.name ?? found.creator.id}`] : []),
      ...(found.url ? [`Link: ${found.url}`] : []),
      '',
      found.description?.trim() || '(no description)',
    ].join('\n');
  },
});

import { z } from 'zod';
import { checkTimeZone } from '../../../util/time-zone.js';
import { approvalTexts } from '../approval-texts.js';
import { defineTool } from '../tool-definition.js';
import { ToolError } from '../tool-error.js';
import { formatLocal } from './calendar-time.js';
import { changeKey } from './idempotency-key.js';
import { isoDateTime, readResponse } from './response.js';

const input = z.object({
  summary: z.string().trim().min(1).max(300).describe('The task title'),
  description: z.string().trim().max(3000).optional().describe('Details'),
  due: isoDateTime.optional().describe('Due date-time, ISO 8601 with offset'),
  assignees: z
    .array(z.string().regex(/^ou_\w+$/))
    .max(20)
    .optional()
    .describe('open_ids to assign; default: the person asking'),
});

const created = z.object({ task: z.looseObject({ guid: z.string(), url: z.string().optional() }) });

function assigneesOf(given: readonly string[] | undefined, asker: string | undefined): string[] {
  return given !== undefined && given.length > 0 ? [...given] : asker === undefined ? [] : [asker];
}

/**
 * `createTask`: a Feishu task (title, description, due, assignees; default the asker), created as
 * the app once the person approved the exact fields. The same approved change re-run after a
 * crash sends the same `client_token`, so it is created once.
 */
export const createTaskTool = defineTool({
  name: 'createTask',
  description:
    'Create a Feishu task with a title, optional description, due date-time and assignees (default: the person asking). The person is asked to approve first.',
  inputSchema: input,
  scopes: ['task:task:write'],
  access: 'write',
  identity: 'tenant',
  approval: {
    describe: ({ summary, description, due, assignees }, language) => {
      const say = approvalTexts(language);
      return {
        action: say.createTask.action,
        target: say.createTask.target,
        fields: [
          { label: say.labels.title, value: summary },
          ...(due === undefined ? [] : [{ label: say.labels.due, value: due }]),
          ...(description === undefined ? [] : [{ label: say.labels.description, value: description }]),
          {
            label: say.labels.assignees,
            value: assignees === undefined || assignees.length === 0 ? say.theAsker : assignees.join(', '),
          },
        ],
      };
    },
  },
  execute: async (task, { feishu, conversation }) => {
    if (feishu === undefined) throw new ToolError('OTHER', 'no Feishu connection');
    const people = assigneesOf(task.assignees, conversation.userId);
    const dueMs = task.due === undefined ? undefined : Date.parse(task.due);
    const body = await feishu.call('task.v2.task.create', (options) =>
      feishu.client.task.v2.task.create(
        {
          params: { user_id_type: 'open_id' },
          data: {
            summary: task.summary,
            ...(task.description === undefined ? {} : { description: task.description }),
            ...(dueMs === undefined ? {} : { due: { timestamp: String(dueMs), is_all_day: false } }),
            members: people.map((id) => ({ id, type: 'user', role: 'assignee' })),
            client_token: changeKey(conversation.traceId, 'createTask', task),
          },
        },
        options,
      ),
    );
    const { task: made } = readResponse(created, body?.data, 'task.v2.task.create');
    const zone = checkTimeZone(conversation.timeZone ?? 'Asia/Shanghai');
    return [
      `Created the task "${task.summary}"${dueMs === undefined ? '' : `, due ${formatLocal(dueMs, zone)} (${zone})`}.`,
      `Task id: ${made.guid}`,
      ...(made.url ? [`Link: ${made.url}`] : []),
    ].join('\n');
  },
});

import { z } from 'zod';
import { approvalTexts } from '../approval-texts.js';
import { defineTool } from '../tool-definition.js';
import { ToolError } from '../tool-error.js';
import { TASK_GUID } from './get-task.js';
import { readResponse } from './response.js';

/** `completeTask`: marks a task done (or open again), once the person approved which task. */
export const completeTaskTool = defineTool({
  name: 'completeTask',
  description:
    'Mark a Feishu task as done, or reopen it (done: false). Takes its id (guid) or link. The person is asked to approve first.',
  inputSchema: z.object({
    task: z.string().trim().min(8).max(500).describe('The task id (guid) or a task link'),
    done: z.boolean().default(true).describe('false reopens a completed task'),
  }),
  scopes: ['task:task:write'],
  access: 'write',
  identity: 'tenant',
  approval: {
    describe: ({ task, done }, language) => {
      const say = approvalTexts(language);
      return {
        action: done === false ? say.completeTask.reopen : say.completeTask.done,
        target: say.completeTask.target,
        fields: [{ label: say.labels.task, value: TASK_GUID.exec(task)?.[0] ?? task }],
      };
    },
  },
  execute: async ({ task, done }, { feishu, now }) => {
    if (feishu === undefined) throw new ToolError('OTHER', 'no Feishu connection');
    const guid = TASK_GUID.exec(task)?.[0];
    if (guid === undefined) throw new ToolError('BAD_INPUT', `"${task.slice(0, 60)}" holds no task id`);
    // Setting the same completion again is harmless, so a re-run needs no key.
    const body = await feishu.call('task.v2.task.patch', (options) =>
      feishu.client.task.v2.task.patch(
        {
          path: { task_guid: guid },
          params: { user_id_type: 'open_id' },
          data: {
            task: { completed_at: done === false ? '0' : String(now().getTime()) },
            update_fields: ['completed_at'],
          },
        },
        options,
      ),
    );
    const updated = readResponse(
      z.object({ task: z.looseObject({ summary: z.string().optional() }) }),
      body?.data,
      'task.v2.task.patch',
    );
    return `${done === false ? 'Reopened' : 'Completed'} the task "${updated.task.summary ?? guid}".`;
  },
});

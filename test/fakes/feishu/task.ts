import { randomUUID } from 'node:crypto';
import { defineFeishuArea, type FakeFeishu } from './core.js';
import { page } from './paging.js';
import { fail, ok } from './reply.js';

/**
 * Tasks v2: `GET /open-apis/task/v2/tasks` (`type=my_tasks`, `completed`, page_size ≤ 100; the
 * docs allow only a user's token: the caller's tasks) and `GET /open-apis/task/v2/tasks/:task_guid`,
 * shaped as the SDK's `task.v2.task.list` / `get` types (due `timestamp` and `completed_at` in ms).
 */

declare module './core.js' {
  interface FeishuApis {
    'task.task.list': true;
    'task.task.get': true;
    'task.task.create': true;
    'task.task.patch': true;
  }
  interface FakeFeishu {
    /** A task assigned to `assignee`; returns its guid. Times in epoch ms. */
    seedTask(task: SeedTask): string;
    /** Tasks created through the API (not seeded), oldest first. */
    createdTasks(): Array<SeedTask & { guid: string; clientToken?: string; creator: string }>;
  }
}

export interface SeedTask {
  assignee: string;
  summary: string;
  description?: string;
  due?: number;
  completedAt?: number;
}

export const TASK_CODES = {
  /** The fake's pick for a user-only call with the tenant token (docs: user_access_token only). */
  taskUserTokenRequired: 1470400,
  /** Documented family 1470xxx; the fake's pick for "no permission on this task". */
  taskForbidden: 1470403,
  /** The fake's pick for "task not found". */
  taskNotFound: 1470404,
  /** The fake's pick for a create without a summary. */
  taskInvalidParams: 1470422,
} as const;

interface Task extends SeedTask {
  guid: string;
  createdAt: number;
  /** Set on tasks created through the API. */
  created?: { clientToken?: string; creator: string };
}

function item(task: Task) {
  return {
    guid: task.guid,
    summary: task.summary,
    description: task.description ?? '',
    ...(task.due === undefined ? {} : { due: { timestamp: String(task.due), is_all_day: false } }),
    completed_at: task.completedAt === undefined ? '0' : String(task.completedAt),
    creator: { id: task.assignee, type: 'user' },
    members: [{ id: task.assignee, type: 'user', role: 'assignee' }],
    status: task.completedAt === undefined ? 'todo' : 'done',
    url: `https://applink.feishu.cn/client/todo/detail?guid=${task.guid}`,
    created_at: String(task.createdAt),
  };
}

export const taskArea = defineFeishuArea({
  name: 'task',
  codes: TASK_CODES,
  install(core): Pick<FakeFeishu, 'seedTask' | 'createdTasks'> {
    const tasks = new Map<string, Task>();
    core.onReset(() => tasks.clear());

    // POST /open-apis/task/v2/tasks: `summary` required, `due.timestamp` in ms, members with
    // role assignee, `client_token` making a repeated create return the first task (the SDK's
    // task.v2.task.create; app or user token).
    // PATCH …/tasks/:task_guid: `task` holds the new values of the fields named in
    // `update_fields` (completed_at "0" reopens); answers the task as it is then.
    core.route({
      api: 'task.task.patch',
      method: 'PATCH',
      path: '/open-apis/task/v2/tasks/:task_guid',
      handle({ params, body, caller }) {
        const task = tasks.get(params.task_guid ?? '');
        if (task === undefined) return fail(TASK_CODES.taskNotFound, 'task not found');
        if (caller.kind === 'user' && caller.openId !== task.assignee)
          return fail(TASK_CODES.taskForbidden, 'no permission');
        const fields = Array.isArray(body.update_fields) ? body.update_fields : [];
        const values = (body.task ?? {}) as { completed_at?: unknown; summary?: unknown };
        if (fields.length === 0) return fail(TASK_CODES.taskInvalidParams, 'update_fields is required');
        if (fields.includes('completed_at')) {
          const at = Number(values.completed_at);
          if (!Number.isFinite(at)) return fail(TASK_CODES.taskInvalidParams, 'completed_at must be a timestamp');
          if (at === 0) delete task.completedAt;
          else task.completedAt = at;
        }
        if (fields.includes('summary') && typeof values.summary === 'string') task.summary = values.summary;
        return ok({ task: item(task) });
      },
    });
    core.route({
      api: 'task.task.create',
      method: 'POST',
      path: '/open-apis/task/v2/tasks',
      handle({ body, caller }) {
        const summary = typeof body.summary === 'string' ? body.summary.trim() : '';
        if (summary === '') return fail(TASK_CODES.taskInvalidParams, 'summary is required');
        const clientToken = typeof body.client_token === 'string' ? body.client_token : undefined;
        if (clientToken !== undefined) {
          const earlier = [...tasks.values()].find((task) => task.created?.clientToken === clientToken);
          if (earlier !== undefined) return ok({ task: item(earlier) });
        }
        const due = (body.due as { timestamp?: unknown } | undefined)?.timestamp;
        const members = Array.isArray(body.members) ? (body.members as Array<{ id?: unknown; role?: unknown }>) : [];
        const assignee = members.find((member) => member.role === 'assignee')?.id;
        const guid = randomUUID();
        const task: Task = {
          guid,
          summary,
          ...(typeof body.description === 'string' ? { description: body.description } : {}),
          ...(typeof due === 'string' && /^\d+$/.test(due) ? { due: Number(due) } : {}),
          assignee: typeof assignee === 'string' ? assignee : '',
          createdAt: core.now(),
          created: {
            ...(clientToken === undefined ? {} : { clientToken }),
            creator: caller.kind === 'user' ? caller.openId : core.appId,
          },
        };
        tasks.set(guid, task);
        return ok({ task: item(task) });
      },
    });

    core.route({
      api: 'task.task.list',
      method: 'GET',
      path: '/open-apis/task/v2/tasks',
      handle({ query, caller }) {
        if (caller.kind !== 'user') return fail(TASK_CODES.taskUserTokenRequired, 'user access token required');
        const completed = query.completed === undefined ? undefined : query.completed === 'true';
        const mine = [...tasks.values()].filter(
          (task) =>
            task.assignee === caller.openId &&
            (completed === undefined || (task.completedAt !== undefined) === completed),
        );
        const { items, has_more, page_token } = page(mine, query, 100, 50);
        return ok({ items: items.map(item), has_more, ...(page_token ? { page_token } : {}) });
      },
    });
    core.route({
      api: 'task.task.get',
      method: 'GET',
      path: '/open-apis/task/v2/tasks/:task_guid',
      handle({ params, caller }) {
        const task = tasks.get(params.task_guid ?? '');
        if (task === undefined) return fail(TASK_CODES.taskNotFound, 'task not found');
        if (caller.kind === 'user' && caller.openId !== task.assignee)
          return fail(TASK_CODES.taskForbidden, 'no permission');
        return ok({ task: item(task) });
      },
    });
    return {
      createdTasks: () =>
        [...tasks.values()]
          .filter((task) => task.created !== undefined)
          .map((task) => ({
            guid: task.guid,
            summary: task.summary,
            assignee: task.assignee,
            ...(task.description === undefined ? {} : { description: task.description }),
            ...(task.due === undefined ? {} : { due: task.due }),
            ...(task.created?.clientToken === undefined ? {} : { clientToken: task.created.clientToken }),
            creator: task.created?.creator ?? '',
          })),
      seedTask(seed) {
        const guid = randomUUID();
        tasks.set(guid, { ...seed, guid, createdAt: core.now() });
        return guid;
      },
    };
  },
});

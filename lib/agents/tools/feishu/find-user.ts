import { z } from 'zod';
import { markdownTable } from '../markdown.js';
import { defineTool } from '../tool-definition.js';
import { ToolError } from '../tool-error.js';
import { itemsNote } from '../tool-result.js';
import { readResponse } from './response.js';

const searchPage = z.object({
  users: z
    .array(
      z.looseObject({
        name: z.string().optional(),
        open_id: z.string().optional(),
        department_ids: z.array(z.string()).optional(),
      }),
    )
    .nullable()
    .default([]),
  has_more: z.boolean().optional(),
});

/**
 * `findUser`: people by name (`GET /open-apis/search/v1/user`, which the SDK has no method for
 * and which accepts only a user's token: it searches whom the asking user can see).
 */
export const findUserTool = defineTool({
  name: 'findUser',
  description:
    'Find Feishu users by name (or part of it), among the people the asking user can see. Returns names and open_ids, which calendar tools take.',
  inputSchema: z.object({ name: z.string().trim().min(1).max(50) }),
  scopes: ['contact:user:search'],
  access: 'read',
  identity: 'user',
  execute: async ({ name }, { feishu, limits }) => {
    if (feishu === undefined) throw new ToolError('OTHER', 'no Feishu connection');
    const body = await feishu.call('search.v1.user', (options) =>
      feishu.client.request<{ code?: number; msg?: string; data?: unknown }>(
        {
          method: 'GET',
          url: '/open-apis/search/v1/user',
          params: { query: name, page_size: Math.min(50, limits.maxItems) },
        },
        options,
      ),
    );
    const data = readResponse(searchPage, body?.data, 'search.v1.user');
    const users = data.users ?? [];
    if (users.length === 0) return `Nobody named "${name}" found.`;
    const rows = users.slice(0, limits.maxItems).map((person) => [person.name ?? '', person.open_id ?? '']);
    const table = markdownTable(['name', 'open_id'], rows);
    return data.has_more === true
      ? `${table}\n${itemsNote(rows.length, undefined, 'people', 'give more of the name')}`
      : table;
  },
});

import { z } from 'zod';
import { markdownTable } from '../markdown.js';
import { defineTool } from '../tool-definition.js';
import { ToolError } from '../tool-error.js';
import { itemsNote } from '../tool-result.js';
import { readResponse } from './response.js';

const WIKI_TYPES: Readonly<Record<number, string>> = {
  1: 'doc',
  2: 'sheet',
  3: 'bitable',
  4: 'mindnote',
  5: 'file',
  7: 'docx',
  8: 'wiki',
  11: 'slides',
};

const searchPage = z.object({
  items: z
    .array(
      z.looseObject({
        node_id: z.string(),
        space_id: z.string().optional(),
        obj_type: z.number().optional(),
        title: z.string().optional(),
        url: z.string().optional(),
        obj_token: z.string().optional(),
      }),
    )
    .default([]),
  has_more: z.boolean().optional(),
});

/**
 * `searchWiki`: wiki pages matching words, among those the asking user can see
 * (`wiki.v1.node.search` accepts only a user's token).
 */
export const searchWikiTool = defineTool({
  name: 'searchWiki',
  description: 'Search Feishu wiki pages by keyword (pages the asking user can see), optionally in one space.',
  inputSchema: z.object({
    query: z.string().trim().min(1).max(50).describe('Keywords'),
    spaceId: z.string().trim().min(1).max(64).optional(),
  }),
  scopes: ['wiki:wiki:readonly'],
  access: 'read',
  identity: 'user',
  execute: async ({ query, spaceId }, { feishu, limits }) => {
    if (feishu === undefined) throw new ToolError('OTHER', 'no Feishu connection');
    const body = await feishu.call('wiki.v1.node.search', (options) =>
      feishu.client.wiki.v1.node.search(
        {
          data: { query, ...(spaceId ? { space_id: spaceId } : {}) },
          params: { page_size: Math.min(50, limits.maxItems) },
        },
        options,
      ),
    );
    const data = readResponse(searchPage, body?.data, 'wiki.v1.node.search');
    if (data.items.length === 0) return `No wiki pages match "${query}".`;
    const rows = data.items
      .slice(0, limits.maxItems)
      .map((item) => [
        item.title ?? '',
        WIKI_TYPES[item.obj_type ?? 0] ?? String(item.obj_type ?? ''),
        item.node_id,
        item.url ?? '',
      ]);
    const table = markdownTable(['title', 'type', 'node token', 'link'], rows);
    return data.has_more === true
      ? `${table}\n${itemsNote(rows.length, undefined, 'pages', 'use more specific words')}`
      : table;
  },
});

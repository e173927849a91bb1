import { z } from 'zod';
import { markdownTable } from '../markdown.js';
import { defineTool } from '../tool-definition.js';
import { ToolError } from '../tool-error.js';
import { itemsNote } from '../tool-result.js';
import { documentRef, getWikiNode } from './document-ref.js';
import { readResponse, tokenText } from './response.js';

const nodePage = z.object({
  items: z
    .array(
      z.looseObject({
        node_token: z.string().optional(),
        obj_token: z.string().optional(),
        obj_type: z.string(),
        title: z.string().optional(),
        has_child: z.boolean().optional(),
      }),
    )
    .default([]),
  has_more: z.boolean().optional(),
  page_token: z.string().optional(),
});

/** `listWikiNodes`: the pages of a wiki space, or the sub-pages of one page, as a table. */
export const listWikiNodesTool = defineTool({
  name: 'listWikiNodes',
  description:
    "List a Feishu wiki space's top-level pages (give spaceId), or the sub-pages of one page (give its link or node token).",
  inputSchema: z.object({
    spaceId: z.string().trim().min(1).max(64).optional().describe('The wiki space id'),
    parent: tokenText.optional().describe('A wiki page link or node token whose sub-pages to list'),
  }),
  scopes: ['wiki:wiki:readonly'],
  access: 'read',
  identity: 'tenant',
  execute: async ({ spaceId, parent }, { feishu, limits }) => {
    if (feishu === undefined) throw new ToolError('OTHER', 'no Feishu connection');
    let space = spaceId;
    let parentToken: string | undefined;
    if (parent !== undefined) {
      const node = await getWikiNode(feishu, documentRef(parent, 'wiki page').token);
      space = node.space_id;
      parentToken = node.node_token;
    }
    if (space === undefined) throw new ToolError('BAD_INPUT', 'give a spaceId or a parent wiki page');
    const rows: string[][] = [];
    let pageToken: string | undefined;
    let more = false;
    do {
      const body = await feishu.call('wiki.v2.spaceNode.list', (options) =>
        feishu.client.wiki.v2.spaceNode.list(
          {
            path: { space_id: space },
            params: {
              page_size: 50,
              ...(parentToken ? { parent_node_token: parentToken } : {}),
              ...(pageToken ? { page_token: pageToken } : {}),
            },
          },
          options,
        ),
      );
      const data = readResponse(nodePage, body?.data, 'wiki.v2.spaceNode.list');
      for (const item of data.items) {
        rows.push([
          item.title ?? '',
          item.obj_type,
          item.node_token ?? '',
          item.obj_token ?? '',
          item.has_child ? 'yes' : '',
        ]);
      }
      more = data.has_more === true && Boolean(data.page_token);
      pageToken = data.page_token;
    } while (more && rows.length < limits.maxItems);
    if (rows.length === 0) return 'No pages found there.';
    const kept = rows.slice(0, limits.maxItems);
    const table = markdownTable(['title', 'type', 'node token', 'object token', 'sub-pages'], kept);
    return more || rows.length > kept.length ? `${table}\n${itemsNote(kept.length, undefined, 'pages')}` : table;
  },
});

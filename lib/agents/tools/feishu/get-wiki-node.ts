import { z } from 'zod';
import { defineTool } from '../tool-definition.js';
import { ToolError } from '../tool-error.js';
import { documentRef, getWikiNode } from './document-ref.js';
import { isoTime, tokenText } from './response.js';

/** `getWikiNode`: what a wiki page is (document, sheet, base…), its token, space and whether it has sub-pages. */
export const getWikiNodeTool = defineTool({
  name: 'getWikiNode',
  description:
    'Resolve a Feishu wiki page link or node token to what it is: title, type (docx, sheet, bitable…), the object token to read it with, its space id and whether it has sub-pages.',
  inputSchema: z.object({ node: tokenText.describe('The wiki page link (…/wiki/…) or node token') }),
  scopes: ['wiki:wiki:readonly'],
  access: 'read',
  identity: 'tenant',
  execute: async ({ node: given }, { feishu }) => {
    if (feishu === undefined) throw new ToolError('OTHER', 'no Feishu connection');
    const ref = documentRef(given, 'wiki page');
    if (ref.kind !== 'wiki' && ref.kind !== 'token')
      throw new ToolError('BAD_INPUT', `that is a ${ref.kind} link, not a wiki page`);
    const node = await getWikiNode(feishu, ref.token);
    return [
      `Title: ${node.title ?? '(untitled)'}`,
      `Type: ${node.obj_type} (token ${node.obj_token ?? 'unknown'})`,
      `Space: ${node.space_id ?? 'unknown'}; node token ${node.node_token ?? ref.token}`,
      `Has sub-pages: ${node.has_child === true ? 'yes (listWikiNodes shows them)' : 'no'}`,
      ...(node.obj_edit_time ? [`Last edited: ${isoTime(node.obj_edit_time)}`] : []),
      ...(node.url ? [`Link: ${node.url}`] : []),
    ].join('\n');
  },
});

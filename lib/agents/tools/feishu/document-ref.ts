import { z } from 'zod';
import { type FeishuLinkKind, parseFeishuLink } from '../feishu-links.js';
import type { FeishuAccess } from '../tool-definition.js';
import { ToolError } from '../tool-error.js';
import { readResponse } from './response.js';

/** A Feishu object named by a link or a bare token. */
export interface DocumentRef {
  kind: FeishuLinkKind | 'token';
  token: string;
  sheetId?: string;
  tableId?: string;
}

const BARE_TOKEN = /^[A-Za-z0-9]{10,64}$/;

/** A link (docx, wiki, sheet, base…) or a bare token, else a BAD_INPUT error naming what was expected. */
export function documentRef(text: string, expected: string): DocumentRef {
  const link = parseFeishuLink(text);
  if (link !== undefined) {
    return {
      kind: link.kind,
      token: link.token,
      ...(link.sheetId ? { sheetId: link.sheetId } : {}),
      ...(link.tableId ? { tableId: link.tableId } : {}),
    };
  }
  const token = text.trim();
  if (BARE_TOKEN.test(token)) return { kind: 'token', token };
  throw new ToolError('BAD_INPUT', `"${text.slice(0, 80)}" is not a Feishu ${expected} link or token`);
}

const wikiNode = z.object({
  space_id: z.string().optional(),
  node_token: z.string().optional(),
  obj_token: z.string().optional(),
  obj_type: z.string(),
  parent_node_token: z.string().optional(),
  has_child: z.boolean().optional(),
  title: z.string().optional(),
  url: z.string().optional(),
  obj_edit_time: z.string().optional(),
});
export type WikiNode = z.output<typeof wikiNode>;

/**
 * A wiki node (`wiki.v2.space.getNode`): which document, sheet or base a wiki page is, in
 * which space, under which parent.
 */
export async function getWikiNode(feishu: FeishuAccess, token: string): Promise<WikiNode> {
  const body = await feishu.call('wiki.v2.space.getNode', (options) =>
    feishu.client.wiki.v2.space.getNode({ params: { token, obj_type: 'wiki' } }, options),
  );
  return readResponse(z.object({ node: wikiNode }), body?.data, 'wiki.v2.space.getNode').node;
}

import { defineFeishuArea, type FakeFeishu } from './core.js';
import { page } from './paging.js';
import { fail, ok } from './reply.js';
import { hex } from './util.js';

/**
 * Wiki: `GET /open-apis/wiki/v2/spaces/get_node?token=` (a node and the object it holds),
 * `GET /open-apis/wiki/v2/spaces/:space_id/nodes` (top-level or `parent_node_token` children,
 * page_size ≤ 50) and `POST /open-apis/wiki/v1/nodes/search` (by title; the docs allow only a
 * user's token, so it answers only requests bearing one). Shapes follow the SDK's
 * `wiki.v2.space.getNode`, `wiki.v2.spaceNode.list` and `wiki.v1.node.search` types.
 */

declare module './core.js' {
  interface FeishuApis {
    'wiki.space.getNode': true;
    'wiki.spaceNode.list': true;
    'wiki.node.search': true;
  }
  interface FakeFeishu {
    /** Stores a wiki node; returns its node token. */
    seedWikiNode(node: SeedWikiNode): string;
  }
}

export interface SeedWikiNode {
  spaceId: string;
  nodeToken?: string;
  /** The document, sheet or base the page is. */
  objToken: string;
  objType: 'docx' | 'sheet' | 'bitable' | 'doc' | 'mindnote' | 'file' | 'slides';
  title: string;
  parentNodeToken?: string;
}

export const WIKI_CODES = {
  /** Documented: node not found. */
  wikiNodeNotFound: 131005,
  /** Documented: permission denied (node or space). */
  wikiPermissionDenied: 131006,
  /** The fake's pick for a user-only API called with the tenant token (docs name no code). */
  wikiUserTokenRequired: 131003,
} as const;

const OBJ_TYPE_NUMBERS: Readonly<Record<string, number>> = {
  doc: 1,
  sheet: 2,
  bitable: 3,
  mindnote: 4,
  file: 5,
  docx: 7,
  slides: 11,
};

interface Node extends Required<Omit<SeedWikiNode, 'parentNodeToken'>> {
  parentNodeToken: string;
  createdAt: number;
}

export const wikiArea = defineFeishuArea({
  name: 'wiki',
  codes: WIKI_CODES,
  install(core): Pick<FakeFeishu, 'seedWikiNode'> {
    const nodes = new Map<string, Node>();
    core.onReset(() => nodes.clear());
    const url = (node: Node) => `https://example.feishu.cn/wiki/${node.nodeToken}`;
    const item = (node: Node) => ({
      space_id: node.spaceId,
      node_token: node.nodeToken,
      obj_token: node.objToken,
      obj_type: node.objType,
      parent_node_token: node.parentNodeToken,
      node_type: 'origin',
      has_child: [...nodes.values()].some((other) => other.parentNodeToken === node.nodeToken),
      title: node.title,
      obj_create_time: String(Math.floor(node.createdAt / 1000)),
      obj_edit_time: String(Math.floor(node.createdAt / 1000)),
      node_create_time: String(Math.floor(node.createdAt / 1000)),
      creator: 'ou_creator',
      owner: 'ou_creator',
      url: url(node),
    });

    core.route({
      api: 'wiki.space.getNode',
      method: 'GET',
      path: '/open-apis/wiki/v2/spaces/get_node',
      handle({ query }) {
        const node = nodes.get(query.token ?? '');
        return node === undefined ? fail(WIKI_CODES.wikiNodeNotFound, 'node not found', 404) : ok({ node: item(node) });
      },
    });
    core.route({
      api: 'wiki.spaceNode.list',
      method: 'GET',
      path: '/open-apis/wiki/v2/spaces/:space_id/nodes',
      handle({ params, query }) {
        const parent = query.parent_node_token ?? '';
        const children = [...nodes.values()].filter(
          (node) => node.spaceId === params.space_id && node.parentNodeToken === parent,
        );
        const { items, has_more, page_token } = page(children, query, 50);
        return ok({ items: items.map(item), has_more, ...(page_token ? { page_token } : {}) });
      },
    });
    core.route({
      api: 'wiki.node.search',
      method: 'POST',
      path: '/open-apis/wiki/v1/nodes/search',
      handle({ body, query, caller }) {
        if (caller.kind !== 'user') return fail(WIKI_CODES.wikiUserTokenRequired, 'user access token required');
        const words = String(body.query ?? '').toLowerCase();
        const hits = [...nodes.values()].filter(
          (node) =>
            node.title.toLowerCase().includes(words) && (body.space_id === undefined || node.spaceId === body.space_id),
        );
        const { items, has_more, page_token } = page(hits, query, 50);
        return ok({
          items: items.map((node) => ({
            node_id: node.nodeToken,
            space_id: node.spaceId,
            obj_type: OBJ_TYPE_NUMBERS[node.objType] ?? 0,
            title: node.title,
            url: url(node),
            obj_token: node.objToken,
            child_num: 0,
            version: 1,
          })),
          has_more,
          ...(page_token ? { page_token } : {}),
        });
      },
    });
    return {
      seedWikiNode(seed) {
        const node: Node = {
          ...seed,
          nodeToken: seed.nodeToken ?? `Wikcn${hex(10)}`,
          parentNodeToken: seed.parentNodeToken ?? '',
          createdAt: core.now(),
        };
        nodes.set(node.nodeToken, node);
        return node.nodeToken;
      },
    };
  },
});

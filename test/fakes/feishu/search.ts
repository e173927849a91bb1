import { defineFeishuArea, type FakeFeishu } from './core.js';
import { directoryStore } from './directory-store.js';
import { page } from './paging.js';
import { fail, ok } from './reply.js';
import { hex } from './util.js';

/**
 * Search: `POST /open-apis/search/v2/doc_wiki/search` (documents and wiki pages by keyword, shaped
 * as the SDK's `search.v2.docWiki.search`) and `GET /open-apis/search/v1/user` (people by name;
 * the SDK has no method, the shape is Feishu's documented `data.users`). Both accept only a
 * user's token, and show only what that user may see.
 */

declare module './core.js' {
  interface FeishuApis {
    'search.docWiki.search': true;
    'search.user': true;
  }
  interface FakeFeishu {
    /** A document the search finds, for the users in `visibleTo` (everyone when absent). */
    seedSearchDocument(document: SeedSearchDocument): void;
  }
}

export interface SeedSearchDocument {
  title: string;
  type: 'DOCX' | 'SHEET' | 'BITABLE' | 'WIKI' | 'DOC' | 'FILE';
  token?: string;
  ownerName?: string;
  visibleTo?: string[];
  updatedAt?: number;
}

export const SEARCH_CODES = {
  /** The fake's pick for a user-only search called with the tenant token (docs name no code). */
  searchUserTokenRequired: 99991668,
} as const;

export const searchArea = defineFeishuArea({
  name: 'search',
  codes: SEARCH_CODES,
  install(core): Pick<FakeFeishu, 'seedSearchDocument'> {
    const documents: Array<Required<Omit<SeedSearchDocument, 'visibleTo'>> & { visibleTo?: string[] }> = [];
    core.onReset(() => {
      documents.length = 0;
    });
    const directory = core.use(directoryStore);
    const needsUser = () =>
      fail(SEARCH_CODES.searchUserTokenRequired, 'Invalid access token: a user access token is required');

    core.route({
      api: 'search.docWiki.search',
      method: 'POST',
      path: '/open-apis/search/v2/doc_wiki/search',
      handle({ body, caller }) {
        if (caller.kind !== 'user') return needsUser();
        const words = String(body.query ?? '').toLowerCase();
        const types = (body.doc_filter as { doc_types?: string[] } | undefined)?.doc_types;
        const hits = documents.filter(
          (document) =>
            document.title.toLowerCase().includes(words) &&
            (types === undefined || types.includes(document.type)) &&
            (document.visibleTo === undefined || document.visibleTo.includes(caller.openId)),
        );
        const { items, has_more, page_token } = page(hits, body, 20);
        return ok({
          total: hits.length,
          has_more,
          ...(page_token ? { page_token } : {}),
          res_units: items.map((document) => ({
            title_highlighted: document.title.replace(
              new RegExp(words.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'), 'i'),
              (hit) => `<h>${hit}</h>`,
            ),
            summary_highlighted: '',
            entity_type: document.type === 'WIKI' ? 'WIKI' : 'DOC',
            result_meta: {
              doc_types: document.type,
              update_time: Math.floor(document.updatedAt / 1000),
              url: `https://example.feishu.cn/${document.type === 'SHEET' ? 'sheets' : document.type === 'BITABLE' ? 'base' : document.type === 'WIKI' ? 'wiki' : 'docx'}/${document.token}`,
              owner_name: document.ownerName,
              token: document.token,
              is_cross_tenant: false,
            },
          })),
        });
      },
    });
    core.route({
      api: 'search.user',
      method: 'GET',
      path: '/open-apis/search/v1/user',
      handle({ query, caller }) {
        if (caller.kind !== 'user') return needsUser();
        const words = (query.query ?? '').toLowerCase();
        const hits = [...directory.users.values()].filter(
          (user) => user.name.toLowerCase().includes(words) || (user.enName ?? '').toLowerCase().includes(words),
        );
        const { items, has_more, page_token } = page(hits, query, 200);
        return ok({
          has_more,
          ...(page_token ? { page_token } : {}),
          users: items.map((user) => ({
            name: user.name,
            open_id: user.openId,
            user_id: user.openId.slice(3, 11),
            department_ids: user.departmentIds,
            avatar: { avatar_72: 'https://example.invalid/a.png' },
          })),
        });
      },
    });
    return {
      seedSearchDocument(document) {
        documents.push({
          ownerName: 'Owner',
          token: `Tok${hex(10)}`,
          updatedAt: core.now(),
          ...document,
        });
      },
    };
  },
});

import { defineFeishuArea, type FakeFeishu } from './core.js';
import { page } from './paging.js';
import { fail, ok } from './reply.js';
import { hex } from './util.js';

/**
 * Docx documents: `GET /open-apis/docx/v1/documents/:document_id/blocks` (all blocks, page by
 * page, page_size ≤ 500) and `…/raw_content`. Blocks have the shape of the SDK's
 * `docx.v1.documentBlock.list` items: `block_id`, `parent_id`, `children`, `block_type` and the
 * content field of that type (`page`, `text`, `heading1`…`heading9`, `bullet`, `ordered`, `code`,
 * `quote`, `todo`, `divider`, `table` + `table_cell`), text as `elements[].text_run`.
 */

declare module './core.js' {
  interface FeishuApis {
    'docx.documentBlock.list': true;
    'docx.document.rawContent': true;
    'docx.document.create': true;
    'docx.documentBlockChildren.create': true;
  }
  interface FakeFeishu {
    /** Stores a document built from simple parts; returns its id. */
    seedDocument(document: SeedDocument): string;
    /** Documents created through the API: id, title, owner (user or app) and plain text. */
    createdDocuments(): Array<{ documentId: string; title: string; owner: string; text: string }>;
  }
}

/** One part of a seeded document, turned into Feishu blocks by the fake. */
export type SeedDocPart =
  | { heading: 1 | 2 | 3 | 4 | 5 | 6 | 7 | 8 | 9; text: string }
  | { text: string; bold?: boolean; link?: string }
  | { bullet: string; children?: SeedDocPart[] }
  | { ordered: string }
  | { todo: string; done?: boolean }
  | { code: string; language?: number }
  | { quote: string }
  | { divider: true }
  | { table: string[][] };

export interface SeedDocument {
  documentId?: string;
  title: string;
  parts: SeedDocPart[];
}

export const DOCX_CODES = {
  /** Documented: the document does not exist. */
  docNotFound: 1770002,
  /** Documented: the caller has no permission on the document ("forBidden"). */
  docForbidden: 1770032,
  /** The fake's pick for an unknown parent block. */
  docBlockNotFound: 1770003,
  /** The fake's pick for a malformed request (docs: invalid param). */
  docInvalidParam: 1770001,
} as const;

type Block = Record<string, unknown> & { block_id: string; block_type: number; parent_id: string; children?: string[] };

const textElements = (content: string, style: Record<string, unknown> = {}) => ({
  elements: [{ text_run: { content, text_element_style: style } }],
  style: {},
});

/** The blocks of a seeded document: the page block first, then every block in document order. */
function buildBlocks(documentId: string, { title, parts }: SeedDocument): Block[] {
  const blocks: Block[] = [];
  const pageBlock: Block = {
    block_id: documentId,
    block_type: 1,
    parent_id: '',
    children: [],
    page: textElements(title),
  };
  blocks.push(pageBlock);
  const add = (parent: Block, part: SeedDocPart) => {
    const block: Block = { block_id: `doxcn${hex(10)}`, block_type: 2, parent_id: parent.block_id };
    parent.children = [...(parent.children ?? []), block.block_id];
    blocks.push(block);
    if ('heading' in part) {
      block.block_type = 2 + part.heading;
      block[`heading${part.heading}`] = textElements(part.text);
    } else if ('bullet' in part) {
      block.block_type = 12;
      block.bullet = textElements(part.bullet);
      for (const child of part.children ?? []) add(block, child);
    } else if ('ordered' in part) {
      block.block_type = 13;
      block.ordered = textElements(part.ordered);
    } else if ('todo' in part) {
      block.block_type = 17;
      block.todo = { ...textElements(part.todo), style: { done: part.done === true } };
    } else if ('code' in part) {
      block.block_type = 14;
      block.code = { ...textElements(part.code), style: { language: part.language ?? 1, wrap: false } };
    } else if ('quote' in part) {
      block.block_type = 15;
      block.quote = textElements(part.quote);
    } else if ('divider' in part) {
      block.block_type = 22;
      block.divider = {};
    } else if ('table' in part) {
      block.block_type = 31;
      const rows = part.table;
      const columns = Math.max(1, ...rows.map((row) => row.length));
      const cells: string[] = [];
      for (const row of rows) {
        for (let column = 0; column < columns; column++) {
          const cell: Block = {
            block_id: `doxcn${hex(10)}`,
            block_type: 32,
            parent_id: block.block_id,
            children: [],
            table_cell: {},
          };
          blocks.push(cell);
          cells.push(cell.block_id);
          add(cell, { text: row[column] ?? '' });
        }
      }
      block.children = cells;
      block.table = { cells, property: { row_size: rows.length, column_size: columns } };
    } else {
      const style = {
        ...(part.bold ? { bold: true } : {}),
        ...(part.link ? { link: { url: encodeURIComponent(part.link) } } : {}),
      };
      block.text = textElements(part.text, style);
    }
  };
  for (const part of parts) add(pageBlock, part);
  return blocks;
}

function plainText(blocks: readonly Block[]): string {
  const lines: string[] = [];
  for (const block of blocks) {
    for (const value of Object.values(block)) {
      const elements = (value as { elements?: Array<{ text_run?: { content?: string } }> })?.elements;
      if (Array.isArray(elements)) lines.push(elements.map((element) => element.text_run?.content ?? '').join(''));
    }
  }
  return `${lines.join('\n')}\n`;
}

export const docxArea = defineFeishuArea({
  name: 'docx',
  codes: DOCX_CODES,
  install(core): Pick<FakeFeishu, 'seedDocument' | 'createdDocuments'> {
    const documents = new Map<string, Block[]>();
    const created = new Map<string, { title: string; owner: string }>();
    const childTokens = new Map<string, string[]>();
    core.onReset(() => {
      documents.clear();
      created.clear();
      childTokens.clear();
    });
    const find = (id: string | undefined) => (id === undefined ? undefined : documents.get(id));
    const notFound = () => fail(DOCX_CODES.docNotFound, 'not found', 404);

    // POST /open-apis/docx/v1/documents ({ title, folder_token? }): an empty document owned by
    // the caller. POST …/documents/:document_id/blocks/:block_id/children ({ children, index? },
    // `client_token` making a repeat answer the first children): blocks appended under a block.
    core.route({
      api: 'docx.document.create',
      method: 'POST',
      path: '/open-apis/docx/v1/documents',
      handle({ body, caller }) {
        const title = typeof body.title === 'string' ? body.title : '';
        const documentId = `Doxcn${hex(10)}`;
        documents.set(documentId, buildBlocks(documentId, { title, parts: [] }));
        created.set(documentId, { title, owner: caller.kind === 'user' ? caller.openId : core.appId });
        return ok({ document: { document_id: documentId, revision_id: 1, title } });
      },
    });
    core.route({
      api: 'docx.documentBlockChildren.create',
      method: 'POST',
      path: '/open-apis/docx/v1/documents/:document_id/blocks/:block_id/children',
      handle({ params, query, body }) {
        const blocks = find(params.document_id);
        if (blocks === undefined) return notFound();
        const parent = blocks.find((block) => block.block_id === params.block_id);
        if (parent === undefined) return fail(DOCX_CODES.docBlockNotFound, 'block not found');
        const key = query.client_token === undefined ? undefined : `${params.document_id}:${query.client_token}`;
        const earlier = key === undefined ? undefined : childTokens.get(key);
        if (earlier !== undefined) {
          return ok({
            children: blocks.filter((block) => earlier.includes(block.block_id)),
            client_token: query.client_token,
          });
        }
        const given = Array.isArray(body.children) ? (body.children as Array<Record<string, unknown>>) : [];
        if (given.length === 0 || given.length > 50)
          return fail(DOCX_CODES.docInvalidParam, 'children: 1 to 50 blocks');
        const added: Block[] = given.map((child) => ({
          ...child,
          block_id: `doxcn${hex(10)}`,
          block_type: Number(child.block_type),
          parent_id: parent.block_id,
        }));
        blocks.push(...added);
        parent.children = [...(parent.children ?? []), ...added.map((block) => block.block_id)];
        if (key !== undefined)
          childTokens.set(
            key,
            added.map((block) => block.block_id),
          );
        return ok({ children: added, document_revision_id: 2, client_token: query.client_token ?? '' });
      },
    });

    core.route({
      api: 'docx.documentBlock.list',
      method: 'GET',
      path: '/open-apis/docx/v1/documents/:document_id/blocks',
      handle({ params, query }) {
        const blocks = find(params.document_id);
        if (blocks === undefined) return notFound();
        return ok(page(blocks, query, 500, 500));
      },
    });
    core.route({
      api: 'docx.document.rawContent',
      method: 'GET',
      path: '/open-apis/docx/v1/documents/:document_id/raw_content',
      handle({ params }) {
        const blocks = find(params.document_id);
        return blocks === undefined ? notFound() : ok({ content: plainText(blocks) });
      },
    });
    return {
      createdDocuments: () =>
        [...created.entries()].map(([documentId, { title, owner }]) => ({
          documentId,
          title,
          owner,
          text: plainText(documents.get(documentId) ?? []),
        })),
      seedDocument(document) {
        const documentId = document.documentId ?? `Doxcn${hex(10)}`;
        documents.set(documentId, buildBlocks(documentId, document));
        return documentId;
      },
    };
  },
});

import { z } from 'zod';
import { type DocxBlock, docxToMarkdown } from '../docx-markdown.js';
import { defineTool } from '../tool-definition.js';
import { ToolError } from '../tool-error.js';
import { documentRef, getWikiNode } from './document-ref.js';
import { readResponse, tokenText } from './response.js';

/** Pages of 500 blocks read at most: about 5 000 blocks, far beyond what the result bound shows. */
const MAX_PAGES = 10;

const blockPage = z.object({
  items: z.array(z.looseObject({ block_id: z.string().optional(), block_type: z.number() })).default([]),
  has_more: z.boolean().optional(),
  page_token: z.string().optional(),
});

/**
 * `readDocument`: a docx document (a link, a token, or a wiki link to a docx page) as Markdown,
 * read block by block (`docx.v1.documentBlock.list`): headings, lists, tables, code.
 */
export const readDocumentTool = defineTool({
  name: 'readDocument',
  description:
    'Read a Feishu document (docx) as Markdown. Takes a document link (…/docx/…), a wiki page link (…/wiki/…) or a document token. Use it whenever the user shares or mentions a Feishu document.',
  inputSchema: z.object({ document: tokenText.describe('The document link, wiki page link, or document token') }),
  scopes: ['docx:document:readonly', 'wiki:wiki:readonly'],
  access: 'read',
  identity: 'tenant',
  execute: async ({ document }, { feishu }) => {
    if (feishu === undefined) throw new ToolError('OTHER', 'no Feishu connection');
    const ref = documentRef(document, 'document');
    let documentId = ref.token;
    let wikiTitle: string | undefined;
    if (ref.kind === 'wiki') {
      const node = await getWikiNode(feishu, ref.token);
      if (node.obj_type !== 'docx' || node.obj_token === undefined) {
        return `That wiki page ("${node.title ?? ref.token}") is a ${node.obj_type}, not a document. ${node.obj_type === 'sheet' ? `Read it with readSheet (token ${node.obj_token}).` : node.obj_type === 'bitable' ? `Read it with listBaseTables (token ${node.obj_token}).` : 'It cannot be read as text.'}`;
      }
      documentId = node.obj_token;
      wikiTitle = node.title;
    } else if (ref.kind !== 'docx' && ref.kind !== 'token') {
      throw new ToolError('BAD_INPUT', `that is a ${ref.kind} link, not a document: use the tool for ${ref.kind}s`);
    }
    const blocks: DocxBlock[] = [];
    let pageToken: string | undefined;
    let complete = false;
    for (let page = 0; page < MAX_PAGES; page++) {
      const body = await feishu.call('docx.v1.documentBlock.list', (options) =>
        feishu.client.docx.v1.documentBlock.list(
          {
            path: { document_id: documentId },
            params: { page_size: 500, document_revision_id: -1, ...(pageToken ? { page_token: pageToken } : {}) },
          },
          options,
        ),
      );
      const data = readResponse(blockPage, body?.data, 'docx.v1.documentBlock.list');
      blocks.push(...(data.items as DocxBlock[]));
      if (data.has_more !== true || !data.page_token) {
        complete = true;
        break;
      }
      pageToken = data.page_token;
    }
    const { title, markdown } = docxToMarkdown(blocks, { documentId });
    const heading = `# ${title || wikiTitle || 'Untitled document'}`;
    const note = complete
      ? ''
      : `\n\n[truncated: only the first ${blocks.length} blocks of this long document were read]`;
    return `${heading}\n\n${markdown.trim() || '(the document is empty)'}${note}`;
  },
});

import { z } from 'zod';
import { approvalTexts } from '../approval-texts.js';
import { defineTool } from '../tool-definition.js';
import { ToolError } from '../tool-error.js';
import { changeKey } from './idempotency-key.js';
import { readResponse } from './response.js';

/** Feishu docx block types and the property holding their text (Feishu's block documentation). */
const LINE_KINDS: ReadonlyArray<{ pattern: RegExp; blockType: number; property: string }> = [
  { pattern: /^###\s+/, blockType: 5, property: 'heading3' },
  { pattern: /^##\s+/, blockType: 4, property: 'heading2' },
  { pattern: /^#\s+/, blockType: 3, property: 'heading1' },
  { pattern: /^[-*]\s+/, blockType: 12, property: 'bullet' },
  { pattern: /^\d+[.)]\s+/, blockType: 13, property: 'ordered' },
];
const TEXT = { blockType: 2, property: 'text' } as const;
/** Feishu accepts at most 50 children per request. */
const BATCH = 50;

type ChildBlock = { block_type: number } & Record<string, unknown>;

/** Plain lines of simple Markdown (headings, bullets, numbered items, paragraphs) as docx blocks. */
export function contentBlocks(content: string): ChildBlock[] {
  return content
    .split(/\r?\n/)
    .map((line) => line.trimEnd())
    .filter((line) => line.trim() !== '')
    .map((line) => {
      const kind = LINE_KINDS.find((candidate) => candidate.pattern.test(line));
      const text = kind === undefined ? line : line.replace(kind.pattern, '');
      const { blockType, property } = kind ?? TEXT;
      return { block_type: blockType, [property]: { elements: [{ text_run: { content: text } }], style: {} } };
    });
}

const createdDocument = z.object({ document: z.looseObject({ document_id: z.string() }) });

/**
 * `createDocument`: a new Feishu document owned by the asking person (their authorization, so
 * they can open and share it), with a title and simple Markdown content (headings, bullets,
 * numbered items, paragraphs), once they approved title and text. The content goes in batches
 * with a `client_token` each, so a re-run adds no block twice; a crash between creating the
 * document and filling it can leave an empty document, which the answer then names.
 */
export const createDocumentTool = defineTool({
  name: 'createDocument',
  description:
    "Create a new Feishu document in the asking person's own space: a title and content in simple Markdown (# headings, - bullets, 1. items, paragraphs). The person is asked to approve first.",
  inputSchema: z.object({
    title: z.string().trim().min(1).max(200).describe('The document title'),
    content: z.string().trim().min(1).max(20_000).describe('The text, simple Markdown'),
  }),
  scopes: ['docx:document'],
  access: 'write',
  identity: 'user',
  approval: {
    describe: ({ title, content }, language) => {
      const say = approvalTexts(language);
      return {
        action: say.createDocument.action,
        target: say.createDocument.target,
        fields: [
          { label: say.labels.title, value: title },
          {
            label: say.labels.content,
            value: content.length > 400 ? `${content.slice(0, 399)}… (${say.characters(content.length)})` : content,
          },
        ],
      };
    },
  },
  execute: async ({ title, content }, { feishu, conversation }) => {
    if (feishu === undefined) throw new ToolError('OTHER', 'no Feishu connection');
    const blocks = contentBlocks(content);
    const body = await feishu.call('docx.v1.document.create', (options) =>
      feishu.client.docx.v1.document.create({ data: { title } }, options),
    );
    const documentId = readResponse(createdDocument, body?.data, 'docx.v1.document.create').document.document_id;
    for (let start = 0; start < blocks.length; start += BATCH) {
      const children = blocks.slice(start, start + BATCH);
      await feishu.call('docx.v1.documentBlockChildren.create', (options) =>
        feishu.client.docx.v1.documentBlockChildren.create(
          {
            path: { document_id: documentId, block_id: documentId },
            params: { client_token: changeKey(conversation.traceId, `createDocument#${start}`, { title, content }) },
            // The SDK's children type lists every block kind; ours are the text kinds it allows.
            data: { children: children as Array<{ block_type: number }>, index: -1 },
          },
          options,
        ),
      );
    }
    return `Created the document "${title}" (${blocks.length} blocks): https://feishu.cn/docx/${documentId}`;
  },
});

import { z } from 'zod';
import { markdownTable } from '../markdown.js';
import { defineTool } from '../tool-definition.js';
import { ToolError } from '../tool-error.js';
import { itemsNote } from '../tool-result.js';
import { isoTime, readResponse } from './response.js';

const DOC_TYPES = ['DOC', 'SHEET', 'BITABLE', 'MINDNOTE', 'FILE', 'WIKI', 'DOCX', 'FOLDER', 'SLIDES'] as const;

const resultPage = z.object({
  total: z.number().optional(),
  has_more: z.boolean().optional(),
  res_units: z
    .array(
      z.looseObject({
        title_highlighted: z.string().optional(),
        entity_type: z.string().optional(),
        result_meta: z
          .looseObject({
            doc_types: z.string().optional(),
            url: z.string().optional(),
            owner_name: z.string().optional(),
            update_time: z.number().optional(),
            token: z.string().optional(),
          })
          .optional(),
      }),
    )
    .default([]),
});

/** Feishu marks hits in titles with `<h>…</h>`; the model needs the words only. */
function unhighlight(text: string): string {
  return text.replace(/<\/?h[^>]*>/g, '');
}

/**
 * `searchDocuments`: documents and wiki pages matching words, among those the asking user can
 * see (`search.v2.docWiki.search` accepts only a user's token).
 */
export const searchDocumentsTool = defineTool({
  name: 'searchDocuments',
  description:
    'Find Feishu documents, sheets, bases and wiki pages by keyword, among those the asking user can see. Returns titles, types, owners and links.',
  inputSchema: z.object({
    query: z.string().trim().min(1).max(50).describe('Keywords'),
    types: z.array(z.enum(DOC_TYPES)).max(9).optional().describe('Only these kinds, e.g. ["DOCX", "SHEET"]'),
  }),
  scopes: ['search:docs:read'],
  access: 'read',
  identity: 'user',
  execute: async ({ query, types }, { feishu, limits }) => {
    if (feishu === undefined) throw new ToolError('OTHER', 'no Feishu connection');
    const filter = types === undefined ? {} : { doc_types: [...types] };
    const body = await feishu.call('search.v2.docWiki.search', (options) =>
      feishu.client.search.v2.docWiki.search(
        { data: { query, page_size: Math.min(20, limits.maxItems), doc_filter: filter, wiki_filter: filter } },
        options,
      ),
    );
    const data = readResponse(resultPage, body?.data, 'search.v2.docWiki.search');
    if (data.res_units.length === 0) return `No documents match "${query}".`;
    const rows = data.res_units
      .slice(0, limits.maxItems)
      .map((unit) => [
        unhighlight(unit.title_highlighted ?? ''),
        unit.result_meta?.doc_types ?? unit.entity_type ?? '',
        unit.result_meta?.owner_name ?? '',
        isoTime(unit.result_meta?.update_time),
        unit.result_meta?.url ?? '',
      ]);
    const table = markdownTable(['title', 'type', 'owner', 'updated', 'link'], rows);
    return data.has_more === true
      ? `${table}\n${itemsNote(rows.length, data.total, 'documents', 'use more specific words')}`
      : table;
  },
});

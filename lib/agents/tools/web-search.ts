import { z } from 'zod';
import { defineTool } from './tool-definition.js';
import { ToolError } from './tool-error.js';
import { itemsNote } from './tool-result.js';
import { isWebUrl, type SearchHit } from './web/search-provider.js';

/** Snippets longer than this are cut: the model needs a hint of the page, not the page. */
const SNIPPET_MAX_CHARS = 400;

/** The hits as a numbered Markdown list of links the answer can cite. */
export function formatSearchHits(query: string, provider: string, hits: readonly SearchHit[], total: number): string {
  if (hits.length === 0) return `No web results for "${query}" (${provider}).`;
  const lines = hits.map((hit, index) => {
    const snippet =
      hit.snippet.length > SNIPPET_MAX_CHARS ? `${hit.snippet.slice(0, SNIPPET_MAX_CHARS - 1)}…` : hit.snippet;
    const title = hit.title.replace(/[[\]]/g, '');
    return `${index + 1}. [${title}](${hit.url})${snippet === '' ? '' : `\n   ${snippet}`}`;
  });
  return [
    `Web results for "${query}" (${provider}):`,
    '',
    ...lines,
    ...(total > hits.length
      ? ['', itemsNote(hits.length, total, 'results', 'search again with a narrower query')]
      : []),
    '',
    'Cite the results you use as Markdown links [title](url). Snippets are excerpts: read a page (readWebPage) before relying on details.',
  ].join('\n');
}

/** `webSearch`: the web through the configured provider (SEARCH_PROVIDER), results with titles and URLs. */
export const webSearchTool = defineTool({
  name: 'webSearch',
  description:
    'Searches the public web. Returns titles, URLs and short snippets of the top results; cite the URLs you use in the answer. Use it for current events, public facts and documentation outside Feishu.',
  inputSchema: z.object({
    query: z.string().trim().min(1).max(400).describe('What to search for, as you would type it into a search engine.'),
    maxResults: z
      .number()
      .int()
      .min(1)
      .max(20)
      .optional()
      .describe('How many results at most (default set by the operator).'),
  }),
  scopes: [],
  access: 'read',
  identity: 'none',
  execute: async ({ query, maxResults }, { web, limits, signal }) => {
    if (web.search === undefined) {
      throw new ToolError('OTHER', 'web search is not set up on this bot (SEARCH_PROVIDER is not set)');
    }
    const wanted = Math.min(maxResults ?? web.maxSearchResults, web.maxSearchResults, limits.maxItems);
    const hits = (await web.search.search(query, { maxResults: wanted, signal })).filter((hit) => isWebUrl(hit.url));
    return formatSearchHits(query, web.search.name, hits.slice(0, wanted), hits.length);
  },
});

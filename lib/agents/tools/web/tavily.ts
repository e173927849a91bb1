import { z } from 'zod';
import { oneLine, requestSearch, type SearchProvider, withSlash } from './search-provider.js';

/** Tavily's `POST /search` answer, as its API reference documents it (fields we read). */
const tavilyAnswer = z.object({
  query: z.string().optional(),
  results: z.array(
    z.object({
      title: z.string().nullable().optional(),
      url: z.string(),
      content: z.string().nullable().optional(),
      score: z.number().optional(),
    }),
  ),
});

/**
 * Tavily: `POST {base}/search` with `Authorization: Bearer <key>` and `{ query, max_results }`.
 *
 * @example
 * const provider = tavilySearch({ apiKey: 'tvly-…' });
 */
export function tavilySearch({
  apiKey,
  baseURL = 'https://api.tavily.com',
}: {
  apiKey: string;
  baseURL?: string | undefined;
}): SearchProvider {
  return {
    name: 'tavily',
    async search(query, { maxResults, signal }) {
      const answer = await requestSearch(
        'tavily',
        new URL('search', withSlash(baseURL)),
        {
          method: 'POST',
          headers: { authorization: `Bearer ${apiKey}`, 'content-type': 'application/json' },
          body: JSON.stringify({ query, max_results: maxResults, search_depth: 'basic', include_answer: false }),
          signal,
        },
        tavilyAnswer,
      );
      return answer.results.map((result) => ({
        title: oneLine(result.title) || result.url,
        url: result.url,
        snippet: oneLine(result.content),
      }));
    },
  };
}

import { z } from 'zod';
import { oneLine, requestSearch, type SearchProvider, withSlash } from './search-provider.js';

/** SearXNG's `format=json` answer (fields we read); the instance must enable the json format. */
const searxngAnswer = z.object({
  query: z.string(),
  results: z.array(
    z.object({
      title: z.string().nullable().optional(),
      url: z.string(),
      content: z.string().nullable().optional(),
    }),
  ),
});

/**
 * SearXNG (self-hosted metasearch): `GET {base}/search?q=…&format=json`. It has no result count
 * parameter: the whole first page comes back, and the tool keeps what it lists. A key, when set,
 * is sent as a bearer token for instances behind an authenticating proxy.
 *
 * @example
 * const provider = searxngSearch({ baseURL: 'http://searx.internal:8080' });
 */
export function searxngSearch({ baseURL, apiKey }: { baseURL: string; apiKey?: string | undefined }): SearchProvider {
  return {
    name: 'searxng',
    async search(query, { signal }) {
      const url = new URL('search', withSlash(baseURL));
      url.searchParams.set('q', query);
      url.searchParams.set('format', 'json');
      const answer = await requestSearch(
        'searxng',
        url,
        {
          headers: {
            accept: 'application/json',
            ...(apiKey === undefined ? {} : { authorization: `Bearer ${apiKey}` }),
          },
          signal,
        },
        searxngAnswer,
      );
      // The whole first page: the tool keeps the first `maxResults` and says how many more there were.
      return answer.results.map((result) => ({
        title: oneLine(result.title) || result.url,
        url: result.url,
        snippet: oneLine(result.content),
      }));
    },
  };
}

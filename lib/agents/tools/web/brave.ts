import { parse as parseHtml } from 'node-html-parser';
import { z } from 'zod';
import { oneLine, requestSearch, type SearchProvider, withSlash } from './search-provider.js';

/** Brave's `WebSearchApiResponse` (fields we read): `web` is absent when nothing matched. */
const braveAnswer = z.object({
  type: z.literal('search'),
  web: z
    .object({
      results: z.array(
        z.object({
          title: z.string().nullable().optional(),
          url: z.string(),
          description: z.string().nullable().optional(),
        }),
      ),
    })
    .optional(),
});

/**
 * Brave Search: `GET {base}/res/v1/web/search?q=…&count=…` with `X-Subscription-Token`.
 * Titles and descriptions carry `<strong>` highlighting and entities: read as plain text.
 *
 * @example
 * const provider = braveSearch({ apiKey: 'BSA…' });
 */
export function braveSearch({
  apiKey,
  baseURL = 'https://api.search.brave.com',
}: {
  apiKey: string;
  baseURL?: string | undefined;
}): SearchProvider {
  return {
    name: 'brave',
    async search(query, { maxResults, signal }) {
      const url = new URL('res/v1/web/search', withSlash(baseURL));
      url.searchParams.set('q', query);
      // Brave serves at most 20 per page.
      url.searchParams.set('count', String(Math.min(maxResults, 20)));
      const answer = await requestSearch(
        'brave',
        url,
        { headers: { accept: 'application/json', 'x-subscription-token': apiKey }, signal },
        braveAnswer,
      );
      return (answer.web?.results ?? []).map((result) => ({
        title: oneLine(parseHtml(result.title ?? '').text) || result.url,
        url: result.url,
        snippet: oneLine(parseHtml(result.description ?? '').text),
      }));
    },
  };
}

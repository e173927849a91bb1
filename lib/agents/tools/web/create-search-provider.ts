import { braveSearch } from './brave.js';
import type { SearchProvider, SearchProviderName } from './search-provider.js';
import { searxngSearch } from './searxng.js';
import { tavilySearch } from './tavily.js';

export interface SearchSettings {
  provider: SearchProviderName | undefined;
  apiKey: string | undefined;
  baseURL: string | undefined;
}

/**
 * The search provider SEARCH_PROVIDER names, or undefined when none is set (web search is off).
 * The config has checked that a key (Tavily, Brave) or a base URL (SearXNG) is there.
 *
 * @example
 * const search = createSearchProvider({ provider: 'brave', apiKey: process.env.SEARCH_API_KEY, baseURL: undefined });
 */
export function createSearchProvider({ provider, apiKey, baseURL }: SearchSettings): SearchProvider | undefined {
  switch (provider) {
    case undefined:
      return undefined;
    case 'tavily':
      return tavilySearch({ apiKey: apiKey ?? '', baseURL });
    case 'brave':
      return braveSearch({ apiKey: apiKey ?? '', baseURL });
    case 'searxng':
      if (baseURL === undefined) throw new Error('SEARCH_BASE_URL is required for searxng');
      return searxngSearch({ baseURL, apiKey });
  }
}

import type { z } from 'zod';
import { errorMessage } from '../../../util/error-message.js';
import { ToolError } from '../tool-error.js';
import { readCapped } from './read-capped.js';

/** One web search result: what the answer cites. */
export interface SearchHit {
  title: string;
  url: string;
  /** A short excerpt, plain text. */
  snippet: string;
}

/** A web search service behind the `webSearch` tool (Tavily, Brave, SearXNG). */
export interface SearchProvider {
  readonly name: SearchProviderName;
  search(query: string, options: { maxResults: number; signal: AbortSignal }): Promise<SearchHit[]>;
}

export const SEARCH_PROVIDERS = ['tavily', 'brave', 'searxng'] as const;
export type SearchProviderName = (typeof SEARCH_PROVIDERS)[number];

/** Search answers are a few KB; anything far larger is not a search answer. */
const MAX_RESPONSE_BYTES = 2_000_000;

/**
 * One HTTP request to a search provider, its JSON answer checked against the provider's
 * documented shape. Failures become ToolErrors: 401/403 a key problem, 429 RATE_LIMIT, 5xx or
 * no answer UNAVAILABLE, an answer of another shape BAD_RESPONSE.
 */
export async function requestSearch<Schema extends z.ZodType>(
  provider: SearchProviderName,
  url: URL,
  init: RequestInit & { signal: AbortSignal },
  schema: Schema,
): Promise<z.output<Schema>> {
  let response: Response;
  try {
    response = await fetch(url, { ...init, redirect: 'error' });
  } catch (error) {
    if (init.signal.aborted) throw init.signal.reason;
    throw new ToolError('UNAVAILABLE', `the ${provider} search service did not answer (${errorMessage(error)})`, {
      cause: error,
    });
  }
  const { bytes, truncated } = await readCapped(response.body, MAX_RESPONSE_BYTES);
  if (response.status === 401 || response.status === 403) {
    throw new ToolError(
      'OTHER',
      `the ${provider} search service refused the request (HTTP ${response.status}): check SEARCH_API_KEY`,
    );
  }
  if (response.status === 429) {
    throw new ToolError('RATE_LIMIT', `the ${provider} search service is rate-limiting the bot (HTTP 429)`);
  }
  if (response.status >= 500) {
    throw new ToolError('UNAVAILABLE', `the ${provider} search service failed (HTTP ${response.status})`);
  }
  if (!response.ok) {
    throw new ToolError('BAD_INPUT', `the ${provider} search service refused the query (HTTP ${response.status})`);
  }
  if (truncated) throw new ToolError('BAD_RESPONSE', `the ${provider} search service sent an oversized answer`);
  let json: unknown;
  try {
    json = JSON.parse(bytes.toString('utf8'));
  } catch {
    throw new ToolError('BAD_RESPONSE', `the ${provider} search service answered with something that is not JSON`);
  }
  const parsed = schema.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new ToolError(
      'BAD_RESPONSE',
      `the ${provider} search service answered in an unexpected shape (${issue?.path.join('.') || 'top level'}: ${issue?.message ?? 'invalid'})`,
    );
  }
  return parsed.data;
}

/** Whitespace runs as single spaces: snippets arrive with the line breaks of the page they come from. */
export function oneLine(text: string | null | undefined): string {
  return (text ?? '').replace(/\s+/g, ' ').trim();
}

/** Only http(s) results can be cited and read; anything else a provider sends is dropped. */
export function isWebUrl(url: string): boolean {
  try {
    const { protocol } = new URL(url);
    return protocol === 'http:' || protocol === 'https:';
  } catch {
    return false;
  }
}

/** `new URL('search', base)` keeps a base path only when it ends with a slash. */
export function withSlash(baseURL: string): string {
  return baseURL.endsWith('/') ? baseURL : `${baseURL}/`;
}

/**
 * A fake web search service on 127.0.0.1 that speaks the three providers the `webSearch` tool
 * knows, each in the shape its public API documentation gives:
 *
 * - Tavily: `POST /search`, `Authorization: Bearer <key>`, JSON `{ query, max_results, … }` →
 *   `{ query, answer, images, results: [{ title, url, content, score, raw_content }], response_time }`;
 * - Brave: `GET /res/v1/web/search?q=&count=`, `X-Subscription-Token: <key>` →
 *   `{ type: 'search', query: { original }, web: { type: 'search', results: [{ title, url, description, … }] } }`
 *   (descriptions carry `<strong>` highlighting; `web` is absent when nothing matched);
 * - SearXNG: `GET /search?q=&format=json` (no key) →
 *   `{ query, number_of_results, results: [{ url, title, content, engine, … }], answers, suggestions, … }`;
 *   403 when `format` is not json (an instance with the json format disabled answers so).
 *
 * Seed pages per query with `seed`; `answerNext` replaces the next answer (garbage, an error
 * status, a hang) to test what the tool makes of it.
 *
 * @example
 * const search = await startFakeSearch();
 * search.seed('node 20 end of life', [{ title: 'Node.js releases', url: 'https://nodejs.org/en/about/previous-releases', snippet: 'Node 20 …' }]);
 * loadConfig({ SEARCH_PROVIDER: 'brave', SEARCH_API_KEY: search.apiKey, SEARCH_BASE_URL: search.baseURL });
 */
import { createServer, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface FakeSearchPage {
  title: string;
  url: string;
  snippet: string;
}

export type FakeSearchProvider = 'tavily' | 'brave' | 'searxng';

export interface FakeSearchRequest {
  provider: FakeSearchProvider;
  query: string;
  /** The count the caller asked for (Tavily `max_results`, Brave `count`); SearXNG has none. */
  count: number | undefined;
  headers: IncomingMessage['headers'];
}

/** A replacement answer: a status and raw body text, or 'hang' (never answers). */
export type FakeSearchAnswer = { status: number; body: string; contentType?: string } | 'hang';

async function readBody(request: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of request) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

function tavilyBody(query: string, pages: readonly FakeSearchPage[], count: number) {
  return {
    query,
    follow_up_questions: null,
    answer: null,
    images: [],
    results: pages.slice(0, count).map((page, index) => ({
      title: page.title,
      url: page.url,
      content: page.snippet,
      score: Math.max(0.1, 0.9 - index * 0.1),
      raw_content: null,
    })),
    response_time: 0.42,
  };
}

function braveBody(query: string, pages: readonly FakeSearchPage[], count: number) {
  const words = query.split(/\s+/).filter((word) => word.length > 2);
  const highlight = (text: string) =>
    words.reduce((out, word) => out.replace(new RegExp(`\\b(${word})\\b`, 'i'), '<strong>$1</strong>'), text);
  return {
    type: 'search',
    query: { original: query, show_strict_warning: false, is_navigational: false, spellcheck_off: true },
    mixed: { type: 'mixed', main: [], top: [], side: [] },
    ...(pages.length === 0
      ? {}
      : {
          web: {
            type: 'search',
            family_friendly: true,
            results: pages.slice(0, count).map((page) => ({
              type: 'search_result',
              title: page.title,
              url: page.url,
              is_source_local: false,
              is_source_both: false,
              description: highlight(page.snippet),
              language: 'en',
              family_friendly: true,
              meta_url: { scheme: 'https', netloc: new URL(page.url).host, hostname: new URL(page.url).hostname },
            })),
          },
        }),
  };
}

function searxngBody(query: string, pages: readonly FakeSearchPage[]) {
  return {
    query,
    number_of_results: 0,
    results: pages.map((page, index) => ({
      url: page.url,
      title: page.title,
      content: page.snippet,
      engine: 'duckduckgo',
      parsed_url: ['https', new URL(page.url).host, new URL(page.url).pathname, '', '', ''],
      template: 'default.html',
      engines: ['duckduckgo', 'brave'],
      positions: [index + 1],
      score: 2 / (index + 1),
      category: 'general',
    })),
    answers: [],
    corrections: [],
    infoboxes: [],
    suggestions: [],
    unresponsive_engines: [],
  };
}

export async function startFakeSearch({ apiKey = 'fake-search-key-0123456789' } = {}) {
  const pagesByQuery = new Map<string, FakeSearchPage[]>();
  const requests: FakeSearchRequest[] = [];
  const queued: FakeSearchAnswer[] = [];
  const server = createServer(async (request, response) => {
    const url = new URL(request.url ?? '/', 'http://fake-search');
    const send = (status: number, body: unknown) =>
      response.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
    let provider: FakeSearchProvider;
    let query: string;
    let count: number | undefined;
    if (request.method === 'POST' && url.pathname === '/search') {
      provider = 'tavily';
      let body: { query?: unknown; max_results?: unknown };
      try {
        body = JSON.parse(await readBody(request)) as typeof body;
      } catch {
        return send(400, { detail: { error: 'Invalid JSON body' } });
      }
      if (request.headers.authorization !== `Bearer ${apiKey}`) {
        return send(401, { detail: { error: 'Unauthorized: missing or invalid API key.' } });
      }
      query = typeof body.query === 'string' ? body.query : '';
      count = typeof body.max_results === 'number' ? body.max_results : 5;
    } else if (request.method === 'GET' && url.pathname === '/res/v1/web/search') {
      provider = 'brave';
      if (request.headers['x-subscription-token'] !== apiKey) {
        return send(401, {
          type: 'ErrorResponse',
          error: {
            id: 'fake',
            status: 401,
            code: 'SUBSCRIPTION_TOKEN_INVALID',
            detail: 'The provided subscription token is invalid.',
          },
        });
      }
      query = url.searchParams.get('q') ?? '';
      count = Number(url.searchParams.get('count') ?? 20);
    } else if (request.method === 'GET' && url.pathname === '/search') {
      provider = 'searxng';
      if (url.searchParams.get('format') !== 'json') {
        response.writeHead(403, { 'content-type': 'text/html' }).end('<h1>403 Forbidden</h1>');
        return;
      }
      query = url.searchParams.get('q') ?? '';
      count = undefined;
    } else {
      return send(404, { error: 'not found' });
    }
    if (requests.length >= 100) requests.shift();
    requests.push({ provider, query, count, headers: request.headers });
    const next = queued.shift();
    if (next === 'hang') return;
    if (next !== undefined) {
      response.writeHead(next.status, { 'content-type': next.contentType ?? 'application/json' }).end(next.body);
      return;
    }
    const pages = pagesByQuery.get(query.toLowerCase()) ?? [];
    if (provider === 'tavily') return send(200, tavilyBody(query, pages, count ?? 5));
    if (provider === 'brave') return send(200, braveBody(query, pages, count ?? 20));
    return send(200, searxngBody(query, pages));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const baseURL = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    baseURL,
    apiKey,
    requests,
    /** The pages a query (case-insensitive) finds, best first. */
    seed(query: string, pages: readonly FakeSearchPage[]) {
      pagesByQuery.set(query.toLowerCase(), [...pages]);
    },
    /** The next request gets this answer instead of the seeded pages. */
    answerNext(answer: FakeSearchAnswer) {
      queued.push(answer);
    },
    reset() {
      pagesByQuery.clear();
      requests.length = 0;
      queued.length = 0;
    },
    /** Settings for loadConfig. */
    env(provider: FakeSearchProvider): Record<string, string> {
      return {
        SEARCH_PROVIDER: provider,
        SEARCH_BASE_URL: baseURL,
        ...(provider === 'searxng' ? {} : { SEARCH_API_KEY: apiKey }),
      };
    },
    async close() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

export type FakeSearch = Awaited<ReturnType<typeof startFakeSearch>>;

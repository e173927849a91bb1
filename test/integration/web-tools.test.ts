import { promises as dns } from 'node:dns';
import { isIP } from 'node:net';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { ConversationContext } from '../../lib/agents/conversation-context.js';
import { defaultToolRegistry } from '../../lib/agents/tools/built-in-tools.js';
import { createToolNotices } from '../../lib/agents/tools/tool-notices.js';
import { createToolRuntime, type ToolRuntimeOptions } from '../../lib/agents/tools/tool-runtime.js';
import { createSearchProvider } from '../../lib/agents/tools/web/create-search-provider.js';
import { createPageFetcher, type PageFetcherOptions } from '../../lib/agents/tools/web/fetch-page.js';
import { loadConfig } from '../../lib/config.js';
import type { BotEvent } from '../../lib/observe/bot-event.js';
import { createEventBus } from '../../lib/observe/event-bus.js';
import { type FakeSearch, type FakeSearchProvider, startFakeSearch } from '../fakes/fake-search.js';
import { type PageServer, startPageServer } from '../support/page-server.js';

/**
 * The web tools through the tool runtime over real HTTP: `webSearch` against the fake search
 * service in each provider's documented shape, including the garbage a provider may send;
 * `readWebPage` against real pages on a local server, and its SSRF guard against addresses
 * written in the URL, names resolving to private addresses, and redirects.
 */

const conversation: ConversationContext = { traceId: 'job-web', chatId: 'oc_web', chatType: 'p2p', userId: 'ou_web' };
const registry = defaultToolRegistry();
let search: FakeSearch;
let events: BotEvent[];

function runtime(options: Partial<ToolRuntimeOptions> = {}) {
  const bus = createEventBus();
  bus.subscribe((event) => events.push(event));
  return createToolRuntime({ registry, bus, ...options });
}

function searchRuntime(provider: FakeSearchProvider, options: Partial<ToolRuntimeOptions> = {}) {
  const config = loadConfig({ NODE_ENV: 'test', ...search.env(provider) });
  return runtime({
    web: { search: createSearchProvider(config.search), maxSearchResults: config.search.maxResults },
    ...options,
  });
}

async function run(tools: ReturnType<typeof runtime>, name: string, input: Record<string, unknown>) {
  const definition = registry.get(name);
  if (definition === undefined) throw new Error(`no tool ${name}`);
  const execute = tools.toolSet([name], { agent: 'test', conversation, notices: createToolNotices() })[name]?.execute;
  if (execute === undefined) throw new Error(`tool ${name} cannot run`);
  return (await execute(definition.inputSchema.parse(input), { toolCallId: 'call-1', messages: [] })) as string;
}

const lastToolCall = () => events.filter((event) => event.type === 'tool.call').at(-1);

const PAGES = [
  {
    title: 'Previous Releases | Node.js',
    url: 'https://nodejs.org/en/about/previous-releases',
    snippet: 'Node.js 20 reaches end of life on 30 April 2026.\nMajor versions enter Maintenance LTS…',
  },
  {
    title: 'endoflife.date: Node.js',
    url: 'https://endoflife.date/nodejs',
    snippet: 'Check end-of-life dates for Node.js releases.',
  },
  { title: 'Not a web page', url: 'javascript:alert(1)', snippet: 'dropped' },
];

beforeAll(async () => {
  search = await startFakeSearch();
});
afterAll(async () => {
  await search?.close();
});
beforeEach(() => {
  search.reset();
  events = [];
});

describe('webSearch', () => {
  it.each(['tavily', 'brave', 'searxng'] as const)(
    '%s: titles and URLs the answer can cite, snippets as plain text, only http(s) links',
    async (provider) => {
      search.seed('node 20 end of life', PAGES);
      const text = await run(searchRuntime(provider), 'webSearch', { query: 'Node 20 end of life' });
      expect(text).toContain(`Web results for "Node 20 end of life" (${provider}):`);
      expect(text).toContain('1. [Previous Releases | Node.js](https://nodejs.org/en/about/previous-releases)');
      expect(text).toContain('2. [endoflife.date: Node.js](https://endoflife.date/nodejs)');
      // Brave's <strong> highlighting becomes Markdown, never raw HTML; line breaks are folded.
      expect(text).not.toContain('<strong>');
      expect(text).toMatch(/Node\.js 20 reaches end of life on 30 April 2026\. Major versions/);
      expect(text).not.toContain('javascript:');
      expect(text).toContain('Cite the results you use');

      const [request] = search.requests;
      expect(request).toMatchObject({ provider, query: 'Node 20 end of life' });
      if (provider === 'tavily') {
        expect(request?.headers.authorization).toBe(`Bearer ${search.apiKey}`);
        expect(request?.count).toBe(5);
      }
      if (provider === 'brave') {
        expect(request?.headers['x-subscription-token']).toBe(search.apiKey);
        expect(request?.count).toBe(5);
      }
      expect(lastToolCall()).toMatchObject({ tool: 'webSearch', identity: 'none' });
      expect(lastToolCall()).not.toHaveProperty('error');
    },
  );

  it('lists at most SEARCH_MAX_RESULTS and says how to find more', async () => {
    const many = Array.from({ length: 12 }, (_, index) => ({
      title: `Result ${index + 1}`,
      url: `https://example.com/${index + 1}`,
      snippet: `snippet ${index + 1}`,
    }));
    search.seed('many', many);
    const text = await run(searchRuntime('searxng'), 'webSearch', { query: 'many', maxResults: 20 });
    expect(text).toContain('5. [Result 5](https://example.com/5)');
    expect(text).not.toContain('Result 6');
    expect(text).toContain('[truncated: showing 5 results of 12');
  });

  it('says when nothing was found (Brave leaves out `web` then)', async () => {
    const text = await run(searchRuntime('brave'), 'webSearch', { query: 'nothing matches this' });
    expect(text).toBe('No web results for "nothing matches this" (brave).');
  });

  it.each([
    [
      'HTML instead of JSON',
      { status: 200, body: '<html>Just a moment…</html>', contentType: 'text/html' },
      'BAD_RESPONSE',
      /not JSON/,
    ],
    [
      'JSON of another shape',
      { status: 200, body: '{"results":"none","data":[1,2]}' },
      'BAD_RESPONSE',
      /unexpected shape/,
    ],
    [
      'results without URLs',
      { status: 200, body: '{"query":"q","results":[{"title":"x"}]}' },
      'BAD_RESPONSE',
      /results\.0\.url/,
    ],
    ['a refused key', { status: 401, body: '{"detail":{"error":"Unauthorized"}}' }, 'OTHER', /check SEARCH_API_KEY/],
    ['a rate limit', { status: 429, body: '{"detail":{"error":"Too many requests"}}' }, 'RATE_LIMIT', /rate-limiting/],
    ['an outage', { status: 502, body: 'Bad gateway', contentType: 'text/plain' }, 'UNAVAILABLE', /HTTP 502/],
  ] as const)(
    'garbage from the provider (%s) becomes a clear error the model can read',
    async (_, answer, category, message) => {
      search.answerNext(answer);
      const text = await run(searchRuntime('tavily'), 'webSearch', { query: 'anything' });
      expect(text).toMatch(new RegExp(`^TOOL ERROR \\(${category}\\): `));
      expect(text).toMatch(message);
      expect(text).not.toMatch(/at \w+ \(|stack/);
      expect(lastToolCall()).toMatchObject({ tool: 'webSearch', errorCategory: category });
    },
  );

  it('a provider that never answers ends at the tool deadline', async () => {
    search.answerNext('hang');
    const text = await run(searchRuntime('brave', { timeoutMs: 300 }), 'webSearch', { query: 'slow' });
    expect(text).toMatch(/^TOOL ERROR \(TIMEOUT\)/);
  });

  it('without SEARCH_PROVIDER the tool says web search is not set up', async () => {
    const text = await run(runtime(), 'webSearch', { query: 'anything' });
    expect(text).toMatch(/^TOOL ERROR \(OTHER\): web search is not set up on this bot/);
    expect(search.requests).toHaveLength(0);
  });
});

describe('readWebPage', () => {
  let pages: PageServer;
  beforeAll(async () => {
    pages = await startPageServer();
  });
  afterAll(async () => {
    await pages?.close();
  });
  beforeEach(() => {
    pages.requests.length = 0;
  });

  /** A runtime whose fetcher may reach the page server as 127.0.0.1 (an allowed intranet host). */
  const intranet = (options: PageFetcherOptions = {}, runtimeOptions: Partial<ToolRuntimeOptions> = {}) =>
    runtime({
      web: { fetchPage: createPageFetcher({ allowPrivateHosts: ['127.0.0.1'], ...options }) },
      ...runtimeOptions,
    });
  /** The production policy: nothing private, with a resolver the test controls. */
  const publicOnly = (hosts: Record<string, string[]> = {}) =>
    runtime({
      web: {
        fetchPage: createPageFetcher({
          resolveHost: async (hostname) => {
            const addresses = hosts[hostname];
            if (addresses === undefined) return dns.lookup(hostname, { all: true });
            return addresses.map((address) => ({ address, family: isIP(address) }));
          },
        }),
      },
    });

  it('reads a page as Markdown of its main content, without scripts, styles, navigation or footer', async () => {
    const text = await run(intranet(), 'readWebPage', { url: `${pages.url}/article` });
    expect(text).toMatch(/^# Release notes \| Acme\nSource: http:\/\/127\.0\.0\.1:\d+\/article\n/);
    expect(text).toContain('Acme 3.0 is out');
    expect(text).toContain('Version **3.0** ships on 12 May with [a new changelog](https://acme.example/changelog).');
    expect(text).toMatch(/\| Team \| 12 USD \|/);
    for (const hidden of ['do-not-read', 'color: red', 'Pricing', 'all rights reserved']) {
      expect(text).not.toContain(hidden);
    }
    expect(lastToolCall()).toMatchObject({ tool: 'readWebPage', identity: 'none' });
    expect(lastToolCall()).not.toHaveProperty('error');
  });

  it('follows a redirect on an allowed host, reads compressed pages, plain text and a GBK page', async () => {
    const redirected = await run(intranet(), 'readWebPage', { url: `${pages.url}/redirect-ok` });
    expect(redirected).toContain(`Source: ${pages.url}/article (redirected from ${pages.url}/redirect-ok)`);
    expect(redirected).toContain('Acme 3.0 is out');
    expect(await run(intranet(), 'readWebPage', { url: `${pages.url}/gzip` })).toContain('Acme 3.0 is out');
    expect(await run(intranet(), 'readWebPage', { url: `${pages.url}/text` })).toContain(
      'plain words, kept as they are',
    );
    // No charset in the header: the one the page's head declares (GBK) is used, not UTF-8.
    expect(await run(intranet(), 'readWebPage', { url: `${pages.url}/gbk` })).toContain('你好世界');
  });

  it('stops reading a huge page at FETCH_MAX_BYTES and says so; the rest is never downloaded', async () => {
    const closed = pages.hugeClosed();
    const text = await run(intranet({ maxBytes: 100_000 }), 'readWebPage', { url: `${pages.url}/huge` });
    expect(text).toContain('[truncated: the page is larger than 100000 bytes; only its beginning was read]');
    // The connection closed long before the 50 MB the server would send.
    expect(await closed).toBeLessThan(20_000_000);
  });

  it('a page that never finishes ends at FETCH_TIMEOUT_MS with a clear error', async () => {
    const text = await run(intranet({ timeoutMs: 300 }), 'readWebPage', { url: `${pages.url}/slow` });
    expect(text).toMatch(/^TOOL ERROR \(TIMEOUT\): .*\/slow did not load within 300 ms/);
  });

  it.each([
    ['/pdf', 'BAD_INPUT', /is application\/pdf, not a web page or text/],
    ['/missing', 'NOT_FOUND', /does not exist \(HTTP 404\)/],
    ['/redirect-loop', 'BAD_RESPONSE', /redirects more than 5 times/],
  ] as const)('%s: %s', async (path, category, message) => {
    const text = await run(intranet(), 'readWebPage', { url: `${pages.url}${path}` });
    expect(text).toMatch(new RegExp(`^TOOL ERROR \\(${category}\\): `));
    expect(text).toMatch(message);
  });

  describe('SSRF guard: no request to a private, loopback or link-local address', () => {
    it.each([
      ['loopback IPv4', (port: number) => `http://127.0.0.1:${port}/article`],
      ['loopback in hex', (port: number) => `http://0x7f.1:${port}/article`],
      ['loopback as a number', (port: number) => `http://2130706433:${port}/article`],
      ['loopback IPv6', (port: number) => `http://[::1]:${port}/article`],
      ['IPv4-mapped loopback', (port: number) => `http://[::ffff:127.0.0.1]:${port}/article`],
      ['localhost (real DNS)', (port: number) => `http://localhost:${port}/article`],
      ['cloud metadata', () => 'http://169.254.169.254/latest/meta-data/'],
      ['private network', () => 'http://10.1.2.3/'],
      ['unspecified', (port: number) => `http://0.0.0.0:${port}/article`],
    ])('%s', async (_, url) => {
      const text = await run(publicOnly(), 'readWebPage', { url: url(pages.port) });
      expect(text).toMatch(/^TOOL ERROR \(BAD_INPUT\): readWebPage does not fetch .*private, loopback or link-local/);
      expect(text).toContain('Only public web pages can be read');
      expect(pages.requests).toEqual([]);
      expect(lastToolCall()).toMatchObject({ tool: 'readWebPage', errorCategory: 'BAD_INPUT' });
    });

    it.each([
      ['a name resolving to loopback', ['127.0.0.1']],
      ['a name resolving to a private address', ['10.20.30.40']],
      ['a name resolving to link-local (metadata)', ['169.254.169.254']],
      ['a name resolving to a unique-local IPv6 address', ['fd12:3456::1']],
      ['a name resolving to IPv4-mapped loopback', ['::ffff:127.0.0.1']],
      ['a name with one public and one loopback address (rebinding)', ['93.184.216.34', '127.0.0.1']],
    ])('%s', async (_, addresses) => {
      const text = await run(publicOnly({ 'docs.attacker.example': addresses }), 'readWebPage', {
        url: `http://docs.attacker.example:${pages.port}/article`,
      });
      expect(text).toMatch(
        /^TOOL ERROR \(BAD_INPUT\): readWebPage does not fetch .*docs\.attacker\.example resolves to a private, loopback or link-local address/,
      );
      expect(pages.requests).toEqual([]);
    });

    it('checks every redirect: an allowed host redirecting to localhost or to the metadata address is refused', async () => {
      const toLocalhost = await run(intranet(), 'readWebPage', { url: `${pages.url}/redirect-to-localhost` });
      expect(toLocalhost).toMatch(
        /^TOOL ERROR \(BAD_INPUT\): readWebPage does not fetch http:\/\/localhost:\d+\/article: localhost resolves to a private/,
      );
      const toMetadata = await run(intranet(), 'readWebPage', { url: `${pages.url}/redirect-to-metadata` });
      expect(toMetadata).toMatch(
        /^TOOL ERROR \(BAD_INPUT\): readWebPage does not fetch http:\/\/169\.254\.169\.254\/latest/,
      );
      // Only the redirecting pages were asked for, never the targets.
      expect(pages.requests).toEqual(['/redirect-to-localhost', '/redirect-to-metadata']);
    });

    it.each([
      ['file:///etc/passwd', /only http and https links can be read, not file:/],
      ['ftp://example.com/file', /only http and https links can be read, not ftp:/],
      ['http://admin:hunter2@example.com/', /links with a user name or password/],
      ['not a url', /is not a web address/],
    ])('%s is refused', async (url, message) => {
      const text = await run(publicOnly(), 'readWebPage', { url });
      expect(text).toMatch(/^TOOL ERROR \(BAD_INPUT\)/);
      expect(text).toMatch(message);
      expect(text).not.toContain('hunter2');
    });
  });
});

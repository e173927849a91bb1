import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { ConversationContext } from '../../lib/agents/conversation-context.js';
import { defaultToolRegistry } from '../../lib/agents/tools/built-in-tools.js';
import { createToolNotices } from '../../lib/agents/tools/tool-notices.js';
import { createToolRuntime, type ToolRuntimeOptions } from '../../lib/agents/tools/tool-runtime.js';
import { createSearchProvider } from '../../lib/agents/tools/web/create-search-provider.js';
import { loadConfig } from '../../lib/config.js';
import type { BotEvent } from '../../lib/observe/bot-event.js';
import { createEventBus } from '../../lib/observe/event-bus.js';
import { type FakeSearch, type FakeSearchProvider, startFakeSearch } from '../fakes/fake-search.js';

/**
 * The web tools through the tool runtime over real HTTP: `webSearch` against the fake search
 * service in each provider's documented shape, including the garbage a provider may send.
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

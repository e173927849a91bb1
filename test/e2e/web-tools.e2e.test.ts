import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { type FakeSearch, startFakeSearch } from '../fakes/fake-search.js';
import type { FakeChatRequest } from '../fakes/openai/steps.js';
import { askInChat, lastToolResult } from '../support/ask-in-chat.js';
import { MANY_QUICK_ASKS, useE2eService } from '../support/e2e-service.js';
import { type PageServer, startPageServer } from '../support/page-server.js';

/**
 * The web tools end to end through the running service: a signed message event → the manager on
 * the real AI SDK (fake OpenAI over HTTP) asks for a web tool → the tool calls the fake search
 * service → the model's next request carries the result → the card the user sees cites it.
 */

const GROUP_CHAT = 'oc_web_group';
const ALICE = 'ou_alice00000000000000000000000web';

describe('web tools, end to end', () => {
  let search: FakeSearch;
  let pages: PageServer;

  beforeAll(async () => {
    search = await startFakeSearch();
    pages = await startPageServer();
  });

  afterAll(async () => {
    await search?.close();
    await pages?.close();
  });

  const service = useE2eService({
    env: () => ({
      ...MANY_QUICK_ASKS,
      TOOL_TIMEOUT_MS: '1500',
      ...search.env('brave'),
      // The page server stands in for an intranet the operator opened; every other private address stays refused.
      FETCH_ALLOW_PRIVATE_HOSTS: '127.0.0.1',
      FETCH_MAX_BYTES: '200000',
    }),
  });

  beforeEach(() => {
    service.reset();
    search.reset();
    pages.requests.length = 0;
  });

  const ask = (text: string) => askInChat({ ...service, chatId: GROUP_CHAT, senderOpenId: ALICE, text });

  it('searches the web: the result reaches the model, the card cites the source', async () => {
    search.seed('node 20 end of life', [
      {
        title: 'Previous Releases | Node.js',
        url: 'https://nodejs.org/en/about/previous-releases',
        snippet: 'Node.js 20 reaches end of life on 30 April 2026.',
      },
    ]);
    service.openai.script(
      'gpt-test',
      (request) => {
        // With a provider set up, the manager has the search tool itself.
        expect(JSON.stringify(request.tools)).toContain('"name":"webSearch"');
        return { toolCalls: [{ name: 'webSearch', arguments: { query: 'node 20 end of life' } }] };
      },
      (request) => {
        const result = lastToolResult(request);
        const link = /\[([^\]]+)\]\((https:[^)]+)\)/.exec(result);
        const date = /on (\d+ \w+ \d{4})/.exec(result)?.[1] ?? 'unknown';
        return { text: `Node 20 is supported until **${date}** ([${link?.[1]}](${link?.[2]})).` };
      },
    );
    const { shown } = await ask('until when is node 20 supported?');
    expect(shown).toContain('Node 20 is supported until **30 April 2026**');
    expect(shown).toContain('https://nodejs.org/en/about/previous-releases');
    expect(search.requests).toEqual([expect.objectContaining({ provider: 'brave', query: 'node 20 end of life' })]);
    const [, second] = service.openai.requestsFor('gpt-test');
    expect(lastToolResult(second as unknown as FakeChatRequest)).toContain(
      '1. [Previous Releases | Node.js](https://nodejs.org/en/about/previous-releases)',
    );
    expect(service.events.find((event) => event.type === 'tool.call')).toMatchObject({
      tool: 'webSearch',
      identity: 'none',
    });
    expect(service.bot.monitor.snapshot().agents['tool:webSearch']?.successCount).toBeGreaterThanOrEqual(1);
  });

  it('a search provider answering garbage: a clear answer, no made-up results, a finished job', async () => {
    search.answerNext({ status: 200, body: '<html><body>Are you a robot?</body></html>', contentType: 'text/html' });
    service.openai.script(
      'gpt-test',
      { toolCalls: [{ name: 'webSearch', arguments: { query: 'weather in Hangzhou' } }] },
      (request) => {
        expect(lastToolResult(request)).toMatch(
          /^TOOL ERROR \(BAD_RESPONSE\): the brave search service answered with something that is not JSON/,
        );
        return { text: 'The web search did not work just now, so I cannot look that up.' };
      },
    );
    const { shown } = await ask('what is the weather in Hangzhou?');
    expect(shown).toContain('The web search did not work just now');
    expect(service.events.find((event) => event.type === 'tool.call')).toMatchObject({
      tool: 'webSearch',
      errorCategory: 'BAD_RESPONSE',
    });
  });

  it('reads a pasted link: the page text reaches the model, the card quotes it', async () => {
    const link = `${pages.url}/article`;
    service.openai.script(
      'gpt-test',
      (request) => {
        // The pasted link was pointed out to the model with the tool that reads it.
        expect(JSON.stringify(request.messages)).toContain(`- ${link} → readWebPage`);
        return { toolCalls: [{ name: 'readWebPage', arguments: { url: link } }] };
      },
      (request) => {
        const result = lastToolResult(request);
        expect(result).not.toContain('do-not-read');
        const day = /ships on (\d+ \w+)/.exec(result)?.[1] ?? 'unknown';
        return { text: `Acme 3.0 ships on **${day}** (${link}).` };
      },
    );
    const { shown } = await ask(`when does it ship? ${link}`);
    expect(shown).toContain('Acme 3.0 ships on **12 May**');
    expect(pages.requests).toEqual(['/article']);
    expect(service.events.find((event) => event.type === 'tool.call')).toMatchObject({
      tool: 'readWebPage',
      identity: 'none',
    });
  });

  it('a link to a loopback name is refused before any request: a clear answer and a finished job', async () => {
    const link = `http://localhost:${pages.port}/article`;
    service.openai.script('gpt-test', { toolCalls: [{ name: 'readWebPage', arguments: { url: link } }] }, (request) => {
      expect(lastToolResult(request)).toMatch(/^TOOL ERROR \(BAD_INPUT\): readWebPage does not fetch/);
      return { text: 'That address is on a private network, so I cannot open it.' };
    });
    const { shown } = await ask(`summarise ${link}`);
    expect(shown).toContain('That address is on a private network, so I cannot open it.');
    expect(pages.requests).toEqual([]);
  });
});

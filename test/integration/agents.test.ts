/**
 * The agent layer end to end below the Feishu card: the conversation handler, the manager built
 * from Config with the REAL `@ai-sdk/openai` provider against the fake OpenAI server, the real
 * Feishu SDK against the fake Feishu server (history for memory seeding and the summarizer), a
 * real SQLite file store, and a recording ReplySink in place of the streaming card.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createManagerAgentFromConfig, type ManagerAgent } from '../../lib/agents/manager-agent.js';
import { type Config, loadConfig } from '../../lib/config.js';
import { createMessageHandler } from '../../lib/conversation/handle-message.js';
import { createFeishuClient, type FeishuClient } from '../../lib/feishu/feishu-client.js';
import type { JobHandler } from '../../lib/inbox/job-handler.js';
import { createLogger } from '../../lib/log.js';
import type { BotEvent } from '../../lib/observe/bot-event.js';
import { createEventBus, type EventBus } from '../../lib/observe/event-bus.js';
import { openStore } from '../../lib/store/open-store.js';
import type { Store } from '../../lib/store/store.js';
import { type FakeFeishu, startFakeFeishu } from '../fakes/fake-feishu.js';
import { type FakeChatRequest, type FakeOpenAI, type FakeStep, startFakeOpenAI } from '../fakes/fake-openai.js';
import {
  createRecordingReplySink,
  jobContext,
  messageEvent,
  type RecordingReplySink,
} from '../support/agent-test-kit.js';

const log = createLogger({ level: 'silent' });

let openai: FakeOpenAI;
let feishu: FakeFeishu;
let feishuClient: FeishuClient;
let bus: EventBus;
let events: BotEvent[];
let storePath: string;
let store: Store;
let sinks: RecordingReplySink[];

beforeEach(async () => {
  [openai, feishu] = await Promise.all([startFakeOpenAI(), startFakeFeishu()]);
  feishuClient = createFeishuClient({ appId: feishu.appId, appSecret: feishu.appSecret, domain: feishu.url, log });
  bus = createEventBus();
  events = [];
  bus.subscribe((event) => events.push(event));
  storePath = join(mkdtempSync(join(tmpdir(), 'agents-it-')), 'bot.db');
  store = await openStore(`sqlite:${storePath}`);
  sinks = [];
});

afterEach(async () => {
  await store.close();
  await Promise.all([openai.close(), feishu.close()]);
});

function configFor(env: Record<string, string> = {}): Config {
  return loadConfig({
    NODE_ENV: 'test',
    ...feishu.env(),
    OPENAI_BASE_URL: openai.baseURL,
    OPENAI_API_KEY: openai.apiKey,
    MODEL: 'gpt-test',
    FALLBACK_MODELS: 'gpt-test-fallback',
    MODEL_FIRST_TOKEN_TIMEOUT_MS: '2000',
    MODEL_TOTAL_TIMEOUT_MS: '15000',
    MODEL_MAX_RETRY_DELAY_MS: '500',
    CIRCUIT_BREAKER_FAILURES: '3',
    CIRCUIT_BREAKER_FIRST_COOLDOWN_MS: '60000',
    CIRCUIT_BREAKER_COOLDOWN_MS: '60000',
    ...env,
  });
}

async function handlerFor(
  config: Config,
  { withFeishu = true } = {},
): Promise<{ handle: JobHandler; manager: ManagerAgent }> {
  const manager = await createManagerAgentFromConfig({
    model: config.model,
    bus,
    log,
    ...(withFeishu ? { feishuClient } : {}),
  });
  const handle = createMessageHandler({
    policy: config.policy,
    memoryTokenBudget: config.model.memoryTokenBudget,
    appId: config.feishu.appId,
    store,
    bus,
    log,
    ...(withFeishu ? { feishuClient } : {}),
    botOpenId: feishu.botOpenId,
    managerAgent: manager,
    replySinkFor: () => {
      const sink = createRecordingReplySink();
      sinks.push(sink);
      return sink;
    },
  });
  return { handle, manager };
}

/** The system prompt of a chat request (the first message, role system). */
function systemOf(request: Pick<FakeChatRequest, 'messages'>): string {
  const first = request.messages[0];
  return first?.role === 'system' && typeof first.content === 'string' ? first.content : '';
}

function hasToolResult(request: FakeChatRequest): boolean {
  return request.messages.some((message) => message.role === 'tool');
}

function conversationOf(request: { messages: readonly { role: string; content?: unknown }[] }): string[] {
  return request.messages
    .filter((message) => message.role === 'user' || message.role === 'assistant')
    .map(
      (message) =>
        `${message.role}: ${typeof message.content === 'string' ? message.content : JSON.stringify(message.content)}`,
    );
}

const lastSink = () => sinks.at(-1) as RecordingReplySink;

/** A message event that mentions the fake's bot. */
const eventFor = (options: Parameters<typeof messageEvent>[0]) =>
  messageEvent({ botOpenId: feishu.botOpenId, ...options });

describe('agents over the real provider', () => {
  it('the manager delegates to the writer through a real tool call and streams the final answer', async () => {
    const { handle } = await handlerFor(configFor());
    openai.setDefaultResponder((request): FakeStep => {
      if (systemOf(request).includes('careful writer')) return { text: '你好，世界', chunkSize: 2 };
      if (!hasToolResult(request)) {
        return { toolCalls: [{ name: 'writer', arguments: { task: 'Translate "Hello, world" into Chinese.' } }] };
      }
      return { text: 'In Chinese: 你好，世界', chunkSize: 3 };
    });

    await handle(
      jobContext(eventFor({ text: 'translate Hello, world to Chinese', chatId: 'oc_writer' }), { id: 'job-writer' }),
    );

    const sink = lastSink();
    expect(sink.outcome).toBe('finished');
    expect(sink.finalText).toBe('In Chinese: 你好，世界');
    expect(sink.updates.at(-1)).toBe(sink.finalText);
    expect(sink.updates.length).toBeGreaterThan(2);
    expect(sink.calls[0]).toBe('start');

    // The manager's tool list offered the specialists; the writer request carried only the task.
    const requests = openai.requestsFor('gpt-test');
    const offered = (requests[0]?.tools ?? []) as Array<{ function: { name: string } }>;
    const toolNames = offered.map((tool) => tool.function.name);
    expect(toolNames.sort()).toEqual([
      'currentTime',
      'documents',
      'getUser',
      'readDocument',
      'readWebPage',
      'scheduler',
      'summarizer',
      'writer',
    ]);
    const writerRequest = requests.find((request) => systemOf(request).includes('careful writer'));
    expect(writerRequest && conversationOf(writerRequest)).toEqual(['user: Translate "Hello, world" into Chinese.']);

    expect(events).toContainEqual(
      expect.objectContaining({ type: 'agent.delegation', traceId: 'job-writer', to: 'writer' }),
    );
    const calls = events.filter((event) => event.type === 'agent.call');
    expect(calls.map((event) => event.type === 'agent.call' && [event.agent, event.outcome, event.model])).toEqual([
      ['writer', 'success', 'gpt-test'],
      ['manager', 'success', 'gpt-test'],
    ]);
    expect(calls.every((event) => event.type === 'agent.call' && event.inputTokens > 0 && event.outputTokens > 0)).toBe(
      true,
    );
  });

  it('the summarizer reads the thread from Feishu with readChatHistory', async () => {
    const { handle } = await handlerFor(configFor());
    const chatId = 'oc_summary';
    const threadId = 'omt_summary';
    feishu.seedMessage({ chatId, chatType: 'group', threadId, text: 'We ship on Friday', senderOpenId: 'ou_ann' });
    feishu.seedMessage({ chatId, chatType: 'group', threadId, text: 'QA signs off Thursday', senderOpenId: 'ou_ben' });
    const event = eventFor({ text: 'summarise this thread', chatId, threadId });
    const current = (event.event as { message: { message_id: string } }).message.message_id;
    feishu.seedMessage({
      chatId,
      chatType: 'group',
      threadId,
      text: 'summarise this thread',
      senderOpenId: 'ou_user_1',
      messageId: current,
    });

    openai.setDefaultResponder((request): FakeStep => {
      const system = systemOf(request);
      if (system.includes('You summarise Feishu conversations')) {
        if (!hasToolResult(request)) return { toolCalls: [{ name: 'readChatHistory', arguments: { limit: 20 } }] };
        return { text: '- Ship Friday\n- QA Thursday' };
      }
      if (!hasToolResult(request))
        return { toolCalls: [{ name: 'summarizer', arguments: { task: 'Summarise the current thread.' } }] };
      return { text: 'Summary:\n- Ship Friday\n- QA Thursday' };
    });

    await handle(jobContext(event));
    expect(lastSink().finalText).toBe('Summary:\n- Ship Friday\n- QA Thursday');

    const toolCall = events.find((item) => item.type === 'tool.call' && item.tool === 'readChatHistory');
    expect(toolCall).toMatchObject({ agent: 'summarizer' });
    expect(toolCall?.type === 'tool.call' && toolCall.output).toContain('We ship on Friday');
    expect(toolCall?.type === 'tool.call' && toolCall.output).toContain('QA signs off Thursday');
    expect(feishu.callsTo('im.message.list').length).toBeGreaterThanOrEqual(1);
  });

  it('mentioned mid-thread for the first time, it knows what was said before', async () => {
    const config = configFor();
    const { handle } = await handlerFor(config);
    const chatId = 'oc_seed';
    const threadId = 'omt_seed';
    const base = Date.now() - 60_000;
    feishu.seedMessage({
      chatId,
      chatType: 'group',
      threadId,
      text: 'Budget is 5k',
      senderOpenId: 'ou_cat',
      createTime: base,
    });
    feishu.seedMessage({
      chatId,
      chatType: 'group',
      threadId,
      text: 'Noted.',
      senderType: 'app',
      createTime: base + 1_000,
    });
    feishu.seedMessage({
      chatId,
      chatType: 'group',
      threadId,
      text: 'Vendor is Acme',
      senderOpenId: 'ou_dan',
      createTime: base + 2_000,
    });
    const event = eventFor({ text: 'what is the budget?', chatId, threadId });
    const current = (event.event as { message: { message_id: string } }).message.message_id;
    feishu.seedMessage({
      chatId,
      chatType: 'group',
      threadId,
      text: 'what is the budget?',
      messageId: current,
      createTime: base + 3_000,
    });
    // Said while the question waited in the queue: later than it, so not part of its context.
    feishu.seedMessage({
      chatId,
      chatType: 'group',
      threadId,
      text: 'Lunch at noon?',
      senderOpenId: 'ou_eve',
      createTime: base + 4_000,
    });
    openai.script('gpt-test', { text: '5k.' });

    await handle(jobContext(event));

    expect(
      conversationOf(openai.requestsFor('gpt-test')[0] as { messages: { role: string; content?: unknown }[] }),
    ).toEqual([
      'user: ou_cat: Budget is 5k',
      'assistant: Noted.',
      'user: ou_dan: Vendor is Acme',
      'user: ou_user_1: what is the budget?',
    ]);
    // Seeded once: a second question does not fetch the thread again.
    const listCalls = feishu.callsTo('im.message.list').length;
    openai.script('gpt-test', { text: 'Acme.' });
    await handle(jobContext(eventFor({ text: 'and the vendor?', chatId, threadId })));
    expect(feishu.callsTo('im.message.list').length).toBe(listCalls);
    expect(
      conversationOf(openai.requestsFor('gpt-test')[1] as { messages: { role: string; content?: unknown }[] }),
    ).toEqual([
      'user: ou_cat: Budget is 5k',
      'assistant: Noted.',
      'user: ou_dan: Vendor is Acme',
      'user: ou_user_1: what is the budget?',
      'assistant: 5k.',
      'user: ou_user_1: and the vendor?',
    ]);
  });

  it('a hanging model is cut off at the timeout with a clear notice in the reply', async () => {
    const { handle } = await handlerFor(configFor({ FALLBACK_MODELS: '', MODEL_FIRST_TOKEN_TIMEOUT_MS: '300' }));
    openai.script('gpt-test', { hang: true });
    const startedAt = Date.now();
    await handle(jobContext(eventFor({ text: 'are you there?', chatId: 'oc_hang' })));
    const sink = lastSink();
    expect(sink.outcome).toBe('failed');
    expect(sink.finalText).toBe('');
    expect(sink.notice).toBe('The model took too long to answer, so I stopped waiting. Please try again.');
    expect(Date.now() - startedAt).toBeLessThan(5_000);
    expect(events).toContainEqual(
      expect.objectContaining({ type: 'agent.call', agent: 'manager', outcome: 'error', errorCategory: 'TIMEOUT' }),
    );
  });

  it('a mid-stream disconnect ends the reply with what was said plus a notice', async () => {
    const { handle } = await handlerFor(configFor());
    openai.script('gpt-test', { text: 'First part of the answer, then more', chunkSize: 5, disconnectAfterChunks: 4 });
    await handle(jobContext(eventFor({ text: 'explain', chatId: 'oc_cut' })));
    const sink = lastSink();
    expect(sink.outcome).toBe('failed');
    expect(sink.finalText).toBe('First part of the an');
    expect(sink.notice).toMatch(/could not reach the model provider/);
    expect(openai.requestsFor('gpt-test-fallback')).toHaveLength(0);
    // What was said is remembered, so a follow-up can continue from it.
    expect((await store.readHistory('chat:oc_cut', 10)).map((turn) => turn.content)).toEqual([
      'explain',
      'First part of the an',
    ]);
  });

  it('a 429 storm on the primary is answered by the fallback, visible in the reply footer', async () => {
    const { handle, manager } = await handlerFor(configFor({ MODEL_MAX_RETRIES: '1' }));
    openai.alwaysFail('gpt-test', { status: 429, retryAfterMs: 20 });
    openai.script('gpt-test-fallback', { text: 'fallback here' }, { text: 'still fallback' });
    await handle(jobContext(eventFor({ text: 'one', chatId: 'oc_storm' })));
    expect(lastSink().finalText).toBe('fallback here');
    expect(lastSink().summary).toMatch(/^gpt-test-fallback · /);
    await handle(jobContext(eventFor({ text: 'two', chatId: 'oc_storm' })));
    expect(lastSink().finalText).toBe('still fallback');
    expect(manager.chain.breakerState('gpt-test')).toBe('open');
    expect(events.filter((event) => event.type === 'model.rate-limit').length).toBeGreaterThanOrEqual(2);
  });
});

describe('memory across turns and restarts', () => {
  it('a follow-up in the same thread sees earlier turns, also after a restart; /reset forgets', async () => {
    const where = { chatId: 'oc_memory', threadId: 'omt_memory' };
    openai.setDefaultResponder((request) => ({ text: `answer to: ${request.lastUserText}` }));
    // No Feishu client: the thread starts empty, so only the bot's own memory is tested.
    let { handle } = await handlerFor(configFor(), { withFeishu: false });

    await handle(jobContext(eventFor({ text: 'my project is Falcon', ...where })));
    await handle(jobContext(eventFor({ text: 'what is my project?', ...where })));
    expect(conversationOf(openai.requests[1] as { messages: { role: string; content?: unknown }[] })).toEqual([
      'user: ou_user_1: my project is Falcon',
      'assistant: answer to: ou_user_1: my project is Falcon',
      'user: ou_user_1: what is my project?',
    ]);

    // Restart: close the store file, open it again, build everything anew.
    await store.close();
    store = await openStore(`sqlite:${storePath}`);
    ({ handle } = await handlerFor(configFor(), { withFeishu: false }));
    await handle(jobContext(eventFor({ text: 'still remember?', ...where })));
    const afterRestart = conversationOf(openai.requests[2] as { messages: { role: string; content?: unknown }[] });
    expect(afterRestart).toHaveLength(5);
    expect(afterRestart[0]).toBe('user: ou_user_1: my project is Falcon');

    await handle(jobContext(eventFor({ text: '/reset', ...where })));
    expect(lastSink().finalText).toMatch(/forgotten/);
    expect(openai.requests).toHaveLength(3);
    await handle(jobContext(eventFor({ text: 'what is my project?', ...where })));
    expect(conversationOf(openai.requests[3] as { messages: { role: string; content?: unknown }[] })).toEqual([
      'user: ou_user_1: what is my project?',
    ]);
  });
});

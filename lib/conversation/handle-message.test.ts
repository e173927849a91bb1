import type { LanguageModelV3CallOptions, LanguageModelV3StreamResult } from '@ai-sdk/provider';
import { MockLanguageModelV3 } from 'ai/test';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  BOT_OPEN_ID,
  createRecordingReplySink,
  jobContext,
  messageEvent,
  type RecordingReplySink,
} from '../../test/support/agent-test-kit.js';
import { apiCallError, brokenStream, textParts, textResult } from '../../test/support/test-model.js';
import { createManagerAgent } from '../agents/manager-agent.js';
import { createModelChain } from '../agents/model-chain.js';
import { builtInSpecialists, createSpecialistRegistry } from '../agents/specialist-registry.js';
import { loadConfig } from '../config.js';
import { createLogger } from '../log.js';
import type { BotEvent } from '../observe/bot-event.js';
import { createEventBus } from '../observe/event-bus.js';
import { openStore } from '../store/open-store.js';
import type { Store } from '../store/store.js';
import { createMessageHandler } from './handle-message.js';
import type { ReplyContext } from './reply-sink.js';

const config = loadConfig({
  NODE_ENV: 'test',
  MODEL: 'mock-model',
  OPENAI_API_KEY: 'sk-test-key',
  MAX_INPUT_CHARS: '100',
  USER_MESSAGES_PER_MINUTE: '50',
});
const log = createLogger({ level: 'silent' });

function userTexts(options: LanguageModelV3CallOptions): string[] {
  return options.prompt
    .filter((message) => message.role === 'user' || message.role === 'assistant')
    .map((message) =>
      typeof message.content === 'string'
        ? message.content
        : message.content.map((part) => ('text' in part && typeof part.text === 'string' ? part.text : '')).join(''),
    );
}

describe('createMessageHandler', () => {
  let store: Store;
  let events: BotEvent[];
  let prompts: LanguageModelV3CallOptions[];
  let respond: (
    options: LanguageModelV3CallOptions,
  ) => LanguageModelV3StreamResult | Promise<LanguageModelV3StreamResult>;
  let sinks: Array<{ context: ReplyContext; sink: RecordingReplySink }>;
  let handler: ReturnType<typeof createMessageHandler>;

  beforeEach(async () => {
    store = await openStore('sqlite::memory:');
    events = [];
    prompts = [];
    sinks = [];
    respond = () => textResult('Hello from the model');
    const bus = createEventBus();
    bus.subscribe((event) => events.push(event));
    const chain = createModelChain({
      createModel: (id) =>
        new MockLanguageModelV3({
          modelId: id,
          doStream: async (options) => {
            prompts.push(options);
            return respond(options);
          },
        }),
      primary: 'mock-model',
      maxRetries: 0,
    });
    const managerAgent = createManagerAgent({
      chain,
      specialists: createSpecialistRegistry(builtInSpecialists()),
      bus,
      maxSteps: 3,
    });
    handler = createMessageHandler({
      policy: config.policy,
      memoryTokenBudget: config.model.memoryTokenBudget,
      store,
      bus,
      log,
      botOpenId: BOT_OPEN_ID,
      managerAgent,
      replySinkFor: (context) => {
        const sink = createRecordingReplySink();
        sinks.push({ context, sink });
        return sink;
      },
    });
  });
  afterEach(async () => {
    await store.close();
  });

  it('counts "cannot read this" notices against the rate limits: a flood of them gets one rate-limit reply, then silence', async () => {
    const { userMessagesPerMinute, chatMessagesPerMinute } = config.policy;
    const sent = Math.max(userMessagesPerMinute, chatMessagesPerMinute) + 3;
    for (let index = 0; index < sent; index++) {
      await handler(jobContext(messageEvent({ text: '', chatType: 'p2p', chatId: 'oc_dm', messageType: 'location' })));
    }
    const texts = sinks.map(({ sink }) => sink.finalText ?? '');
    const notices = texts.filter((text) => /cannot read/.test(text));
    expect(notices).toHaveLength(Math.min(userMessagesPerMinute, chatMessagesPerMinute));
    // Beyond them: each limit's one friendly reply, then silence.
    expect(texts.filter((text) => /faster than I can answer|more messages than I can handle/.test(text))).toHaveLength(
      2,
    );
    expect(texts).toHaveLength(notices.length + 2);
  });

  it('answers a mention in a group thread: start, full-text updates, finish with a summary', async () => {
    const event = messageEvent({ text: 'hello bot', threadId: 'omt_1', rootId: 'om_root' });
    await handler(jobContext(event));
    expect(sinks).toHaveLength(1);
    const [{ context, sink }] = sinks as [{ context: ReplyContext; sink: RecordingReplySink }];
    expect(context).toMatchObject({ chatId: 'oc_group_1', threadId: 'omt_1', replyInThread: true, chatType: 'group' });
    expect(sink.calls[0]).toBe('start');
    expect(sink.calls.at(-1)).toBe('finish');
    expect(sink.updates.at(-1)).toBe('Hello from the model');
    expect(sink.updates.every((text, index) => index === 0 || text.startsWith(sink.updates[index - 1] ?? ''))).toBe(
      true,
    );
    expect(sink.finalText).toBe('Hello from the model');
    expect(sink.summary).toMatch(/^mock-model · 15 tokens · \d+\.\d s$/);
    expect(userTexts(prompts[0] as LanguageModelV3CallOptions)).toEqual(['ou_user_1: hello bot']);
    expect(events).toContainEqual(
      expect.objectContaining({ type: 'message.received', text: 'hello bot', chatType: 'group' }),
    );
  });

  it('ignores group messages without a mention, and bots', async () => {
    await handler(jobContext(messageEvent({ text: 'just chatting', mentionBot: false })));
    await handler(jobContext(messageEvent({ text: 'beep', senderType: 'app', chatType: 'p2p' })));
    expect(sinks).toHaveLength(0);
    expect(prompts).toHaveLength(0);
    expect(events.filter((event) => event.type === 'message.ignored')).toHaveLength(2);
  });

  it('remembers the thread for a follow-up, and /reset forgets it', async () => {
    const where = { chatId: 'oc_mem', threadId: 'omt_mem' };
    respond = () => textResult('Nice to meet you, Bob');
    await handler(jobContext(messageEvent({ text: 'my name is Bob', ...where })));
    respond = () => textResult('You are Bob');
    await handler(jobContext(messageEvent({ text: 'what is my name?', ...where })));
    expect(userTexts(prompts[1] as LanguageModelV3CallOptions)).toEqual([
      'ou_user_1: my name is Bob',
      'Nice to meet you, Bob',
      'ou_user_1: what is my name?',
    ]);

    // Another thread in the same chat does not see it.
    await handler(jobContext(messageEvent({ text: 'who am I?', chatId: 'oc_mem', threadId: 'omt_other' })));
    expect(userTexts(prompts[2] as LanguageModelV3CallOptions)).toEqual(['ou_user_1: who am I?']);

    await handler(jobContext(messageEvent({ text: '/reset', ...where })));
    expect(sinks.at(-1)?.sink.finalText).toMatch(/forgotten/);
    expect(prompts).toHaveLength(3);
    await handler(jobContext(messageEvent({ text: 'what is my name?', ...where })));
    expect(userTexts(prompts[3] as LanguageModelV3CallOptions)).toEqual(['ou_user_1: what is my name?']);
  });

  it('uses a resolved display name in the instructions and group turns', async () => {
    const bus = createEventBus();
    const chain = createModelChain({
      createModel: (id) =>
        new MockLanguageModelV3({
          modelId: id,
          doStream: async (options) => {
            prompts.push(options);
            return textResult('Hi Carol');
          },
        }),
      primary: 'mock-model',
    });
    const named = createMessageHandler({
      policy: config.policy,
      memoryTokenBudget: config.model.memoryTokenBudget,
      store,
      bus,
      log,
      botOpenId: BOT_OPEN_ID,
      managerAgent: createManagerAgent({ chain, specialists: createSpecialistRegistry([]), bus, maxSteps: 1 }),
      resolveUserName: async (openId) => (openId === 'ou_carol' ? 'Carol' : undefined),
      replySinkFor: () => createRecordingReplySink(),
    });
    await named(jobContext(messageEvent({ text: 'hi', userId: 'ou_carol', chatId: 'oc_named' })));
    const system = prompts[0]?.prompt.find((message) => message.role === 'system');
    expect(system?.role === 'system' && system.content).toContain('The person asking now is Carol');
    expect(userTexts(prompts[0] as LanguageModelV3CallOptions)).toEqual(['Carol: hi']);
    expect((await store.readHistory('chat:oc_named', 5))[0]?.author).toBe('Carol');
  });

  it('answers /help without the model', async () => {
    await handler(jobContext(messageEvent({ text: '/help', chatType: 'p2p', chatId: 'oc_p2p' })));
    expect(prompts).toHaveLength(0);
    expect(sinks[0]?.sink.finalText).toContain('/reset');
  });

  it('replies kindly to an over-long message without calling the model', async () => {
    await handler(jobContext(messageEvent({ text: 'x'.repeat(101) })));
    expect(prompts).toHaveLength(0);
    expect(sinks[0]?.sink.outcome).toBe('finished');
    expect(sinks[0]?.sink.finalText).toMatch(/too long/);
  });

  it('closes with what was said plus an honest notice when the model breaks mid-answer', async () => {
    const reset = new TypeError('terminated', { cause: Object.assign(new Error('x'), { code: 'ECONNRESET' }) });
    respond = () => brokenStream(textParts('The answer is', { chunks: 1 }).slice(0, 3), reset);
    const event = messageEvent({ text: 'question', chatId: 'oc_fail' });
    await handler(jobContext(event));
    const sink = sinks[0]?.sink as RecordingReplySink;
    expect(sink.outcome).toBe('failed');
    expect(sink.finalText).toBe('The answer is');
    expect(sink.notice).toMatch(/network error/);
    expect(sink.notice).not.toMatch(/at |ECONNRESET/);
  });

  it('tells the user about a rate-limited provider in plain words', async () => {
    respond = () => {
      throw apiCallError(429, { responseHeaders: { 'retry-after': '600' } });
    };
    await handler(jobContext(messageEvent({ text: 'question', chatId: 'oc_rl' })));
    expect(sinks[0]?.sink.outcome).toBe('failed');
    expect(sinks[0]?.sink.notice).toBe('The model provider is rate-limiting us; please try again in a minute.');
  });

  it('on shutdown stops the model, closes the reply with a notice and hands the job back', async () => {
    const controller = new AbortController();
    respond = (options) => {
      const parts = textParts('Partial answer', { chunks: 1 }).slice(0, 3);
      return {
        stream: new ReadableStream({
          start(streamController) {
            for (const part of parts) streamController.enqueue(part);
            options.abortSignal?.addEventListener('abort', () => streamController.error(options.abortSignal?.reason));
            setTimeout(() => controller.abort('shutdown'), 10);
          },
        }),
      };
    };
    const event = messageEvent({ text: 'long task', chatId: 'oc_stop' });
    await expect(handler(jobContext(event, { signal: controller.signal }))).rejects.toThrow(/shutdown/);
    const sink = sinks[0]?.sink as RecordingReplySink;
    expect(sink.outcome).toBe('failed');
    expect(sink.finalText).toBe('Partial answer');
    expect(sink.notice).toMatch(/restart/);
    // Nothing stored: the job runs again.
    expect(await store.readHistory('chat:oc_stop', 10)).toEqual([]);
  });

  it('a re-run of the same job does not store the turn twice', async () => {
    const event = messageEvent({ text: 'once', chatId: 'oc_rerun' });
    await handler(jobContext(event));
    await handler(jobContext(event, { attempts: 2 }));
    expect(userTexts(prompts[1] as LanguageModelV3CallOptions)).toEqual(['ou_user_1: once']);
    expect((await store.readHistory('chat:oc_rerun', 10)).map((turn) => turn.content)).toEqual([
      'once',
      'Hello from the model',
    ]);
  });

  it('tells a direct chat politely which kinds of message it cannot read', async () => {
    await handler(jobContext(messageEvent({ text: '', chatType: 'p2p', chatId: 'oc_dm', messageType: 'share_chat' })));
    expect(sinks[0]?.sink.finalText).toMatch(/cannot read this kind of message/);
    expect(prompts).toHaveLength(0);
  });
});

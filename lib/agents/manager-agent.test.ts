import type { LanguageModelV3CallOptions, LanguageModelV3StreamResult } from '@ai-sdk/provider';
import { MockLanguageModelV3 } from 'ai/test';
import { describe, expect, it } from 'vitest';
import { textResult, toolCallResult } from '../../test/support/test-model.js';
import type { BotEvent } from '../observe/bot-event.js';
import { createEventBus } from '../observe/event-bus.js';
import type { ConversationContext } from './conversation-context.js';
import { buildManagerInstructions, createManagerAgent, historyToMessages } from './manager-agent.js';
import { createModelChain } from './model-chain.js';
import { builtInSpecialists, createSpecialistRegistry } from './specialist-registry.js';

const context: ConversationContext = {
  traceId: 'job-1',
  chatId: 'oc_1',
  chatType: 'group',
  threadId: 'omt_1',
  userName: 'Alice',
  timeZone: 'UTC',
};

function systemPrompt(options: LanguageModelV3CallOptions): string {
  const system = options.prompt.find((message) => message.role === 'system');
  return system?.role === 'system' ? system.content : '';
}

function lastUserText(options: LanguageModelV3CallOptions): string {
  const users = options.prompt.filter((message) => message.role === 'user');
  const last = users.at(-1);
  if (last?.role !== 'user') return '';
  return last.content.map((part) => (part.type === 'text' ? part.text : '')).join('');
}

function hasToolResult(options: LanguageModelV3CallOptions): boolean {
  return options.prompt.some((message) => message.role === 'tool');
}

function setup(respond: (options: LanguageModelV3CallOptions) => LanguageModelV3StreamResult, now = () => new Date()) {
  const events: BotEvent[] = [];
  const bus = createEventBus();
  bus.subscribe((event) => events.push(event));
  const calls: LanguageModelV3CallOptions[] = [];
  const chain = createModelChain({
    createModel: (id) =>
      new MockLanguageModelV3({
        modelId: id,
        doStream: async (options) => {
          calls.push(options);
          return respond(options);
        },
      }),
    primary: 'mock-model',
  });
  const manager = createManagerAgent({
    chain,
    specialists: createSpecialistRegistry(builtInSpecialists()),
    bus,
    maxSteps: 5,
    now,
  });
  return { manager, events, calls };
}

describe('manager agent', () => {
  it('delegates a translation to the writer specialist and relays its answer', async () => {
    const { manager, events, calls } = setup((options) => {
      const system = systemPrompt(options);
      if (system.includes('careful writer')) return textResult('你好，世界', { input: 7, output: 3 });
      if (!hasToolResult(options)) {
        return toolCallResult(
          'writer',
          { task: 'Translate "Hello, world" into Chinese.' },
          { inputTokens: 20, outputTokens: 8 },
        );
      }
      return textResult('Here is the translation: 你好，世界', { input: 30, output: 9 });
    });
    const updates: string[] = [];
    const answer = await manager.answer({
      context,
      history: [],
      input: 'Translate "Hello, world" into Chinese',
      onText: (text) => updates.push(text),
    });

    expect(answer.outcome).toBe('success');
    expect(answer.text).toBe('Here is the translation: 你好，世界');
    expect(updates.at(-1)).toBe(answer.text);
    expect(updates.length).toBeGreaterThan(1);
    expect(answer.model).toBe('mock-model');
    expect(answer.inputTokens).toBe(50);
    expect(answer.outputTokens).toBe(17);
    // The answer relays the writer's text: a rating counts against the writer.
    expect(answer.answeredBy).toBe('writer');

    // The writer saw only the task, not the chat.
    const writerCall = calls.find((call) => systemPrompt(call).includes('careful writer'));
    expect(writerCall && lastUserText(writerCall)).toBe('Translate "Hello, world" into Chinese.');

    expect(events).toContainEqual(
      expect.objectContaining({ type: 'agent.delegation', traceId: 'job-1', from: 'manager', to: 'writer' }),
    );
    const agentCalls = events.filter((event) => event.type === 'agent.call');
    expect(agentCalls).toEqual([
      expect.objectContaining({
        agent: 'writer',
        outcome: 'success',
        inputTokens: 7,
        outputTokens: 3,
        model: 'mock-model',
      }),
      expect.objectContaining({ agent: 'manager', outcome: 'success', inputTokens: 50, outputTokens: 17 }),
    ]);
  });

  it('routes a recap request to the summarizer, which reads history through its tool', async () => {
    const { manager, events } = setup((options) => {
      const system = systemPrompt(options);
      if (system.includes('You summarise Feishu conversations')) {
        if (!hasToolResult(options)) return toolCallResult('readChatHistory', { limit: 20 });
        return textResult('- Nothing to summarise: history is unavailable.');
      }
      if (!hasToolResult(options)) return toolCallResult('summarizer', { task: 'Summarise this thread.' });
      return textResult('Summary: history is unavailable here.');
    });
    const answer = await manager.answer({
      context: { ...context, chatType: 'local' },
      history: [],
      input: 'recap please',
    });
    expect(answer.outcome).toBe('success');
    const toolCalls = events.filter((event) => event.type === 'tool.call');
    expect(toolCalls).toEqual([
      expect.objectContaining({ agent: 'summarizer', tool: 'readChatHistory', input: '{"limit":20,"scope":"thread"}' }),
    ]);
    expect(toolCalls[0]?.type === 'tool.call' && toolCalls[0].output).toMatch(/not available/);
    expect(events.find((event) => event.type === 'agent.delegation')).toMatchObject({ to: 'summarizer' });
  });

  it('answers directly without delegating when no specialist is needed', async () => {
    const { manager, events } = setup(() => textResult('Paris.'));
    const answer = await manager.answer({ context, history: [], input: 'Capital of France?' });
    expect(answer.text).toBe('Paris.');
    expect(answer.answeredBy).toBe('manager');
    expect(events.some((event) => event.type === 'agent.delegation')).toBe(false);
  });

  it('offers every specialist as a tool, besides its own tools', async () => {
    const { manager, calls } = setup(() => textResult('ok'));
    await manager.answer({ context, history: [], input: 'hi' });
    const toolNames = (calls[0]?.tools ?? []).map((tool) => tool.name).sort();
    expect(toolNames).toEqual([
      'currentTime',
      'documents',
      'getUser',
      'readDocument',
      'readWebPage',
      'scheduler',
      'summarizer',
      'writer',
    ]);
  });

  it("builds the instructions at call time: today's date is not frozen", async () => {
    let clock = new Date('2026-03-01T09:00:00Z');
    const { manager, calls } = setup(
      () => textResult('ok'),
      () => clock,
    );
    await manager.answer({ context, history: [], input: 'what day is it' });
    clock = new Date('2026-03-02T09:00:00Z');
    await manager.answer({ context, history: [], input: 'and now?' });
    expect(systemPrompt(calls[0] as LanguageModelV3CallOptions)).toContain('1 March 2026');
    expect(systemPrompt(calls[1] as LanguageModelV3CallOptions)).toContain('2 March 2026');
    expect(systemPrompt(calls[1] as LanguageModelV3CallOptions)).not.toContain('1 March 2026');
  });

  it('puts history before the question, with group authors', async () => {
    const { manager, calls } = setup(() => textResult('ok'));
    await manager.answer({
      context,
      history: [
        { role: 'user', content: 'my name is Bob', at: 1, author: 'Bob' },
        { role: 'assistant', content: 'Hi Bob', at: 2 },
      ],
      input: 'what is his name?',
    });
    const prompt = calls[0]?.prompt ?? [];
    expect(prompt.map((message) => message.role)).toEqual(['system', 'user', 'assistant', 'user']);
    expect(lastUserText(calls[0] as LanguageModelV3CallOptions)).toBe('Alice: what is his name?');
  });

  it('returns what was said plus a notice when the model fails, and reports the category', async () => {
    const { manager, events } = setup(() => {
      throw Object.assign(new Error('boom'), { name: 'SomethingElse' });
    });
    const answer = await manager.answer({ context, history: [], input: 'hi' });
    expect(answer.outcome).toBe('error');
    expect(answer.errorCategory).toBe('OTHER');
    expect(answer.notice).toMatch(/went wrong/);
    expect(events).toContainEqual(
      expect.objectContaining({ type: 'agent.call', agent: 'manager', outcome: 'error', errorCategory: 'OTHER' }),
    );
  });

  it('stops when its caller aborts and says so without an agent.call', async () => {
    const controller = new AbortController();
    const { manager, events } = setup((options) => {
      controller.abort('shutdown');
      return {
        stream: new ReadableStream({
          start(streamController) {
            options.abortSignal?.addEventListener('abort', () => streamController.error(options.abortSignal?.reason));
          },
        }),
      };
    });
    const answer = await manager.answer({ context, history: [], input: 'hi', signal: controller.signal });
    expect(answer.outcome).toBe('aborted');
    expect(events.some((event) => event.type === 'agent.call')).toBe(false);
  });
});

describe('buildManagerInstructions', () => {
  it('describes where it is and who asks', () => {
    const registry = createSpecialistRegistry(builtInSpecialists());
    const p2p = buildManagerInstructions({
      context: { traceId: 't', chatId: 'oc', chatType: 'p2p', userName: 'Dana', timeZone: 'UTC' },
      specialists: registry,
      now: new Date('2026-01-05T00:00:00Z'),
    });
    expect(p2p).toContain('direct (one-to-one) chat with Dana');
    expect(p2p).toContain('- summarizer:');
    expect(p2p).toContain('5 January 2026');
  });
});

describe('historyToMessages', () => {
  it('prefixes authors only in groups', () => {
    const history = [{ role: 'user' as const, content: 'hi', at: 1, author: 'Eve' }];
    expect(historyToMessages(history, 'group')).toEqual([{ role: 'user', content: 'Eve: hi' }]);
    expect(historyToMessages(history, 'p2p')).toEqual([{ role: 'user', content: 'hi' }]);
  });
});

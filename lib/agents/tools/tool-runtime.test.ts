import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import type { BotEvent } from '../../observe/bot-event.js';
import { createEventBus } from '../../observe/event-bus.js';
import type { ConversationContext } from '../conversation-context.js';
import { defineTool } from './tool-definition.js';
import { ToolError } from './tool-error.js';
import { appendNotices, createToolNotices } from './tool-notices.js';
import { createToolRegistry } from './tool-registry.js';
import { createToolRuntime } from './tool-runtime.js';

const conversation: ConversationContext = { traceId: 't1', chatId: 'oc_1', chatType: 'group', userId: 'ou_1' };

const echo = defineTool({
  name: 'echo',
  description: 'Echoes.',
  inputSchema: z.object({ text: z.string() }),
  scopes: [],
  access: 'read',
  identity: 'none',
  execute: async ({ text }) => text,
});

function setup(tools = [echo], options: Partial<Parameters<typeof createToolRuntime>[0]> = {}) {
  /** Everything but `tool.started`, which goes to `started`. */
  const events: BotEvent[] = [];
  const started: BotEvent[] = [];
  const bus = createEventBus();
  bus.subscribe((event) => (event.type === 'tool.started' ? started : events).push(event));
  const notices = createToolNotices();
  const runtime = createToolRuntime({ registry: createToolRegistry(tools), bus, ...options });
  const run = async (name: string, input: unknown, abortSignal?: AbortSignal) => {
    const tool = runtime.toolSet([name, 'unknownTool'], { agent: 'manager', conversation, notices })[name];
    return (await tool?.execute?.(input, {
      toolCallId: 'c',
      messages: [],
      ...(abortSignal ? { abortSignal } : {}),
    })) as string;
  };
  return { runtime, run, events, started, notices };
}

describe('tool registry', () => {
  it('refuses duplicate or malformed names, and write tools that cannot ask for approval', () => {
    expect(() => createToolRegistry([echo, echo])).toThrow(/registered twice/);
    expect(() => createToolRegistry([{ ...echo, name: 'docs.read' }])).toThrow(/Invalid tool name/);
    expect(() => createToolRegistry([{ ...echo, name: 'post', access: 'write' }])).toThrow(/approval summary/);
    const approved = {
      ...echo,
      name: 'post',
      access: 'write' as const,
      approval: { describe: () => ({ action: 'Post', target: 'chat', fields: [] }) },
    };
    expect(createToolRegistry([echo, approved]).names()).toEqual(['echo', 'post']);
  });

  it('offers a write tool only where approvals can be asked, and asks unless the chat always allows it', async () => {
    const approved = {
      ...echo,
      name: 'post',
      access: 'write' as const,
      approval: { describe: () => ({ action: 'Post', target: 'chat', fields: [] }) },
    };
    const runtime = createToolRuntime({ registry: createToolRegistry([echo, approved]), bus: createEventBus() });
    const conversation = { traceId: 't', chatId: 'oc_1', chatType: 'group' as const };
    const without = runtime.toolSet(['echo', 'post'], { agent: 'manager', conversation, notices: createToolNotices() });
    expect(Object.keys(without)).toEqual(['echo']);
    const allowed = new Set<string>();
    const withGate = runtime.toolSet(['echo', 'post'], {
      agent: 'manager',
      conversation,
      notices: createToolNotices(),
      approvals: { alwaysAllowed: async (tool) => allowed.has(tool) },
    });
    const needsApproval = withGate.post?.needsApproval;
    if (typeof needsApproval !== 'function') throw new Error('post should ask for approval');
    const asks = async (toolCallId: string) => await needsApproval({ text: 'x' }, { toolCallId, messages: [] });
    expect(await asks('c1')).toBe(true);
    allowed.add('post');
    expect(await asks('c2')).toBe(false);
    expect(withGate.echo?.needsApproval).toBeUndefined();
  });
});

describe('tool runtime', () => {
  it('runs a tool, bounds its text, and reports one tool.call with identity and size', async () => {
    const { run, events, started } = setup([echo], { limits: { maxChars: 200 } });
    const first = run('echo', { text: 'hi' });
    // Announced before it runs, so the card can show it at once.
    expect(started).toEqual([
      expect.objectContaining({ type: 'tool.started', traceId: 't1', agent: 'manager', tool: 'echo', toolCallId: 'c' }),
    ]);
    expect(events).toEqual([]);
    expect(await first).toBe('hi');
    const long = await run('echo', { text: 'x'.repeat(1_000) });
    expect(long.length).toBeLessThanOrEqual(200);
    expect(long).toContain('[truncated:');
    expect(events).toEqual([
      expect.objectContaining({
        type: 'tool.call',
        tool: 'echo',
        toolCallId: 'c',
        agent: 'manager',
        identity: 'none',
        resultChars: 2,
        truncated: false,
      }),
      expect.objectContaining({ type: 'tool.call', truncated: true, resultChars: long.length }),
    ]);
  });

  it('turns a thrown error into text for the model, with the category on the event', async () => {
    const failing = defineTool({
      ...echo,
      name: 'failing',
      execute: async () => {
        throw new ToolError('BAD_INPUT', 'range A1:ZZ is too wide');
      },
    });
    const { run, events } = setup([failing]);
    expect(await run('failing', { text: '' })).toMatch(
      /^TOOL ERROR \(BAD_INPUT\): range A1:ZZ is too wide\. Fix the arguments/,
    );
    expect(events[0]).toMatchObject({ errorCategory: 'BAD_INPUT', error: 'range A1:ZZ is too wide' });
  });

  it('words a tool failure’s notice in the question’s language', async () => {
    const denied = defineTool({
      ...echo,
      name: 'denied',
      execute: async () => {
        throw new ToolError('NO_PERMISSION', 'denied: the bot does not have access', {
          userNotice: 'I could not read it with denied: the bot does not have access to it in Feishu.',
          scopes: ['docx:document:readonly'],
        });
      },
    });
    for (const [language, expected] of [
      ['en', 'I could not read it with denied'],
      ['zh', '无法用 denied 读取：机器人在飞书里没有它的访问权限'],
    ] as const) {
      const notices = createToolNotices();
      const runtime = createToolRuntime({ registry: createToolRegistry([denied]), bus: createEventBus() });
      const tool = runtime.toolSet(['denied'], {
        agent: 'manager',
        conversation: { ...conversation, language },
        notices,
      }).denied;
      await tool?.execute?.({ text: '' }, { toolCallId: 'c', messages: [] });
      expect(notices.list()).toHaveLength(1);
      expect(notices.list()[0]).toContain(expected);
    }
  });

  it('stops a slow tool at its deadline', async () => {
    const slow = defineTool({ ...echo, name: 'slow', execute: () => new Promise<string>(() => {}) });
    const { run, events } = setup([slow], { timeoutMs: 50 });
    expect(await run('slow', { text: '' })).toMatch(/^TOOL ERROR \(TIMEOUT\): slow took longer than 50 ms/);
    expect(events[0]).toMatchObject({ errorCategory: 'TIMEOUT' });
  });

  it('a user-identity tool without the user’s authorization never runs and leaves a notice', async () => {
    let ran = false;
    const mine = defineTool({
      ...echo,
      name: 'mine',
      identity: 'user',
      execute: async () => {
        ran = true;
        return 'x';
      },
    });
    const { run, notices, events } = setup([mine], {
      feishuClient: {} as never,
      userAuthorization: {
        tokenFor: async () => ({ ok: false, reason: 'not-allowed-here', message: 'ask me in a direct chat.' }),
      },
    });
    expect(await run('mine', { text: '' })).toMatch(/^TOOL ERROR \(NEEDS_USER_AUTH\)/);
    expect(ran).toBe(false);
    expect(notices.list()).toEqual(['mine: ask me in a direct chat.']);
    expect(events[0]).toMatchObject({ identity: 'user', errorCategory: 'NEEDS_USER_AUTH' });
  });

  it('a Feishu tool without a Feishu connection says it is not available here', async () => {
    const feishuTool = defineTool({ ...echo, name: 'feishuTool', identity: 'tenant' });
    const { run } = setup([feishuTool]);
    expect(await run('feishuTool', { text: '' })).toBe(
      'feishuTool is not available here: the bot is not connected to Feishu.',
    );
  });

  it('lets a stopped answer stop instead of reporting a tool failure', async () => {
    const slow = defineTool({ ...echo, name: 'slow', execute: () => new Promise<string>(() => {}) });
    const { run, events, started } = setup([slow]);
    const controller = new AbortController();
    const pending = run('slow', { text: '' }, controller.signal);
    controller.abort(new Error('shutdown'));
    // At once, not at the 20 s deadline, and not as a tool failure.
    await expect(pending).rejects.toThrow('shutdown');
    expect(started).toHaveLength(1);
    expect(events).toEqual([]);
  });
});

describe('tool notices', () => {
  it('keeps each notice once, bounded, and shows them under the answer', () => {
    const notices = createToolNotices({ max: 2 });
    notices.add('a');
    notices.add('a');
    notices.add('b');
    notices.add('c');
    expect(notices.list()).toEqual(['a', 'b']);
    expect(appendNotices('Answer.', notices.list())).toBe('Answer.\n\n> ⚠️ a\n>\n> ⚠️ b');
    expect(appendNotices('', ['a'])).toBe('> ⚠️ a');
  });
});

import { fileURLToPath } from 'node:url';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { ConversationContext } from '../../lib/agents/conversation-context.js';
import { createMcpHub, type McpHub } from '../../lib/agents/mcp/mcp-hub.js';
import type { McpServerConfig } from '../../lib/agents/mcp/mcp-servers-file.js';
import { defaultToolRegistry } from '../../lib/agents/tools/built-in-tools.js';
import { createToolNotices } from '../../lib/agents/tools/tool-notices.js';
import { createToolRuntime } from '../../lib/agents/tools/tool-runtime.js';
import type { BotEvent } from '../../lib/observe/bot-event.js';
import { createEventBus } from '../../lib/observe/event-bus.js';
import { type HttpMcpServer, startHttpMcpServer } from '../support/mcp-fixture.js';

/**
 * MCP servers through the tool runtime, against a real MCP server (the official SDK's) the test
 * starts: as a child process over stdio and in-process over streamable HTTP. Covers what the
 * agents are offered, calls, bounded results, a server that hangs, one that dies mid-call (and
 * is restarted), and one that never starts.
 */

const REPO = fileURLToPath(new URL('../..', import.meta.url));
const STDIO_SERVER = fileURLToPath(new URL('../fixtures/mcp/stdio-server.ts', import.meta.url));
const conversation: ConversationContext = { traceId: 'job-mcp', chatId: 'oc_mcp', chatType: 'p2p', userId: 'ou_mcp' };
const registry = defaultToolRegistry();

const stdioServer = (extra: Partial<McpServerConfig> = {}): McpServerConfig =>
  ({
    name: 'orders',
    transport: 'stdio',
    command: process.execPath,
    args: ['--import', 'tsx', STDIO_SERVER],
    cwd: REPO,
    ...extra,
  }) as McpServerConfig;

let events: BotEvent[];
let hub: McpHub | undefined;

function start(servers: McpServerConfig[], { toolTimeoutMs = 5_000, maxItems = 100, maxMessageBytes = 500_000 } = {}) {
  hub = createMcpHub({
    servers,
    maxMessageBytes,
    reservedNames: registry.names(),
    callTimeoutMs: toolTimeoutMs,
    // A child process under tsx on two loaded cores can take seconds to start.
    connectTimeoutMs: 20_000,
    restartInitialMs: 100,
    restartMaxMs: 400,
  });
  const bus = createEventBus();
  bus.subscribe((event) => events.push(event));
  const current = hub;
  const runtime = createToolRuntime({
    registry,
    bus,
    timeoutMs: toolTimeoutMs,
    limits: { maxChars: 20_000, maxItems },
    extraTools: (agent) => current.toolsFor(agent),
  });
  const call = async (agent: string, name: string, input: Record<string, unknown> = {}) => {
    const execute = runtime.toolSet([], { agent, conversation, notices: createToolNotices() })[name]?.execute;
    if (execute === undefined) throw new Error(`${agent} is not offered ${name}`);
    return (await execute(input, { toolCallId: 'call-1', messages: [] })) as string;
  };
  return { hub: current, runtime, call };
}

/** Polls until `check` holds (a restart takes a process start), failing with `what` after 40 s. */
async function eventually(check: () => boolean, what: string) {
  const deadline = Date.now() + 40_000;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

beforeEach(() => {
  events = [];
});
afterEach(async () => {
  await hub?.close();
  hub = undefined;
});

describe('an MCP server over stdio', { timeout: 90_000 }, () => {
  it('offers its read-only tools to the manager under prefixed names, and calls them', async () => {
    const { hub, call } = start([stdioServer()]);
    await hub.started;
    expect(hub.toolsFor('manager').map((tool) => tool.name)).toEqual([
      'mcpOrdersLookupOrder',
      'mcpOrdersListParts',
      'mcpOrdersBrokenTool',
      'mcpOrdersHang',
      'mcpOrdersDie',
      'mcpOrdersFlood',
      'mcpOrdersAddTool',
      'mcpOrdersDeleteOrder',
    ]);
    // delete_order is not marked read-only: a write tool, offered only behind an approval.
    expect(hub.statuses()).toEqual([
      expect.objectContaining({
        name: 'orders',
        transport: 'stdio',
        state: 'ready',
        offeredTools: 8,
        writeTools: 1,
        skippedTools: 0,
        restarts: 0,
        agents: ['manager'],
      }),
    ]);
    expect(hub.toolsFor('documents')).toEqual([]);
    const text = await call('manager', 'mcpOrdersLookupOrder', { orderId: 'A-1001' });
    expect(text).toMatch(/^Order A-1001: 3 × desk lamp, shipped on 3 May by SF Express/);
    expect(events.at(-1)).toMatchObject({ type: 'tool.call', tool: 'mcpOrdersLookupOrder', identity: 'none' });
  });

  it('bounds results by items and reads a tool error as an error', async () => {
    const { hub, call } = start([stdioServer()], { maxItems: 20 });
    await hub.started;
    const parts = await call('manager', 'mcpOrdersListParts');
    expect(parts).toContain('part P-20');
    expect(parts).not.toContain('part P-21');
    expect(parts).toContain('[truncated: showing 20 parts of 150]');
    const broken = await call('manager', 'mcpOrdersBrokenTool');
    expect(broken).toMatch(/^TOOL ERROR \(BAD_INPUT\): the tool reported an error: database connection refused/);
  });

  it('a tool that hangs ends at the deadline with a clear error; the server keeps serving', async () => {
    const { hub, call } = start([stdioServer()], { toolTimeoutMs: 1_500 });
    await hub.started;
    const text = await call('manager', 'mcpOrdersHang');
    expect(text).toMatch(/^TOOL ERROR \(TIMEOUT\)/);
    expect(await call('manager', 'mcpOrdersLookupOrder', { orderId: 'A-1002' })).toContain('Order A-1002');
  });

  it('a server that dies mid-call: the call says so at once, the server is restarted with back-off, and serves again', async () => {
    const { hub, call } = start([stdioServer()], { toolTimeoutMs: 25_000 });
    await hub.started;
    const before = await call('manager', 'mcpOrdersLookupOrder', { orderId: 'A-1001' });
    const startedAt = Date.now();
    const text = await call('manager', 'mcpOrdersDie');
    expect(text).toMatch(
      /^TOOL ERROR \(UNAVAILABLE\): the MCP server orders stopped during the call \(it is being restarted\)/,
    );
    // Not the 25 s deadline: the lost connection ends the call (in well under a second, usually).
    expect(Date.now() - startedAt).toBeLessThan(20_000);
    await eventually(() => hub.statuses()[0]?.state === 'ready' && hub.statuses()[0]?.restarts === 1, 'the restart');
    const after = await call('manager', 'mcpOrdersLookupOrder', { orderId: 'A-1001' });
    expect(after).toContain('Order A-1001');
    // Another process answers now.
    expect(/\(server (pid \d+)\)/.exec(after)?.[1]).not.toBe(/\(server (pid \d+)\)/.exec(before)?.[1]);
    expect(hub.statuses()[0]?.lastError).toMatch(/the connection closed/);
  });

  it('a server that changes its tools: the agents are offered the new list', async () => {
    const { hub, call } = start([stdioServer()]);
    await hub.started;
    expect(hub.toolsFor('manager').map((tool) => tool.name)).not.toContain('mcpOrdersNewTool');
    expect(await call('manager', 'mcpOrdersAddTool')).toBe('added new_tool');
    await eventually(
      () => hub.toolsFor('manager').some((tool) => tool.name === 'mcpOrdersNewTool'),
      'the changed tool list',
    );
    expect(await call('manager', 'mcpOrdersNewTool')).toBe('new tool answers');
  });

  it('an answer larger than MCP_MAX_MESSAGE_BYTES drops the connection (never read whole), and the server is restarted', async () => {
    const { hub, call } = start([stdioServer()]);
    await hub.started;
    const text = await call('manager', 'mcpOrdersFlood');
    expect(text).toMatch(/^TOOL ERROR \(UNAVAILABLE\): the MCP server orders stopped during the call/);
    await eventually(() => hub.statuses()[0]?.state === 'ready' && hub.statuses()[0]?.restarts === 1, 'the restart');
    expect(hub.statuses()[0]?.lastError).toMatch(/exceeded maximum size of 500000 bytes/);
    expect(await call('manager', 'mcpOrdersLookupOrder', { orderId: 'A-1001' })).toContain('Order A-1001');
  });

  it('a server that cannot start: the start does not wait for it, it is retried, the row says why', async () => {
    const { hub, call } = start([
      stdioServer({ name: 'missing', command: '/nonexistent/mcp-server', args: [] } as Partial<McpServerConfig>),
    ]);
    await hub.started;
    expect(hub.toolsFor('manager')).toEqual([]);
    await eventually(() => (hub.statuses()[0]?.restarts ?? 0) >= 1, 'a second attempt');
    expect(hub.statuses()[0]).toMatchObject({ name: 'missing', state: 'restarting', offeredTools: 0 });
    expect(hub.statuses()[0]?.lastError).toMatch(/could not start|closed/);
    await expect(call('manager', 'mcpMissingAnything')).rejects.toThrow(/not offered/);
  });

  it('an entry listing specialists gives its tools to them only, not to the manager', async () => {
    const { hub, call } = start([stdioServer({ specialists: ['documents'] })]);
    await hub.started;
    expect(hub.toolsFor('manager')).toEqual([]);
    expect(hub.toolsFor('documents').map((tool) => tool.name)).toContain('mcpOrdersLookupOrder');
    expect(await call('documents', 'mcpOrdersLookupOrder', { orderId: 'A-1002' })).toContain('Order A-1002');
    await expect(call('manager', 'mcpOrdersLookupOrder', { orderId: 'A-1002' })).rejects.toThrow(/not offered/);
  });

  it('a tool that may write is offered only where a person can approve it, named by server and tool with its arguments', async () => {
    const { hub, runtime } = start([stdioServer()]);
    await hub.started;
    const request = { agent: 'manager', conversation, notices: createToolNotices() };
    // No approval gate (a specialist, the playground, a scheduled run): not offered at all.
    expect(Object.keys(runtime.toolSet([], request))).not.toContain('mcpOrdersDeleteOrder');
    const asked: string[] = [];
    const gated = runtime.toolSet([], {
      ...request,
      approvals: {
        alwaysAllowed: async (tool) => {
          asked.push(tool);
          return false;
        },
      },
    });
    const deleteOrder = gated.mcpOrdersDeleteOrder;
    expect(deleteOrder).toBeDefined();
    expect(deleteOrder?.description).toContain('the person approves each call first');
    const needsApproval = deleteOrder?.needsApproval;
    expect(typeof needsApproval).toBe('function');
    if (typeof needsApproval !== 'function') throw new Error('needsApproval is not a function');
    expect(await needsApproval({ orderId: 'A-1001' }, { toolCallId: 'call-9', messages: [] })).toBe(true);
    expect(asked).toEqual(['mcpOrdersDeleteOrder']);
    // Read tools never ask.
    expect(gated.mcpOrdersLookupOrder?.needsApproval).toBeUndefined();
    const definition = hub.definition('mcpOrdersDeleteOrder');
    expect(definition?.access).toBe('write');
    expect(definition?.approval?.describe({ orderId: 'A-1001' }, 'en')).toEqual({
      action: 'Run orders.delete_order',
      target: 'MCP server "orders"',
      fields: [{ label: 'orderId', value: 'A-1001' }],
    });
    expect(definition?.approval?.describe({ orderId: 'A-1001' }, 'zh')).toEqual({
      action: '运行 orders.delete_order',
      target: 'MCP 服务 “orders”',
      fields: [{ label: 'orderId', value: 'A-1001' }],
    });
  });

  it('"readOnly": true offers every tool of the server as a read tool; "writeTools": false offers none that may write', async () => {
    const { hub } = start([stdioServer({ readOnly: true })]);
    await hub.started;
    expect(hub.toolsFor('manager').map((tool) => tool.name)).toContain('mcpOrdersDeleteOrder');
    expect(hub.definition('mcpOrdersDeleteOrder')?.access).toBe('read');
    expect(hub.statuses()[0]).toMatchObject({ offeredTools: 8, writeTools: 0, skippedTools: 0 });
    await hub.close();

    const { hub: noWrites } = start([stdioServer({ writeTools: false })]);
    await noWrites.started;
    expect(noWrites.toolsFor('manager').map((tool) => tool.name)).not.toContain('mcpOrdersDeleteOrder');
    expect(noWrites.statuses()[0]).toMatchObject({ offeredTools: 7, writeTools: 0, skippedTools: 1 });
  });
});

describe('an MCP server over streamable HTTP', { timeout: 90_000 }, () => {
  let http: HttpMcpServer;
  beforeAll(async () => {
    http = await startHttpMcpServer({ token: 'mcp-http-secret' });
  });
  afterAll(async () => {
    await http?.close();
  });

  const httpServer = (): McpServerConfig => ({
    name: 'orders',
    transport: 'http',
    url: http.url,
    headers: { authorization: 'Bearer mcp-http-secret' },
  });

  it('connects with the configured headers and calls a tool', async () => {
    const { hub, call } = start([httpServer()]);
    await hub.started;
    expect(hub.statuses()[0]).toMatchObject({ transport: 'http', state: 'ready', offeredTools: 8, writeTools: 1 });
    expect(await call('manager', 'mcpOrdersLookupOrder', { orderId: 'A-1001' })).toContain('Order A-1001');
    expect(http.authorizations.every((value) => value === 'Bearer mcp-http-secret')).toBe(true);
  });

  it('a wrong token: not connected, retried, and the row says so', async () => {
    const { hub } = start([{ ...httpServer(), headers: { authorization: 'Bearer wrong' } } as McpServerConfig]);
    await hub.started;
    expect(hub.statuses()[0]).toMatchObject({ state: 'restarting', offeredTools: 0 });
    expect(hub.statuses()[0]?.lastError).toMatch(/could not start/);
  });

  it('a tool that hangs ends at the deadline', async () => {
    const { hub, call } = start([httpServer()], { toolTimeoutMs: 1_500 });
    await hub.started;
    expect(await call('manager', 'mcpOrdersHang')).toMatch(/^TOOL ERROR \(TIMEOUT\)/);
  });

  it('an answer larger than MCP_MAX_MESSAGE_BYTES fails the call with a clear error', async () => {
    const { hub, call } = start([httpServer()]);
    await hub.started;
    const text = await call('manager', 'mcpOrdersFlood');
    expect(text).toMatch(
      /^TOOL ERROR \((UNAVAILABLE|BAD_RESPONSE)\): the MCP server orders (stopped during the call|sent an answer larger)/,
    );
    await eventually(() => hub.statuses()[0]?.state === 'ready', 'the reconnection');
    expect(await call('manager', 'mcpOrdersLookupOrder', { orderId: 'A-1001' })).toContain('Order A-1001');
  });

  it('a server that dies mid-call: a clear error, and it is connected again once it is back', async () => {
    const { hub, call } = start([httpServer()]);
    await hub.started;
    const text = await call('manager', 'mcpOrdersDie');
    expect(text).toMatch(
      /^TOOL ERROR \(UNAVAILABLE\): the MCP server orders (stopped during the call|could not be reached)/,
    );
    await eventually(() => hub.statuses()[0]?.state === 'restarting', 'the server to be marked down');
    await http.restart();
    await eventually(() => hub.statuses()[0]?.state === 'ready', 'the reconnection');
    expect(await call('manager', 'mcpOrdersLookupOrder', { orderId: 'A-1002' })).toContain('Order A-1002');
    expect(hub.statuses()[0]?.restarts).toBeGreaterThanOrEqual(1);
  });
});

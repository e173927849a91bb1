import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { ConversationContext } from '../../lib/agents/conversation-context.js';
import { createMcpCallLedger, IDEMPOTENCY_META_KEY } from '../../lib/agents/mcp/mcp-call-ledger.js';
import { createMcpHub, type McpHub } from '../../lib/agents/mcp/mcp-hub.js';
import { defaultToolRegistry } from '../../lib/agents/tools/built-in-tools.js';
import { createToolNotices } from '../../lib/agents/tools/tool-notices.js';
import { createToolRuntime } from '../../lib/agents/tools/tool-runtime.js';
import { createEventBus } from '../../lib/observe/event-bus.js';
import { openSqliteStore } from '../../lib/store/sqlite-store.js';
import type { Store } from '../../lib/store/store.js';
import { type HttpMcpServer, startHttpMcpServer } from '../support/mcp-fixture.js';

/**
 * An approved MCP write call against the real fixture server (streamable HTTP): it carries a
 * stable idempotency key in `_meta`, and the store remembers it, so a run continued after a crash
 * returns a finished call's result instead of calling again, and says so instead of repeating a
 * call that may have run.
 */

const conversation: ConversationContext = {
  traceId: 'job-mcp-approved',
  chatId: 'oc_mcp',
  chatType: 'p2p',
  userId: 'ou_mcp',
};
const registry = defaultToolRegistry();

describe('approved MCP calls are not repeated after a crash', () => {
  let http: HttpMcpServer;
  let hub: McpHub | undefined;
  let store: Store | undefined;
  beforeAll(async () => {
    http = await startHttpMcpServer();
  });
  afterAll(async () => {
    await http?.close();
  });
  afterEach(async () => {
    await hub?.close();
    await store?.close();
    http.deletedOrders.length = 0;
    http.deleteMeta.length = 0;
  });

  /** A fresh process (hub and runtime) over the same store: what a restart sees. */
  async function startProcess(shared: Store) {
    hub = createMcpHub({
      servers: [{ name: 'orders', transport: 'http', url: http.url }],
      reservedNames: registry.names(),
      callTimeoutMs: 5_000,
      ledger: createMcpCallLedger({ store: shared }),
    });
    await hub.started;
    const current = hub;
    const runtime = createToolRuntime({
      registry,
      bus: createEventBus(),
      timeoutMs: 5_000,
      extraTools: (agent) => current.toolsFor(agent),
    });
    const notices = createToolNotices();
    // The person approved: the gate is passed, the SDK runs the call with the model's id.
    const tools = runtime.toolSet([], {
      agent: 'manager',
      conversation,
      notices,
      approvals: { alwaysAllowed: async () => false },
    });
    const call = async (toolCallId: string, orderId: string) =>
      (await tools.mcpOrdersDeleteOrder?.execute?.({ orderId }, { toolCallId, messages: [] })) as string;
    return { call, notices };
  }

  it('sends a stable key in _meta, and a re-run of a finished call returns its result without calling again', async () => {
    store = openSqliteStore(':memory:');
    const first = await startProcess(store);
    expect(await first.call('call-1', 'A-1001')).toBe('deleted A-1001');
    const key = http.deleteMeta[0]?.[IDEMPOTENCY_META_KEY];
    expect(key).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);
    await hub?.close();

    // The run continues after a crash: the same tool call comes again.
    const again = await startProcess(store);
    expect(await again.call('call-1', 'A-1001')).toBe('deleted A-1001');
    expect(http.deletedOrders).toEqual(['A-1001']);

    // Another call (another id) is a change of its own, with a key of its own.
    expect(await again.call('call-2', 'A-1001')).toBe('deleted A-1001');
    expect(http.deletedOrders).toEqual(['A-1001', 'A-1001']);
    expect(http.deleteMeta[1]?.[IDEMPOTENCY_META_KEY]).toMatch(/^[0-9a-f-]{36}$/);
    expect(http.deleteMeta[1]?.[IDEMPOTENCY_META_KEY]).not.toBe(key);
  });

  it('a call started but never finished (the process died mid-call) is not sent again: the user is told it may have run', async () => {
    store = openSqliteStore(':memory:');
    // What a crash mid-call leaves: the call recorded as started, no end.
    const first = await startProcess(store);
    expect(await first.call('call-9', 'A-1002')).toBe('deleted A-1002');
    const key = http.deleteMeta[0]?.[IDEMPOTENCY_META_KEY] as string;
    await store.putRecord('mcp-calls', key, { state: 'started', at: Date.now() }, 10_000);
    http.deletedOrders.length = 0;
    await hub?.close();

    const again = await startProcess(store);
    const text = await again.call('call-9', 'A-1002');
    expect(text).toMatch(
      /^TOOL ERROR \(OTHER\): orders\.delete_order was already started before a restart and may have run/,
    );
    expect(again.notices.list()).toEqual([expect.stringContaining('may have run; it was not repeated')]);
    expect(http.deletedOrders).toEqual([]);
  });
});

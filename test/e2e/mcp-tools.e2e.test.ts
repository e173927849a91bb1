import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { FakeChatRequest } from '../fakes/openai/steps.js';
import { askInChat, lastToolResult } from '../support/ask-in-chat.js';
import { MANY_QUICK_ASKS, useE2eService } from '../support/e2e-service.js';
import { type HttpMcpServer, startHttpMcpServer } from '../support/mcp-fixture.js';
import { parsePrometheusText, sampleValue } from '../support/prometheus-text.js';

/**
 * MCP servers end to end through the running service: MCP_SERVERS_FILE names a real stdio MCP
 * server (a child process the bot starts) for the manager and a real streamable-HTTP one for the
 * documents specialist; a signed message event → the model asks for an MCP tool → the server
 * answers → the model's next request carries the result → the card. A server that hangs and one
 * that dies mid-call each end in a clear answer and a finished job, and the one that died is
 * restarted and shown in /health.
 */

const REPO = fileURLToPath(new URL('../..', import.meta.url));
const STDIO_SERVER = fileURLToPath(new URL('../fixtures/mcp/stdio-server.ts', import.meta.url));
const GROUP_CHAT = 'oc_mcp_group';
const ALICE = 'ou_alice00000000000000000000000mcp';

interface McpRow {
  state: string;
  restarts: number;
  offeredTools: number;
  writeTools: number;
  skippedTools: number;
  agents: string[];
}

describe('MCP servers, end to end', { timeout: 90_000 }, () => {
  let http: HttpMcpServer;
  let file: string;

  beforeAll(async () => {
    http = await startHttpMcpServer({ token: 'crm-token' });
    file = join(mkdtempSync(join(tmpdir(), 'mcp-e2e-')), 'mcp-servers.json');
    writeFileSync(
      file,
      JSON.stringify({
        mcpServers: {
          orders: { command: process.execPath, args: ['--import', 'tsx', STDIO_SERVER], cwd: REPO },
          crm: { url: http.url, headers: { authorization: 'Bearer crm-token' }, specialists: ['documents'] },
        },
      }),
    );
  });

  afterAll(async () => {
    await http?.close();
  });

  const service = useE2eService({
    env: () => ({
      ...MANY_QUICK_ASKS,
      TOOL_TIMEOUT_MS: '2000',
      MCP_SERVERS_FILE: file,
      MCP_CONNECT_TIMEOUT_MS: '30000',
      MCP_RESTART_MAX_DELAY_MS: '1000',
    }),
  });

  beforeEach(() => service.reset());

  const ask = (text: string) => askInChat({ ...service, chatId: GROUP_CHAT, senderOpenId: ALICE, text });
  const mcpRows = async () =>
    ((await (await fetch(`${service.base}/health`)).json()) as { mcp?: Record<string, McpRow> }).mcp;

  it('the manager calls a stdio MCP tool: the result reaches the model and the card; /health has a row per server', async () => {
    service.openai.script(
      'gpt-test',
      (request) => {
        const offered = JSON.stringify(request.tools);
        expect(offered).toContain('"name":"mcpOrdersLookupOrder"');
        // Not marked read-only: offered as a write tool (it asks first, see mcp-approvals.e2e). The crm
        // server's tools go to the documents specialist only.
        expect(offered).toContain('"name":"mcpOrdersDeleteOrder"');
        expect(offered).not.toContain('mcpCrm');
        return { toolCalls: [{ name: 'mcpOrdersLookupOrder', arguments: { orderId: 'A-1001' } }] };
      },
      (request) => {
        const tracking = /tracking (SF\d+)/.exec(lastToolResult(request))?.[1] ?? 'unknown';
        return { text: `Your lamps shipped on 3 May, tracking **${tracking}**.` };
      },
    );
    const { shown } = await ask('where is my order A-1001?');
    expect(shown).toContain('tracking **SF1234567890**');
    const [, second] = service.openai.requestsFor('gpt-test');
    expect(lastToolResult(second as unknown as FakeChatRequest)).toMatch(/^Order A-1001: 3 × desk lamp/);
    expect(service.events.find((event) => event.type === 'tool.call')).toMatchObject({
      agent: 'manager',
      tool: 'mcpOrdersLookupOrder',
      identity: 'none',
    });
    expect(await mcpRows()).toEqual({
      orders: expect.objectContaining({
        state: 'ready',
        offeredTools: 8,
        writeTools: 1,
        skippedTools: 0,
        agents: ['manager'],
      }),
      crm: expect.objectContaining({ state: 'ready', offeredTools: 8, writeTools: 1, agents: ['documents'] }),
    });
  });

  it('a specialist named in the entry gets the HTTP server’s tools', async () => {
    service.openai.script(
      'gpt-test',
      { toolCalls: [{ name: 'documents', arguments: { task: 'Look up order A-1002 in the CRM.' } }] },
      (request) => {
        expect(JSON.stringify(request.tools)).toContain('"name":"mcpCrmLookupOrder"');
        return { toolCalls: [{ name: 'mcpCrmLookupOrder', arguments: { orderId: 'A-1002' } }] };
      },
      (request) => ({ text: `CRM: ${lastToolResult(request).split(' (server')[0]}` }),
      (request) => ({ text: `From the CRM — ${lastToolResult(request)}` }),
    );
    const { shown } = await ask('ask the documents specialist about order A-1002');
    expect(shown).toContain('From the CRM — CRM: Order A-1002: 1 × office chair, waiting for stock');
    expect(service.events.find((event) => event.type === 'tool.call')).toMatchObject({
      agent: 'documents',
      tool: 'mcpCrmLookupOrder',
    });
  });

  it('an MCP tool that hangs: the deadline ends it, the user gets a clear answer, the job finishes', async () => {
    service.openai.script('gpt-test', { toolCalls: [{ name: 'mcpOrdersHang', arguments: {} }] }, (request) => {
      expect(lastToolResult(request)).toMatch(/^TOOL ERROR \(TIMEOUT\)/);
      return { text: 'The order system did not answer in time; please try again later.' };
    });
    const { shown } = await ask('check the hanging thing');
    expect(shown).toContain('The order system did not answer in time');
    expect(service.events.find((event) => event.type === 'tool.call')).toMatchObject({
      tool: 'mcpOrdersHang',
      errorCategory: 'TIMEOUT',
    });
  });

  it('an MCP server that dies mid-call: a clear answer, a finished job, and the server is restarted', async () => {
    service.openai.script('gpt-test', { toolCalls: [{ name: 'mcpOrdersDie', arguments: {} }] }, (request) => {
      expect(lastToolResult(request)).toMatch(
        /^TOOL ERROR \(UNAVAILABLE\): the MCP server orders stopped during the call/,
      );
      return { text: 'The order system stopped while I asked it; it is being restarted.' };
    });
    const { shown } = await ask('make it crash');
    expect(shown).toContain('The order system stopped while I asked it');
    // Restarted in the background (a new process), shown in /health.
    const deadline = Date.now() + 40_000;
    while ((await mcpRows())?.orders?.state !== 'ready' && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    expect((await mcpRows())?.orders).toMatchObject({ state: 'ready', restarts: 1 });
    const metrics = parsePrometheusText(await (await fetch(`${service.base}/metrics`)).text());
    expect(sampleValue(metrics, 'feishu_bot_mcp_server_up', { server: 'orders' })).toBe(1);
    expect(sampleValue(metrics, 'feishu_bot_mcp_server_restarts', { server: 'orders' })).toBe(1);
    expect(sampleValue(metrics, 'feishu_bot_mcp_server_up', { server: 'crm' })).toBe(1);
    // And it serves again.
    service.openai.script(
      'gpt-test',
      { toolCalls: [{ name: 'mcpOrdersLookupOrder', arguments: { orderId: 'A-1002' } }] },
      (request) => ({
        text: lastToolResult(request).split(' (server')[0] ?? '',
      }),
    );
    expect((await ask('and order A-1002?')).shown).toContain('Order A-1002: 1 × office chair');
  });
});

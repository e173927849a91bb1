import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { IDEMPOTENCY_META_KEY } from '../../lib/agents/mcp/mcp-call-ledger.js';
import { buildMessageEvent, postEvent } from '../fakes/event-sender.js';
import { approvalButton, waitForApprovalCard, waitForReplyText } from '../support/approval-card.js';
import { lastToolResult } from '../support/ask-in-chat.js';
import { pressCard } from '../support/card-press.js';
import { MANY_QUICK_ASKS, useE2eService } from '../support/e2e-service.js';
import { type HttpMcpServer, startHttpMcpServer } from '../support/mcp-fixture.js';

/**
 * MCP tools that may change something, as a team meets them: a real MCP server (streamable HTTP,
 * in the test's process) has `delete_order`, not marked read-only. The manager in a Feishu chat is
 * offered it; when the model calls it, the run pauses with an approval card naming the server,
 * the tool and its arguments. Approve (a signed card callback) runs it on the server; Deny does
 * not, and the model is told. An entry with `"writeTools": false` offers no such tool, and a
 * specialist (which cannot ask anyone) is never offered one.
 */

const CHAT = 'oc_mcp_approvals_group';
const ASKER = 'ou_asker00000000000000000000000mcpa';

interface McpRow {
  offeredTools: number;
  writeTools: number;
  skippedTools: number;
}

describe('MCP tools that may write, behind approval, end to end', { timeout: 90_000 }, () => {
  let http: HttpMcpServer;
  let directory: string;
  let file: string;

  beforeAll(async () => {
    http = await startHttpMcpServer({ token: 'orders-token' });
    directory = mkdtempSync(join(tmpdir(), 'mcp-approvals-e2e-'));
    file = join(directory, 'mcp-servers.json');
    const headers = { authorization: 'Bearer orders-token' };
    writeFileSync(
      file,
      JSON.stringify({
        mcpServers: {
          orders: { url: http.url, headers },
          archive: { url: http.url, headers, writeTools: false },
          crm: { url: http.url, headers, specialists: ['documents'] },
        },
      }),
    );
  });

  afterAll(async () => {
    await http?.close();
    if (directory) rmSync(directory, { recursive: true, force: true });
  });

  const service = useE2eService({
    env: () => ({
      ...MANY_QUICK_ASKS,
      MCP_SERVERS_FILE: file,
      MCP_CONNECT_TIMEOUT_MS: '30000',
      STORE_URL: `sqlite:${join(directory, 'bot.db')}`,
    }),
  });

  beforeEach(() => {
    service.openai.reset();
    service.events.length = 0;
  });

  async function ask(text: string): Promise<string> {
    const event = buildMessageEvent({
      fake: service.feishu,
      chatType: 'group',
      chatId: CHAT,
      mentionBot: true,
      senderOpenId: ASKER,
      text,
      token: service.token,
    });
    expect((await postEvent(service.webhookUrl, event, { encryptKey: service.encryptKey })).status).toBe(200);
    return event.event.message.message_id;
  }

  async function press(cardId: string, value: Record<string, unknown>) {
    const { status, toast } = await pressCard(`${service.base}/webhook/card`, {
      fake: service.feishu,
      replyId: cardId,
      value,
      encryptKey: service.encryptKey,
      token: service.token,
      chatId: CHAT,
      operator: ASKER,
    });
    expect(status).toBe(200);
    return toast;
  }

  const answerText = (messageId: string, containing: string) => waitForReplyText(service.feishu, messageId, containing);

  /** The model deletes the order (checking what it is offered), then reports the tool's answer. */
  function scriptDelete(orderId: string): void {
    service.openai.script(
      'gpt-test',
      (request) => {
        const offered = JSON.stringify(request.tools);
        expect(offered).toContain('"name":"mcpOrdersDeleteOrder"');
        expect(offered).toContain('"name":"mcpArchiveLookupOrder"');
        // "writeTools": false: the archive's tool that may write is not offered at all.
        expect(offered).not.toContain('mcpArchiveDeleteOrder');
        return { toolCalls: [{ name: 'mcpOrdersDeleteOrder', arguments: { orderId } }] };
      },
      (request) => ({ text: `Result: ${lastToolResult(request).slice(0, 200)}` }),
    );
  }

  it('Approve runs the tool on the MCP server; the card named the server, the tool and its arguments', async () => {
    scriptDelete('A-1001');
    const question = await ask('delete order A-1001 please');
    const card = await waitForApprovalCard(service.feishu, question);
    expect(card.content).toContain('Run orders.delete_order');
    expect(card.content).toContain('MCP server \\"orders\\"');
    expect(card.content).toContain('**orderId**: A-1001');
    expect(await answerText(question, 'Waiting for your approval')).toBeTruthy();
    // Nothing reached the server before the decision.
    expect(http.deletedOrders).toEqual([]);

    expect(await press(card.messageId, approvalButton(card.content, 'approval-approve'))).toMatchObject({
      content: 'Approved: going ahead.',
    });
    expect(await answerText(question, 'Result: deleted A-1001')).toBeTruthy();
    expect(http.deletedOrders).toEqual(['A-1001']);
    // The approved call carried its idempotency key, and the bot recorded it as done with its result.
    const key = http.deleteMeta.at(-1)?.[IDEMPOTENCY_META_KEY];
    expect(key).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);
    expect(await service.bot.store.getRecord('mcp-calls', key as string)).toMatchObject({
      state: 'completed',
      result: 'deleted A-1001',
    });
    expect(service.events.find((event) => event.type === 'tool.call')).toMatchObject({
      agent: 'manager',
      tool: 'mcpOrdersDeleteOrder',
      identity: 'none',
    });
    const health = (await (await fetch(`${service.base}/health`)).json()) as {
      mcp?: Record<string, McpRow>;
    };
    expect(health.mcp?.orders).toMatchObject({ offeredTools: 8, writeTools: 1, skippedTools: 0 });
    expect(health.mcp?.archive).toMatchObject({ offeredTools: 7, writeTools: 0, skippedTools: 1 });
  });

  it('Deny does not run it: the server sees no call and the model is told', async () => {
    const before = [...http.deletedOrders];
    scriptDelete('A-1002');
    const question = await ask('delete order A-1002 please');
    const card = await waitForApprovalCard(service.feishu, question);
    expect(card.content).toContain('**orderId**: A-1002');
    expect(await press(card.messageId, approvalButton(card.content, 'approval-deny'))).toMatchObject({
      content: 'Denied: nothing will be changed.',
    });
    const denied = await answerText(question, 'Result:');
    expect(denied.toLowerCase()).toContain('denied');
    expect(http.deletedOrders).toEqual(before);
    expect(service.events.some((event) => event.type === 'tool.call' && event.tool === 'mcpOrdersDeleteOrder')).toBe(
      false,
    );
  });

  it('a specialist, which cannot ask anyone, is offered the server’s read tools but not the one that may write', async () => {
    service.openai.script(
      'gpt-test',
      { toolCalls: [{ name: 'documents', arguments: { task: 'Delete order A-1003 in the CRM.' } }] },
      (request) => {
        const offered = JSON.stringify(request.tools);
        expect(offered).toContain('"name":"mcpCrmLookupOrder"');
        expect(offered).not.toContain('mcpCrmDeleteOrder');
        return { text: 'I cannot delete orders.' };
      },
      (request) => ({ text: `Specialist said: ${lastToolResult(request)}` }),
    );
    const question = await ask('have the documents specialist delete order A-1003');
    expect(await answerText(question, 'Specialist said: I cannot delete orders.')).toBeTruthy();
    expect(http.deletedOrders).not.toContain('A-1003');
    expect(service.openai.requestsFor('gpt-test')).toHaveLength(3);
  });
});

import { beforeEach, describe, expect, it } from 'vitest';
import { FEISHU_CODES } from '../fakes/fake-feishu.js';
import type { FakeChatRequest } from '../fakes/openai/steps.js';
import { askInChat, lastToolResult } from '../support/ask-in-chat.js';
import { MANY_QUICK_ASKS, useE2eService } from '../support/e2e-service.js';
import { parsePrometheusText, sampleValue } from '../support/prometheus-text.js';

/**
 * Tools end to end, every part real: a signed, encrypted message event → inbox → dispatcher →
 * manager on the real AI SDK (fake OpenAI over HTTP) → the model asks for a tool → the real lark
 * SDK calls the fake Feishu → the model's next request carries the tool result → the CardKit card
 * the user sees. Bad input ends in a clear answer and a finished job.
 */

const GROUP_CHAT = 'oc_tools_group';
const ALICE = 'ou_alice00000000000000000000000e2e';

function systemText(request: FakeChatRequest): string {
  const system = request.messages.find((message) => message.role === 'system');
  return typeof system?.content === 'string' ? system.content : '';
}

describe('Feishu tools, end to end', () => {
  const service = useE2eService({
    env: { ...MANY_QUICK_ASKS, TOOL_TIMEOUT_MS: '800', TOOL_RESULT_MAX_ITEMS: '25' },
  });

  beforeEach(() => {
    service.reset();
    service.feishu.seedDepartment({ id: 'od-product', name: 'Product' });
    service.feishu.seedUser({ openId: ALICE, name: 'Alice Wang', departmentIds: ['od-product'] });
  });

  /** Mentions the bot in the group as Alice; resolves once the reply card is closed and the job done. */
  const ask = (text: string, { parentId }: { parentId?: string } = {}) =>
    askInChat({ ...service, chatId: GROUP_CHAT, senderOpenId: ALICE, text, parentId });

  it('reads a pasted document link: the model asks, the SDK reads the fake, the answer quotes it', async () => {
    const documentId = service.feishu.seedDocument({
      title: 'Launch checklist',
      parts: [
        { heading: 2, text: 'Owners' },
        {
          table: [
            ['task', 'owner'],
            ['press release', 'Dana'],
            ['pricing page', 'Eli'],
          ],
        },
      ],
    });
    const link = `https://acme.feishu.cn/docx/${documentId}`;
    service.openai.script(
      'gpt-test',
      (request) => {
        // The link was recognised before the model was asked: the instructions name the tool.
        expect(systemText(request)).toContain(`docx ${link} → readDocument`);
        expect(JSON.stringify(request.messages)).toContain('Alice Wang: who owns the pricing page?');
        return { toolCalls: [{ name: 'readDocument', arguments: { document: link } }] };
      },
      (request) => {
        const result = lastToolResult(request);
        const owner = /\| pricing page \| (\w+)/.exec(result)?.[1] ?? 'unknown';
        return { text: `The pricing page is owned by **${owner}** (from "Launch checklist").` };
      },
    );
    const { shown } = await ask(`who owns the pricing page? ${link}`);
    expect(shown).toContain('The pricing page is owned by **Eli**');

    const [, second] = service.openai.requestsFor('gpt-test');
    expect(lastToolResult(second as unknown as FakeChatRequest)).toContain('# Launch checklist');
    expect(service.feishu.callsTo('docx.documentBlock.list')[0]?.path).toBe(
      `/open-apis/docx/v1/documents/${documentId}/blocks`,
    );
    expect(service.events.find((event) => event.type === 'message.received')).toMatchObject({ userName: 'Alice Wang' });
    expect(service.events.find((event) => event.type === 'tool.call')).toMatchObject({
      agent: 'manager',
      tool: 'readDocument',
      identity: 'tenant',
      truncated: false,
    });
    expect(service.bot.monitor.snapshot().agents['tool:readDocument']?.successCount).toBeGreaterThanOrEqual(1);
    const metrics = parsePrometheusText(await (await fetch(`${service.base}/metrics`)).text());
    expect(
      sampleValue(metrics, 'feishu_bot_tool_calls_total', { tool: 'readDocument', outcome: 'success' }),
    ).toBeGreaterThanOrEqual(1);
  });

  it('a link in the message the user replies to is read like one in the question', async () => {
    const documentId = service.feishu.seedDocument({ title: 'Budget 2026', parts: [{ text: 'Travel: 12 000 CNY.' }] });
    const link = `https://acme.feishu.cn/docx/${documentId}`;
    const quoted = service.feishu.seedMessage({ chatId: GROUP_CHAT, text: `Draft budget is here: ${link}` });
    service.openai.script(
      'gpt-test',
      (request) => {
        expect(systemText(request)).toContain(`«Draft budget is here: ${link}»`);
        expect(systemText(request)).toContain(`docx ${link} → readDocument`);
        return { toolCalls: [{ name: 'readDocument', arguments: { document: link } }] };
      },
      (request) => ({
        text: `Travel budget: ${/Travel: ([\d ]+CNY)/.exec(lastToolResult(request))?.[1] ?? 'unknown'}`,
      }),
    );
    const { shown, messageId } = await ask('how much for travel in this?', { parentId: quoted.messageId });
    expect(shown).toContain('Travel budget: 12 000 CNY');
    // First the question itself is confirmed with Feishu, then the quoted message is read.
    expect(service.feishu.callsTo('im.message.get').map((call) => call.path)).toEqual([
      `/open-apis/im/v1/messages/${messageId}`,
      `/open-apis/im/v1/messages/${quoted.messageId}`,
    ]);
  });

  it('a document the app cannot see: the card names the scope and how to share it, the model does not guess', async () => {
    service.feishu.inject({
      api: 'docx.documentBlock.list',
      code: FEISHU_CODES.docForbidden,
      status: 403,
      msg: 'forBidden',
    });
    const link = 'https://acme.feishu.cn/docx/DoxcnPrivate000000001';
    service.openai.script(
      'gpt-test',
      { toolCalls: [{ name: 'readDocument', arguments: { document: link } }] },
      (request) => {
        expect(lastToolResult(request)).toMatch(/^TOOL ERROR \(NO_PERMISSION\)/);
        return { text: 'I could not open that document.' };
      },
    );
    const { shown } = await ask(`summarise ${link}`);
    expect(shown).toContain('I could not open that document.');
    expect(shown).toContain('Share it with the bot');
    expect(shown).toContain('docx:document:readonly');
    expect(shown).not.toMatch(/at \w+ \(|Error:|stack/);
  });

  it('a missing scope: the card says which and where an admin grants it, and /health shows the tool degraded', async () => {
    service.feishu.inject({
      api: 'contact.user.get',
      code: 99991672,
      msg: 'Access denied. One of the following scopes is required: [contact:user.base:readonly].',
      times: 1,
    });
    service.openai.script(
      'gpt-test',
      { toolCalls: [{ name: 'getUser', arguments: { openId: 'ou_someone0000000000000001' } }] },
      { text: 'I cannot look that person up right now.' },
    );
    const { shown } = await ask('who is ou_someone0000000000000001?');
    expect(shown).toContain('missing the Feishu permission `contact:user.base:readonly`');
    expect(shown).toContain('Permissions & Scopes');
    const health = (await (await fetch(`${service.base}/health`)).json()) as {
      status: string;
      reasons: string[];
      agents: Record<string, { errorCount: number }>;
    };
    expect(health.status).toBe('degraded');
    expect(health.reasons.join('\n')).toContain('tool getUser');
    expect(health.agents['tool:getUser']?.errorCount).toBeGreaterThanOrEqual(1);
  });

  it('a huge sheet read by the documents specialist comes back bounded with a truncated note', async () => {
    const sheetToken = service.feishu.seedSpreadsheet({
      sheets: [
        { sheetId: 'log001', title: 'Events', rowCount: 100_000, columnCount: 2, row: (index) => [`e${index}`, index] },
      ],
    });
    service.openai.script(
      'gpt-test',
      { toolCalls: [{ name: 'documents', arguments: { task: `How many rows does spreadsheet ${sheetToken} have?` } }] },
      { toolCalls: [{ name: 'readSheet', arguments: { spreadsheet: sheetToken } }] },
      (request) => {
        const result = lastToolResult(request);
        expect(result).toContain('| e0 | 0 |');
        expect(result).toContain('[truncated: showing rows 1–26 of 1–100000');
        return { text: 'I could read only the first 25 rows of 100 000.' };
      },
      (request) => ({ text: `Specialist says: ${lastToolResult(request)}` }),
    );
    const { shown } = await ask('how big is our event log sheet?');
    expect(shown).toContain('Specialist says: I could read only the first 25 rows of 100 000.');
    expect(service.events.find((event) => event.type === 'tool.call' && event.tool === 'readSheet')).toMatchObject({
      agent: 'documents',
    });
    expect(service.feishu.callsTo('sheets.values.get')[0]?.path).toContain(encodeURIComponent('log001!A1:B26'));
  });

  it('a tool that times out and an API that answers garbage each end in a clear answer', async () => {
    const slow = service.feishu.seedDocument({ title: 'Slow', parts: [{ text: 'never seen' }] });
    service.feishu.inject({ api: 'docx.documentBlock.list', latencyMs: 3_000 });
    service.openai.script(
      'gpt-test',
      { toolCalls: [{ name: 'readDocument', arguments: { document: slow } }] },
      (request) => ({
        text: `Tool said: ${lastToolResult(request).slice(0, 40)}`,
      }),
    );
    const timedOut = await ask('read the slow doc');
    expect(timedOut.shown).toContain('Tool said: TOOL ERROR (TIMEOUT)');

    service.events.length = 0;
    service.feishu.inject({ api: 'contact.user.get', status: 200, code: 0, msg: 'ok' });
    service.openai.script(
      'gpt-test',
      { toolCalls: [{ name: 'getUser', arguments: { openId: ALICE } }] },
      (request) => ({
        text: `Tool said: ${lastToolResult(request).slice(0, 40)}`,
      }),
    );
    const garbage = await ask('who am I?');
    expect(garbage.shown).toContain('Tool said: TOOL ERROR (BAD_RESPONSE)');
  });
});

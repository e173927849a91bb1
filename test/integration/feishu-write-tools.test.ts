import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { ConversationContext } from '../../lib/agents/conversation-context.js';
import { defaultToolRegistry } from '../../lib/agents/tools/built-in-tools.js';
import { createToolNotices } from '../../lib/agents/tools/tool-notices.js';
import { createToolRuntime } from '../../lib/agents/tools/tool-runtime.js';
import type { UserAuthorization } from '../../lib/agents/tools/user-authorization.js';
import { createFeishuClient } from '../../lib/feishu/feishu-client.js';
import { silentLogger } from '../../lib/log.js';
import { createEventBus } from '../../lib/observe/event-bus.js';
import { type FakeFeishu, startFakeFeishu } from '../fakes/fake-feishu.js';

/**
 * Every write tool run as the model runs it once the person approved (the approval flow itself
 * is in test/e2e/approvals.e2e.test.ts): through the runtime and the real SDK against the fake
 * Feishu, checking what changed there, the approval summary shown before, and that a re-run of
 * the same approved change changes nothing twice.
 */

const ALICE = 'ou_alice0000000000000000000000wt1';
let feishu: FakeFeishu;
const registry = defaultToolRegistry();
const userAuthorization: UserAuthorization = {
  async tokenFor({ userId }) {
    return { ok: true, accessToken: feishu.issueUserToken(userId) };
  },
};
const conversation: ConversationContext = {
  traceId: 'job-write:approval',
  chatId: 'oc_write',
  chatType: 'p2p',
  userId: ALICE,
  timeZone: 'Asia/Shanghai',
};

async function run(name: string, input: Record<string, unknown>): Promise<string> {
  const definition = registry.get(name);
  if (definition === undefined) throw new Error(`no tool ${name}`);
  const runtime = createToolRuntime({
    registry,
    bus: createEventBus(),
    feishuClient: createFeishuClient({
      appId: feishu.appId,
      appSecret: feishu.appSecret,
      domain: feishu.url,
      log: silentLogger(),
    }),
    userAuthorization,
  });
  const tools = runtime.toolSet([name], {
    agent: 'manager',
    conversation,
    notices: createToolNotices(),
    approvals: { alwaysAllowed: async () => true },
  });
  const execute = tools[name]?.execute;
  if (execute === undefined) throw new Error(`tool ${name} cannot run`);
  return (await execute(definition.inputSchema.parse(input), { toolCallId: 'call-1', messages: [] })) as string;
}

function summary(name: string, input: Record<string, unknown>, language: 'en' | 'zh' = 'en') {
  const definition = registry.get(name);
  return definition?.approval?.describe(definition.inputSchema.parse(input), language);
}

beforeAll(async () => {
  feishu = await startFakeFeishu();
});
afterAll(async () => {
  await feishu?.close();
});
beforeEach(() => {
  feishu.reset();
});

describe('write tools', () => {
  it('every write tool has an approval summary; none is offered without a way to ask', () => {
    const writers = registry
      .list()
      .filter((definition) => definition.access === 'write' && !definition.withoutApproval);
    expect(writers.map((definition) => definition.name).sort()).toEqual(
      [
        'addBaseRecord',
        'completeTask',
        'createCalendarEvent',
        'createDocument',
        'createTask',
        'sendMessage',
        'updateBaseRecord',
      ].sort(),
    );
    const runtime = createToolRuntime({ registry, bus: createEventBus() });
    const offered = runtime.toolSet(
      writers.map((definition) => definition.name),
      { agent: 'manager', conversation, notices: createToolNotices() },
    );
    expect(Object.keys(offered)).toEqual([]);
  });

  it('createTask creates the approved task once, assigned to the asker by default', async () => {
    const input = { summary: 'Send the invoice', due: '2026-12-20T09:00:00+08:00' };
    expect(summary('createTask', input)?.fields).toEqual(
      expect.arrayContaining([
        { label: 'Title', value: 'Send the invoice' },
        { label: 'Assignees', value: 'the person asking' },
      ]),
    );
    expect(summary('createTask', input, 'zh')).toEqual({
      action: '创建任务',
      target: '飞书任务',
      fields: [
        { label: '标题', value: 'Send the invoice' },
        { label: '截止时间', value: '2026-12-20T09:00:00+08:00' },
        { label: '负责人', value: '提问的人' },
      ],
    });
    expect(await run('createTask', input)).toContain(
      'Created the task "Send the invoice", due Sun 2026-12-20 09:00 (Asia/Shanghai)',
    );
    await run('createTask', input);
    expect(feishu.createdTasks()).toEqual([
      expect.objectContaining({
        summary: 'Send the invoice',
        assignee: ALICE,
        due: Date.parse('2026-12-20T01:00:00Z'),
      }),
    ]);
  });

  it('completeTask marks the task done and reopens it', async () => {
    const guid = feishu.seedTask({ assignee: ALICE, summary: 'Review PR' });
    expect(await run('completeTask', { task: `https://applink.feishu.cn/client/todo/detail?guid=${guid}` })).toBe(
      'Completed the task "Review PR".',
    );
    expect(await run('getTask', { task: guid })).toContain('Status: done');
    expect(await run('completeTask', { task: guid, done: false })).toBe('Reopened the task "Review PR".');
    await expect(run('completeTask', { task: 'no id here at all' })).resolves.toMatch(/holds no task id/);
  });

  it('createCalendarEvent writes into the asker’s own primary calendar, once', async () => {
    const input = { summary: 'Design review', start: '2026-12-21T15:00:00+08:00', end: '2026-12-21T16:00:00+08:00' };
    expect(summary('createCalendarEvent', input)?.target).toBe('your primary calendar');
    expect(await run('createCalendarEvent', input)).toContain(
      'Added "Design review" to your calendar: Mon 2026-12-21 15:00 – Mon 2026-12-21 16:00',
    );
    await run('createCalendarEvent', input);
    const events = await run('listMyEvents', { from: '2026-12-21T00:00:00+08:00', to: '2026-12-22T00:00:00+08:00' });
    expect(events.match(/Design review/g)).toHaveLength(1);
    await expect(run('createCalendarEvent', { ...input, end: '2026-12-21T14:00:00+08:00' })).resolves.toMatch(
      /must end after it starts/,
    );
  });

  it('addBaseRecord and updateBaseRecord write the approved values; unknown fields are refused by Feishu', async () => {
    const appToken = feishu.seedBase({
      tables: [
        {
          tableId: 'tblDeals',
          name: 'Deals',
          fields: [
            { name: 'Customer', type: 1 },
            { name: 'Amount', type: 2 },
          ],
          records: [],
        },
      ],
    });
    const base = `https://acme.feishu.cn/base/${appToken}?table=tblDeals`;
    const input = { base, fields: { Customer: 'ACME', Amount: 1200 } };
    expect(summary('addBaseRecord', input)?.fields).toEqual([
      { label: 'Customer', value: 'ACME' },
      { label: 'Amount', value: '1200' },
    ]);
    const added = await run('addBaseRecord', input);
    await run('addBaseRecord', input);
    const [record] = feishu.baseRecords(appToken, 'tblDeals');
    expect(feishu.baseRecords(appToken, 'tblDeals')).toHaveLength(1);
    expect(added).toContain(record?.recordId);
    expect(await run('updateBaseRecord', { base, record: record?.recordId, fields: { Amount: 1500 } })).toContain(
      'Updated Amount',
    );
    expect(feishu.baseRecords(appToken, 'tblDeals')[0]?.fields).toEqual({ Customer: 'ACME', Amount: 1500 });
    expect(await run('addBaseRecord', { base, fields: { Nope: 'x' } })).toMatch(/Nope|1254045/);
  });

  it('createDocument creates a document the asker owns, with the approved content, filled once', async () => {
    const input = { title: 'Launch notes', content: '# Launch\n\n- pricing page\n- press release\n\nShip on Friday.' };
    expect(summary('createDocument', input)?.fields[0]).toEqual({ label: 'Title', value: 'Launch notes' });
    expect(await run('createDocument', input)).toMatch(
      /Created the document "Launch notes" \(4 blocks\): https:\/\/feishu\.cn\/docx\/Doxcn/,
    );
    const [document] = feishu.createdDocuments();
    expect(document).toMatchObject({ title: 'Launch notes', owner: ALICE });
    expect(document?.text).toContain('Launch\npricing page\npress release\nShip on Friday.');
    const read = await run('readDocument', { document: document?.documentId ?? '' });
    expect(read).toContain('- pricing page');
  });

  it('sendMessage posts the approved text into the other chat, once', async () => {
    const input = { chatId: 'oc_announcements', text: 'The release is out.' };
    expect(summary('sendMessage', input)).toEqual({
      action: 'Send a message',
      target: 'chat oc_announcements',
      fields: [{ label: 'Text', value: 'The release is out.' }],
    });
    expect(await run('sendMessage', input)).toContain('Sent the message to oc_announcements');
    await run('sendMessage', input);
    const sent = feishu.messages({ chatId: 'oc_announcements', fromBot: true });
    expect(sent).toHaveLength(1);
    expect(feishu.visibleText(sent[0]?.messageId ?? '')).toBe('The release is out.');
  });
});

import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { ConversationContext } from '../../lib/agents/conversation-context.js';
import { defaultToolRegistry } from '../../lib/agents/tools/built-in-tools.js';
import { createToolNotices, type ToolNotices } from '../../lib/agents/tools/tool-notices.js';
import { createToolRuntime } from '../../lib/agents/tools/tool-runtime.js';
import type { UserAuthorization } from '../../lib/agents/tools/user-authorization.js';
import { createFeishuClient } from '../../lib/feishu/feishu-client.js';
import { silentLogger } from '../../lib/log.js';
import type { BotEvent } from '../../lib/observe/bot-event.js';
import { createEventBus } from '../../lib/observe/event-bus.js';
import { type FakeFeishu, FEISHU_CODES, startFakeFeishu } from '../fakes/fake-feishu.js';

/**
 * Every Feishu read tool through the tool runtime, the real lark SDK and real HTTP against the
 * fake Feishu: what the model would read, the tool.call events, and the notices the user gets.
 */

const ALICE = 'ou_alice0000000000000000000000001';
const BOB = 'ou_bob000000000000000000000000002';

let feishu: FakeFeishu;
let events: BotEvent[];
let notices: ToolNotices;
let authorized: boolean;
const registry = defaultToolRegistry();

/** Issues the fake's user tokens to whoever asks, while `authorized` is true. */
const userAuthorization: UserAuthorization = {
  async tokenFor({ userId }) {
    return authorized
      ? { ok: true, accessToken: feishu.issueUserToken(userId) }
      : { ok: false, reason: 'not-authorized' };
  },
};

const conversation: ConversationContext = {
  traceId: 'job-tools',
  chatId: 'oc_tools',
  chatType: 'p2p',
  userId: ALICE,
  timeZone: 'Asia/Shanghai',
};

function runtime(options: { timeoutMs?: number; maxChars?: number; maxItems?: number } = {}) {
  const bus = createEventBus();
  bus.subscribe((event) => events.push(event));
  return createToolRuntime({
    registry,
    bus,
    feishuClient: createFeishuClient({
      appId: feishu.appId,
      appSecret: feishu.appSecret,
      domain: feishu.url,
      log: silentLogger(),
    }),
    userAuthorization,
    ...(options.timeoutMs === undefined ? {} : { timeoutMs: options.timeoutMs }),
    limits: { maxChars: options.maxChars ?? 20_000, maxItems: options.maxItems ?? 100 },
  });
}

/** Runs one tool as the model would: input parsed by its schema, then execute. */
async function run(name: string, input: Record<string, unknown>, options?: Parameters<typeof runtime>[0]) {
  const definition = registry.get(name);
  if (definition === undefined) throw new Error(`no tool ${name}`);
  const tools = runtime(options).toolSet([name], { agent: 'test', conversation, notices });
  const execute = tools[name]?.execute;
  if (execute === undefined) throw new Error(`tool ${name} cannot run`);
  return (await execute(definition.inputSchema.parse(input), { toolCallId: 'call-1', messages: [] })) as string;
}

const lastToolCall = () => events.filter((event) => event.type === 'tool.call').at(-1);

beforeAll(async () => {
  feishu = await startFakeFeishu();
});
afterAll(async () => {
  await feishu?.close();
});
beforeEach(() => {
  feishu.reset();
  events = [];
  notices = createToolNotices();
  authorized = true;
});

describe('readDocument', () => {
  it('reads a docx link as Markdown: headings, lists, code, tables, links', async () => {
    const documentId = feishu.seedDocument({
      title: 'Release plan',
      parts: [
        { heading: 1, text: 'Goals' },
        { text: 'Ship the *beta* on Friday.', link: 'https://example.com/beta' },
        { bullet: 'Freeze the API', children: [{ bullet: 'review endpoints' }] },
        { ordered: 'Build' },
        { ordered: 'Deploy' },
        { todo: 'Write notes', done: true },
        { code: 'npm run build', language: 7 },
        {
          table: [
            ['step', 'owner'],
            ['build', 'CI'],
          ],
        },
      ],
    });
    const text = await run('readDocument', { document: `https://acme.feishu.cn/docx/${documentId}?from=chat` });
    expect(text).toContain('# Release plan');
    expect(text).toContain('# Goals');
    expect(text).toContain('[Ship the \\*beta\\* on Friday.](https://example.com/beta)');
    expect(text).toMatch(/- Freeze the API\n\s+- review endpoints/);
    expect(text).toMatch(/1\. Build\n2\. Deploy/);
    expect(text).toContain('- [x] Write notes');
    expect(text).toContain('```bash\nnpm run build\n```');
    expect(text).toMatch(/\| step \| owner \|\n\| -+ \| -+ \|\n\| build \| CI +\|/);
    expect(lastToolCall()).toMatchObject({ tool: 'readDocument', identity: 'tenant', truncated: false });
    expect(feishu.callsTo('docx.documentBlock.list')[0]?.query.document_revision_id).toBe('-1');
  });

  it('resolves a wiki link to its document first', async () => {
    const documentId = feishu.seedDocument({ title: 'Onboarding', parts: [{ text: 'Welcome aboard.' }] });
    const node = feishu.seedWikiNode({ spaceId: '7001', objToken: documentId, objType: 'docx', title: 'Onboarding' });
    const text = await run('readDocument', { document: `https://acme.feishu.cn/wiki/${node}` });
    expect(text).toContain('Welcome aboard.');
    expect(feishu.callsTo('wiki.space.getNode')[0]?.query.token).toBe(node);
  });

  it('a document the app cannot see: an actionable notice naming the scope, never its content', async () => {
    feishu.inject({ api: 'docx.documentBlock.list', code: FEISHU_CODES.docForbidden, status: 403, msg: 'forBidden' });
    const text = await run('readDocument', { document: 'DoxcnSecret12345678' });
    expect(text).toMatch(/^TOOL ERROR \(NO_PERMISSION\)/);
    expect(text).toContain('Do not guess');
    expect(notices.list()[0]).toContain('Share it with the bot');
    expect(notices.list()[0]).toContain('`docx:document:readonly`');
    expect(lastToolCall()).toMatchObject({ errorCategory: 'NO_PERMISSION' });
  });

  it('the app lacks the scope: names the scopes from Feishu and where an admin grants them', async () => {
    feishu.inject({
      api: 'docx.documentBlock.list',
      code: 99991672,
      status: 400,
      msg: 'Access denied. One of the following scopes is required: [docx:document, docx:document:readonly].',
    });
    const text = await run('readDocument', { document: 'DoxcnAnything1234567' });
    expect(text).toMatch(/^TOOL ERROR \(NO_SCOPE\)/);
    expect(notices.list()[0]).toMatch(/missing the Feishu permission `docx:document` or `docx:document:readonly`/);
    expect(notices.list()[0]).toContain('Permissions & Scopes');
    expect(lastToolCall()).toMatchObject({ errorCategory: 'NO_SCOPE' });
  });

  it('garbage from the API is a clear BAD_RESPONSE, not a crash', async () => {
    feishu.inject({ api: 'docx.documentBlock.list', status: 200, code: 0, msg: 'ok' });
    const text = await run('readDocument', { document: 'DoxcnGarbage12345678' });
    expect(text).toMatch(/^TOOL ERROR \(BAD_RESPONSE\): docx\.v1\.documentBlock\.list answered in an unexpected shape/);
  });

  it('a slow Feishu ends in TIMEOUT within the tool deadline', async () => {
    const documentId = feishu.seedDocument({ title: 'Slow', parts: [{ text: 'late' }] });
    feishu.inject({ api: 'docx.documentBlock.list', latencyMs: 2_000 });
    const started = Date.now();
    const text = await run('readDocument', { document: documentId }, { timeoutMs: 300 });
    expect(Date.now() - started).toBeLessThan(1_500);
    expect(text).toMatch(/^TOOL ERROR \(TIMEOUT\)/);
  });

  it('bounds a huge document and says it was truncated', async () => {
    const documentId = feishu.seedDocument({
      title: 'Huge',
      parts: Array.from({ length: 400 }, (_, index) => ({ text: `Paragraph ${index} ${'x'.repeat(80)}` })),
    });
    const text = await run('readDocument', { document: documentId }, { maxChars: 3_000 });
    expect(text.length).toBeLessThanOrEqual(3_000);
    expect(text).toMatch(/\[truncated: showing about 3000 of \d+ characters/);
    expect(lastToolCall()).toMatchObject({ truncated: true, resultChars: text.length });
  });
});

describe('wiki and search', () => {
  it('getWikiNode and listWikiNodes describe a space', async () => {
    const root = feishu.seedWikiNode({
      spaceId: '7002',
      objToken: 'Shtcn0000000001',
      objType: 'sheet',
      title: 'Budget',
    });
    feishu.seedWikiNode({
      spaceId: '7002',
      objToken: 'Doxcn0000000002',
      objType: 'docx',
      title: 'Q1',
      parentNodeToken: root,
    });
    expect(await run('getWikiNode', { node: root })).toMatch(
      /Type: sheet \(token Shtcn0000000001\)[\s\S]*Has sub-pages: yes/,
    );
    expect(await run('listWikiNodes', { spaceId: '7002' })).toContain('| Budget | sheet |');
    expect(await run('listWikiNodes', { parent: root })).toContain('| Q1 | docx |');
  });

  it('user-identity search tools act with the asking user’s token', async () => {
    feishu.seedSearchDocument({ title: 'Roadmap 2026', type: 'DOCX', ownerName: 'Alice', visibleTo: [ALICE] });
    feishu.seedSearchDocument({ title: 'Roadmap secret', type: 'DOCX', visibleTo: [BOB] });
    const text = await run('searchDocuments', { query: 'roadmap' });
    expect(text).toContain('| Roadmap 2026 | DOCX | Alice |');
    expect(text).not.toContain('secret');
    expect(feishu.callsTo('search.docWiki.search')[0]?.headers.authorization).toMatch(/^Bearer u-/);
    expect(lastToolCall()).toMatchObject({ identity: 'user' });
    feishu.seedWikiNode({ spaceId: '7003', objToken: 'Doxcn0000000003', objType: 'docx', title: 'Roadmap wiki' });
    expect(await run('searchWiki', { query: 'roadmap' })).toContain('| Roadmap wiki | docx |');
  });

  it('without the user’s authorization the tool does not run and says it needs it', async () => {
    authorized = false;
    const text = await run('searchDocuments', { query: 'roadmap' });
    expect(text).toMatch(/^TOOL ERROR \(NEEDS_USER_AUTH\)/);
    expect(notices.list()[0]).toContain('searchDocuments');
    expect(feishu.callsTo('search.docWiki.search')).toHaveLength(0);
  });
});

describe('readSheet', () => {
  it('reads a range as a table, from the sheet named in the link', async () => {
    const token = feishu.seedSpreadsheet({
      sheets: [
        { sheetId: 'a1b2c3', title: 'Other', rows: [['x']] },
        {
          sheetId: 'd4e5f6',
          title: 'Sales',
          rows: [
            ['region', 'amount'],
            ['north', 120],
            ['south', 80],
          ],
        },
      ],
    });
    const text = await run('readSheet', {
      spreadsheet: `https://acme.feishu.cn/sheets/${token}?sheet=d4e5f6`,
      range: 'A1:B3',
    });
    expect(text).toContain('Sheet "Sales", A1:B3');
    expect(text).toMatch(/\| region \| amount \|\n\| -+ \| -+ \|\n\| north +\| 120 +\|\n\| south +\| 80 +\|/);
    expect(feishu.callsTo('sheets.values.get')[0]?.path).toContain(encodeURIComponent('d4e5f6!A1:B3'));
  });

  it('a huge sheet is read up to the row bound with a truncated note', async () => {
    const token = feishu.seedSpreadsheet({
      sheets: [
        {
          sheetId: 'big001',
          title: 'Log',
          rowCount: 50_000,
          columnCount: 3,
          row: (index) => [`row ${index}`, index, 'ok'],
        },
      ],
    });
    const text = await run('readSheet', { spreadsheet: token }, { maxItems: 20 });
    expect(text).toContain('| row 0 |');
    expect(text).toContain('row 20');
    expect(text).not.toContain('row 21 ');
    expect(text).toMatch(/\[truncated: showing rows 1–21 of 1–50000; ask for a range such as A22:C41 for more\]/);
    expect(feishu.callsTo('sheets.values.get')[0]?.path).toContain(encodeURIComponent('big001!A1:C21'));
  });
});

describe('bases', () => {
  it('lists tables and fields, then searches records with a filter', async () => {
    const appToken = feishu.seedBase({
      tables: [
        {
          tableId: 'tblDeals000001',
          name: 'Deals',
          fields: [
            { name: 'Customer', type: 1 },
            { name: 'Amount', type: 2 },
            { name: 'Stage', type: 3 },
          ],
          records: [
            { Customer: 'Acme', Amount: 500, Stage: 'Won' },
            { Customer: 'Globex', Amount: 50, Stage: 'Won' },
            { Customer: 'Initech', Amount: 900, Stage: 'Lost' },
          ],
        },
      ],
    });
    const tables = await run('listBaseTables', { base: `https://acme.feishu.cn/base/${appToken}` });
    expect(tables).toContain('## Deals (table id tblDeals000001)');
    expect(tables).toContain('- Amount (number)');
    const records = await run('searchBaseRecords', {
      base: appToken,
      table: 'tblDeals000001',
      conditions: [
        { field: 'Stage', operator: 'is', value: ['Won'] },
        { field: 'Amount', operator: 'isGreater', value: ['100'] },
      ],
    });
    expect(records).toContain('| Acme | 500 | Won |');
    expect(records).not.toContain('Globex');
    expect(records).not.toContain('Initech');
    const body = feishu.callsTo('bitable.appTableRecord.search')[0]?.body as { filter?: { conjunction?: string } };
    expect(body.filter?.conjunction).toBe('and');
  });

  it('a field name the base does not have is a clear error the model can fix', async () => {
    const appToken = feishu.seedBase({
      tables: [{ tableId: 'tblX', name: 'X', fields: [{ name: 'A', type: 1 }], records: [] }],
    });
    const text = await run('searchBaseRecords', {
      base: appToken,
      table: 'tblX',
      conditions: [{ field: 'Nope', operator: 'isNotEmpty' }],
    });
    expect(text).toMatch(/^TOOL ERROR \(OTHER\).*1254045/);
  });
});

describe('calendars and tasks', () => {
  const day = Date.parse('2026-03-02T00:00:00+08:00'); // a Monday

  it('free/busy of several people and their first common slot in working hours', async () => {
    feishu.seedCalendarEvent(ALICE, { summary: 'Standup', start: day + 9 * 3_600_000, end: day + 10 * 3_600_000 });
    feishu.seedCalendarEvent(BOB, { summary: '1:1', start: day + 10 * 3_600_000, end: day + 11.5 * 3_600_000 });
    const range = { from: '2026-03-02T00:00:00+08:00', to: '2026-03-03T00:00:00+08:00' };
    const busy = await run('getFreeBusy', { people: [ALICE, BOB], ...range });
    expect(busy).toContain(`${ALICE}: busy Mon 2026-03-02 09:00–10:00`);
    expect(busy).toContain(`${BOB}: busy Mon 2026-03-02 10:00–11:30`);
    const slot = await run('findCommonSlot', { people: [ALICE, BOB], ...range, durationMinutes: 60 });
    expect(slot).toContain('- Mon 2026-03-02 11:30 – 18:00');
  });

  it("lists the asking user's events from their primary calendar", async () => {
    feishu.seedCalendarEvent(ALICE, {
      summary: 'Design review',
      start: day + 14 * 3_600_000,
      end: day + 15 * 3_600_000,
      location: 'Room 5',
    });
    feishu.seedCalendarEvent(BOB, { summary: 'Not Alice’s', start: day + 14 * 3_600_000, end: day + 15 * 3_600_000 });
    const text = await run('listMyEvents', { from: '2026-03-02T00:00:00+08:00', to: '2026-03-03T00:00:00+08:00' });
    expect(text).toContain('| Mon 2026-03-02 14:00 | Mon 2026-03-02 15:00 | Design review | Room 5 |');
    expect(text).not.toContain('Not Alice');
  });

  it('my tasks: overdue, due soon and done, and one task in detail', async () => {
    const now = Date.now();
    const overdue = feishu.seedTask({
      assignee: ALICE,
      summary: 'File expenses',
      due: now - 86_400_000,
      description: 'Receipts in Drive',
    });
    feishu.seedTask({ assignee: ALICE, summary: 'Prepare demo', due: now + 2 * 86_400_000 });
    feishu.seedTask({ assignee: ALICE, summary: 'Old thing', completedAt: now - 5 * 86_400_000 });
    feishu.seedTask({ assignee: BOB, summary: 'Bob’s task', due: now - 86_400_000 });
    const overdueText = await run('listMyTasks', { which: 'overdue' });
    expect(overdueText).toContain('| File expenses |');
    expect(overdueText).not.toContain('Prepare demo');
    expect(overdueText).not.toContain('Bob');
    expect(await run('listMyTasks', { which: 'due-soon', days: 7 })).toContain('| Prepare demo |');
    expect(await run('listMyTasks', { which: 'done' })).toContain('| Old thing |');
    const detail = await run('getTask', { task: overdue });
    expect(detail).toMatch(/# File expenses\nStatus: overdue/);
    expect(detail).toContain('Receipts in Drive');
  });
});

describe('contacts', () => {
  it('who an open_id is, with department names, and people found by name', async () => {
    feishu.seedDepartment({ id: 'od-eng', name: 'Engineering' });
    feishu.seedUser({
      openId: ALICE,
      name: '王芳',
      enName: 'Alice Wang',
      jobTitle: 'Engineer',
      departmentIds: ['od-eng'],
    });
    feishu.seedUser({ openId: BOB, name: 'Bob Li' });
    const who = await run('getUser', { openId: ALICE });
    expect(who).toContain('Name: 王芳 (Alice Wang)');
    expect(who).toContain('Department: Engineering');
    const found = await run('findUser', { name: 'bob' });
    expect(found).toContain(`| Bob Li | ${BOB} |`);
  });

  it('a rate limit and an outage each get their own category', async () => {
    feishu.seedUser({ openId: ALICE, name: 'Alice' });
    feishu.inject({ api: 'contact.user.get', status: 429 });
    expect(await run('getUser', { openId: ALICE })).toMatch(/^TOOL ERROR \(RATE_LIMIT\)/);
    feishu.inject({ api: 'contact.user.get', status: 503 });
    expect(await run('getUser', { openId: ALICE })).toMatch(/^TOOL ERROR \(UNAVAILABLE\)/);
    expect(notices.list()).toEqual([]);
  });
});

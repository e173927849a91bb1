import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createBudgetGuard } from '../../lib/cost/budget-guard.js';
import { createSpendLedger } from '../../lib/cost/spend-ledger.js';
import { createFeishuClient, type FeishuClient } from '../../lib/feishu/feishu-client.js';
import { createReplySinkForJob } from '../../lib/feishu/reply/reply-for-job.js';
import { silentLogger } from '../../lib/log.js';
import { createEventBus } from '../../lib/observe/event-bus.js';
import { createProactiveDeadLetter, createProactiveHandler } from '../../lib/schedules/proactive-handler.js';
import type { ProactivePayload } from '../../lib/schedules/proactive-job.js';
import { openStore } from '../../lib/store/open-store.js';
import { type FakeFeishu, startFakeFeishu } from '../fakes/fake-feishu.js';
import { jobAttempts } from '../support/job-attempts.js';

/**
 * The card a due schedule or a notification posts, with the real lark SDK against the fake
 * Feishu: a new message in the chat (no message to reply to), continued rather than posted twice
 * by an attempt after a crash, and closed with a notice when the job is given up on.
 */
describe('proactive posts with the real streaming card sink', () => {
  let fake: FakeFeishu;
  let client: FeishuClient;
  const bus = createEventBus();
  const log = silentLogger();
  const chatId = 'oc_proactive';

  beforeAll(async () => {
    fake = await startFakeFeishu();
    client = createFeishuClient({ appId: fake.appId, appSecret: fake.appSecret, domain: fake.url, log });
  });
  afterAll(async () => {
    await fake.close();
  });
  beforeEach(() => fake.reset());

  const payload: ProactivePayload = {
    origin: 'schedule',
    action: 'remind',
    text: 'Release review at 15:00',
    target: { chatId, chatType: 'group' },
  };
  const attemptsOf = (id: string) => jobAttempts({ id, lane: `chat:${chatId}`, payload, keyPrefix: id });

  /** An earlier holder that opened the card and wrote part of it, then died. */
  async function dyingHolder(attempts: ReturnType<typeof attemptsOf>) {
    const dying = createReplySinkForJob({ context: attempts.context(1), message: { chatId }, client, bus, log });
    await dying.start();
    dying.update('⏰ **Remi');
    await fake.waitFor(() => fake.cards()[0]?.elements.answer?.content === '⏰ **Remi');
  }

  it('posts the reminder as a new card in the chat', async () => {
    await createProactiveHandler({ feishuClient: client, bus, log })(attemptsOf('schedule-a').context(1));
    const [post, ...others] = fake.messages({ chatId, fromBot: true });
    expect(others).toEqual([]);
    expect(post?.parentId).toBeUndefined();
    expect(fake.cardForMessage(post?.messageId ?? '')?.streaming).toBe(false);
    expect(fake.visibleText(post?.messageId ?? '')).toContain('Release review at 15:00');
  });

  it('writes in the language of the text when the chat leaves it open: a Chinese reminder, an English missed note', async () => {
    const chinese: ProactivePayload = { ...payload, text: '下午三点发布评审' };
    await createProactiveHandler({ feishuClient: client, bus, log })(
      jobAttempts({ id: 'schedule-zh', lane: `chat:${chatId}`, payload: chinese, keyPrefix: 'zh' }).context(1),
    );
    const missed: ProactivePayload = {
      ...payload,
      dueAt: Date.UTC(2026, 11, 7, 1),
      timeZone: 'Asia/Shanghai',
      missed: { lateMs: 125 * 60_000 },
    };
    await createProactiveHandler({ feishuClient: client, bus, log })(
      jobAttempts({ id: 'schedule-missed', lane: `chat:${chatId}`, payload: missed, keyPrefix: 'missed' }).context(1),
    );
    const [reminder, note] = fake.messages({ chatId, fromBot: true });
    // The Chinese card opened thinking in Chinese; the English one in English.
    const opened = fake.callsTo('cardkit.card.create').map((call) => JSON.stringify(call.body));
    expect(opened.at(-2)).toContain('⏳ 思考中…');
    expect(opened.at(-1)).toContain('⏳ Thinking…');
    expect(fake.visibleText(reminder?.messageId ?? '')).toContain('⏰ **提醒**');
    expect(fake.visibleText(reminder?.messageId ?? '')).toContain('下午三点发布评审');
    const noteText = fake.visibleText(note?.messageId ?? '');
    expect(noteText).toContain('Skipped a reminder that was due at 2026-12-07 09:00 (Asia/Shanghai)');
    expect(noteText).toContain('125 minutes late');
    expect(noteText).toContain('> Release review at 15:00');
    expect(noteText).not.toContain('⏰');
  });

  it('after a restart mid-post, the next attempt finishes the same card instead of posting a second', async () => {
    const attempts = attemptsOf('schedule-b');
    await dyingHolder(attempts);
    await createProactiveHandler({ feishuClient: client, bus, log })(attempts.context(2));
    const posts = fake.messages({ chatId, fromBot: true });
    expect(posts).toHaveLength(1);
    expect(fake.cardForMessage(posts[0]?.messageId ?? '')?.streaming).toBe(false);
    expect(fake.visibleText(posts[0]?.messageId ?? '')).toContain('Release review at 15:00');
  });

  it('a scheduled run past the chat’s daily budget posts the budget notice instead of running', async () => {
    const store = await openStore('sqlite::memory:');
    try {
      const ledger = createSpendLedger({ store, timeZone: 'UTC' });
      await ledger.record({ chatId, userId: 'ou_planner' }, 2_000_000);
      const budget = createBudgetGuard({ ledger, budgets: { perChatUsd: 1 } });
      const run: ProactivePayload = {
        ...payload,
        action: 'run',
        text: 'Summarize the week',
        requestedBy: 'ou_planner',
      };
      const attempts = jobAttempts({
        id: 'schedule-budget',
        lane: `chat:${chatId}`,
        payload: run,
        keyPrefix: 'budget',
      });
      await createProactiveHandler({ feishuClient: client, bus, log, budget })(attempts.context(1));
      const [post, ...others] = fake.messages({ chatId, fromBot: true });
      expect(others).toEqual([]);
      expect(fake.visibleText(post?.messageId ?? '')).toMatch(/budget/i);
      expect(fake.visibleText(post?.messageId ?? '')).not.toContain('no model is configured');
    } finally {
      await store.close();
    }
  });

  it('given up on, closes the card it had started with a notice; without a card posts nothing', async () => {
    const deadLetter = createProactiveDeadLetter({ feishuClient: client, bus, log });
    await deadLetter(attemptsOf('schedule-c').context(3));
    expect(fake.messages({ chatId, fromBot: true })).toEqual([]);

    const attempts = attemptsOf('schedule-d');
    await dyingHolder(attempts);
    await deadLetter(attempts.context(3));
    const posts = fake.messages({ chatId, fromBot: true });
    expect(posts).toHaveLength(1);
    expect(fake.cardForMessage(posts[0]?.messageId ?? '')?.streaming).toBe(false);
    expect(fake.visibleText(posts[0]?.messageId ?? '')).toBe('Sorry, I could not finish this scheduled post.');
  });
});

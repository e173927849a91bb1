import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createFeishuClient } from '../../lib/feishu/feishu-client.js';
import { cardCheckpoint } from '../../lib/feishu/reply/card-checkpoint.js';
import { buildCardJson } from '../../lib/feishu/reply/card-json.js';
import { startCardWatchdog, WATCHDOG_NOTICE, WATCHDOG_TEXT_NOTICE } from '../../lib/feishu/reply/card-watchdog.js';
import { silentLogger } from '../../lib/log.js';
import { createEventBus } from '../../lib/observe/event-bus.js';
import { openSqliteStore } from '../../lib/store/sqlite-store.js';
import type { Store } from '../../lib/store/store.js';
import { type FakeFeishu, startFakeFeishu } from '../fakes/fake-feishu.js';

/**
 * The card watchdog against the fake Feishu and a real SQLite store: a job that ended while its
 * card still streamed gets the card closed, once; a reply that closed its own cards is left alone.
 */
describe('card watchdog', () => {
  let feishu: FakeFeishu;
  let store: Store;
  let client: ReturnType<typeof createFeishuClient>;

  beforeAll(async () => {
    feishu = await startFakeFeishu();
    store = openSqliteStore(':memory:');
    client = createFeishuClient({
      appId: feishu.appId,
      appSecret: feishu.appSecret,
      domain: feishu.url,
      log: silentLogger(),
    });
  });

  afterAll(async () => {
    await store?.close();
    await feishu?.close();
  });

  /** A streaming card sent under a user's message, as a reply leaves it; returns its ids. */
  async function streamingCard(text = 'Half an ans') {
    const created = await client.cardkit.v1.card.create({
      data: {
        type: 'card_json',
        data: buildCardJson({ body: { text }, streaming: true, summary: '…' }),
      },
    });
    const cardId = created.data!.card_id!;
    const question = feishu.seedMessage({ chatId: 'oc_watchdog', text: 'question' });
    const reply = await client.im.v1.message.reply({
      path: { message_id: question.messageId },
      data: { msg_type: 'interactive', content: JSON.stringify({ type: 'card', data: { card_id: cardId } }) },
    });
    return { cardId, messageId: reply.data!.message_id! };
  }

  /** A job that ended (done) with `reply` as its reply checkpoint. */
  async function endedJob(id: string, reply: unknown) {
    await store.enqueue({ id, lane: `lane:${id}`, kind: 'answer', payload: {} });
    const job = await store.claimNextJob({ owner: 'worker', leaseMs: 60_000 });
    expect(job?.id).toBe(id);
    await store.saveCheckpoint(id, 'worker', { reply, replyAttempt: 3 });
    await store.completeJob(id, 'worker');
  }

  it('closes a card left streaming by an ended job, once, and leaves closed replies alone', async () => {
    const open = await streamingCard();
    const closedByReply = await streamingCard();
    await endedJob('job-open', cardCheckpoint('card', [open]));
    await endedJob('job-closed', cardCheckpoint('card', [closedByReply], true));

    const watchdog = startCardWatchdog({
      store,
      client,
      bus: createEventBus(),
      log: silentLogger(),
      intervalMs: 60_000,
    });
    try {
      expect(feishu.cardState(open.cardId)?.streaming).toBe(true);
      expect(await watchdog.sweep()).toBe(1);
      expect(feishu.cardState(open.cardId)?.streaming).toBe(false);
      // Above every sequence the job's attempts used (replyAttempt 3).
      expect(feishu.cardState(open.cardId)?.sequence).toBeGreaterThan(3_000_000);
      expect(feishu.cardState(closedByReply.cardId)?.streaming).toBe(true);
      // Once: a later pass (or another instance) does not touch it again.
      const settingsCalls = feishu.callsTo('cardkit.card.settings').length;
      expect(await watchdog.sweep()).toBe(0);
      expect(feishu.callsTo('cardkit.card.settings')).toHaveLength(settingsCalls);
    } finally {
      watchdog.stop();
    }
  });

  it('rewrites a card still on "Thinking…" with a notice; a card with text is only closed, its text kept', async () => {
    const thinking = await streamingCard('⏳ Thinking…');
    const withText = await streamingCard('Half an answer');
    await endedJob('job-thinking', cardCheckpoint('card', [thinking], false, 'thinking'));
    await endedJob('job-text', cardCheckpoint('card', [withText], false, 'text'));
    // Cards gave up before any text; the answer went out as text messages.
    const fellBack = await streamingCard('⏳ Thinking…');
    await endedJob('job-fell-back', cardCheckpoint('text', [fellBack], false, 'thinking'));

    const watchdog = startCardWatchdog({ store, client, bus: createEventBus(), log: silentLogger() });
    try {
      expect(await watchdog.sweep()).toBe(3);
      expect(feishu.visibleText(fellBack.messageId)).toBe(WATCHDOG_TEXT_NOTICE);
      expect(feishu.cardState(fellBack.cardId)?.streaming).toBe(false);
      expect(feishu.cardState(thinking.cardId)?.streaming).toBe(false);
      expect(feishu.visibleText(thinking.messageId)).toBe(WATCHDOG_NOTICE);
      expect(feishu.cardState(withText.cardId)?.streaming).toBe(false);
      expect(feishu.visibleText(withText.messageId)).toBe('Half an answer');
    } finally {
      watchdog.stop();
    }
  });

  it("writes its notice in the reply's language, kept in the checkpoint", async () => {
    const thinking = await streamingCard('⏳ 思考中…');
    await endedJob('job-thinking-zh', cardCheckpoint('card', [thinking], false, 'thinking', 'zh'));
    const fellBack = await streamingCard('⏳ 思考中…');
    await endedJob('job-fell-back-zh', cardCheckpoint('text', [fellBack], false, 'thinking', 'zh'));

    const watchdog = startCardWatchdog({ store, client, bus: createEventBus(), log: silentLogger() });
    try {
      expect(await watchdog.sweep()).toBe(2);
      expect(feishu.visibleText(thinking.messageId)).toBe('⚠️ 这个回答在写出之前就中断了，请再问一次。');
      expect(feishu.visibleText(fellBack.messageId)).toBe('回答已作为消息发在下方。');
    } finally {
      watchdog.stop();
    }
  });
});

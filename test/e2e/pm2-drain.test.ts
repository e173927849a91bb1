/**
 * `pm2 reload` and `pm2 stop` while answers are streaming, with the real service under a real PM2
 * daemon (isolated PM2_HOME), the real lark SDK against the fake Feishu and the real AI SDK
 * against a slow fake OpenAI. What must hold:
 *
 * - each drain ends with exit 0 by the app itself (PM2 never had to SIGKILL it), and its log says
 *   the drain completed;
 * - no card is left streaming: answers that did not finish within the drain budget were closed
 *   with the "interrupted" notice and handed back, and the next process continued the same card;
 * - in the end every message has exactly one bot reply whose card is closed and shows the whole
 *   answer, and the store holds no pending or leased job.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openSqliteStore } from '../../lib/store/sqlite-store.js';
import type { JobCounts } from '../../lib/store/store.js';
import { buildMessageEvent, postEvent } from '../fakes/event-sender.js';
import { type FakeFeishu, startFakeFeishu } from '../fakes/fake-feishu.js';
import { type FakeChatRequest, type FakeOpenAI, startFakeOpenAI } from '../fakes/fake-openai.js';
import { type Pm2Service, startPm2Service, waitUntil } from '../support/pm2-service.js';

const encryptKey = 'pm2-drain-encrypt-key';
const token = 'pm2-drain-verification-token';
/** Drain budget: running answers get 60 % of it (1.8 s), far less than one answer takes. */
const SHUTDOWN_TIMEOUT_MS = 3_000;
const INTERRUPTED = 'interrupted by a restart';
const CHUNK_DELAY_MS = 150;

/** The answer the fake model streams for a message tagged `tag` (about 8 s at CHUNK_DELAY_MS). */
function answerFor(tag: string): string {
  const words = Array.from({ length: 60 }, (_, index) => `w${String(index + 1).padStart(2, '0')}`);
  return `answer to ${tag}: ${words.join(' ')} END-${tag}`;
}

function slowAnswer(request: FakeChatRequest) {
  const tag = /\b(drain-\d+)\b/.exec(request.lastUserText)?.[1] ?? 'unknown';
  return { text: answerFor(tag), chunkSize: 6, chunkDelayMs: CHUNK_DELAY_MS };
}

describe('under real PM2: reload and stop with answers in flight', () => {
  let feishu: FakeFeishu;
  let openai: FakeOpenAI;
  let service: Pm2Service;
  let directory: string;
  let storeFile: string;
  /** message id → tag, in the order sent. */
  const sent = new Map<string, string>();
  let counter = 0;

  beforeAll(async () => {
    feishu = await startFakeFeishu();
    openai = await startFakeOpenAI({ defaultResponder: slowAnswer });
    directory = mkdtempSync(join(tmpdir(), 'pm2-drain-'));
    storeFile = join(directory, 'bot.db');
    service = await startPm2Service({
      name: 'feishu-bot-drain',
      shutdownTimeoutMs: SHUTDOWN_TIMEOUT_MS,
      env: {
        ...feishu.env(),
        FEISHU_ENCRYPT_KEY: encryptKey,
        FEISHU_VERIFICATION_TOKEN: token,
        OPENAI_BASE_URL: openai.baseURL,
        OPENAI_API_KEY: openai.apiKey,
        MODEL: 'gpt-test',
        STORE_URL: `sqlite:${storeFile}`,
        MAX_CONCURRENT_JOBS: '8',
        JOB_LEASE_MS: '10000',
      },
    });
  }, 180_000);

  afterAll(async () => {
    await service?.close();
    await openai?.close();
    await feishu?.close();
    if (directory !== undefined) rmSync(directory, { recursive: true, force: true });
  }, 60_000);

  /** Posts one mention (p2p or group, each in its own conversation); returns its message id. */
  async function mention(chatType: 'p2p' | 'group'): Promise<string> {
    counter += 1;
    const tag = `drain-${counter}`;
    const event = buildMessageEvent({
      fake: feishu,
      chatType,
      ...(chatType === 'group' ? { chatId: `oc_drain_group_${counter}`, mentionBot: true } : {}),
      senderOpenId: `ou_drain_user_${counter}`,
      text: `please answer ${tag}`,
      token,
    });
    const response = await postEvent(service.webhookUrl, event, { encryptKey });
    expect(response.status).toBe(200);
    const messageId = event.event.message.message_id;
    sent.set(messageId, tag);
    return messageId;
  }

  function botReplies(messageId: string) {
    return feishu.repliesTo(messageId, { fromBot: true }).filter((message) => !message.deleted);
  }

  function cardOf(messageId: string) {
    const [reply] = botReplies(messageId);
    return reply === undefined ? undefined : feishu.cardForMessage(reply.messageId);
  }

  /** True once the card answering `messageId` is streaming and already shows part of the answer. */
  function streamingWithText(messageId: string): boolean {
    const card = cardOf(messageId);
    return card?.streaming === true && Object.values(card.elements).some((element) => element.content?.includes('w0'));
  }

  function everyCardContentEver(messageId: string): string[] {
    const card = cardOf(messageId);
    return card === undefined ? [] : Object.values(card.elements).flatMap((element) => element.contentHistory);
  }

  async function jobCounts(): Promise<JobCounts> {
    const store = openSqliteStore(storeFile);
    try {
      return await store.countJobs();
    } finally {
      await store.close();
    }
  }

  /** Every message sent so far: exactly one bot reply, card closed, the whole answer visible. */
  async function allAnsweredOnce(timeoutMs = 60_000) {
    await waitUntil(
      'every message answered with a closed card showing the whole answer',
      () =>
        [...sent].every(([messageId, tag]) => {
          const replies = botReplies(messageId);
          const card = cardOf(messageId);
          return (
            replies.length === 1 &&
            card !== undefined &&
            !card.streaming &&
            feishu.visibleText(replies[0]!.messageId).includes(`END-${tag}`)
          );
        }) || undefined,
      { timeoutMs, intervalMs: 100 },
    );
    for (const [messageId, tag] of sent) {
      expect(botReplies(messageId), `replies to ${tag}`).toHaveLength(1);
      expect(feishu.repliesTo(messageId, { fromBot: true }), `recalled replies to ${tag}`).toHaveLength(1);
      const card = cardOf(messageId)!;
      expect(card.streaming).toBe(false);
      expect(card.streamingClosedBy).toBe('settings');
      const text = feishu.visibleText(botReplies(messageId)[0]!.messageId);
      expect(text).toContain(answerFor(tag));
      expect(text).not.toContain(INTERRUPTED);
    }
  }

  it('pm2 reload mid-answer: clean exit 0, interrupted cards closed with a notice, continued to the end by the new process', async () => {
    const inFlight = [await mention('p2p'), await mention('group'), await mention('p2p'), await mention('group')];
    await waitUntil('all four cards streaming with text', () => inFlight.every(streamingWithText) || undefined, {
      timeoutMs: 30_000,
    });
    const before = await service.describe();

    const after = await service.reload();
    expect(after.pid).not.toBe(before.pid);

    // The old process drained by itself: exit 0 after PM2's shutdown message, no SIGKILL.
    expect(service.appExits()).toEqual([{ code: 0, signal: 'SIGINT' }]);
    expect(service.daemonLog()).not.toMatch(/still alive after/);
    const log = service.appLog();
    expect(log.filter((line) => line.msg === 'shutdown: drain completed')).toMatchObject([
      { reason: 'pm2 shutdown message', exitCode: 0 },
    ]);
    // The answers were still running when the budget ran out: they were handed back, not lost.
    const handedBack = log.find((line) => line.msg === 'drain timed out: aborting and handing jobs back');
    expect(handedBack?.jobs).toEqual(expect.arrayContaining(inFlight.map((messageId) => `message:${messageId}`)));
    // Each of those cards was closed with the notice before the process exited (not left streaming)…
    for (const messageId of inFlight) {
      expect(everyCardContentEver(messageId).some((content) => content.includes(INTERRUPTED))).toBe(true);
    }
    // …and the new process continued the same cards (one reply each) to the whole answer.
    await allAnsweredOnce();
    // Continued, not restarted: a second attempt wrote into the card the first one created.
    for (const messageId of inFlight) {
      const card = cardOf(messageId)!;
      expect(card.sequenceHistory.some((sequence) => sequence >= 2_000_000)).toBe(true);
      expect(card.rejectedSequences).toEqual([]);
    }
    expect(await jobCounts()).toMatchObject({ pending: 0, leased: 0, dead: 0, done: sent.size });
  }, 120_000);

  it('pm2 stop mid-answer: clean exit 0, nothing left streaming, jobs handed back and finished after the next start', async () => {
    const inFlight = [await mention('group'), await mention('p2p'), await mention('group')];
    await waitUntil('all three cards streaming with text', () => inFlight.every(streamingWithText) || undefined, {
      timeoutMs: 30_000,
    });

    const stopped = await service.stop();
    expect(stopped.status).toBe('stopped');
    expect(await service.readyStatus()).toBe('down');
    expect(service.appExits()).toEqual([
      { code: 0, signal: 'SIGINT' },
      { code: 0, signal: 'SIGINT' },
    ]);
    expect(service.daemonLog()).not.toMatch(/still alive after/);
    expect(service.appLog().filter((line) => line.msg === 'shutdown: drain completed')).toMatchObject([
      { reason: 'pm2 shutdown message', exitCode: 0 },
      { reason: 'pm2 shutdown message', exitCode: 0 },
    ]);

    // With no process running: no card streams (every one is finished or closed with the notice),
    // and the interrupted jobs wait durably, handed back (pending), none still leased.
    expect(feishu.cards().filter((card) => card.streaming)).toEqual([]);
    for (const messageId of inFlight) {
      expect(botReplies(messageId)).toHaveLength(1);
      expect(feishu.visibleText(botReplies(messageId)[0]!.messageId)).toContain(INTERRUPTED);
    }
    expect(await jobCounts()).toMatchObject({ pending: inFlight.length, leased: 0, dead: 0 });

    // The next process finishes them in the same cards.
    await service.restart();
    await allAnsweredOnce();
    expect(await jobCounts()).toMatchObject({ pending: 0, leased: 0, dead: 0, done: sent.size });

    // And a final stop with nothing in flight is clean too.
    await service.stop();
    expect(service.appExits().at(-1)).toEqual({ code: 0, signal: 'SIGINT' });
    expect(feishu.cards().filter((card) => card.streaming)).toEqual([]);
    // One model answer per attempt: 4 + 3 interrupted answers were asked again, nothing more.
    expect(openai.requests.filter((request) => request.outcome === 'ok')).toHaveLength(sent.size);
  }, 180_000);
});

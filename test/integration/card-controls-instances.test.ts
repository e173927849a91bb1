import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { type RunningBot, startBot } from '../../lib/bot.js';
import { loadConfig } from '../../lib/config.js';
import { STOPPED_NOTICE } from '../../lib/conversation/handle-message.js';
import { STOP_TEXT } from '../../lib/conversation/run-stops.js';
import { silentLogger } from '../../lib/log.js';
import { buildMessageEvent, postEvent } from '../fakes/event-sender.js';
import { type FakeFeishu, startFakeFeishu } from '../fakes/fake-feishu.js';
import { type FakeOpenAI, startFakeOpenAI } from '../fakes/fake-openai.js';
import { answerCard, buttonValue, pressCard } from '../support/card-press.js';
import { removeRedisPrefix } from '../support/redis-prefix.js';
import { REDIS_URL, requireRedis } from '../support/requirements.js';

/**
 * Stop where the press does not reach the process that started the answer: after a restart (the
 * job handed back on the drain and resumed by the next process on the same SQLite file), and on
 * another instance sharing Redis. The press is a real signed card callback in both.
 */

const encryptKey = 'instances-encrypt-key';
const token = 'instances-token';
const CHAT = 'oc_instances_group';
const redisAvailable = await requireRedis();

const slowAnswer = (word: string) => Array.from({ length: 80 }, (_, index) => `${word}${index}`).join(' ');

let feishu: FakeFeishu;
let openai: FakeOpenAI;
const bots: RunningBot[] = [];

beforeAll(async () => {
  feishu = await startFakeFeishu();
  openai = await startFakeOpenAI();
});

afterEach(async () => {
  for (const bot of bots.splice(0)) await bot.stop();
  openai.reset();
});

afterAll(async () => {
  await openai?.close();
  await feishu?.close();
});

async function bot(storeUrl: string, instance: string): Promise<RunningBot> {
  const config = loadConfig({
    NODE_ENV: 'test',
    PORT: '0',
    HOST: '127.0.0.1',
    LOG_LEVEL: 'silent',
    ...feishu.env(),
    FEISHU_ENCRYPT_KEY: encryptKey,
    FEISHU_VERIFICATION_TOKEN: token,
    OPENAI_BASE_URL: openai.baseURL,
    OPENAI_API_KEY: openai.apiKey,
    MODEL: 'gpt-test',
    STORE_URL: storeUrl,
    INSTANCE_ID: instance,
    SHUTDOWN_TIMEOUT_MS: '4000',
    ENABLE_DEVTOOLS: 'false',
  });
  const running = await startBot(config, { log: silentLogger(), dispatcher: { pollIntervalMs: 50 } });
  bots.push(running);
  return running;
}

async function mention(url: string, text: string) {
  const threadId = `omt_${randomUUID().slice(0, 8)}`;
  const root = feishu.seedMessage({ chatId: CHAT, threadId, text: 'root' });
  const event = buildMessageEvent({
    fake: feishu,
    chatId: CHAT,
    mentionBot: true,
    text,
    rootId: root.messageId,
    threadId,
    token,
  });
  expect((await postEvent(`${url}/webhook/event`, event, { encryptKey })).status).toBe(200);
  return event.event.message.message_id;
}

/** Waits until the answer card streams a word starting with `word`; returns the card's message and Stop value. */
async function streaming(messageId: string, word: string) {
  await feishu.waitFor(
    () => {
      const found = answerCard(feishu, messageId);
      return found?.card.streaming === true && feishu.visibleText(found.replyId).includes(`${word}2`);
    },
    { timeoutMs: 20_000, description: `the card streaming ${word}…` },
  );
  const { replyId, card } = answerCard(feishu, messageId)!;
  return { replyId, value: buttonValue(card, 'stop')! };
}

async function stoppedCard(messageId: string) {
  await feishu.waitFor(
    () => {
      const found = answerCard(feishu, messageId);
      return found !== undefined && feishu.visibleText(found.replyId).includes(STOPPED_NOTICE) && !found.card.streaming;
    },
    { timeoutMs: 10_000, description: 'the card closed as Stopped' },
  );
}

const url = (running: RunningBot) => `http://127.0.0.1:${running.port}`;

describe('Stop after a restart', () => {
  it('a press reaching the next process stops the answer it resumed on the same card', async () => {
    const directory = mkdtempSync(join(tmpdir(), 'card-controls-'));
    try {
      const storeUrl = `sqlite:${join(directory, 'bot.db')}`;
      openai.script(
        'gpt-test',
        { text: slowAnswer('first'), chunkSize: 8, chunkDelayMs: 150 },
        { text: slowAnswer('again'), chunkSize: 8, chunkDelayMs: 150 },
      );
      const before = await bot(storeUrl, 'restart-a');
      const messageId = await mention(url(before), 'a long story please');
      const { replyId, value } = await streaming(messageId, 'first');
      // The restart: the drain hands the running job back.
      await before.stop();
      bots.splice(bots.indexOf(before), 1);

      const after = await bot(storeUrl, 'restart-b');
      await streaming(messageId, 'again');
      // The button the person sees is the one the first process put on the card.
      const answer = await pressCard(`${url(after)}/webhook/card`, { fake: feishu, replyId, value, encryptKey, token });
      expect(answer).toMatchObject({ status: 200, toast: { content: STOP_TEXT.stopping } });
      await stoppedCard(messageId);
      await expect
        .poll(async () => (await after.store.getJob(String(value.run)))?.status, { timeout: 5_000 })
        .toBe('done');
      // One card answered the question across both processes.
      expect(feishu.repliesTo(messageId, { fromBot: true })).toHaveLength(1);
      expect(feishu.visibleText(replyId)).not.toContain('again79');
    } finally {
      rmSync(directory, { recursive: true, force: true });
    }
  });
});

describe.runIf(redisAvailable)('Stop on another instance (Redis)', () => {
  let prefix = '';
  afterEach(async () => {
    if (prefix !== '') await removeRedisPrefix(REDIS_URL, prefix);
  });

  it('a press reaching the instance that does not run the answer stops it through the store', async () => {
    prefix = `card-controls-test:${randomUUID()}:`;
    const storeUrl = `${REDIS_URL}/0?prefix=${prefix}`;
    const [a, b] = await Promise.all([bot(storeUrl, 'ctl-a'), bot(storeUrl, 'ctl-b')]);
    openai.script('gpt-test', { text: slowAnswer('shared'), chunkSize: 8, chunkDelayMs: 150 });
    const messageId = await mention(url(a), 'a long story on two instances');
    const { replyId, value } = await streaming(messageId, 'shared');

    const job = await a.store.getJob(String(value.run));
    const runsOnA = job?.owner?.startsWith('ctl-a') === true;
    const other = runsOnA ? b : a;
    expect(job?.owner?.startsWith(runsOnA ? 'ctl-a' : 'ctl-b')).toBe(true);
    const answer = await pressCard(`${url(other)}/webhook/card`, { fake: feishu, replyId, value, encryptKey, token });
    expect(answer).toMatchObject({ status: 200, toast: { content: STOP_TEXT.stopping } });
    await stoppedCard(messageId);
    await expect.poll(async () => (await a.store.getJob(String(value.run)))?.status, { timeout: 5_000 }).toBe('done');
    expect(feishu.visibleText(replyId)).not.toContain('shared79');
  });
});

import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { type RunningBot, startBot } from '../../lib/bot.js';
import { loadConfig } from '../../lib/config.js';
import { silentLogger } from '../../lib/log.js';
import { buildMessageEvent, eventRequest, postEvent } from '../fakes/event-sender.js';
import { type FakeFeishu, startFakeFeishu } from '../fakes/fake-feishu.js';
import { createEchoAnswerHandler } from '../support/echo-answer-handler.js';

const encryptKey = 'integration-encrypt-key';
const token = 'integration-verification-token';

describe('ingress over real HTTP: exactly one reply per message', () => {
  let fake: FakeFeishu;
  let bot: RunningBot;
  let webhookUrl: string;

  beforeAll(async () => {
    fake = await startFakeFeishu();
    const config = loadConfig({
      NODE_ENV: 'test',
      PORT: '0',
      HOST: '127.0.0.1',
      LOG_LEVEL: 'silent',
      ...fake.env(),
      FEISHU_ENCRYPT_KEY: encryptKey,
      FEISHU_VERIFICATION_TOKEN: token,
      STORE_URL: 'sqlite::memory:',
    });
    bot = await startBot(config, {
      log: silentLogger(),
      // The stand-in answer. To run the real conversation step instead, drop this one `handlers` line
      // and point MODEL / OPENAI_BASE_URL at the fake OpenAI (startBot then wires createMessageHandler).
      handlers: ({ feishuClient }) => ({ answer: createEchoAnswerHandler({ client: feishuClient, delayMs: 50 }) }),
      dispatcher: { pollIntervalMs: 50 },
    });
    webhookUrl = `http://127.0.0.1:${bot.port}/webhook/event`;
  });

  afterAll(async () => {
    await bot?.stop();
    await fake?.close();
  });

  beforeEach(() => fake.clearCalls());

  const botReplies = (messageId: string) => fake.repliesTo(messageId, { fromBot: true });

  async function settled(messageId: string) {
    await fake.waitFor(() => botReplies(messageId).length > 0, { description: `a reply to ${messageId}` });
    // Give any wrongly queued second job time to run too, so "exactly one" means something.
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect((await bot.store.countJobs()).pending + (await bot.store.countJobs()).leased).toBe(0);
  }

  it('the same event delivered 10 times concurrently → one job, one reply', async () => {
    const event = buildMessageEvent({ fake, chatType: 'p2p', text: 'concurrent', token });
    const responses = await Promise.all(Array.from({ length: 10 }, () => postEvent(webhookUrl, event, { encryptKey })));
    expect(responses.map((response) => response.status)).toEqual(Array(10).fill(200));
    const messageId = event.event.message.message_id;
    await settled(messageId);
    expect(botReplies(messageId)).toHaveLength(1);
    expect(fake.visibleText(botReplies(messageId)[0]?.messageId ?? '')).toBe('Echo: concurrent');
    expect(await bot.store.getJob(`message:${messageId}`)).toMatchObject({ status: 'done', attempts: 1 });
  });

  it('the same event delivered 10 times spread over time (before and after the answer) → one reply', async () => {
    const event = buildMessageEvent({ fake, chatType: 'p2p', text: 'spread', token });
    const messageId = event.event.message.message_id;
    for (let delivery = 0; delivery < 10; delivery++) {
      const response = await postEvent(webhookUrl, event, { encryptKey });
      expect(response.status).toBe(200);
      await new Promise((resolve) => setTimeout(resolve, 30));
    }
    await settled(messageId);
    // A late re-delivery (Feishu retries for hours) after the answer was posted.
    expect((await postEvent(webhookUrl, event, { encryptKey })).status).toBe(200);
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(botReplies(messageId)).toHaveLength(1);
  });

  it('the same message under two event ids → one job, one reply', async () => {
    const first = buildMessageEvent({ fake, chatType: 'group', mentionBot: true, text: 'twice', token });
    const second = { ...first, header: { ...first.header, event_id: `${first.header.event_id}-again` } };
    const [a, b] = await Promise.all([
      postEvent(webhookUrl, first, { encryptKey }),
      postEvent(webhookUrl, second, { encryptKey }),
    ]);
    expect([a.status, b.status]).toEqual([200, 200]);
    const messageId = first.event.message.message_id;
    await settled(messageId);
    expect(botReplies(messageId)).toHaveLength(1);
    const jobs = await bot.store.listJobs({ limit: 100 });
    expect(jobs.filter((job) => job.id.includes(messageId))).toHaveLength(1);
  });

  it('bad deliveries get their 4xx, enqueue nothing, and the server keeps serving', async () => {
    const before = await bot.store.countJobs();
    const event = buildMessageEvent({ fake, chatType: 'p2p', text: 'tampered', token });
    const statuses: number[] = [];
    for (const tamper of ['signature', 'body', 'stale-timestamp', 'unsigned', 'ciphertext', 'not-json'] as const) {
      statuses.push((await postEvent(webhookUrl, event, { encryptKey, tamper })).status);
    }
    const wrongToken = buildMessageEvent({ fake, chatType: 'p2p', text: 'x', token: 'wrong' });
    statuses.push((await postEvent(webhookUrl, wrongToken, { encryptKey })).status);
    const huge = buildMessageEvent({ fake, chatType: 'p2p', text: 'x'.repeat(2 * 1024 * 1024), token });
    statuses.push((await fetch(webhookUrl, eventRequest(huge, { encryptKey }))).status);
    expect(statuses).toEqual([401, 401, 401, 401, 400, 400, 401, 413]);
    // Every rejection is counted by status and reason, the oversized body included.
    const metrics = await (await fetch(webhookUrl.replace('/webhook/event', '/metrics'))).text();
    expect(metrics).toMatch(
      /feishu_bot_events_rejected_total\{source="webhook",status="413",reason="PAYLOAD_TOO_LARGE"[^}]*\} 1/,
    );
    expect(metrics).toMatch(
      /feishu_bot_events_rejected_total\{source="webhook",status="401",reason="SIGNATURE_INVALID"[^}]*\} [1-9]/,
    );
    const after = await bot.store.countJobs();
    expect(after).toEqual(before);
    // Still serving: the untampered event goes through and is answered.
    expect((await postEvent(webhookUrl, event, { encryptKey })).status).toBe(200);
    await settled(event.event.message.message_id);
  });

  it('answers the URL-verification challenge (encrypted, unsigned) over HTTP', async () => {
    const response = await postEvent(
      webhookUrl,
      { type: 'url_verification', challenge: 'hello-challenge', token },
      { encryptKey },
    );
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ challenge: 'hello-challenge' });
  });
});

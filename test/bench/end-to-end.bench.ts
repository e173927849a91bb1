/**
 * End-to-end latency of one message with an instant model: from the webhook POST to the first
 * card update the user sees, and to the final card (streaming closed).
 *
 *   node --import tsx test/bench/end-to-end.bench.ts [messages]
 *
 * Everything is real except the two remote services: the bot from `startBot` (webhook with
 * signature + encryption, SQLite file store, inbox, dispatcher, conversation step, manager agent
 * on the real @ai-sdk/openai provider, CardKit streaming card through the real lark SDK), the
 * fake Feishu and the fake OpenAI over HTTP on 127.0.0.1. The model answers ~600 characters at
 * once (no delays). Messages go one at a time (each waits for the previous final card), so the
 * figures are latency, not queueing; each comes from a different user in their own direct chat.
 *
 * Times come from the fake Feishu's call log: the first call that puts answer text on the card
 * (`cardkit.cardElement.content`, or the closing `cardkit.card.update` when the model was done
 * before the first write) and the call that closes streaming (the full `cardkit.card.update` with
 * the final text, footer and no buttons) of the card that answers the message,
 * relative to the moment just before the POST. Resolution is 1 ms (the fake stamps Date.now()).
 *
 * Same-run baseline: the raw round trip of one fake Feishu API call (a text reply through the
 * lark SDK client) plus one complete fake model call (the same answer, streamed through
 * @ai-sdk/openai) — the least any answer costs. The ratio says how much the pipeline adds:
 * several Feishu calls per card, the durable inbox, and the card throttle
 * (CARD_UPDATES_PER_SECOND, 4 by default). Goal: the card closed p50 ≤ 100 ms after the event
 * (the final text and the close are one operation that skips the throttle's spacing).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createOpenAI } from '@ai-sdk/openai';
import { streamText } from 'ai';
import { type RunningBot, startBot } from '../../lib/bot.js';
import { loadConfig } from '../../lib/config.js';
import { createFeishuClient } from '../../lib/feishu/feishu-client.js';
import { silentLogger } from '../../lib/log.js';
import { buildMessageEvent, postEvent } from '../fakes/event-sender.js';
import { type FakeFeishu, p2pChatIdFor, startFakeFeishu } from '../fakes/fake-feishu.js';
import { type FakeOpenAI, startFakeOpenAI } from '../fakes/fake-openai.js';
import { describeMachine, type LatencySummary, printTable, ratio, summarise, summaryLine } from './bench-support.js';

const messages = Number(process.argv[2] ?? 200);
const warmup = Math.min(10, Math.max(2, Math.floor(messages / 10)));
const encryptKey = 'e2e-bench-encrypt-key';
const token = 'e2e-bench-verification-token';
const UPDATES_PER_SECOND = 4;
const DEADLINE_MS = 8 * 60_000;
const ANSWER = Array.from(
  { length: 8 },
  (_, index) => `${index + 1}. A line of the answer with **bold**, \`code\` and 中文 text.`,
).join('\n');

interface Timing {
  ack: number;
  firstUpdate: number;
  finalCard: number;
}

async function oneMessage(bot: RunningBot, feishu: FakeFeishu, index: number): Promise<Timing> {
  const user = `ou_bench_user_${index.toString(16).padStart(8, '0')}`;
  const event = buildMessageEvent({
    fake: feishu,
    chatType: 'p2p',
    chatId: p2pChatIdFor(user),
    senderOpenId: user,
    text: `question ${index}`,
    token,
  });
  const messageId = event.event.message.message_id;
  const postedAt = Date.now();
  const response = await postEvent(`http://127.0.0.1:${bot.port}/webhook/event`, event, { encryptKey });
  const ackedAt = Date.now();
  await response.arrayBuffer();
  if (response.status !== 200) throw new Error(`webhook answered ${response.status}`);
  const card = await feishu.waitFor(
    () => {
      const [reply] = feishu.repliesTo(messageId, { fromBot: true });
      const state = reply ? feishu.cardForMessage(reply.messageId) : undefined;
      return state !== undefined && state.streamingClosedBy === 'settings' ? state : undefined;
    },
    { timeoutMs: 30_000, description: `the final card answering ${messageId}` },
  );
  const cardPath = `/open-apis/cardkit/v1/cards/${card.cardId}`;
  const cardCalls = feishu.calls.filter(
    (call) => (call.path === cardPath || call.path.startsWith(`${cardPath}/`)) && call.status === 200,
  );
  // The answer's first words reach the card by a streamed content write, or (an instant model)
  // straight in the one full update that closes it.
  const firstContent = cardCalls.find(
    (call) => call.api === 'cardkit.cardElement.content' || call.api === 'cardkit.card.update',
  );
  // Streaming is closed by `card.settings`, or by the full `card.update` that also writes the final text.
  const closing = cardCalls.findLast(
    (call) => call.api === 'cardkit.card.settings' || call.api === 'cardkit.card.update',
  );
  if (firstContent === undefined || closing === undefined) {
    const seen = feishu.calls.map((call) => `${call.api} ${call.status}`).join(', ');
    throw new Error(`no content or closing call for card ${card.cardId} answering ${messageId}; calls: ${seen}`);
  }
  return { ack: ackedAt - postedAt, firstUpdate: firstContent.at - postedAt, finalCard: closing.at - postedAt };
}

async function baselines(feishu: FakeFeishu, openai: FakeOpenAI, count: number) {
  const client = createFeishuClient({
    appId: feishu.appId,
    appSecret: feishu.appSecret,
    domain: feishu.url,
    log: silentLogger(),
  });
  const model = createOpenAI({ baseURL: openai.baseURL, apiKey: openai.apiKey }).chat('gpt-test');
  const feishuCall: number[] = [];
  const modelCall: number[] = [];
  for (let index = 0; index < count + warmup; index++) {
    const seeded = feishu.seedMessage({ chatId: 'oc_baseline', text: `baseline ${index}` });
    let started = performance.now();
    const reply = await client.im.v1.message.reply({
      path: { message_id: seeded.messageId },
      data: { msg_type: 'text', content: JSON.stringify({ text: 'baseline' }) },
    });
    if (reply.code !== 0) throw new Error(`baseline reply failed: ${reply.code}`);
    if (index >= warmup) feishuCall.push(performance.now() - started);

    started = performance.now();
    const result = streamText({ model, prompt: `baseline ${index}`, maxRetries: 0 });
    const text = await result.text;
    if (text !== ANSWER) throw new Error('the fake model did not answer the scripted text');
    if (index >= warmup) modelCall.push(performance.now() - started);
  }
  return { feishu: summarise(feishuCall), model: summarise(modelCall) };
}

const directory = mkdtempSync(join(tmpdir(), 'end-to-end-bench-'));
const feishu = await startFakeFeishu();
const openai = await startFakeOpenAI({ defaultResponder: () => ({ text: ANSWER, chunkSize: 24 }) });
const bot = await startBot(
  loadConfig({
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
    CARD_UPDATES_PER_SECOND: String(UPDATES_PER_SECOND),
    USER_MESSAGES_PER_MINUTE: '100000',
    CHAT_MESSAGES_PER_MINUTE: '100000',
    STORE_URL: `sqlite:${join(directory, 'bot.db')}`,
    ENABLE_DEVTOOLS: 'false',
  }),
  { log: silentLogger() },
);

try {
  console.log(`end-to-end latency: ${describeMachine()}`);
  console.log(
    `  ${messages} messages one at a time (+${warmup} warm-up), instant fake model (${ANSWER.length} characters), CARD_UPDATES_PER_SECOND=${UPDATES_PER_SECOND}, real bot + real SDKs over HTTP on 127.0.0.1`,
  );
  const deadline = Date.now() + DEADLINE_MS;
  const timings: Timing[] = [];
  for (let index = 0; index < messages + warmup && Date.now() < deadline; index++) {
    const timing = await oneMessage(bot, feishu, index);
    if (index >= warmup) timings.push(timing);
    // Keep the fake's call log (a bounded ring) short, so finding this message's calls stays cheap.
    feishu.clearCalls();
  }
  if (timings.length < messages) console.log(`  (stopped at the deadline after ${timings.length} messages)`);
  const base = await baselines(feishu, openai, Math.min(messages, 200));
  const ack = summarise(timings.map((timing) => timing.ack));
  const first = summarise(timings.map((timing) => timing.firstUpdate));
  const final = summarise(timings.map((timing) => timing.finalCard));
  const baseline: LatencySummary = {
    n: base.feishu.n,
    p50: base.feishu.p50 + base.model.p50,
    p99: base.feishu.p99 + base.model.p99,
    max: base.feishu.max + base.model.max,
    mean: base.feishu.mean + base.model.mean,
  };
  const row = (name: string, value: LatencySummary, compare = true): string[] => [
    name,
    `${value.p50.toFixed(1)} ms`,
    compare ? ratio(value.p50, baseline.p50) : '',
    `${value.p99.toFixed(1)} ms`,
    compare ? ratio(value.p99, baseline.p99) : '',
    `${value.max.toFixed(1)} ms`,
  ];
  printTable(
    ['', 'p50', 'vs baseline', 'p99', 'vs baseline', 'max'],
    [
      row('one fake Feishu call (SDK)', base.feishu, false),
      row('one fake model call (AI SDK)', base.model, false),
      row('baseline: Feishu + model', baseline),
      row('webhook ack', ack),
      row('→ first card update', first),
      row('→ final card (streaming off)', final),
    ],
  );
  const goal = final.p50 <= 100 ? 'PASS' : 'FAIL';
  summaryLine(
    `end to end (instant model): card closed p50 ${final.p50.toFixed(0)} ms (goal ≤ 100 ms: ${goal}); first card update p50 ${first.p50.toFixed(0)} ms / p99 ${first.p99.toFixed(0)} ms, final card p50 ${final.p50.toFixed(0)} ms / p99 ${final.p99.toFixed(0)} ms; baseline one Feishu call + one model call p50 ${baseline.p50.toFixed(1)} ms → ${ratio(first.p50, baseline.p50)} / ${ratio(final.p50, baseline.p50)}`,
  );
} finally {
  await bot.stop();
  await openai.close();
  await feishu.close();
  rmSync(directory, { recursive: true, force: true });
}

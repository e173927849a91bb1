/**
 * Card controls latency, end to end through the real bot:
 *
 *   node --import tsx test/bench/card-controls.bench.ts [runs]
 *
 * - **Stop → "Stopped"**: a slow answer streams; the asker presses Stop (a signed, encrypted
 *   card callback to /webhook/card, the button's value read from the card the fake Feishu holds);
 *   measured from the press to the fake Feishu's call that closes the card. Goal: p99 ≤ 1 s.
 * - **First text after the first token**: the model's first token is held back 400 ms; measured
 *   from the moment the fake OpenAI released it (its request arrival + the delay) to the first
 *   card write carrying answer text. Goal: within one update interval (1000 / CARD_UPDATES_PER_SECOND).
 *
 * Same-run baseline: one fake Feishu API call through the lark SDK (a text reply), the least a
 * card write costs; ratios are against its p50 / p99.
 */

import { startBot } from '../../lib/bot.js';
import { loadConfig } from '../../lib/config.js';
import { createFeishuClient } from '../../lib/feishu/feishu-client.js';
import { silentLogger } from '../../lib/log.js';
import { buildMessageEvent, postEvent } from '../fakes/event-sender.js';
import { p2pChatIdFor, startFakeFeishu } from '../fakes/fake-feishu.js';
import { startFakeOpenAI } from '../fakes/fake-openai.js';
import { answerCard, buttonValue, pressCard } from '../support/card-press.js';
import { describeMachine, printTable, ratio, summarise, summaryLine } from './bench-support.js';

const runs = Number(process.argv[2] ?? 40);
const encryptKey = 'card-controls-bench-key';
const token = 'card-controls-bench-token';
const UPDATES_PER_SECOND = 4;
const FIRST_TOKEN_DELAY_MS = 400;
const SLOW = Array.from({ length: 200 }, (_, index) => `w${index}`).join(' ');

const feishu = await startFakeFeishu();
const openai = await startFakeOpenAI();
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
    STORE_URL: 'sqlite::memory:',
    ENABLE_DEVTOOLS: 'false',
  }),
  { log: silentLogger() },
);
const base = `http://127.0.0.1:${bot.port}`;

async function ask(index: number, text: string): Promise<string> {
  const user = `ou_bench_${index.toString(16).padStart(8, '0')}`;
  const event = buildMessageEvent({
    fake: feishu,
    chatType: 'p2p',
    chatId: p2pChatIdFor(user),
    senderOpenId: user,
    text,
    token,
  });
  const response = await postEvent(`${base}/webhook/event`, event, { encryptKey });
  if (response.status !== 200) throw new Error(`webhook answered ${response.status}`);
  return event.event.message.message_id;
}

/** Press → the call that closed the card, in ms. */
async function stopOnce(index: number): Promise<number> {
  openai.script('gpt-test', { text: SLOW, chunkSize: 4, chunkDelayMs: 40 });
  const messageId = await ask(index, `long story ${index}`);
  const streaming = await feishu.waitFor(
    () => {
      const found = answerCard(feishu, messageId);
      return found?.card.streaming === true && feishu.visibleText(found.replyId).includes('w3') ? found : undefined;
    },
    { timeoutMs: 30_000, description: 'a streaming card' },
  );
  const value = buttonValue(streaming.card, 'stop');
  if (value === undefined) throw new Error('no Stop button on the card');
  const pressedAt = Date.now();
  const answer = await pressCard(`${base}/webhook/card`, {
    fake: feishu,
    replyId: streaming.replyId,
    value,
    encryptKey,
    token,
    operator: `ou_bench_${index.toString(16).padStart(8, '0')}`,
  });
  if (answer.toast?.content !== 'Stopping…') throw new Error(`unexpected answer ${JSON.stringify(answer)}`);
  await feishu.waitFor(() => answerCard(feishu, messageId)?.card.streaming === false, {
    timeoutMs: 30_000,
    description: 'the card closed as Stopped',
  });
  const closing = feishu
    .callsTo('cardkit.card.update')
    .findLast((call) => call.path.endsWith(streaming.card.cardId) && call.status === 200);
  if (closing === undefined) throw new Error('no closing update');
  return closing.at - pressedAt;
}

/** The first token's release → the first card write carrying answer text, in ms. */
async function firstTextOnce(index: number): Promise<number> {
  openai.script('gpt-test', {
    text: 'First words arrive, then more.',
    firstTokenDelayMs: FIRST_TOKEN_DELAY_MS,
    chunkSize: 6,
    chunkDelayMs: 30,
  });
  const before = openai.requests.length;
  const messageId = await ask(index, `quick ${index}`);
  const found = await feishu.waitFor(
    () => {
      const card = answerCard(feishu, messageId);
      return card?.card.streaming === false ? card : undefined;
    },
    { timeoutMs: 30_000, description: 'the closed card' },
  );
  const request = openai.requests[before];
  if (request === undefined) throw new Error('the model was not asked');
  const firstTokenAt = request.at + FIRST_TOKEN_DELAY_MS;
  const write = feishu.calls.find(
    (call) =>
      call.path.includes(found.card.cardId) &&
      call.status === 200 &&
      (call.api === 'cardkit.cardElement.content' || call.api === 'cardkit.card.update') &&
      JSON.stringify(call.body).includes('First'),
  );
  if (write === undefined) throw new Error('no write with the first words');
  return write.at - firstTokenAt;
}

try {
  console.log(`card controls: ${describeMachine()}`);
  console.log(
    `  ${runs} Stop presses mid-stream and ${runs} answers with a ${FIRST_TOKEN_DELAY_MS} ms first token, CARD_UPDATES_PER_SECOND=${UPDATES_PER_SECOND}, real bot + real SDKs over HTTP on 127.0.0.1`,
  );
  const stops: number[] = [];
  const firsts: number[] = [];
  for (let index = 0; index < runs; index++) {
    stops.push(await stopOnce(index));
    firsts.push(await firstTextOnce(runs + index));
    feishu.clearCalls();
  }
  const client = createFeishuClient({
    appId: feishu.appId,
    appSecret: feishu.appSecret,
    domain: feishu.url,
    log: silentLogger(),
  });
  const baselineTimes: number[] = [];
  for (let index = 0; index < runs; index++) {
    const seeded = feishu.seedMessage({ chatId: 'oc_baseline', text: `baseline ${index}` });
    const started = performance.now();
    await client.im.v1.message.reply({
      path: { message_id: seeded.messageId },
      data: { msg_type: 'text', content: JSON.stringify({ text: 'baseline' }) },
    });
    baselineTimes.push(performance.now() - started);
  }
  const baseline = summarise(baselineTimes);
  const stop = summarise(stops);
  const first = summarise(firsts);
  const row = (name: string, value: ReturnType<typeof summarise>) => [
    name,
    `${value.p50.toFixed(1)} ms`,
    ratio(value.p50, baseline.p50),
    `${value.p99.toFixed(1)} ms`,
    ratio(value.p99, baseline.p99),
  ];
  printTable(
    ['', 'p50', 'vs baseline', 'p99', 'vs baseline'],
    [
      row('baseline: one fake Feishu call (SDK)', baseline),
      row('Stop press → card "Stopped"', stop),
      row('first token → first text on the card', first),
    ],
  );
  const interval = 1000 / UPDATES_PER_SECOND;
  summaryLine(
    `card controls: Stop → Stopped p50 ${stop.p50.toFixed(0)} ms / p99 ${stop.p99.toFixed(0)} ms (goal p99 ≤ 1000 ms: ${stop.p99 <= 1000 ? 'PASS' : 'FAIL'}); first token → first text p50 ${first.p50.toFixed(0)} ms / p99 ${first.p99.toFixed(0)} ms (goal ≤ ${interval} ms: ${first.p99 <= interval ? 'PASS' : 'FAIL'}); baseline one Feishu call p50 ${baseline.p50.toFixed(1)} ms`,
  );
} finally {
  await bot.stop();
  await openai.close();
  await feishu.close();
}

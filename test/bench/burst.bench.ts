/**
 * A burst of simultaneous askers against a slow model: how long the last of them waits for the
 * first words of the answer, and how the adaptive concurrency limit behaves when the provider
 * starts answering 429.
 *
 *   node --import tsx test/bench/burst.bench.ts [askers=20] [firstTokenDelayMs=2000]
 *
 * Everything is real except the two remote services: the bot from `startBot` (signed and
 * encrypted webhook, SQLite file store, inbox, dispatcher, manager agent on the real
 * @ai-sdk/openai provider, CardKit streaming card through the real lark SDK), the fake Feishu and
 * the fake OpenAI over HTTP on 127.0.0.1. The model waits D ms before its first token. N users,
 * each in their own direct chat, post at the same moment; a user's "first text" is the first
 * card write carrying answer text (`reply.update`, or the closing update when the answer came
 * whole), measured from the moment the burst was posted.
 *
 * Same-run baseline: one model call on its own, to its first text delta (D plus the round trip).
 * Goal: the last asker's first text ≤ D + 1.5 s for N = 20, D = 2 s. For comparison the same
 * burst runs with a fixed pool of 4 agent runs (`MAX_CONCURRENT_JOBS=4`, the old default).
 *
 * Then the provider turns stingy: the primary model takes at most QUOTA requests at once and
 * answers 429 (retry-after 1 s) beyond that, while a fallback model has room. Three waves of N
 * askers, a second apart. Reported: the 429s that reached the fake (total and the worst second),
 * where the requests went, how many users saw a failure (goal: none, a retry or the fallback can
 * serve), and the primary's adaptive limit with its reason afterwards.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createOpenAI } from '@ai-sdk/openai';
import { streamText } from 'ai';
import { type RunningBot, startBot } from '../../lib/bot.js';
import { loadConfig } from '../../lib/config.js';
import type { ConcurrencyReport } from '../../lib/health/concurrency-report.js';
import { silentLogger } from '../../lib/log.js';
import { buildMessageEvent, postEvent } from '../fakes/event-sender.js';
import { type FakeFeishu, p2pChatIdFor, startFakeFeishu } from '../fakes/fake-feishu.js';
import type { FakeChatRequest, FakeStep } from '../fakes/fake-openai.js';
import { type FakeOpenAI, startFakeOpenAI } from '../fakes/fake-openai.js';
import { describeMachine, printTable, ratio, summarise, summaryLine } from './bench-support.js';

const askers = Number(process.argv[2] ?? 20);
const firstTokenDelayMs = Number(process.argv[3] ?? 2_000);
const QUOTA = 6;
const WAVES = 3;
const PRIMARY = 'gpt-test';
const FALLBACK = 'gpt-test-fallback';
const encryptKey = 'burst-bench-encrypt-key';
const token = 'burst-bench-verification-token';
const ANSWER = 'A short answer with a few words in it, enough for one card write.';

/** What the fake provider does now: plain (every request answered after D) or stingy (a quota on the primary). */
let stingy = false;
let openai: FakeOpenAI;

function respond(request: FakeChatRequest): FakeStep {
  if (stingy && request.model === PRIMARY) {
    // Requests to the primary being answered right now (this one is not counted yet).
    const busy = openai.requests.filter(
      (each) => each.model === PRIMARY && each.status === 200 && each.endedAt === undefined,
    ).length;
    if (busy >= QUOTA) return { error: { status: 429, retryAfterMs: 1_000 } };
  }
  return { text: ANSWER, firstTokenDelayMs, chunkSize: 16 };
}

async function startBotWith(feishu: FakeFeishu, directory: string, name: string, env: Record<string, string>) {
  return startBot(
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
      MODEL: PRIMARY,
      USER_MESSAGES_PER_MINUTE: '100000',
      CHAT_MESSAGES_PER_MINUTE: '100000',
      STORE_URL: `sqlite:${join(directory, `${name}.db`)}`,
      ENABLE_DEVTOOLS: 'false',
      ...env,
    }),
    { log: silentLogger() },
  );
}

interface Wave {
  /** Per asker: ms from the burst's post to the first answer text on the card. */
  firstText: number[];
  /** Answers that ended with a failure notice instead of an answer. */
  failures: number;
}

let userCounter = 0;

/** Posts `count` messages from different users at once; resolves when every reply finished. */
async function burst(bot: RunningBot, feishu: FakeFeishu, count: number): Promise<Wave> {
  const postedAt = Date.now();
  const firstTextAt = new Map<string, number>();
  const finished = new Map<string, string | undefined>();
  let resolveAll: () => void = () => {};
  const allFinished = new Promise<void>((resolve) => {
    resolveAll = resolve;
  });
  const stop = bot.bus.subscribe((event) => {
    if (event.type === 'reply.update' && event.length > 0 && !firstTextAt.has(event.traceId)) {
      firstTextAt.set(event.traceId, Date.now());
    } else if (event.type === 'reply.finished' && event.mode === 'card') {
      if (!firstTextAt.has(event.traceId)) firstTextAt.set(event.traceId, Date.now());
      finished.set(event.traceId, event.notice);
      if (finished.size >= count) resolveAll();
    }
  });
  try {
    const posts = Array.from({ length: count }, () => {
      const user = `ou_burst_${(userCounter++).toString(16).padStart(8, '0')}`;
      const event = buildMessageEvent({
        fake: feishu,
        chatType: 'p2p',
        chatId: p2pChatIdFor(user),
        senderOpenId: user,
        text: 'a question',
        token,
      });
      return postEvent(`http://127.0.0.1:${bot.port}/webhook/event`, event, { encryptKey }).then(async (response) => {
        await response.arrayBuffer();
        if (response.status !== 200) throw new Error(`webhook answered ${response.status}`);
      });
    });
    await Promise.all(posts);
    const timeout = new Promise<never>((_, reject) =>
      setTimeout(
        () => reject(new Error(`only ${finished.size} of ${count} replies finished in 120 s`)),
        120_000,
      ).unref(),
    );
    await Promise.race([allFinished, timeout]);
  } finally {
    stop();
  }
  return {
    firstText: [...firstTextAt.values()].map((at) => at - postedAt),
    failures: [...finished.values()].filter((notice) => notice !== undefined).length,
  };
}

/** One model call on its own, to its first text delta. */
async function baseline(): Promise<number> {
  const model = createOpenAI({ baseURL: openai.baseURL, apiKey: openai.apiKey }).chat(PRIMARY);
  const times: number[] = [];
  for (let index = 0; index < 3; index++) {
    const started = performance.now();
    const result = streamText({ model, prompt: 'baseline', maxRetries: 0 });
    for await (const part of result.fullStream) {
      if (part.type === 'text-delta') break;
    }
    times.push(performance.now() - started);
  }
  return summarise(times).p50;
}

const health = async (bot: RunningBot) =>
  (await (await fetch(`http://127.0.0.1:${bot.port}/health`)).json()) as { concurrency?: ConcurrencyReport };

const directory = mkdtempSync(join(tmpdir(), 'burst-bench-'));
const feishu = await startFakeFeishu();
openai = await startFakeOpenAI({ defaultResponder: respond });
const bots: RunningBot[] = [];

try {
  console.log(`burst: ${describeMachine()}`);
  console.log(
    `  ${askers} askers at once, model first token after ${firstTokenDelayMs} ms, real bot + real SDKs over HTTP on 127.0.0.1`,
  );
  const base = await baseline();

  const adaptiveBot = await startBotWith(feishu, directory, 'adaptive', {});
  bots.push(adaptiveBot);
  await burst(adaptiveBot, feishu, 2); // warm-up: connections, token, JIT
  const beforeBurst = openai.requests.at(-1)?.id ?? 0;
  const burstStart = Date.now();
  const adaptive = await burst(adaptiveBot, feishu, askers);
  const arrivals = summarise(
    openai.requests.filter((request) => request.id > beforeBurst).map((request) => request.at - burstStart),
  );
  console.log(
    `  adaptive: the ${arrivals.n} model requests reached the fake ${arrivals.p50.toFixed(0)} ms (p50) to ${arrivals.max.toFixed(0)} ms (last) after the post`,
  );
  const adaptiveLimit = (await health(adaptiveBot)).concurrency;

  const fixedBot = await startBotWith(feishu, directory, 'fixed', { MAX_CONCURRENT_JOBS: '4' });
  bots.push(fixedBot);
  await burst(fixedBot, feishu, 2);
  const fixed = await burst(fixedBot, feishu, askers);

  const row = (name: string, wave: Wave) => {
    const summary = summarise(wave.firstText);
    return [
      name,
      `${summary.p50.toFixed(0)} ms`,
      ratio(summary.p50, base),
      `${summary.max.toFixed(0)} ms`,
      ratio(summary.max, base),
      String(wave.failures),
    ];
  };
  printTable(
    ['first answer text', 'p50', 'vs baseline', 'last asker', 'vs baseline', 'failures'],
    [
      ['baseline: one model call to its first token', `${base.toFixed(0)} ms`, '', '', '', ''],
      row(`${askers} at once, adaptive limit`, adaptive),
      row(`${askers} at once, fixed pool of 4`, fixed),
    ],
  );
  console.log(
    `  adaptive limit after the burst: ${adaptiveLimit?.limit} agent runs (ceiling ${adaptiveLimit?.ceiling}); ${PRIMARY}: ${adaptiveLimit?.byModel[PRIMARY]?.limit} (${adaptiveLimit?.byModel[PRIMARY]?.reason})`,
  );
  const last = summarise(adaptive.firstText).max;
  const goal = firstTokenDelayMs + 1_500;
  summaryLine(
    `burst of ${askers}, first token after ${firstTokenDelayMs} ms: last asker's first text ${last.toFixed(0)} ms (goal ≤ ${goal} ms: ${last <= goal ? 'PASS' : 'FAIL'}), p50 ${summarise(adaptive.firstText).p50.toFixed(0)} ms; fixed pool of 4: last ${summarise(fixed.firstText).max.toFixed(0)} ms; baseline one call ${base.toFixed(0)} ms → ${ratio(last, base)}`,
  );

  // ── the provider starts answering 429 beyond QUOTA requests at once on the primary ──
  const stingyBot = await startBotWith(feishu, directory, 'stingy', { FALLBACK_MODELS: FALLBACK });
  bots.push(stingyBot);
  await burst(stingyBot, feishu, 2);
  stingy = true;
  const firstRequest = openai.requests.at(-1)?.id ?? 0;
  const startedAt = Date.now();
  const waves = await Promise.all(
    Array.from({ length: WAVES }, (_, index) =>
      new Promise((resolve) => setTimeout(resolve, index * 1_000)).then(() => burst(stingyBot, feishu, askers)),
    ),
  );
  stingy = false;
  const requests = openai.requests.filter((request) => request.id > firstRequest);
  const rateLimited = requests.filter((request) => request.status === 429);
  const perSecond = new Map<number, number>();
  for (const request of rateLimited) {
    const second = Math.floor((request.at - startedAt) / 1_000);
    perSecond.set(second, (perSecond.get(second) ?? 0) + 1);
  }
  const worstSecond = Math.max(0, ...perSecond.values());
  const seconds = Math.max(1, Math.ceil((Math.max(...requests.map((request) => request.at)) - startedAt) / 1_000));
  const failures = waves.reduce((total, wave) => total + wave.failures, 0);
  const stingyFirst = summarise(waves.flatMap((wave) => wave.firstText));
  const after = (await health(stingyBot)).concurrency;
  printTable(
    ['429 phase', 'value'],
    [
      ['askers (waves × askers)', `${WAVES} × ${askers}`],
      [
        `requests to ${PRIMARY} / ${FALLBACK}`,
        `${requests.filter((r) => r.model === PRIMARY).length} / ${requests.filter((r) => r.model === FALLBACK).length}`,
      ],
      ['429s that reached the fake', `${rateLimited.length} in ${seconds} s`],
      ['429s in the worst second', String(worstSecond)],
      [
        '429s per second, by second',
        [...perSecond.entries()]
          .sort(([a], [b]) => a - b)
          .map(([s, n]) => `${s}:${n}`)
          .join(' '),
      ],
      ['users who saw a failure', String(failures)],
      ['first answer text p50 / last', `${stingyFirst.p50.toFixed(0)} ms / ${stingyFirst.max.toFixed(0)} ms`],
      [`${PRIMARY} limit afterwards`, `${after?.byModel[PRIMARY]?.limit} (${after?.byModel[PRIMARY]?.reason})`],
    ],
  );
  summaryLine(
    `429s (primary takes ${QUOTA} at once, ${WAVES} waves of ${askers}): ${rateLimited.length} reached the fake in ${seconds} s, worst second ${worstSecond}; users who saw a failure: ${failures} (goal 0: ${failures === 0 ? 'PASS' : 'FAIL'}); ${PRIMARY} limit afterwards ${after?.byModel[PRIMARY]?.limit}`,
  );
} finally {
  for (const bot of bots) await bot.stop();
  await openai.close();
  await feishu.close();
  rmSync(directory, { recursive: true, force: true });
}

/**
 * The soak: minutes of mixed traffic against the real service under a real PM2 daemon, with the
 * faults a production bot meets, then a check that every acknowledged message got exactly one
 * answer. Not part of `npm test`.
 *
 *   npm run soak                      # build, then about 3 minutes of traffic
 *   SOAK_SECONDS=60 npm run soak      # shorter (10 … 3600)
 *   SOAK_RATE=3 npm run soak          # messages per second (default 2; 0.2 … 20)
 *   SOAK_SEED=7 npm run soak          # another traffic mix (a seed fixes the mix and the fault schedule)
 *   SOAK_SETTLE_SECONDS=300 …         # how long to wait for the last answers (default 120)
 *
 * What runs: the built `dist/server.js` with the real ecosystem.config.js under PM2 (isolated
 * PM2_HOME), SQLite in a temp file, the real lark SDK against the fake Feishu and the real AI SDK
 * against the fake OpenAI, both in this process on 127.0.0.1. Traffic: direct messages, group
 * mentions (some in topic threads) and group chatter without a mention, over many conversations,
 * each a signed, encrypted webhook delivery. Like Feishu, a delivery that did not get HTTP 200
 * within 3 s is re-posted with back-off, and some deliveries are repeated anyway (the same event
 * again, or the same message under a second event id). Faults: 429 storms on the primary model
 * and a short one on every model, slow model streams, 230020/429 from Feishu on card updates,
 * replies and card creation, SIGKILL of the PM2-managed process (PM2 restarts it) and a
 * `pm2 reload`.
 *
 * At the end it stops the traffic, lets the system settle, stops the app with `pm2 stop` and
 * checks: every acked message that mentions the bot has exactly one bot reply, its card closed,
 * showing the whole answer (or an honest failure notice); no chatter was answered; no job is
 * pending or leased. Exit code 1 when anything was lost or answered twice.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { openSqliteStore } from '../../lib/store/sqlite-store.js';
import type { JobCounts } from '../../lib/store/store.js';
import { buildMessageEvent, type FeishuMessageReceiveEvent, postEvent } from '../fakes/event-sender.js';
import { type FakeFeishu, startFakeFeishu } from '../fakes/fake-feishu.js';
import { type FakeChatRequest, type FakeOpenAI, startFakeOpenAI } from '../fakes/fake-openai.js';
import { type Pm2Service, startPm2Service } from '../support/pm2-service.js';

// ───────────────────────────── settings ─────────────────────────────

const t0 = Date.now();

function numberFromEnvironment(name: string, fallback: number, min: number, max: number): number {
  const raw = process.env[name];
  const value = raw === undefined || raw === '' ? fallback : Number(raw);
  if (!Number.isFinite(value) || value < min || value > max) {
    throw new Error(`${name} must be a number from ${min} to ${max}, got ${raw}`);
  }
  return value;
}

const SOAK_SECONDS = numberFromEnvironment('SOAK_SECONDS', 180, 10, 3_600);
const RATE = numberFromEnvironment('SOAK_RATE', 2, 0.2, 20);
/** After the traffic stops: how long the system may take to answer everything still queued. */
const SETTLE_SECONDS = numberFromEnvironment('SOAK_SETTLE_SECONDS', 120, 10, 1_800);
const SEED = numberFromEnvironment('SOAK_SEED', 20_261_123, 0, 2 ** 31);

const ENCRYPT_KEY = 'soak-encrypt-key';
const VERIFICATION_TOKEN = 'soak-verification-token';
const SHUTDOWN_TIMEOUT_MS = 4_000;
/** Feishu gives up on an unacknowledged delivery too (after hours); here after this many tries. */
const MAX_DELIVERY_ATTEMPTS = 14;
const ACK_TIMEOUT_MS = 3_000;
const P2P_USERS = 24;
const GROUPS = 8;
const THREADS_PER_GROUP = 2;

// ───────────────────────────── randomness (seeded) ─────────────────────────────

let randomState = SEED >>> 0 || 1;
/** xorshift32: the same SOAK_SEED gives the same traffic mix and fault schedule. */
function random(): number {
  randomState ^= randomState << 13;
  randomState >>>= 0;
  randomState ^= randomState >>> 17;
  randomState ^= randomState << 5;
  randomState >>>= 0;
  return randomState / 2 ** 32;
}
const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)] as T;

// ───────────────────────────── the model ─────────────────────────────

const FAST = { chunkSize: 8, chunkDelayMs: 15 };
const SLOW = { chunkSize: 4, chunkDelayMs: 120, firstTokenDelayMs: 1_500 };

function tagNumber(tag: string): number {
  return Number(/\d+/.exec(tag)?.[0] ?? 0);
}

/** What the model says for a message tagged `tag`; the check looks for exactly this. */
function answerFor(tag: string): string {
  const words = 12 + (tagNumber(tag) % 30);
  return `answer to ${tag}: ${Array.from({ length: words }, (_, index) => `word${index + 1}`).join(' ')} END-${tag}`;
}

/** Every fourth message streams slowly (several seconds); the rest fast. */
function responder(request: FakeChatRequest) {
  const tag = /\b(soak-\d+)\b/.exec(request.lastUserText)?.[1];
  if (tag === undefined) return { text: 'ok', ...FAST };
  return { text: answerFor(tag), ...(tagNumber(tag) % 4 === 0 ? SLOW : FAST) };
}

// ───────────────────────────── bookkeeping ─────────────────────────────

interface SentMessage {
  tag: string;
  messageId: string;
  kind: 'p2p' | 'group' | 'thread' | 'chatter';
  /** Whether the bot should answer it (chatter without a mention must not be answered). */
  expectAnswer: boolean;
  acked: boolean;
  deliveries: number;
  gaveUp: boolean;
}

const sent = new Map<string, SentMessage>();
const ackLatencies: number[] = [];
/** Slowest acks with when they happened (seconds since start), to line them up with the faults. */
const slowAcks: Array<{ ms: number; at: number }> = [];
const counts = {
  deliveries: 0,
  retriedDeliveries: 0,
  duplicateDeliveries: 0,
  secondEventIds: 0,
  non200: new Map<string, number>(),
  kills: 0,
  reloads: 0,
  modelStorms: 0,
  modelTotalStorms: 0,
  feishuStorms: 0,
};
const healthSeen = new Map<string, number>();
const inFlightDeliveries = new Set<Promise<void>>();

function bump(map: Map<string, number>, key: string): void {
  map.set(key, (map.get(key) ?? 0) + 1);
}

function percentile(values: readonly number[], fraction: number): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor(fraction * sorted.length))] ?? Number.NaN;
}

// ───────────────────────────── delivery, like Feishu's ─────────────────────────────

let service: Pm2Service;
let feishu: FakeFeishu;
let openai: FakeOpenAI;
let stopping = false;

/** One HTTP delivery; 200 within 3 s is an ack, anything else is re-posted with back-off. */
async function deliverOnce(event: FeishuMessageReceiveEvent, message: SentMessage): Promise<boolean> {
  counts.deliveries += 1;
  message.deliveries += 1;
  const started = performance.now();
  try {
    const response = await postEvent(service.webhookUrl, event, { encryptKey: ENCRYPT_KEY });
    await response.body?.cancel();
    if (response.status === 200) {
      const ms = performance.now() - started;
      ackLatencies.push(ms);
      if (ms > 250) slowAcks.push({ ms: Math.round(ms), at: Number(((Date.now() - t0) / 1_000).toFixed(1)) });
      message.acked = true;
      return true;
    }
    bump(counts.non200, `HTTP ${response.status}`);
  } catch (error) {
    const cause = (error as { cause?: { code?: string } }).cause?.code;
    bump(counts.non200, cause ?? (error instanceof Error ? error.name : 'error'));
  }
  return false;
}

function track(work: Promise<void>): void {
  inFlightDeliveries.add(work);
  void work.finally(() => inFlightDeliveries.delete(work));
}

/** Delivers until acked (1 s, 2 s, 4 s … 8 s apart), at most MAX_DELIVERY_ATTEMPTS times. */
function deliver(event: FeishuMessageReceiveEvent, message: SentMessage): void {
  track(
    (async () => {
      for (let attempt = 1; attempt <= MAX_DELIVERY_ATTEMPTS; attempt++) {
        if (attempt > 1) counts.retriedDeliveries += 1;
        if (await deliverOnceWithTimeout(event, message)) return;
        await sleep(Math.min(8_000, 1_000 * 2 ** (attempt - 1)));
      }
      message.gaveUp = !message.acked;
    })(),
  );
}

async function deliverOnceWithTimeout(event: FeishuMessageReceiveEvent, message: SentMessage): Promise<boolean> {
  // Feishu waits 3 s for the 200; a slower answer counts as a failed delivery.
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<false>((resolve) => {
    timer = setTimeout(() => {
      bump(counts.non200, 'timeout (3 s)');
      resolve(false);
    }, ACK_TIMEOUT_MS);
  });
  try {
    return await Promise.race([deliverOnce(event, message), timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/** Feishu's at-least-once: the same event again a little later, or the same message under a new event id. */
function maybeDuplicate(event: FeishuMessageReceiveEvent, message: SentMessage): void {
  const roll = random();
  if (roll < 0.1) {
    counts.duplicateDeliveries += 1;
    const delayMs = 200 + random() * 5_000;
    track(sleep(delayMs).then(() => deliver(event, message)));
  } else if (roll < 0.15) {
    counts.secondEventIds += 1;
    const twin: FeishuMessageReceiveEvent = structuredClone(event);
    twin.header.event_id = `${event.header.event_id.slice(0, 24)}twin${Math.floor(random() * 1e8)}`;
    const delayMs = random() * 3_000;
    track(sleep(delayMs).then(() => deliver(twin, message)));
  }
}

// ───────────────────────────── traffic ─────────────────────────────

const p2pUsers = Array.from({ length: P2P_USERS }, (_, index) => `ou_soak_user_${String(index).padStart(3, '0')}`);
const groups = Array.from({ length: GROUPS }, (_, index) => `oc_soak_group_${index}`);
const threads: Array<{ chatId: string; threadId: string; rootId: string }> = [];

let counter = 0;
function sendOne(): void {
  counter += 1;
  const tag = `soak-${counter}`;
  const roll = random();
  const kind: SentMessage['kind'] = roll < 0.45 ? 'p2p' : roll < 0.75 ? 'group' : roll < 0.92 ? 'thread' : 'chatter';
  const sender = pick(p2pUsers);
  const common = { fake: feishu, token: VERIFICATION_TOKEN, senderOpenId: sender, text: `please answer ${tag}` };
  let event: FeishuMessageReceiveEvent;
  if (kind === 'p2p') {
    event = buildMessageEvent({ ...common, chatType: 'p2p' });
  } else if (kind === 'group') {
    event = buildMessageEvent({ ...common, chatType: 'group', chatId: pick(groups), mentionBot: true });
  } else if (kind === 'thread') {
    const thread = pick(threads);
    event = buildMessageEvent({
      ...common,
      chatType: 'group',
      chatId: thread.chatId,
      threadId: thread.threadId,
      rootId: thread.rootId,
      mentionBot: true,
    });
  } else {
    event = buildMessageEvent({ ...common, chatType: 'group', chatId: pick(groups), text: `lunch? ${tag}` });
  }
  const message: SentMessage = {
    tag,
    messageId: event.event.message.message_id,
    kind,
    expectAnswer: kind !== 'chatter',
    acked: false,
    deliveries: 0,
    gaveUp: false,
  };
  sent.set(message.messageId, message);
  deliver(event, message);
  maybeDuplicate(event, message);
}

async function trafficLoop(until: number): Promise<void> {
  // Poisson arrivals at RATE per second.
  while (Date.now() < until) {
    sendOne();
    await sleep(Math.min(5_000, -Math.log(1 - random()) * (1_000 / RATE)));
  }
}

// ───────────────────────────── faults ─────────────────────────────

interface ChaosStep {
  at: number;
  name: string;
  run: () => Promise<void> | void;
}

function chaosSchedule(durationMs: number): ChaosStep[] {
  const steps: ChaosStep[] = [];
  // At least 25 s apart: a slow answer resumed after a kill (5 s lease + restart) must be able to
  // finish before the next one, or JOB_MAX_ATTEMPTS dead-letters it as a poison message.
  const killEvery = Math.min(60_000, Math.max(25_000, durationMs / 4));
  const kills: number[] = [];
  for (let at = killEvery * 0.6; at < durationMs - 5_000; at += killEvery) kills.push(Math.round(at));
  for (const at of kills) {
    steps.push({
      at,
      name: 'kill -9',
      run: async () => {
        const { killedPid, state } = await service.killHard();
        counts.kills += 1;
        log(`killed pid ${killedPid} with SIGKILL; PM2 restarted it as pid ${state.pid}`);
      },
    });
  }
  // A reload between two kills (PM2 would count quick deaths as unstable restarts).
  const reloadAt = (kills.length >= 2 ? ((kills[0] ?? 0) + (kills[1] ?? 0)) / 2 : durationMs * 0.5) | 0;
  steps.push({
    at: reloadAt,
    name: 'pm2 reload',
    run: async () => {
      const state = await service.reload();
      counts.reloads += 1;
      log(`pm2 reload done; new pid ${state.pid}`);
    },
  });
  for (let at = 8_000; at < durationMs - 8_000; at += 30_000) {
    steps.push({
      at,
      name: '429 storm on the primary model (8 s)',
      run: () => {
        counts.modelStorms += 1;
        openai.alwaysFail('gpt-test', { status: 429, retryAfterSeconds: 1 }, { until: Date.now() + 8_000 });
      },
    });
  }
  steps.push({
    at: Math.round(durationMs * 0.62),
    name: '429 storm on every model (3 s)',
    run: () => {
      counts.modelTotalStorms += 1;
      openai.alwaysFail('*', { status: 429, retryAfterSeconds: 1 }, { until: Date.now() + 3_000 });
    },
  });
  for (let at = 4_000; at < durationMs - 4_000; at += 20_000) {
    steps.push({
      at,
      name: 'Feishu rate limits (230020 on card updates, 429 on replies and card creation)',
      run: () => {
        counts.feishuStorms += 1;
        feishu.inject({ api: 'cardkit.cardElement.content', status: 400, code: 230020, times: 12 });
        feishu.inject({ api: 'im.message.reply', status: 429, times: 4, headers: { 'x-ogw-ratelimit-reset': '1' } });
        feishu.inject({ api: 'cardkit.card.create', status: 429, times: 3 });
        feishu.inject({ api: 'cardkit.card.settings', status: 400, code: 230020, times: 3 });
      },
    });
  }
  return steps.sort((a, b) => a.at - b.at);
}

async function chaosLoop(startedAt: number, steps: readonly ChaosStep[]): Promise<void> {
  for (const step of steps) {
    const wait = startedAt + step.at - Date.now();
    if (wait > 0) await sleep(wait);
    if (stopping) return;
    log(`fault: ${step.name}`);
    try {
      await step.run();
    } catch (error) {
      log(`fault ${step.name} failed: ${error instanceof Error ? error.message : String(error)}`);
    }
  }
}

async function healthLoop(until: () => boolean): Promise<void> {
  while (!until()) {
    try {
      const response = await fetch(`${service.baseUrl}/health`, { signal: AbortSignal.timeout(1_000) });
      const body = (await response.json()) as { status?: string };
      bump(healthSeen, body.status ?? `HTTP ${response.status}`);
    } catch {
      bump(healthSeen, 'down');
    }
    await sleep(2_000);
  }
}

// ───────────────────────────── the check ─────────────────────────────

interface Verdict {
  answered: number;
  answeredWithNotice: number;
  lost: string[];
  duplicated: string[];
  unfinished: string[];
  chatterAnswered: string[];
  /** Dead-lettered: the card was closed with the "could not finish" notice. */
  givenUp: string[];
  /** What the failure notices said (first few, shortened), for the record. */
  noticeSamples: string[];
  textFallbacks: number;
}

function judge(): Verdict {
  const verdict: Verdict = {
    answered: 0,
    answeredWithNotice: 0,
    lost: [],
    duplicated: [],
    unfinished: [],
    chatterAnswered: [],
    givenUp: [],
    noticeSamples: [],
    textFallbacks: 0,
  };
  for (const message of sent.values()) {
    if (!message.acked) continue;
    // Recalled replies count too: the user saw them.
    const replies = feishu.repliesTo(message.messageId, { fromBot: true });
    if (!message.expectAnswer) {
      if (replies.length > 0) verdict.chatterAnswered.push(message.tag);
      continue;
    }
    if (replies.length === 0) {
      verdict.lost.push(message.tag);
      continue;
    }
    if (replies.length > 1) {
      verdict.duplicated.push(message.tag);
      continue;
    }
    const reply = replies[0]!;
    const card = feishu.cardForMessage(reply.messageId);
    if (card === undefined) verdict.textFallbacks += 1;
    if (card?.streaming === true) {
      verdict.unfinished.push(message.tag);
      continue;
    }
    const text = feishu.visibleText(reply.messageId);
    if (text.includes(answerFor(message.tag))) verdict.answered += 1;
    else if (text.includes('could not finish this answer')) verdict.givenUp.push(message.tag);
    else if (/END-soak-/.test(text) || text.trim() === '' || /Thinking|interrupted by a restart/.test(text)) {
      verdict.unfinished.push(message.tag);
    } else {
      verdict.answeredWithNotice += 1;
      if (verdict.noticeSamples.length < 3) verdict.noticeSamples.push(text.replace(/\s+/g, ' ').slice(-160));
    }
  }
  return verdict;
}

async function settle(deadline: number): Promise<Verdict> {
  for (;;) {
    const verdict = judge();
    const open = verdict.lost.length + verdict.unfinished.length;
    if ((open === 0 && inFlightDeliveries.size === 0) || Date.now() > deadline) return verdict;
    await sleep(1_000);
  }
}

async function jobCounts(file: string): Promise<JobCounts> {
  const store = openSqliteStore(file);
  try {
    return await store.countJobs();
  } finally {
    await store.close();
  }
}

// ───────────────────────────── main ─────────────────────────────

function log(line: string): void {
  process.stdout.write(`[soak +${((Date.now() - t0) / 1000).toFixed(1)}s] ${line}\n`);
}

async function main(): Promise<number> {
  const directory = mkdtempSync(join(tmpdir(), 'soak-'));
  const storeFile = join(directory, 'bot.db');
  feishu = await startFakeFeishu({ chatSendRateLimit: { perSecond: 5 } });
  openai = await startFakeOpenAI({ defaultResponder: responder });
  for (const chatId of groups) {
    for (let index = 0; index < THREADS_PER_GROUP; index++) {
      const threadId = `omt_${chatId.slice(3)}_${index}`;
      const root = feishu.seedMessage({ chatId, chatType: 'group', threadId, text: `topic ${index}` });
      threads.push({ chatId, threadId, rootId: root.messageId });
    }
  }
  const loadBefore = loadavg();
  log(`starting the service under PM2 (SOAK_SECONDS=${SOAK_SECONDS}, SOAK_RATE=${RATE}/s, SOAK_SEED=${SEED})`);
  service = await startPm2Service({
    name: 'feishu-bot-soak',
    shutdownTimeoutMs: SHUTDOWN_TIMEOUT_MS,
    build: false,
    env: {
      ...feishu.env(),
      FEISHU_ENCRYPT_KEY: ENCRYPT_KEY,
      FEISHU_VERIFICATION_TOKEN: VERIFICATION_TOKEN,
      OPENAI_BASE_URL: openai.baseURL,
      OPENAI_API_KEY: openai.apiKey,
      MODEL: 'gpt-test',
      FALLBACK_MODELS: 'gpt-test-fallback',
      MODEL_MAX_RETRY_DELAY_MS: '2000',
      CIRCUIT_BREAKER_COOLDOWN_MS: '5000',
      STORE_URL: `sqlite:${storeFile}`,
      MAX_CONCURRENT_JOBS: '16',
      MAX_BACKLOG: '100000',
      // A killed holder's jobs are picked up 5 s later instead of a minute.
      JOB_LEASE_MS: '5000',
      USER_MESSAGES_PER_MINUTE: '100000',
      CHAT_MESSAGES_PER_MINUTE: '100000',
      HEALTH_WINDOW_SECONDS: '30',
    },
  });
  log(`service online at ${service.baseUrl} (pid ${(await service.describe()).pid})`);

  let exitCode = 1;
  try {
    const durationMs = SOAK_SECONDS * 1_000;
    const startedAt = Date.now();
    let trafficDone = false;
    const health = healthLoop(() => trafficDone);
    const chaos = chaosLoop(startedAt, chaosSchedule(durationMs));
    await trafficLoop(startedAt + durationMs);
    stopping = true;
    log(`traffic stopped after ${sent.size} messages; waiting for the chaos step in progress`);
    await chaos;
    openai.clearFaults();
    trafficDone = true;
    await health;

    log(`settling (up to ${SETTLE_SECONDS} s)`);
    const settleStarted = Date.now();
    let verdict = await settle(Date.now() + SETTLE_SECONDS * 1_000);
    const settleSeconds = (Date.now() - settleStarted) / 1_000;
    // Nothing should be running now: a clean stop, then the store must hold no unfinished job.
    const beforeStop = await service.describe();
    const stopped = await service.stop();
    verdict = judge();
    const jobs = await jobCounts(storeFile);
    const exits = service.appExits();
    const drains = service.appLog().filter((line) => line.msg === 'shutdown: drain completed');
    const streamingCards = feishu
      .messages({ fromBot: true })
      .filter((message) => message.cardId !== undefined && feishu.cardForMessage(message.messageId)?.streaming);
    const orphanCards = feishu.cards().filter((card) => card.messageId === undefined);

    const acked = [...sent.values()].filter((message) => message.acked);
    const expected = acked.filter((message) => message.expectAnswer);
    const summary = {
      machine: `${cpus().length} × ${cpus()[0]?.model ?? 'cpu'}, Node ${process.version}, load ${loadBefore.map((value) => value.toFixed(1)).join('/')} → ${loadavg()
        .map((value) => value.toFixed(1))
        .join('/')}`,
      seconds: SOAK_SECONDS,
      rate: RATE,
      seed: SEED,
      sent: sent.size,
      deliveries: counts.deliveries,
      acked: acked.length,
      notAcked: [...sent.values()].filter((message) => !message.acked).length,
      duplicatesSent: counts.duplicateDeliveries + counts.secondEventIds,
      sameEventAgain: counts.duplicateDeliveries,
      secondEventId: counts.secondEventIds,
      redeliveriesAfterNon200: counts.retriedDeliveries,
      non200: Object.fromEntries(counts.non200),
      expectingAnswer: expected.length,
      answered: verdict.answered,
      answeredWithNotice: verdict.answeredWithNotice,
      noticeSamples: verdict.noticeSamples,
      textFallbacks: verdict.textFallbacks,
      lost: verdict.lost.length,
      duplicatedAnswers: verdict.duplicated.length,
      unfinished: verdict.unfinished.length,
      chatterAnswered: verdict.chatterAnswered.length,
      givenUpDeadLetter: verdict.givenUp.length,
      kills: counts.kills,
      reloads: counts.reloads,
      pm2Restarts: beforeStop.restarts,
      modelStorms: counts.modelStorms + counts.modelTotalStorms,
      feishuStorms: counts.feishuStorms,
      feishuRateLimitAnswers: feishu.calls.filter((call) => call.code === 230020 || call.status === 429).length,
      modelRequests: openai.requests.length,
      model429s: openai.requests.filter((request) => request.status === 429).length,
      ackP50Ms: Number(percentile(ackLatencies, 0.5).toFixed(1)),
      ackP99Ms: Number(percentile(ackLatencies, 0.99).toFixed(1)),
      ackMaxMs: Number(percentile(ackLatencies, 1).toFixed(1)),
      slowAcks: slowAcks.sort((a, b) => b.ms - a.ms).slice(0, 8),
      settleSeconds: Number(settleSeconds.toFixed(1)),
      finalStop: stopped.status,
      exits: exits.map((exit) => `${exit.code}/${exit.signal}`).join(' '),
      drainsCompleted: drains.length,
      pm2HadToKill: /still alive after/.test(service.daemonLog()),
      jobs,
      cardsLeftStreaming: streamingCards.length,
      orphanCardsNeverSent: orphanCards.length,
      health: Object.fromEntries(healthSeen),
    };
    const problems = [
      ...verdict.lost.map((tag) => `lost: ${tag}`),
      ...verdict.duplicated.map((tag) => `answered twice: ${tag}`),
      ...verdict.unfinished.map((tag) => `unfinished: ${tag}`),
      ...verdict.chatterAnswered.map((tag) => `chatter answered: ${tag}`),
      ...verdict.givenUp.map((tag) => `given up (dead letter, notice shown): ${tag}`),
      ...(summary.notAcked > 0 ? [`${summary.notAcked} messages never acked`] : []),
      ...(jobs.pending + jobs.leased > 0 ? [`jobs left: ${jobs.pending} pending, ${jobs.leased} leased`] : []),
      ...(jobs.dead > 0 ? [`${jobs.dead} dead-lettered jobs`] : []),
      ...(streamingCards.length > 0 ? [`${streamingCards.length} cards left streaming`] : []),
      ...(summary.pm2HadToKill ? ['PM2 had to SIGKILL a draining process'] : []),
    ];
    process.stdout.write(`\nSOAK SUMMARY\n${JSON.stringify(summary, null, 2)}\n`);
    printTable(summary);
    if (problems.length > 0) {
      process.stdout.write(`\nPROBLEMS (${problems.length}):\n  ${problems.slice(0, 50).join('\n  ')}\n`);
      process.stdout.write(`PM2 home kept for inspection: ${service.home}\n`);
      await service.close({ keepHome: true });
    } else {
      await service.close();
      rmSync(directory, { recursive: true, force: true });
    }
    exitCode = summary.lost > 0 || summary.duplicatedAnswers > 0 || problems.length > 0 ? 1 : 0;
    process.stdout.write(`\nsoak ${exitCode === 0 ? 'PASSED' : 'FAILED'}\n`);
  } finally {
    await service.close({ keepHome: exitCode !== 0 });
    await openai.close();
    await feishu.close();
  }
  return exitCode;
}

function printTable(summary: Record<string, unknown>): void {
  const rows: Array<[string, string]> = [
    ['messages sent (distinct)', String(summary.sent)],
    ['HTTP deliveries', String(summary.deliveries)],
    ['acked (HTTP 200 within 3 s, at least once)', String(summary.acked)],
    ['duplicates sent (same event again / second event id)', `${summary.sameEventAgain} / ${summary.secondEventId}`],
    ['re-deliveries after a failed delivery', String(summary.redeliveriesAfterNon200)],
    ['acked messages that should be answered', String(summary.expectingAnswer)],
    ['answered with the whole answer', String(summary.answered)],
    ['answered with an honest failure notice', String(summary.answeredWithNotice)],
    ['lost (acked, never answered)', String(summary.lost)],
    ['given up after repeated crashes (dead letter, notice shown)', String(summary.givenUpDeadLetter)],
    ['duplicated answers', String(summary.duplicatedAnswers)],
    ['kills (SIGKILL) / pm2 reloads / PM2 restarts', `${summary.kills} / ${summary.reloads} / ${summary.pm2Restarts}`],
    ['ack latency p50 / p99 / max (ms)', `${summary.ackP50Ms} / ${summary.ackP99Ms} / ${summary.ackMaxMs}`],
  ];
  process.stdout.write('\n| figure | value |\n|---|---|\n');
  for (const [name, value] of rows) process.stdout.write(`| ${name} | ${value} |\n`);
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    process.stderr.write(`soak crashed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
    process.exit(2);
  },
);

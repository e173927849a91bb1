/**
 * Does the webhook ack wait on the model? It must not: Feishu gives us 3 s, the model takes minutes.
 *
 *   node --import tsx test/bench/webhook-ack.bench.ts [requests] [concurrency]
 *
 * Starts the real bot (webhook mode, encrypt key + verification token, SQLite file store) whose
 * 'answer' handler takes 30 s per job — a slow model — and posts `requests` distinct signed and
 * encrypted message events (bodies prepared up front) at `concurrency` in flight (default 1, so
 * the figure is the server's ack time, not queueing behind our own load generator), over real
 * HTTP on 127.0.0.1 with a keep-alive node:http client. Every ack therefore includes signature
 * check, decryption, two durable dedupe claims and a durable enqueue while every agent slot is
 * busy. The same-run baseline is a bare Hono route answering 200 on @hono/node-server, driven
 * the same way. A second pair of figures uses `app.request()` (no socket) for the pure handler
 * cost. Prints p50 / p99 / max and the ratios.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { Agent, request } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type ServerType, serve } from '@hono/node-server';
import { Hono } from 'hono';
import { startBot } from '../../lib/bot.js';
import { loadConfig } from '../../lib/config.js';
import { silentLogger } from '../../lib/log.js';
import { buildMessageEvent, eventRequest } from '../fakes/event-sender.js';
import { startFakeFeishu } from '../fakes/fake-feishu.js';

const requests = Number(process.argv[2] ?? 2_000);
const concurrency = Number(process.argv[3] ?? 1);
const warmup = Math.min(200, Math.floor(requests / 10));
const MODEL_MS = 30_000;
/** The whole bench is bounded: stop measuring after this long whatever happened. */
const DEADLINE_MS = 120_000;
const encryptKey = 'bench-encrypt-key';
const token = 'bench-verification-token';

interface Delivery {
  headers: Record<string, string>;
  body: string;
}

function percentile(sorted: readonly number[], fraction: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.ceil(fraction * sorted.length) - 1)] ?? Number.NaN;
}

/** One POST over a kept-alive socket; resolves with the status once the whole answer was read. */
function post(agent: Agent, url: URL, delivery: Delivery): Promise<number> {
  return new Promise((resolve, reject) => {
    const outgoing = request(
      url,
      {
        method: 'POST',
        agent,
        headers: { ...delivery.headers, 'content-length': String(Buffer.byteLength(delivery.body)) },
      },
      (incoming) => {
        incoming.on('data', () => {});
        incoming.on('end', () => resolve(incoming.statusCode ?? 0));
        incoming.on('error', reject);
      },
    );
    outgoing.on('error', reject);
    outgoing.end(delivery.body);
  });
}

interface Sender {
  send(delivery: Delivery): Promise<number>;
  close(): void;
}

/** A fresh keep-alive pool per phase: a socket the server closed while idle between phases would reset. */
function overHttp(url: string): Sender {
  const agent = new Agent({ keepAlive: true, maxSockets: 64 });
  const target = new URL(url);
  return { send: (delivery) => post(agent, target, delivery), close: () => agent.destroy() };
}

function inProcess(app: Hono): Sender {
  return {
    async send(delivery) {
      const response = await app.request('/webhook/event', {
        method: 'POST',
        headers: delivery.headers,
        body: delivery.body,
      });
      await response.arrayBuffer();
      return response.status;
    },
    close: () => {},
  };
}

async function drive(sender: Sender, deliveries: readonly Delivery[], deadline: number): Promise<number[]> {
  const latencies: number[] = [];
  let next = 0;
  let failures = 0;
  async function worker() {
    while (next < deliveries.length && Date.now() < deadline) {
      const delivery = deliveries[next++] as Delivery;
      const started = performance.now();
      const status = await sender.send(delivery);
      latencies.push(performance.now() - started);
      if (status !== 200) failures += 1;
    }
  }
  try {
    await Promise.all(Array.from({ length: concurrency }, worker));
  } finally {
    sender.close();
  }
  if (failures > 0) throw new Error(`${failures} requests did not answer 200`);
  return latencies;
}

function summary(latencies: readonly number[]) {
  const sorted = [...latencies].sort((a, b) => a - b);
  return { n: sorted.length, p50: percentile(sorted, 0.5), p99: percentile(sorted, 0.99), max: sorted.at(-1) ?? 0 };
}

const format = (ms: number) => `${ms.toFixed(2).padStart(7)} ms`;

async function main() {
  const deadline = Date.now() + DEADLINE_MS;
  const directory = mkdtempSync(join(tmpdir(), 'webhook-ack-bench-'));
  const fake = await startFakeFeishu();
  let modelCalls = 0;
  const bot = await startBot(
    loadConfig({
      NODE_ENV: 'test',
      PORT: '0',
      HOST: '127.0.0.1',
      LOG_LEVEL: 'silent',
      ...fake.env(),
      FEISHU_ENCRYPT_KEY: encryptKey,
      FEISHU_VERIFICATION_TOKEN: token,
      STORE_URL: `sqlite:${join(directory, 'bot.db')}`,
      MAX_BACKLOG: String(requests * 4),
      // One sender, many events a minute: the flood caps at the door (4 × these limits) must
      // not drop what the bench means to store.
      USER_MESSAGES_PER_MINUTE: '100000000',
      CHAT_MESSAGES_PER_MINUTE: '100000000',
      SHUTDOWN_TIMEOUT_MS: '100',
    }),
    {
      log: silentLogger(),
      handlers: () => ({
        // The slow model: every agent slot stays busy for the whole run.
        answer: ({ signal }) =>
          new Promise<void>((resolve, reject) => {
            modelCalls += 1;
            const timer = setTimeout(resolve, MODEL_MS);
            signal.addEventListener('abort', () => {
              clearTimeout(timer);
              reject(new Error('aborted'));
            });
          }),
      }),
    },
  );

  const baselineApp = new Hono();
  baselineApp.post('/webhook/event', (c) => c.json({ ok: true }));
  const baseline = await new Promise<ServerType>((resolve) => {
    const created = serve({ fetch: baselineApp.fetch, port: 0, hostname: '127.0.0.1' }, () => resolve(created));
  });

  try {
    const make = (tag: string, count: number) =>
      Array.from({ length: count }, (_, index) =>
        eventRequest(
          buildMessageEvent({
            fake,
            chatType: 'group',
            chatId: `oc_bench_${index % 50}`,
            mentionBot: true,
            text: `${tag} ${index}`,
            token,
          }),
          { encryptKey },
        ),
      );
    const botUrl = `http://127.0.0.1:${bot.port}/webhook/event`;
    const baseUrl = `http://127.0.0.1:${(baseline.address() as AddressInfo).port}/webhook/event`;
    // Warm both (JIT, sockets, SQLite pages), then measure, baseline first.
    await drive(overHttp(botUrl), make('warm', warmup), deadline);
    await drive(overHttp(baseUrl), make('warm-base', warmup), deadline);
    const base = summary(await drive(overHttp(baseUrl), make('base', requests), deadline));
    const ack = summary(await drive(overHttp(botUrl), make('measured', requests), deadline));
    const baseInProcess = summary(await drive(inProcess(baselineApp), make('base-local', requests), deadline));
    const ackInProcess = summary(await drive(inProcess(bot.app), make('local', requests), deadline));
    const counts = await bot.store.countJobs();

    const row = (name: string, figures: ReturnType<typeof summary>) =>
      console.log(`  ${name.padEnd(26)}${format(figures.p50)}   ${format(figures.p99)}   ${format(figures.max)}`);
    const ratio = (name: string, a: ReturnType<typeof summary>, b: ReturnType<typeof summary>) =>
      console.log(
        `  ${name.padEnd(26)}${(a.p50 / b.p50).toFixed(2).padStart(9)}x   ${(a.p99 / b.p99).toFixed(2).padStart(9)}x`,
      );
    console.log(
      `webhook ack latency: ${ack.n} signed+encrypted message events, ${concurrency} in flight, model ${MODEL_MS / 1000} s/job`,
    );
    console.log(
      `  during the run: ${bot.dispatcher.running().main} agent runs in progress, ${modelCalls} model calls started, ${counts.pending} jobs waiting`,
    );
    console.log(`                                  p50          p99          max`);
    row('bare Hono 200 (HTTP)', base);
    row('bot webhook ack (HTTP)', ack);
    ratio('ratio', ack, base);
    row('bare Hono 200 (in-process)', baseInProcess);
    row('bot webhook (in-process)', ackInProcess);
    ratio('ratio', ackInProcess, baseInProcess);
    if (ack.n < requests) console.log(`  (stopped at the ${DEADLINE_MS / 1000} s deadline after ${ack.n} requests)`);
    if (counts.pending + counts.leased < ack.n + ackInProcess.n)
      throw new Error('fewer jobs than accepted events: something was lost');
  } finally {
    await new Promise<void>((resolve) => baseline.close(() => resolve()));
    await bot.stop();
    await fake.close();
    rmSync(directory, { recursive: true, force: true });
  }
}

await main();

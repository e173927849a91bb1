/**
 * Where the time of one webhook ack goes, in-process and one at a time (no sockets, no
 * concurrency), next to a bare Hono route through `app.request()` in the same run.
 *
 *   node --import tsx test/bench/webhook-ack-breakdown.bench.ts [events]
 *
 * Steps, each timed alone over the same prepared signed + encrypted message events:
 *   - verify: JSON.parse of the raw body, AES decrypt, signature (sha256 over the raw bytes),
 *     envelope parsing — the CPU work before anything is written;
 *   - the durable write: the one `store.admit` `inbox.accept` makes for a new message (claim
 *     the event id and enqueue the job, one commit), on a SQLite file on this machine's disk and,
 *     where there is one, on tmpfs; and 16 admissions at a time, which share a group commit as
 *     concurrent requests do under load;
 *   - createApp's middleware (request id, response headers, body limit) in front of a 200 route;
 *   - the real webhook routes with an inbox that writes nothing;
 *   - the whole ack: createApp + webhookRoutes + inbox over a SQLite file, through app.request.
 * Over HTTP and under load the same split is measured by the throughput bench's `verify` run.
 */
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Hono } from 'hono';
import { createApp } from '../../lib/app.js';
import { decryptEvent } from '../../lib/feishu/webhook/decrypt-event.js';
import { readEnvelope } from '../../lib/feishu/webhook/event-envelope.js';
import { verifySignature } from '../../lib/feishu/webhook/verify-signature.js';
import { webhookRoutes } from '../../lib/feishu/webhook/webhook-routes.js';
import { createInbox } from '../../lib/inbox/inbox.js';
import { silentLogger } from '../../lib/log.js';
import { createEventBus } from '../../lib/observe/event-bus.js';
import { openSqliteStore } from '../../lib/store/sqlite-store.js';
import { buildMessageEvent, eventRequest } from '../fakes/event-sender.js';
import { describeMachine, type PreparedRequest, printTable, ratio, summaryLine } from './bench-support.js';

const events = Number(process.argv[2] ?? 3_000);
const ROUNDS = 3;
const encryptKey = 'breakdown-encrypt-key';
const token = 'breakdown-verification-token';
const log = silentLogger();
const encoder = new TextEncoder();

let batch = 0;
function prepare(count: number): PreparedRequest[] {
  batch += 1;
  return Array.from({ length: count }, (_, index) => {
    const event = buildMessageEvent({
      chatType: 'group',
      chatId: `oc_breakdown_${index % 1_000}`,
      text: `breakdown message ${index}`,
      eventId: `breakdown-${batch}-${index}`,
      messageId: `om_breakdown_${batch}_${index}`,
      token,
    });
    const { headers, body } = eventRequest(event, { encryptKey });
    return { headers, body };
  });
}

/** Microseconds per item of `work` over fresh items, after a warm-up on other fresh items. */
async function microsPerItem(work: (item: PreparedRequest, index: number) => Promise<void> | void): Promise<number> {
  const warm = prepare(Math.max(200, Math.floor(events / 10)));
  for (const [index, item] of warm.entries()) await work(item, index);
  const items = prepare(events);
  const started = performance.now();
  for (const [index, item] of items.entries()) await work(item, index);
  return ((performance.now() - started) * 1000) / events;
}

async function postTo(app: Hono, item: PreparedRequest): Promise<void> {
  // With content-length, as Feishu sends it: without one the body limit re-reads the stream.
  const headers = { ...item.headers, 'content-length': String(Buffer.byteLength(item.body)) };
  const response = await app.request('/webhook/event', { method: 'POST', headers, body: item.body });
  await response.arrayBuffer();
  if (response.status !== 200) throw new Error(`answered ${response.status}`);
}

/**
 * The ack's durable write: one `store.admit` (claim the event id, enqueue the job with the whole
 * event). `groupSize` admissions are started together and awaited together, as concurrent
 * requests are under load, so they share one group commit; 1 is the one-request-at-a-time cost.
 */
function writes(path: string, groupSize = 1) {
  const store = openSqliteStore(path);
  let sequence = 0;
  let group: Promise<unknown>[] = [];
  return {
    store,
    run(item: PreparedRequest): Promise<unknown> | undefined {
      sequence += 1;
      const admission = store
        .admit({
          keys: [`event:w-${sequence}`],
          ttlMs: 86_400_000,
          job: {
            id: `message:w-${sequence}`,
            lane: `oc_${sequence % 1_000}`,
            kind: 'answer',
            payload: { body: item.body },
          },
        })
        .then((result) => {
          if (result.status !== 'enqueued') throw new Error(`admission refused: ${JSON.stringify(result)}`);
        });
      group.push(admission);
      if (group.length < groupSize) return undefined;
      const full = Promise.all(group);
      group = [];
      return full;
    },
    async flush(): Promise<void> {
      await Promise.all(group);
      group = [];
    },
  };
}

const directory = mkdtempSync(join(tmpdir(), 'webhook-ack-breakdown-'));
const memoryDirectory = existsSync('/dev/shm') ? mkdtempSync('/dev/shm/webhook-ack-breakdown-') : undefined;
try {
  console.log(`webhook ack breakdown: ${describeMachine()}`);
  console.log(
    `  ${events} distinct signed+encrypted message events per step, one at a time, in-process; best of ${ROUNDS} rounds in rotation`,
  );

  const bare = new Hono();
  bare.post('/webhook/event', (c) => c.json({ ok: true }));

  const verify = (item: PreparedRequest) => {
    const raw = encoder.encode(item.body);
    const body = JSON.parse(item.body) as { encrypt: unknown };
    const decrypted = decryptEvent(body.encrypt, encryptKey);
    if (!decrypted.ok) throw new Error(decrypted.detail);
    const check = verifySignature({
      timestamp: item.headers['x-lark-request-timestamp'],
      nonce: item.headers['x-lark-request-nonce'],
      signature: item.headers['x-lark-signature'],
      encryptKey,
      rawBody: raw,
      maxSkewSeconds: 300,
    });
    if (!check.ok || readEnvelope(decrypted.value).kind !== 'event') throw new Error('verification failed');
  };

  const disk = writes(join(directory, 'writes.db'));
  const diskGrouped = writes(join(directory, 'grouped.db'), 16);
  const tmpfs = memoryDirectory === undefined ? undefined : writes(join(memoryDirectory, 'writes.db'));

  const middlewareOnly = new Hono();
  middlewareOnly.post('/event', (c) => c.json({ ok: true }));
  const withMiddleware = createApp({ log, routes: [{ path: '/webhook', app: middlewareOnly }] });

  // The real routes with an inbox that writes nothing: everything but inbox.accept.
  const noWrites = createApp({
    log,
    routes: [
      {
        path: '/webhook',
        app: webhookRoutes({
          inbox: { accept: async () => ({ status: 'accepted', jobId: 'none' }) },
          encryptKey,
          verificationToken: token,
          maxSkewSeconds: 300,
          log,
          bus: createEventBus(),
        }),
      },
    ],
  });

  const store = openSqliteStore(join(directory, 'bot.db'));
  const bus = createEventBus();
  const inbox = createInbox({ store, bus, log, dedupeTtlMs: 86_400_000, maxBacklog: 10_000_000 });
  const app = createApp({
    log,
    routes: [
      {
        path: '/webhook',
        app: webhookRoutes({ inbox, encryptKey, verificationToken: token, maxSkewSeconds: 300, log, bus }),
      },
    ],
  });

  const steps: { name: string; work: (item: PreparedRequest) => Promise<void> | void; best: number }[] = [
    { name: 'bare Hono 200 (app.request)', work: (item) => postTo(bare, item), best: Number.POSITIVE_INFINITY },
    {
      name: 'createApp middleware + 200 route',
      work: (item) => postTo(withMiddleware, item),
      best: Number.POSITIVE_INFINITY,
    },
    { name: 'verify: parse, decrypt, signature', work: verify, best: Number.POSITIVE_INFINITY },
    {
      name: 'webhook routes, inbox writes nothing',
      work: (item) => postTo(noWrites, item),
      best: Number.POSITIVE_INFINITY,
    },
    { name: 'durable write, SQLite on disk', work: (item) => disk.run(item), best: Number.POSITIVE_INFINITY },
    {
      name: '  16 at a time (group commit)',
      work: (item) => diskGrouped.run(item),
      best: Number.POSITIVE_INFINITY,
    },
    ...(tmpfs === undefined
      ? []
      : [
          {
            name: 'durable write, SQLite on tmpfs',
            work: (item: PreparedRequest) => tmpfs.run(item),
            best: Number.POSITIVE_INFINITY,
          },
        ]),
    {
      name: 'whole ack (app.request)',
      work: (item: PreparedRequest) => postTo(app, item),
      best: Number.POSITIVE_INFINITY,
    },
  ];
  // Rounds in rotation, best of each: on a shared machine interference only ever adds time.
  for (let round = 0; round < ROUNDS; round++) {
    for (const step of steps) step.best = Math.min(step.best, await microsPerItem(step.work));
  }
  await diskGrouped.flush();
  await disk.store.close();
  await diskGrouped.store.close();
  await tmpfs?.store.close();
  await store.close();
  const micros = (name: string) => steps.find((step) => step.name === name)?.best ?? Number.NaN;
  const bareMicros = micros('bare Hono 200 (app.request)');
  const middlewareMicros = micros('createApp middleware + 200 route');
  const verifyMicros = micros('verify: parse, decrypt, signature');
  const routesMicros = micros('webhook routes, inbox writes nothing');
  const diskMicros = micros('durable write, SQLite on disk');
  const groupedMicros = micros('  16 at a time (group commit)');
  const tmpfsMicros = micros('durable write, SQLite on tmpfs');
  const fullMicros = micros('whole ack (app.request)');

  const row = (name: string, micros: number): string[] => [name, `${micros.toFixed(1)} µs`, ratio(micros, bareMicros)];
  printTable(
    ['', 'per event', 'vs bare'],
    steps.map((step) => row(step.name, step.best)),
  );
  summaryLine(
    `one ack in-process ${fullMicros.toFixed(0)} µs vs bare ${bareMicros.toFixed(0)} µs (${ratio(fullMicros, bareMicros)}): app middleware ${middlewareMicros.toFixed(0)} µs, routes without writes ${routesMicros.toFixed(0)} µs, verify ${verifyMicros.toFixed(0)} µs, durable write ${diskMicros.toFixed(0)} µs on disk alone (${groupedMicros.toFixed(0)} µs each, 16 at a time)${memoryDirectory === undefined ? '' : ` / ${tmpfsMicros.toFixed(0)} µs on tmpfs`}`,
  );
} finally {
  rmSync(directory, { recursive: true, force: true });
  if (memoryDirectory !== undefined) rmSync(memoryDirectory, { recursive: true, force: true });
}

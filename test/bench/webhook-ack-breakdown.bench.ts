/**
 * Where the time of one webhook ack goes, in-process and one at a time (no sockets, no
 * concurrency), next to a bare Hono route through `app.request()` in the same run.
 *
 *   node --import tsx test/bench/webhook-ack-breakdown.bench.ts [events]
 *
 * Steps, each timed alone over the same prepared signed + encrypted message events:
 *   - verify: JSON.parse of the raw body, AES decrypt, signature (sha256 over the raw bytes),
 *     envelope parsing — the CPU work before anything is written;
 *   - durable writes: the three store calls `inbox.accept` makes for a new message (claim the
 *     event id, claim the message id, enqueue the job), on a SQLite file on this machine's disk
 *     and, where there is one, on tmpfs; and the same three writes as one transaction (raw SQL
 *     on the store's schema), what a single-commit accept would cost;
 *   - createApp's middleware (request id, secure headers, body limit) in front of a 200 route;
 *   - the real webhook routes with an inbox that writes nothing;
 *   - the whole ack: createApp + webhookRoutes + inbox over a SQLite file, through app.request.
 * The write figures are what the throughput bench's gap to the bare route is mostly made of.
 */
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
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
 * The same three writes as ONE transaction, in the store's own schema and SQL (copied from
 * sqlite-store.ts): what an accept that commits once would cost. Not a Store method (yet).
 */
async function oneTransaction(path: string): Promise<{ run(item: PreparedRequest): void; close(): void }> {
  await openSqliteStore(path).close(); // creates the schema
  const db = new Database(path);
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = NORMAL');
  const claim = db.prepare(`
    INSERT INTO dedupe_keys (key, expires_at) VALUES (@key, @expiresAt)
    ON CONFLICT (key) DO UPDATE SET expires_at = excluded.expires_at WHERE dedupe_keys.expires_at <= @now`);
  const enqueue = db.prepare(`
    INSERT INTO jobs (id, lane, kind, payload, status, attempts, available_at, queue_order, created_at, updated_at)
    VALUES (@id, @lane, @kind, @payload, 'pending', 0, @now,
            (SELECT coalesce(max(queue_order), 0) + 1 FROM jobs), @now, @now)
    ON CONFLICT (id) DO NOTHING`);
  let sequence = 0;
  const accept = db.transaction((now: number, item: PreparedRequest) => {
    sequence += 1;
    const expiresAt = now + 86_400_000;
    if (claim.run({ key: `event:t-${sequence}`, expiresAt, now }).changes !== 1) throw new Error('claim refused');
    if (claim.run({ key: `message:t-${sequence}`, expiresAt, now }).changes !== 1) throw new Error('claim refused');
    enqueue.run({
      id: `message:t-${sequence}`,
      lane: `oc_${sequence % 1_000}`,
      kind: 'answer',
      payload: JSON.stringify({ body: item.body }),
      now,
    });
  });
  return { run: (item: PreparedRequest) => accept(Date.now(), item), close: () => db.close() };
}

function writes(path: string) {
  const store = openSqliteStore(path);
  let sequence = 0;
  return {
    store,
    /** A payload the size of a real inbound event (the job carries the whole event). */
    async run(item: PreparedRequest): Promise<void> {
      sequence += 1;
      const now = Date.now();
      if (!(await store.claimKey(`event:w-${sequence}`, 86_400_000, now))) throw new Error('claim refused');
      if (!(await store.claimKey(`message:w-${sequence}`, 86_400_000, now))) throw new Error('claim refused');
      await store.enqueue(
        { id: `message:w-${sequence}`, lane: `oc_${sequence % 1_000}`, kind: 'answer', payload: { body: item.body } },
        now,
      );
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
  const diskOnce = await oneTransaction(join(directory, 'once.db'));
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
    { name: 'durable writes, SQLite on disk', work: (item) => disk.run(item), best: Number.POSITIVE_INFINITY },
    { name: '  the same in one transaction', work: (item) => diskOnce.run(item), best: Number.POSITIVE_INFINITY },
    ...(tmpfs === undefined
      ? []
      : [
          {
            name: 'durable writes, SQLite on tmpfs',
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
  await disk.store.close();
  diskOnce.close();
  await tmpfs?.store.close();
  await store.close();
  const micros = (name: string) => steps.find((step) => step.name === name)?.best ?? Number.NaN;
  const bareMicros = micros('bare Hono 200 (app.request)');
  const middlewareMicros = micros('createApp middleware + 200 route');
  const verifyMicros = micros('verify: parse, decrypt, signature');
  const routesMicros = micros('webhook routes, inbox writes nothing');
  const diskMicros = micros('durable writes, SQLite on disk');
  const diskOnceMicros = micros('  the same in one transaction');
  const tmpfsMicros = micros('durable writes, SQLite on tmpfs');
  const fullMicros = micros('whole ack (app.request)');

  const row = (name: string, micros: number): string[] => [name, `${micros.toFixed(1)} µs`, ratio(micros, bareMicros)];
  printTable(
    ['', 'per event', 'vs bare'],
    steps.map((step) => row(step.name, step.best)),
  );
  summaryLine(
    `one ack in-process ${fullMicros.toFixed(0)} µs vs bare ${bareMicros.toFixed(0)} µs (${ratio(fullMicros, bareMicros)}): app middleware ${middlewareMicros.toFixed(0)} µs, routes without writes ${routesMicros.toFixed(0)} µs, verify ${verifyMicros.toFixed(0)} µs, durable writes ${diskMicros.toFixed(0)} µs on disk (${diskOnceMicros.toFixed(0)} µs as one transaction)${memoryDirectory === undefined ? '' : ` / ${tmpfsMicros.toFixed(0)} µs on tmpfs`}`,
  );
} finally {
  rmSync(directory, { recursive: true, force: true });
  if (memoryDirectory !== undefined) rmSync(memoryDirectory, { recursive: true, force: true });
}

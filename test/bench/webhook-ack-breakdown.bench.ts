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
 *     and, where there is one, on tmpfs;
 *   - createApp's middleware (request id, secure headers, body limit) in front of a 200 route;
 *   - the real webhook routes with an inbox that writes nothing;
 *   - the whole ack: createApp + webhookRoutes + inbox over a SQLite file, through app.request.
 * The write figures are what the throughput bench's gap to the bare route is mostly made of.
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
  const response = await app.request('/webhook/event', { method: 'POST', headers: item.headers, body: item.body });
  await response.arrayBuffer();
  if (response.status !== 200) throw new Error(`answered ${response.status}`);
}

function writes(path: string) {
  const store = openSqliteStore(path);
  let sequence = 0;
  return {
    store,
    async run(): Promise<void> {
      sequence += 1;
      const now = Date.now();
      if (!(await store.claimKey(`event:w-${sequence}`, 86_400_000, now))) throw new Error('claim refused');
      if (!(await store.claimKey(`message:w-${sequence}`, 86_400_000, now))) throw new Error('claim refused');
      await store.enqueue(
        { id: `message:w-${sequence}`, lane: `oc_${sequence % 1_000}`, kind: 'answer', payload: {} },
        now,
      );
    },
  };
}

const directory = mkdtempSync(join(tmpdir(), 'webhook-ack-breakdown-'));
const memoryDirectory = existsSync('/dev/shm') ? mkdtempSync('/dev/shm/webhook-ack-breakdown-') : undefined;
try {
  console.log(`webhook ack breakdown: ${describeMachine()}`);
  console.log(`  ${events} distinct signed+encrypted message events per step, one at a time, in-process`);

  const bare = new Hono();
  bare.post('/webhook/event', (c) => c.json({ ok: true }));
  const bareMicros = await microsPerItem((item) => postTo(bare, item));

  const verifyMicros = await microsPerItem((item) => {
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
  });

  const disk = writes(join(directory, 'writes.db'));
  const diskMicros = await microsPerItem(() => disk.run());
  await disk.store.close();
  let tmpfsMicros = Number.NaN;
  if (memoryDirectory !== undefined) {
    const tmpfs = writes(join(memoryDirectory, 'writes.db'));
    tmpfsMicros = await microsPerItem(() => tmpfs.run());
    await tmpfs.store.close();
  }

  const middlewareOnly = new Hono();
  middlewareOnly.post('/event', (c) => c.json({ ok: true }));
  const withMiddleware = createApp({ log, routes: [{ path: '/webhook', app: middlewareOnly }] });
  const middlewareMicros = await microsPerItem((item) => postTo(withMiddleware, item));

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
  const routesMicros = await microsPerItem((item) => postTo(noWrites, item));

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
  const fullMicros = await microsPerItem((item) => postTo(app, item));
  await store.close();

  const row = (name: string, micros: number): string[] => [name, `${micros.toFixed(1)} µs`, ratio(micros, bareMicros)];
  printTable(
    ['', 'per event', 'vs bare'],
    [
      row('bare Hono 200 (app.request)', bareMicros),
      row('createApp middleware + 200 route', middlewareMicros),
      row('verify: parse, decrypt, signature', verifyMicros),
      row('webhook routes, inbox writes nothing', routesMicros),
      row('durable writes, SQLite on disk', diskMicros),
      ...(memoryDirectory === undefined ? [] : [row('durable writes, SQLite on tmpfs', tmpfsMicros)]),
      row('whole ack (app.request)', fullMicros),
    ],
  );
  summaryLine(
    `one ack in-process ${fullMicros.toFixed(0)} µs vs bare ${bareMicros.toFixed(0)} µs (${ratio(fullMicros, bareMicros)}): app middleware ${middlewareMicros.toFixed(0)} µs, routes without writes ${routesMicros.toFixed(0)} µs, verify ${verifyMicros.toFixed(0)} µs, durable writes ${diskMicros.toFixed(0)} µs on disk${memoryDirectory === undefined ? '' : ` / ${tmpfsMicros.toFixed(0)} µs on tmpfs`}`,
  );
} finally {
  rmSync(directory, { recursive: true, force: true });
  if (memoryDirectory !== undefined) rmSync(memoryDirectory, { recursive: true, force: true });
}

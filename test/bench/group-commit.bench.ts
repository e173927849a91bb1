/**
 * What one durable admission costs the event loop, by how many share a group commit.
 *
 *   node --import tsx test/bench/group-commit.bench.ts [admissions]
 *
 * The webhook's ack waits for `store.admit` (lib/store/sqlite-store.ts): the writes of one
 * event-loop turn share one transaction (sqlite-group-commit.ts), and the commit's WAL is flushed
 * to disk on the thread pool before any of them settles (sqlite-log-sync.ts). A commit has a fixed
 * cost (BEGIN, the tally update, the COMMIT writing its pages, the flush hand-off) and every
 * admission its own statements, so how many admissions share a commit decides what each costs.
 * This bench admits `admissions` (default 6 000) webhook-sized jobs into a SQLite file, in batches
 * of 1 to 32 at once, with the real flush and with the flush left out, and prints the **main
 * thread's** CPU per admission (Linux per-thread schedstat; the process's CPU elsewhere) and the
 * wall time, each batch size as a ratio of one admission at a time in the same run (the baseline).
 * Best of two rounds in rotation. Job ids and lanes are random, as Feishu's message ids and a
 * bot's chats are, so every admission touches its own index pages.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { openSqliteStore } from '../../lib/store/sqlite-store.js';
import type { Store } from '../../lib/store/store.js';
import { buildMessageEvent } from '../fakes/event-sender.js';
import { describeMachine, printTable, ratio, summaryLine } from './bench-support.js';
import { mainThreadCpuMicros } from './main-thread-cpu.js';

const admissions = Number(process.argv[2] ?? 6_000);
const BATCH_SIZES = [1, 2, 4, 8, 16, 32] as const;
const ROUNDS = 2;
const DAY = 86_400_000;

/** The main thread's CPU in µs: this thread alone where Linux says, else the whole process. */
function loopCpuMicros(): number {
  const { user, system } = process.cpuUsage();
  return mainThreadCpuMicros() ?? user + system;
}

function admission() {
  const messageId = `om_${randomBytes(16).toString('hex')}`;
  const chatId = `oc_${randomBytes(4).toString('hex')}`;
  const eventId = randomBytes(16).toString('hex');
  const at = Date.now();
  return {
    keys: [],
    ttlMs: DAY,
    job: {
      id: `message:${messageId}`,
      lane: `chat:${chatId}`,
      kind: 'answer',
      payload: {
        source: 'webhook',
        eventId,
        eventType: 'im.message.receive_v1',
        createdAt: at,
        receivedAt: at,
        event: buildMessageEvent({
          chatType: 'group',
          chatId,
          text: 'a question of ordinary length',
          eventId,
          messageId,
        }).event,
      },
    },
  };
}

interface Cost {
  cpuMicros: number;
  wallMicros: number;
}

/** Admissions are built before the clock starts: only `store.admit` is measured. */
async function measure(store: Store, size: number): Promise<Cost> {
  const warmup = Math.ceil(500 / size) * size;
  const batches = Math.ceil(admissions / size);
  const prepared = Array.from({ length: warmup + batches * size }, admission);
  let next = 0;
  const batch = () => {
    const entries = prepared.slice(next, next + size);
    next += size;
    return Promise.all(entries.map((entry) => store.admit(entry)));
  };
  while (next < warmup) await batch();
  const cpu = loopCpuMicros();
  const started = performance.now();
  for (let index = 0; index < batches; index += 1) await batch();
  const count = batches * size;
  return {
    cpuMicros: (loopCpuMicros() - cpu) / count,
    wallMicros: ((performance.now() - started) * 1000) / count,
  };
}

const best = new Map<string, Cost>();
const directory = mkdtempSync(join(tmpdir(), 'group-commit-bench-'));
try {
  console.log(`group commit: ${describeMachine()}`);
  console.log(
    `  ${admissions} admissions per batch size into a SQLite file, main-thread CPU per admission, best of ${ROUNDS} rounds`,
  );
  for (let round = 0; round < ROUNDS; round += 1) {
    for (const flushed of [true, false]) {
      for (const size of BATCH_SIZES) {
        const path = join(directory, `store-${round}-${flushed}-${size}.db`);
        // Without the flush: what the commit itself costs, the WAL left to the OS.
        const store = openSqliteStore(path, flushed ? {} : { flushLog: async () => {} });
        try {
          const cost = await measure(store, size);
          const key = `${flushed}:${size}`;
          const previous = best.get(key);
          best.set(key, {
            cpuMicros: Math.min(cost.cpuMicros, previous?.cpuMicros ?? Number.POSITIVE_INFINITY),
            wallMicros: Math.min(cost.wallMicros, previous?.wallMicros ?? Number.POSITIVE_INFINITY),
          });
        } finally {
          await store.close();
          rmSync(path, { force: true });
        }
      }
    }
  }
  const row = (flushed: boolean, size: number) => {
    const cost = best.get(`${flushed}:${size}`)!;
    const alone = best.get(`${flushed}:1`)!;
    return [
      `${flushed ? 'flushed' : 'no flush'}, batch of ${size}`,
      `${cost.cpuMicros.toFixed(1)} µs`,
      ratio(cost.cpuMicros, alone.cpuMicros),
      `${cost.wallMicros.toFixed(1)} µs`,
      ratio(cost.wallMicros, alone.wallMicros),
    ];
  };
  printTable(
    ['', 'main CPU', 'vs batch of 1', 'wall', 'vs batch of 1'],
    [true, false].flatMap((flushed) => BATCH_SIZES.map((size) => row(flushed, size))),
  );
  const one = best.get('true:1')!;
  const four = best.get('true:4')!;
  const sixteen = best.get('true:16')!;
  const unflushed = best.get('false:1')!;
  summaryLine(
    `one durable admission costs the event loop ${one.cpuMicros.toFixed(0)} µs alone, ${four.cpuMicros.toFixed(0)} µs in commits of 4, ${sixteen.cpuMicros.toFixed(0)} µs of 16 (${ratio(sixteen.cpuMicros, one.cpuMicros)}); without the flush ${unflushed.cpuMicros.toFixed(0)} µs alone: the flush's hand-off is ${(one.cpuMicros - unflushed.cpuMicros).toFixed(0)} µs per commit`,
  );
} finally {
  rmSync(directory, { recursive: true, force: true });
}

/**
 * Would moving the SQLite store onto its own thread pay for itself on this machine?
 *
 *   node --import tsx test/bench/thread-round-trip.bench.ts [rounds]
 *
 * The ack's durable admission runs on the event loop (lib/store/sqlite-store.ts). A writer thread
 * would take that work off the loop but add a message round trip per group commit: the batch's
 * calls posted to the thread, the outcomes posted back. This bench measures both in one run, for
 * the batch sizes the webhook sees (one request at a time, ~6 under 16 connections, 16):
 *
 * - baseline: `store.admit` of a webhook-sized job in a SQLite file, in this thread, per call:
 *   the work a writer thread would take away (CPU of all threads, the checkpointer's included);
 * - a round trip to a worker that only answers (no SQLite), carrying the same calls: what the
 *   event loop would still spend per call (its busy time) and what the process spends (CPU).
 *
 * If the round trip's CPU per call is not well under the admission's, the thread cannot raise
 * throughput where the load generator and the server share the cores. (Measured and kept on the
 * branch experiment/sqlite-writer-thread; docs/performance.md has the figures.)
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { Worker } from 'node:worker_threads';
import { openSqliteStore } from '../../lib/store/sqlite-store.js';
import { buildMessageEvent } from '../fakes/event-sender.js';
import { describeMachine, printTable, ratio } from './bench-support.js';

const rounds = Number(process.argv[2] ?? 2_000);
const BATCH_SIZES = [1, 6, 16] as const;

const inbound = {
  source: 'webhook',
  eventId: 'bench-event',
  eventType: 'im.message.receive_v1',
  event: buildMessageEvent({
    chatType: 'group',
    chatId: 'oc_round_trip',
    text: 'a question of ordinary length for the round-trip bench',
    eventId: 'bench-event',
    messageId: 'om_round_trip',
    token: 'token',
  }),
};

interface Cost {
  /** Event-loop busy time per call (this thread). */
  loopMicros: number;
  /** CPU per call, every thread of the process. */
  cpuMicros: number;
}

/** Runs `batch` 200 times to warm up, then `rounds` times measured; figures per call. */
async function measureBatches(size: number, batch: () => Promise<unknown>): Promise<Cost> {
  for (let round = 0; round < 200; round += 1) await batch();
  const loop = performance.eventLoopUtilization();
  const cpu = process.cpuUsage();
  for (let round = 0; round < rounds; round += 1) await batch();
  const used = process.cpuUsage(cpu);
  const calls = rounds * size;
  return {
    loopMicros: (performance.eventLoopUtilization(loop).active * 1_000) / calls,
    cpuMicros: (used.user + used.system) / calls,
  };
}

/** The baseline: admissions in batches of `size`, as one event-loop turn's group commit. */
async function admissions(size: number, path: string): Promise<Cost> {
  const store = openSqliteStore(path);
  let sequence = 0;
  const batch = () =>
    Promise.all(
      Array.from({ length: size }, () => {
        sequence += 1;
        const job = { id: `message:${sequence}`, lane: `chat:${sequence % 100}`, kind: 'answer', payload: inbound };
        return store.admit({ keys: [`event:${sequence}`], ttlMs: 86_400_000, job });
      }),
    );
  try {
    return await measureBatches(size, batch);
  } finally {
    await store.close();
  }
}

/** The same calls to a thread that only answers them: the cost of crossing, nothing else. */
async function roundTrips(size: number): Promise<Cost> {
  const worker = new Worker(
    `const { parentPort } = require('node:worker_threads');
     parentPort.on('message', ({ calls }) =>
       parentPort.postMessage({ outcomes: calls.map(() => ({ ok: true, value: { status: 'enqueued' } })) }));`,
    { eval: true },
  );
  const payload = JSON.stringify(inbound);
  let sequence = 0;
  const trip = () =>
    new Promise<void>((resolve) => {
      const calls = Array.from({ length: size }, () => {
        sequence += 1;
        const job = { id: `message:${sequence}`, lane: `chat:${sequence % 100}`, kind: 'answer' };
        return { operation: 'admit', args: [[`event:${sequence}`], 86_400_000, job, payload, Date.now()] };
      });
      worker.once('message', () => resolve());
      worker.postMessage({ calls });
    });
  try {
    return await measureBatches(size, trip);
  } finally {
    await worker.terminate();
  }
}

const directory = mkdtempSync(join(tmpdir(), 'thread-round-trip-bench-'));
try {
  console.log(`thread round trip vs in-thread admission: ${describeMachine()}`);
  console.log(`  ${rounds} batches per size; per call (µs): event-loop busy time and process CPU (all threads)`);
  const rows: string[][] = [];
  for (const size of BATCH_SIZES) {
    const admission = await admissions(size, join(directory, `admit-${size}.db`));
    const trip = await roundTrips(size);
    rows.push([
      `batch of ${size}`,
      admission.loopMicros.toFixed(1),
      admission.cpuMicros.toFixed(1),
      trip.loopMicros.toFixed(1),
      trip.cpuMicros.toFixed(1),
      ratio(trip.cpuMicros, admission.cpuMicros),
    ]);
  }
  printTable(['', 'admit: loop', 'admit: CPU', 'round trip: loop', 'round trip: CPU', 'trip CPU vs admit'], rows);
} finally {
  rmSync(directory, { recursive: true, force: true });
}

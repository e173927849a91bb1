/**
 * Resident memory idle, after 100 000 events across 10 000 conversations, and after each further
 * 100 000: every bounded structure must have reached its bound early, so the last batches add
 * (about) nothing.
 *
 *   node --expose-gc --import tsx test/bench/memory.bench.ts [eventsPerBatch] [conversations] [batches]
 *
 * Drives the real message path in one process, without HTTP (the webhook benches cover that):
 * `inbox.accept` (dedupe on event and message id, durable enqueue) → dispatcher (lanes, leases,
 * concurrency cap) → a trivial 'answer' handler that reports one agent call per job, with every
 * observer on the bus: the devtools tracker (ring + traces persisted to the store), the health
 * monitor and the Prometheus metrics. The SQLite file lives on tmpfs when there is one: its
 * pages are the kernel's, not this process's, so RSS measures the process.
 *
 * The baseline is the same process idle (everything created, nothing processed), after a forced
 * GC. Prints RSS and V8 heap in use at each point, the ratios to idle, and the growth over the
 * last batch per 1 000 events (~0 when nothing grows without bound). Native memory (SQLite's
 * page cache, its mapped WAL index, the allocator's high-water mark) settles a batch later than
 * the heap, which is why the default is three batches.
 */
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setImmediate as yieldToLoop } from 'node:timers/promises';
import { readMetricTotals } from '../../lib/devtools/metric-totals.js';
import { createTracker } from '../../lib/devtools/tracker.js';
import { attachHealthMonitor, HealthMonitor } from '../../lib/health/health-monitor.js';
import { createMetrics } from '../../lib/health/metrics.js';
import { createDispatcher } from '../../lib/inbox/dispatcher.js';
import { createInbox } from '../../lib/inbox/inbox.js';
import { silentLogger } from '../../lib/log.js';
import { createEventBus } from '../../lib/observe/event-bus.js';
import { openSqliteStore } from '../../lib/store/sqlite-store.js';
import { inboundMessage } from '../support/ingress-events.js';
import { describeMachine, mib, printTable, ratio, summaryLine } from './bench-support.js';

const eventsPerBatch = Number(process.argv[2] ?? 100_000);
const conversations = Number(process.argv[3] ?? 10_000);
const batches = Math.max(2, Number(process.argv[4] ?? 3));
/** Jobs allowed to wait before the feeder pauses: a realistic backlog, not 100 000 at once. */
const MAX_WAITING = 200;
const BATCH_DEADLINE_MS = 10 * 60_000;

const gc = (globalThis as { gc?: () => void }).gc;
if (gc === undefined) throw new Error('run with --expose-gc: node --expose-gc --import tsx test/bench/memory.bench.ts');

interface Sample {
  rss: number;
  heapUsed: number;
  external: number;
}

async function sample(): Promise<Sample> {
  // Several rounds: finalizers and weak callbacks free more on the next pass.
  for (let round = 0; round < 3; round++) {
    gc?.();
    await yieldToLoop();
  }
  const usage = process.memoryUsage();
  return { rss: usage.rss, heapUsed: usage.heapUsed, external: usage.external };
}

const directory = mkdtempSync(join(existsSync('/dev/shm') ? '/dev/shm' : tmpdir(), 'memory-bench-'));
const log = silentLogger();
const store = openSqliteStore(join(directory, 'bot.db'));
const bus = createEventBus();
// Its call totals are read from `metrics` (made below, read only when the stats are printed).
const tracker = createTracker({
  bus,
  store,
  ringSize: 5_000,
  traceRetention: 500,
  totals: () => readMetricTotals(metrics.registry),
});
const monitor = new HealthMonitor();
const detachMonitor = attachHealthMonitor(bus, monitor);
const metrics = createMetrics({ instanceId: 'bench', collectDefault: false, monitor });
const detachMetrics = metrics.attach(bus);
let answered = 0;
const dispatcher = createDispatcher({
  store,
  bus,
  log,
  owner: 'memory-bench',
  concurrency: 4,
  leaseMs: 60_000,
  maxAttempts: 3,
  pollIntervalMs: 50,
  handlers: {
    answer: async ({ job }) => {
      answered += 1;
      bus.emit({
        type: 'agent.call',
        traceId: job.id,
        agent: 'manager',
        model: 'bench-model',
        latencyMs: 5 + (answered % 50),
        outcome: answered % 25 === 0 ? 'error' : 'success',
        inputTokens: 120,
        outputTokens: 40,
      });
    },
  },
});
const inbox = createInbox({
  store,
  bus,
  log,
  dedupeTtlMs: 24 * 3_600_000,
  maxBacklog: 10_000_000,
  onEnqueued: () => dispatcher.wake(),
});
dispatcher.start();

async function unfinished(): Promise<number> {
  const counts = await store.countJobs();
  return counts.pending + counts.leased;
}

/** Feeds one batch through the inbox, pausing whenever MAX_WAITING jobs wait, and waits until all are answered. */
async function runBatch(batch: number): Promise<{ seconds: number; accepted: number }> {
  const started = performance.now();
  const deadline = Date.now() + BATCH_DEADLINE_MS;
  let accepted = 0;
  for (let index = 0; index < eventsPerBatch; index++) {
    const result = await inbox.accept(
      inboundMessage({
        eventId: `ev-${batch}-${index}`,
        messageId: `om-${batch}-${index}`,
        chatId: `oc_${index % conversations}`,
        chatType: 'group',
        text: `message ${index} of batch ${batch}: ${'lorem ipsum '.repeat(8)}`,
      }),
    );
    if (result.status === 'accepted') accepted += 1;
    if (index % 100 === 99) {
      await yieldToLoop();
      while ((await unfinished()) > MAX_WAITING && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
    }
  }
  while ((await unfinished()) > 0) {
    if (Date.now() > deadline) throw new Error(`batch ${batch} not answered within ${BATCH_DEADLINE_MS / 1000} s`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  await tracker.flush();
  return { seconds: (performance.now() - started) / 1000, accepted };
}

try {
  console.log(`memory: ${describeMachine()}`);
  console.log(
    `  ${eventsPerBatch} message events per batch across ${conversations} conversations; inbox → dispatcher → trivial answer, with tracker, health monitor and metrics on the bus; SQLite in ${directory}`,
  );
  const idle = await sample();
  const afterBatch: { sample: Sample; seconds: number; accepted: number }[] = [];
  for (let batch = 1; batch <= batches; batch++) {
    const run = await runBatch(batch);
    afterBatch.push({ ...run, sample: await sample() });
  }
  const last = afterBatch.at(-1)!;
  const beforeLast = afterBatch.at(-2)!;
  const counts = await store.countJobs();
  const stats = await tracker.stats();

  const row = (name: string, value: Sample): string[] => [
    name,
    mib(value.rss),
    ratio(value.rss, idle.rss),
    mib(value.heapUsed),
    ratio(value.heapUsed, idle.heapUsed),
    mib(value.external),
  ];
  printTable(
    ['', 'RSS', 'vs idle', 'heap used', 'vs idle', 'external'],
    [
      row('idle (baseline)', idle),
      ...afterBatch.map((each, index) =>
        row(`after ${((index + 1) * eventsPerBatch).toLocaleString('en')}`, each.sample),
      ),
    ],
  );
  const perThousand = (bytes: number) =>
    `${((bytes / eventsPerBatch) * 1000) / 1024 >= 0 ? '+' : ''}${(((bytes / eventsPerBatch) * 1000) / 1024).toFixed(1)} KiB`;
  const heapGrowth = last.sample.heapUsed - beforeLast.sample.heapUsed;
  const rssGrowth = last.sample.rss - beforeLast.sample.rss;
  console.log(
    `  batch ${batches - 1} → batch ${batches} growth: heap ${mib(heapGrowth)} (${perThousand(heapGrowth)} per 1 000 events), RSS ${mib(rssGrowth)} (${perThousand(rssGrowth)} per 1 000 events)`,
  );
  console.log(
    `  throughput in-process: ${afterBatch.map((each, index) => `batch ${index + 1} ${(each.accepted / each.seconds).toFixed(0)}`).join(', ')} events/s; answered ${answered}; jobs ${JSON.stringify(counts)}`,
  );
  console.log(`  tracker: ${JSON.stringify(stats).slice(0, 300)}`);
  const total = batches * eventsPerBatch;
  const accepted = afterBatch.reduce((sum, each) => sum + each.accepted, 0);
  if (answered !== total || accepted !== total) {
    console.log('  MISMATCH: not every event was accepted and answered exactly once');
    process.exitCode = 1;
  }
  summaryLine(
    `memory: RSS idle ${mib(idle.rss)} → ${afterBatch.map((each) => mib(each.sample.rss)).join(' → ')} after each ${eventsPerBatch.toLocaleString('en')} events (${ratio(last.sample.rss, idle.rss)} at the end); heap ${mib(idle.heapUsed)} → ${afterBatch.map((each) => mib(each.sample.heapUsed)).join(' → ')}; last batch: heap ${perThousand(heapGrowth)}, RSS ${perThousand(rssGrowth)} per 1 000 events`,
  );
} finally {
  await dispatcher.drain(1_000);
  detachMonitor();
  detachMetrics();
  await tracker.close();
  await store.close();
  rmSync(directory, { recursive: true, force: true });
}

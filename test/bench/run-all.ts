/**
 * `npm run bench`: every `test/bench/*.bench.ts`, one after the other, each in its own child
 * process with `--expose-gc` (a fresh heap and JIT: one bench's state never colours another's
 * figures), each bounded by a time limit. The benches of the four performance goals run first,
 * with their arguments: (a) webhook ingest, (b) end-to-end latency, (c) health-monitor cost,
 * (d) memory (docs/performance.md states each goal); any other bench file found is run after them
 * with its defaults. Prints the
 * machine, each bench's own output, then a summary of the headline figures with their same-run
 * baselines.
 *
 *   node --expose-gc --import tsx test/bench/run-all.ts [--quick] [name-filter]
 *
 * `--quick` runs every bench with small counts (a smoke test of the benches, not figures to
 * quote). A filter runs only the benches whose file name contains it.
 *
 * Exits non-zero only when a bench crashed or timed out; a missed performance goal is reported
 * (PASS/FAIL in the summary), not an error, because a loaded machine would make it flaky.
 */
import { spawn } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { describeMachine } from './bench-support.js';

interface Bench {
  /** The performance goal it measures, (a) to (d), and what it prints; or 'extra'. */
  label: string;
  file: string;
  /** Arguments of a full run, and of `--quick`. */
  args: readonly string[];
  quickArgs: readonly string[];
  timeoutMs: number;
  /** Lines of its output to repeat in the summary, for benches that do not print `summary:` lines. */
  headline?: RegExp;
}

const known: readonly Bench[] = [
  {
    label: '(a) webhook ingest throughput',
    file: 'webhook-throughput.bench.ts',
    args: ['10000', '16', '3'],
    quickArgs: ['1000', '8', '1'],
    timeoutMs: 15 * 60_000,
  },
  {
    label: '(a) webhook ack latency, one at a time, slow model',
    file: 'webhook-ack.bench.ts',
    args: ['2000', '1'],
    quickArgs: ['200', '1'],
    timeoutMs: 5 * 60_000,
    headline: /^\s+(bare Hono 200 \(HTTP\)|bot webhook ack \(HTTP\))/,
  },
  {
    label: '(a) where one ack spends its time, in-process',
    file: 'webhook-ack-breakdown.bench.ts',
    args: ['3000'],
    quickArgs: ['300'],
    timeoutMs: 5 * 60_000,
  },
  {
    label: '(b) end-to-end latency to first and final card update',
    file: 'end-to-end.bench.ts',
    args: ['200'],
    quickArgs: ['20'],
    timeoutMs: 10 * 60_000,
  },
  {
    label: '(b) card controls: Stop → "Stopped", first token → first text on the card',
    file: 'card-controls.bench.ts',
    args: ['40'],
    quickArgs: ['8'],
    timeoutMs: 10 * 60_000,
  },
  {
    label: '(c) health monitor cost per tracked call',
    file: 'health-monitor.bench.ts',
    args: ['5000000'],
    quickArgs: ['500000'],
    timeoutMs: 5 * 60_000,
    headline: /^\s+(empty function call|trackAgentCall|heap growth|GCs while recording)/,
  },
  {
    label: '(d) resident memory, idle and after each of 3 × 100 000 events',
    file: 'memory.bench.ts',
    args: ['100000', '10000'],
    quickArgs: ['10000', '1000'],
    timeoutMs: 15 * 60_000,
  },
  {
    label: 'burst: 20 askers at once, 2 s to the first token; then 429s from the provider',
    file: 'burst.bench.ts',
    args: ['20', '2000'],
    quickArgs: ['8', '500'],
    timeoutMs: 10 * 60_000,
  },
  {
    label: 'extra: SQLite job queue with 100 000 done jobs',
    file: 'sqlite-store.bench.ts',
    args: ['2000', '100000'],
    quickArgs: ['200', '10000'],
    timeoutMs: 5 * 60_000,
    headline: /^\s+(empty table|with \d+ done jobs|countJobs)/,
  },
  {
    label: "extra: a durable admission's cost to the event loop by group-commit size",
    file: 'group-commit.bench.ts',
    args: ['6000'],
    quickArgs: ['300'],
    timeoutMs: 5 * 60_000,
  },
  {
    label: 'extra: a writer thread for SQLite, round trip vs the admission it would move',
    file: 'thread-round-trip.bench.ts',
    args: ['2000'],
    quickArgs: ['200'],
    timeoutMs: 5 * 60_000,
    headline: /^\s+batch of/,
  },
  {
    label: 'extra: devtools tracker cost per event and memory',
    file: 'devtools-tracker.bench.ts',
    args: [],
    quickArgs: [],
    timeoutMs: 5 * 60_000,
  },
  {
    label: 'attachments: 10-page PDF, 5 MB image pass-through, memory after 100 attachments',
    file: 'attachments.bench.ts',
    args: ['30', '100'],
    quickArgs: ['5', '20'],
    timeoutMs: 10 * 60_000,
  },
  {
    label: 'extra: card planning per streamed update',
    file: 'card-planner.bench.ts',
    args: [],
    quickArgs: [],
    timeoutMs: 5 * 60_000,
    headline: /^(incremental planner|baseline, re-plan all)/,
  },
];

const directory = import.meta.dirname;
// Benches added later run too, with their own defaults, after the known ones.
const discovered: Bench[] = readdirSync(directory)
  .filter((file) => file.endsWith('.bench.ts') && !known.some((bench) => bench.file === file))
  .sort()
  .map((file) => ({ label: `extra: ${file}`, file, args: [], quickArgs: [], timeoutMs: 10 * 60_000 }));
const present = new Set(readdirSync(directory));
const missing = known.filter((bench) => !present.has(bench.file));
const benches = [...known.filter((bench) => present.has(bench.file)), ...discovered];

const argv = process.argv.slice(2);
const quick = argv.includes('--quick');
const filter = argv.find((argument) => !argument.startsWith('--'));
const selected = benches.filter((bench) => filter === undefined || bench.file.includes(filter));

interface Outcome {
  bench: Bench;
  code: number | null;
  timedOut: boolean;
  seconds: number;
  summary: string[];
}

function run(bench: Bench): Promise<Outcome> {
  const started = performance.now();
  const child = spawn(
    process.execPath,
    ['--expose-gc', '--import', 'tsx', join(directory, bench.file), ...(quick ? bench.quickArgs : bench.args)],
    { stdio: ['ignore', 'pipe', 'inherit'] },
  );
  const summary: string[] = [];
  createInterface({ input: child.stdout! }).on('line', (line) => {
    console.log(line);
    if (line.startsWith('summary: ')) summary.push(line.slice('summary: '.length));
    else if (bench.headline?.test(line)) summary.push(line.trim());
  });
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    child.kill('SIGTERM');
    setTimeout(() => child.kill('SIGKILL'), 10_000).unref();
  }, bench.timeoutMs);
  return new Promise((resolve) => {
    child.once('close', (code) => {
      clearTimeout(timer);
      resolve({ bench, code, timedOut, seconds: (performance.now() - started) / 1000, summary });
    });
  });
}

console.log(`benchmarks${quick ? ' (--quick: smoke run, not figures to quote)' : ''}`);
console.log(`machine: ${describeMachine()}`);
console.log(`started: ${new Date().toISOString()}`);
for (const bench of missing) console.log(`missing: ${bench.label} (${bench.file} not found)`);
const outcomes: Outcome[] = [];
for (const bench of selected) {
  console.log(`\n━━━ ${bench.label} — ${bench.file} ━━━`);
  outcomes.push(await run(bench));
}

console.log('\n━━━ summary ━━━');
console.log(`machine: ${describeMachine()}`);
for (const outcome of outcomes) {
  const status = outcome.timedOut ? 'TIMED OUT' : outcome.code === 0 ? 'ok' : `exit ${outcome.code}`;
  console.log(`${outcome.bench.label} [${status}, ${outcome.seconds.toFixed(0)} s]`);
  for (const line of outcome.summary) console.log(`  ${line}`);
}
if (outcomes.some((outcome) => outcome.timedOut || outcome.code !== 0)) process.exitCode = 1;

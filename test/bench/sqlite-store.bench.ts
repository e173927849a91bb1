/**
 * Does a pile of finished jobs slow the SQLite job queue down?
 *
 *   node --import tsx test/bench/sqlite-store.bench.ts [cycles] [doneJobs]
 *
 * Times enqueue → claimNextJob → completeJob cycles on a fresh file (the same-run baseline), then
 * again after `doneJobs` (default 100 000) finished jobs were written, as a bot accumulates them
 * between purges. With the partial indexes over unfinished jobs the ratio stays near 1; a claim
 * query that scanned the table would grow with the pile. Also prints claimKey cost for scale, and
 * countJobs (read by the inbox's backlog check and every metrics scrape) on both tables: it reads
 * a tally the job changes keep, so its ratio stays near 1 too.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { openSqliteStore } from '../../lib/store/sqlite-store.js';
import type { Store } from '../../lib/store/store.js';

const cycles = Number(process.argv[2] ?? 2_000);
const doneJobs = Number(process.argv[3] ?? 100_000);
const directory = mkdtempSync(join(tmpdir(), 'sqlite-store-bench-'));
const T0 = 1_700_000_000_000;
let clock = T0;

async function cycle(store: Store, count: number, tag: string): Promise<number> {
  const started = process.hrtime.bigint();
  for (let index = 0; index < count; index += 1) {
    clock += 1;
    const id = `${tag}-${index}`;
    await store.enqueue({ id, lane: `lane-${index % 50}`, kind: 'answer', payload: { index } }, clock);
    const job = await store.claimNextJob({ owner: 'bench', leaseMs: 60_000, now: clock });
    if (job?.id !== id) throw new Error(`expected to claim ${id}, got ${job?.id}`);
    await store.completeJob(id, 'bench', clock);
  }
  return Number(process.hrtime.bigint() - started) / 1_000 / count;
}

/** µs per countJobs, the store's own figure for a table of this size. */
async function countMicros(store: Store, count: number): Promise<number> {
  const started = process.hrtime.bigint();
  for (let index = 0; index < count; index += 1) await store.countJobs();
  return Number(process.hrtime.bigint() - started) / 1_000 / count;
}

function fillDoneJobs(path: string, count: number): void {
  const db = new Database(path);
  db.transaction(() => {
    const insert = db.prepare(`
      INSERT INTO jobs (id, lane, kind, payload, status, attempts, available_at, queue_order, created_at, updated_at)
      VALUES (?, ?, 'answer', '{}', 'done', 1, 0, ?, 0, 0)`);
    // queue_order below the benchmark's own jobs, as older finished work would be.
    for (let index = 0; index < count; index += 1) insert.run(`old-${index}`, `lane-${index % 5_000}`, -count + index);
  })();
  db.close();
}

try {
  const emptyPath = join(directory, 'empty.db');
  const empty = openSqliteStore(emptyPath);
  await cycle(empty, 200, 'warm');
  const emptyMicros = await cycle(empty, cycles, 'empty');

  const keyStarted = process.hrtime.bigint();
  for (let index = 0; index < cycles; index += 1) await empty.claimKey(`event:${index}`, 3_600_000, clock);
  const claimKeyMicros = Number(process.hrtime.bigint() - keyStarted) / 1_000 / cycles;
  const emptyCountMicros = await countMicros(empty, 200);
  await empty.close();

  const fullPath = join(directory, 'full.db');
  await openSqliteStore(fullPath).close();
  fillDoneJobs(fullPath, doneJobs);
  const full = openSqliteStore(fullPath);
  await cycle(full, 200, 'warm');
  const fullMicros = await cycle(full, cycles, 'full');
  const counts = await full.countJobs();
  const fullCountMicros = await countMicros(full, 200);
  await full.close();

  console.log(`sqlite store, ${cycles} enqueue+claim+complete cycles (µs per cycle)`);
  console.log(`  empty table (baseline)        ${emptyMicros.toFixed(1)}`);
  console.log(
    `  with ${doneJobs} done jobs       ${fullMicros.toFixed(1)}   ratio ${(fullMicros / emptyMicros).toFixed(2)}`,
  );
  console.log(`  claimKey                      ${claimKeyMicros.toFixed(1)} µs per claim`);
  console.log(
    `  countJobs                     ${emptyCountMicros.toFixed(1)} µs on the empty table, ${fullCountMicros.toFixed(1)} µs with ${doneJobs} done jobs   ratio ${(fullCountMicros / emptyCountMicros).toFixed(2)}`,
  );
  console.log(`  final counts ${JSON.stringify(counts)}`);
} finally {
  rmSync(directory, { recursive: true, force: true });
}

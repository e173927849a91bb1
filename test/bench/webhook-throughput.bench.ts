/**
 * Webhook ingest throughput and ack latency under load, next to a bare Hono route in the same run.
 *
 *   node --import tsx test/bench/webhook-throughput.bench.ts [requests] [connections]
 *
 * autocannon posts `requests` (default 10 000) signed and AES-encrypted `im.message.receive_v1`
 * events, every one a new event id and message id (prepared up front, so the generator does no
 * crypto while measuring and dedupe never short-circuits), over `connections` (default 16)
 * keep-alive connections on 127.0.0.1, to servers each in their own process:
 *
 *   1. bare Hono 200 route (baseline), measured before AND after the bot, to show drift;
 *   2. the real bot from startBot: signature check, decryption, token check, two durable dedupe
 *      claims and a durable enqueue in a SQLite FILE (WAL) before every 200, with an 'answer'
 *      handler that completes at once — so the same process also claims and completes every job
 *      while it acks (the model is never in the ack path);
 *   3. the same with an 'answer' handler that never finishes (all agent slots busy, as with a
 *      slow model): the ack path alone;
 *   4. (where /dev/shm exists) run 2 with the SQLite file on tmpfs: how much of the gap is the
 *      disk, not the code.
 *
 * Afterwards it opens each SQLite file and checks that every acknowledged event is a job in it
 * (nothing acked was lost). The goal from issue 8 is at least half the bare route's throughput;
 * the PASS/FAIL line reports it without failing the run.
 */
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openSqliteStore } from '../../lib/store/sqlite-store.js';
import { buildMessageEvent, eventRequest } from '../fakes/event-sender.js';
import {
  type ChildServer,
  describeMachine,
  type LoadResult,
  type PreparedRequest,
  printTable,
  ratio,
  runAutocannon,
  startChildServer,
  summaryLine,
} from './bench-support.js';

const requests = Number(process.argv[2] ?? 10_000);
const connections = Number(process.argv[3] ?? 16);
const warmup = Math.max(connections * 10, Math.min(2_000, Math.floor(requests / 10)));
const encryptKey = 'bench-encrypt-key';
const token = 'bench-verification-token';
const serverScript = new URL('./bench-server.ts', import.meta.url).pathname;
const GOAL = 0.5;

let batch = 0;
/** Distinct signed + encrypted deliveries across 1 000 chats, signed now (the skew window is 5 min). */
function prepare(count: number): PreparedRequest[] {
  batch += 1;
  return Array.from({ length: count }, (_, index) => {
    const event = buildMessageEvent({
      chatType: 'group',
      chatId: `oc_bench_${index % 1_000}`,
      text: `benchmark message ${batch}.${index}`,
      eventId: `bench-${batch}-${index}`,
      messageId: `om_bench_${batch}_${index}`,
      token,
    });
    const { headers, body } = eventRequest(event, { encryptKey });
    return { headers, body };
  });
}

async function measure(server: ChildServer): Promise<LoadResult> {
  const url = `http://127.0.0.1:${server.port}/webhook/event`;
  const warm = await runAutocannon({ url, amount: warmup, connections, bodies: prepare(warmup + connections * 4) });
  const measured = await runAutocannon({
    url,
    amount: requests,
    connections,
    bodies: prepare(requests + connections * 4),
    deadlineMs: 120_000,
  });
  if (warm.non2xx + measured.non2xx + measured.errors > 0) {
    throw new Error(`non-2xx answers or errors: ${JSON.stringify({ warm, measured })}`);
  }
  return { ...measured, ok: measured.ok, non2xx: measured.non2xx };
}

async function bareRun(): Promise<LoadResult> {
  const server = await startChildServer(serverScript, ['bare']);
  try {
    return await measure(server);
  } finally {
    await server.stop();
  }
}

async function botRun(directory: string, handler: 'noop' | 'hold') {
  const file = join(directory, `bot-${handler}-${batch}.db`);
  const server = await startChildServer(serverScript, ['bot', file, handler], {
    env: { BENCH_ENCRYPT_KEY: encryptKey, BENCH_VERIFICATION_TOKEN: token },
  });
  let result: LoadResult;
  try {
    result = await measure(server);
  } finally {
    await server.stop();
  }
  // Every 200 must be a durable job: count them in the file the stopped process left behind.
  const store = openSqliteStore(file);
  const counts = await store.countJobs();
  await store.close();
  const jobs = counts.pending + counts.leased + counts.done + counts.dead;
  return { result, counts, jobs };
}

const directory = mkdtempSync(join(tmpdir(), 'webhook-throughput-bench-'));
const memoryDirectory = existsSync('/dev/shm') ? mkdtempSync('/dev/shm/webhook-throughput-bench-') : undefined;
try {
  console.log(`webhook ingest throughput: ${describeMachine()}`);
  console.log(
    `  ${requests} distinct signed+encrypted message events per run (+${warmup} warm-up), ${connections} connections, autocannon on 127.0.0.1, each server in its own process`,
  );
  const bareBefore = await bareRun();
  const noop = await botRun(directory, 'noop');
  const hold = await botRun(directory, 'hold');
  const tmpfs = memoryDirectory === undefined ? undefined : await botRun(memoryDirectory, 'noop');
  const bareAfter = await bareRun();
  const bareRps = (bareBefore.requestsPerSecond + bareAfter.requestsPerSecond) / 2;
  const bareP50 = (bareBefore.p50 + bareAfter.p50) / 2;
  const bareP99 = (bareBefore.p99 + bareAfter.p99) / 2;

  const row = (name: string, result: LoadResult): string[] => [
    name,
    result.requestsPerSecond.toFixed(0),
    ratio(result.requestsPerSecond, bareRps),
    `${result.p50.toFixed(2)} ms`,
    ratio(result.p50, bareP50),
    `${result.p99.toFixed(2)} ms`,
    ratio(result.p99, bareP99),
    `${result.max.toFixed(0)} ms`,
  ];
  printTable(
    ['', 'req/s', 'vs bare', 'p50', 'vs bare', 'p99', 'vs bare', 'max'],
    [
      row('bare Hono 200 (before)', bareBefore),
      row('bare Hono 200 (after)', bareAfter),
      row('bot, jobs completed too', noop.result),
      row('bot, agent slots held', hold.result),
      ...(tmpfs === undefined ? [] : [row('bot, jobs completed, tmpfs', tmpfs.result)]),
    ],
  );
  console.log(
    `  durability: ${noop.jobs} jobs on disk for ${noop.result.ok + warmup} acks (completed in-run: ${noop.counts.done}); ${hold.jobs} jobs for ${hold.result.ok + warmup} acks`,
  );
  if (noop.jobs < noop.result.ok + warmup || hold.jobs < hold.result.ok + warmup) {
    console.log('  LOST: fewer jobs on disk than acknowledged events');
    process.exitCode = 1;
  }
  const share = noop.result.requestsPerSecond / bareRps;
  const verdict = share >= GOAL ? 'PASS' : 'FAIL';
  console.log(
    `  goal (issue 8): webhook ≥ ${GOAL * 100}% of the bare route's throughput → ${(share * 100).toFixed(0)}% (${verdict})`,
  );
  summaryLine(
    `webhook ingest ${noop.result.requestsPerSecond.toFixed(0)} req/s vs bare ${bareRps.toFixed(0)} req/s = ${ratio(noop.result.requestsPerSecond, bareRps)} (${verdict} ≥ 0.50×); ack p50 ${noop.result.p50.toFixed(2)} ms / p99 ${noop.result.p99.toFixed(2)} ms vs bare ${bareP50.toFixed(2)} / ${bareP99.toFixed(2)} ms`,
  );
  if (tmpfs !== undefined) {
    summaryLine(
      `webhook ingest, store on tmpfs: ${tmpfs.result.requestsPerSecond.toFixed(0)} req/s = ${ratio(tmpfs.result.requestsPerSecond, bareRps)} of bare (the rest of the gap to the disk run is the disk)`,
    );
  }
  summaryLine(
    `webhook ingest, agent slots held: ${hold.result.requestsPerSecond.toFixed(0)} req/s = ${ratio(hold.result.requestsPerSecond, bareRps)} of bare; p99 ${hold.result.p99.toFixed(2)} ms`,
  );
} finally {
  rmSync(directory, { recursive: true, force: true });
  if (memoryDirectory !== undefined) rmSync(memoryDirectory, { recursive: true, force: true });
}

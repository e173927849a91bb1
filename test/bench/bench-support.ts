/**
 * Shared pieces of the benchmarks in test/bench: percentiles, the machine description, a bounded
 * autocannon run on 127.0.0.1, bench servers in child processes, and a printer that puts every
 * figure next to its same-run baseline as a ratio.
 *
 * Conventions every bench follows so `run-all.ts` can summarise them: figures go to stdout, and
 * the lines worth repeating in the final summary start with `summary: `.
 *
 * @example
 * const result = await runAutocannon({ url, amount: 10_000, connections: 16, bodies });
 * printComparison('webhook ingest', [{ name: 'bare Hono', ...baseline }, { name: 'bot', ...bot }]);
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { availableParallelism, cpus, freemem, loadavg, totalmem } from 'node:os';
import { createInterface } from 'node:readline';
import autocannon from 'autocannon';

// ───────────────────────────── statistics ─────────────────────────────

/** Nearest-rank percentile of an ascending array (NaN when empty). */
export function percentile(sorted: readonly number[], fraction: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(fraction * sorted.length) - 1))] ?? Number.NaN;
}

export interface LatencySummary {
  n: number;
  p50: number;
  p99: number;
  max: number;
  mean: number;
}

export function summarise(values: readonly number[]): LatencySummary {
  const sorted = [...values].sort((a, b) => a - b);
  const sum = sorted.reduce((total, value) => total + value, 0);
  return {
    n: sorted.length,
    p50: percentile(sorted, 0.5),
    p99: percentile(sorted, 0.99),
    max: sorted.at(-1) ?? Number.NaN,
    mean: sorted.length === 0 ? Number.NaN : sum / sorted.length,
  };
}

/** `measured / baseline` as `1.23×` (how many times the baseline). */
export function ratio(measured: number, baseline: number): string {
  if (!Number.isFinite(measured) || !Number.isFinite(baseline) || baseline === 0) return 'n/a';
  return `${(measured / baseline).toFixed(2)}×`;
}

export const ms = (value: number, digits = 2) => (Number.isFinite(value) ? `${value.toFixed(digits)} ms` : 'n/a');
export const mib = (bytes: number) => `${(bytes / 1024 / 1024).toFixed(1)} MiB`;

// ───────────────────────────── the machine ─────────────────────────────

export interface MachineInfo {
  cpus: number;
  cpuModel: string;
  memoryGiB: number;
  freeMemoryGiB: number;
  loadAverage: string;
  node: string;
  platform: string;
}

export function machineInfo(): MachineInfo {
  return {
    cpus: availableParallelism(),
    cpuModel: cpus()[0]?.model ?? 'unknown',
    memoryGiB: Math.round((totalmem() / 1024 ** 3) * 10) / 10,
    freeMemoryGiB: Math.round((freemem() / 1024 ** 3) * 10) / 10,
    loadAverage: loadavg()
      .map((value) => value.toFixed(2))
      .join(' '),
    node: process.version,
    platform: `${process.platform} ${process.arch}`,
  };
}

export function describeMachine(info: MachineInfo = machineInfo()): string {
  return `${info.cpus} CPUs (${info.cpuModel}), ${info.memoryGiB} GiB RAM (${info.freeMemoryGiB} free), load ${info.loadAverage}, Node ${info.node}, ${info.platform}`;
}

// ───────────────────────────── load generation ─────────────────────────────

export interface PreparedRequest {
  headers: Record<string, string>;
  body: string;
}

export interface LoadResult {
  /** 2xx answers per second over the run. */
  requestsPerSecond: number;
  /** Ack latency as autocannon measures it (request written → response read), ms. */
  p50: number;
  p99: number;
  max: number;
  ok: number;
  non2xx: number;
  errors: number;
  timeouts: number;
  seconds: number;
}

/**
 * One bounded autocannon run against a 127.0.0.1 URL: `amount` POSTs (each with the next of
 * `bodies`, so every request can be a distinct event), stopped early at `deadlineMs` whatever
 * happened. Refuses any other host, so a bench can never load something real.
 */
export async function runAutocannon({
  url,
  amount,
  connections = 16,
  bodies,
  deadlineMs = 60_000,
  timeoutSeconds = 10,
}: {
  url: string;
  amount: number;
  connections?: number;
  /** Each request takes the next one; a bench must prepare at least `amount + connections`. */
  bodies: readonly PreparedRequest[];
  deadlineMs?: number;
  timeoutSeconds?: number;
}): Promise<LoadResult> {
  if (new URL(url).hostname !== '127.0.0.1') throw new Error(`benchmarks only load 127.0.0.1, not ${url}`);
  if (bodies.length < amount) throw new Error(`${bodies.length} bodies prepared for ${amount} requests`);
  let next = 0;
  let okResponses = 0;
  let lastResponseAt = 0;
  const options: autocannon.Options = {
    url,
    connections,
    amount,
    timeout: timeoutSeconds,
    method: 'POST',
    requests: [
      {
        method: 'POST',
        setupRequest: (request) => {
          // Past the prepared bodies (autocannon may ask for a few extra in flight) reuse the
          // last ones: they answer as duplicates, which only happens after `amount` completed.
          const prepared = bodies[Math.min(next, bodies.length - 1)]!;
          next += 1;
          return { ...request, headers: { ...prepared.headers }, body: prepared.body };
        },
        onResponse: (status) => {
          lastResponseAt = performance.now();
          if (status >= 200 && status < 300) okResponses += 1;
        },
      },
    ],
  };
  let deadline: NodeJS.Timeout | undefined;
  try {
    // Timed here, from the start to the last response: autocannon finishes (and measures its
    // `duration`) on whole one-second ticks, far too coarse for runs of a few seconds.
    const started = performance.now();
    const result = await new Promise<autocannon.Result>((resolve, reject) => {
      const instance = autocannon(options, (error: unknown, finished: autocannon.Result) =>
        error ? reject(error) : resolve(finished),
      );
      deadline = setTimeout(() => instance.stop(), deadlineMs);
    });
    const seconds = (lastResponseAt - started) / 1000;
    return {
      requestsPerSecond: okResponses / seconds,
      p50: result.latency.p50,
      p99: result.latency.p99,
      max: result.latency.max,
      ok: result['2xx'],
      non2xx: result.non2xx,
      errors: result.errors,
      timeouts: result.timeouts,
      seconds,
    };
  } finally {
    clearTimeout(deadline);
  }
}

// ───────────────────────────── bench servers in child processes ─────────────────────────────

export interface ChildServer {
  port: number;
  /** What the child announced on its READY line besides the port. */
  details: Record<string, unknown>;
  child: ChildProcess;
  /** SIGTERM, then waits for exit; resolves with the child's STATS line (parsed) if it printed one. */
  stop(): Promise<Record<string, unknown> | undefined>;
}

/**
 * Starts `node --import tsx <script> ...args` and waits for its `READY {json}` line (with a
 * `port`). A server under load in its own process keeps the load generator from stealing its
 * event loop; the same launcher for the baseline keeps the comparison fair.
 */
export async function startChildServer(
  script: string,
  args: readonly string[],
  { env = {}, startTimeoutMs = 30_000 }: { env?: Record<string, string>; startTimeoutMs?: number } = {},
): Promise<ChildServer> {
  // BENCH_CPU_PROFILE_DIR=/tmp/profiles: each bench server writes a V8 CPU profile there when it
  // stops (open it in Chrome DevTools), to see where a figure's time goes.
  const profileDirectory = process.env.BENCH_CPU_PROFILE_DIR;
  const profiling = profileDirectory ? ['--cpu-prof', `--cpu-prof-dir=${profileDirectory}`] : [];
  const child = spawn(process.execPath, ['--expose-gc', ...profiling, '--import', 'tsx', script, ...args], {
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const lines = createInterface({ input: child.stdout! });
  let stats: Record<string, unknown> | undefined;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const ready = new Promise<Record<string, unknown>>((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`${script} did not start in ${startTimeoutMs} ms`)),
      startTimeoutMs,
    );
    lines.on('line', (line) => {
      if (line.startsWith('READY ')) {
        clearTimeout(timer);
        resolve(JSON.parse(line.slice('READY '.length)) as Record<string, unknown>);
      } else if (line.startsWith('STATS ')) {
        stats = JSON.parse(line.slice('STATS '.length)) as Record<string, unknown>;
      } else {
        process.stdout.write(`  [${script.split('/').pop()}] ${line}\n`);
      }
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`${script} exited with ${code} before it was ready`));
    });
  });
  const details = await ready;
  return {
    port: Number(details.port),
    details,
    child,
    async stop() {
      if (child.exitCode === null) child.kill('SIGTERM');
      const killer = setTimeout(() => child.kill('SIGKILL'), 15_000);
      await exited;
      clearTimeout(killer);
      return stats;
    },
  };
}

// ───────────────────────────── printing ─────────────────────────────

/** Prints aligned rows; the first column is the label. */
export function printTable(header: readonly string[], rows: readonly (readonly string[])[]): void {
  const widths = header.map((title, column) =>
    Math.max(title.length, ...rows.map((row) => (row[column] ?? '').length)),
  );
  const line = (cells: readonly string[]) =>
    `  ${cells.map((cell, column) => (column === 0 ? cell.padEnd(widths[column]!) : cell.padStart(widths[column]!))).join('   ')}`;
  console.log(line(header));
  for (const row of rows) console.log(line(row));
}

/** A line `run-all.ts` repeats in its final summary. */
export function summaryLine(text: string): void {
  console.log(`summary: ${text}`);
}

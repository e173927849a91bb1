import { readFileSync } from 'node:fs';

/**
 * The main thread's own CPU time in µs (Linux's per-thread schedstat; undefined elsewhere). The
 * event loop is one thread: its share says whether a figure is bound by the loop or by the
 * machine's cores (GC helpers, the thread pool's flushes and the load generator share them).
 * Kept apart from bench-support.ts so the bench servers load nothing more than they measure.
 *
 * @example
 * const before = mainThreadCpuMicros();
 * work();
 * const spent = (mainThreadCpuMicros() ?? Number.NaN) - (before ?? Number.NaN);
 */
export function mainThreadCpuMicros(): number | undefined {
  try {
    return Number(readFileSync(`/proc/self/task/${process.pid}/schedstat`, 'utf8').split(' ')[0]) / 1000;
  } catch {
    return undefined;
  }
}

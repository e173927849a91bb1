/**
 * A child process for the cross-process store test: it opens the store at argv[2], prints
 * `ready`, waits for a `go` line on stdin (so every worker starts racing at the same moment),
 * then races the other workers to claim keys and to claim + complete jobs, and prints one JSON
 * line with what it won.
 *
 * Usage: node --import tsx test/store/claim-worker.ts <storeUrl> <workerId> <keyCount> <deadlineMs>
 */
import { createInterface } from 'node:readline';
import { openStore } from '../../lib/store/open-store.js';

export interface ClaimWorkerResult {
  workerId: string;
  keys: string[];
  jobs: string[];
  /** Jobs claimed while an older job of their lane was not done yet (must stay empty). */
  fifoViolations: string[];
}

/** Payload the test enqueues, so the worker can check per-lane order on its own. */
export interface RaceJobPayload {
  previousId: string | null;
}

async function main(): Promise<void> {
  const [storeUrl, workerId, keyCountText, deadlineText] = process.argv.slice(2);
  if (!storeUrl || !workerId || !keyCountText || !deadlineText) {
    throw new Error('usage: claim-worker.ts <storeUrl> <workerId> <keyCount> <deadlineMs>');
  }
  const keyCount = Number(keyCountText);
  const deadline = Date.now() + Number(deadlineText);
  const store = await openStore(storeUrl);
  try {
    await waitForGo();
    const result: ClaimWorkerResult = { workerId, keys: [], jobs: [], fifoViolations: [] };

    for (let index = 0; index < keyCount; index += 1) {
      const key = `race-key-${index}`;
      if (await store.claimKey(key, 600_000)) result.keys.push(key);
    }

    for (;;) {
      if (Date.now() > deadline) throw new Error(`worker ${workerId} passed its deadline with jobs left`);
      const job = await store.claimNextJob({ owner: workerId, leaseMs: 600_000 });
      if (!job) {
        const counts = await store.countJobs();
        if (counts.pending + counts.leased === 0) break;
        // Every remaining lane is held by another worker: let it finish.
        await new Promise((resolve) => setTimeout(resolve, 2));
        continue;
      }
      const { previousId } = job.payload as RaceJobPayload;
      if (previousId !== null && (await store.getJob(previousId))?.status !== 'done') {
        result.fifoViolations.push(job.id);
      }
      result.jobs.push(job.id);
      // Yield so other workers get to claim while this lane is held.
      await new Promise((resolve) => setImmediate(resolve));
      if (!(await store.completeJob(job.id, workerId))) throw new Error(`worker ${workerId} lost job ${job.id}`);
    }
    process.stdout.write(`${JSON.stringify(result)}\n`);
  } finally {
    await store.close();
  }
}

function waitForGo(): Promise<void> {
  process.stdout.write('ready\n');
  const lines = createInterface({ input: process.stdin });
  return new Promise((resolve, reject) => {
    let started = false;
    lines.on('line', (line) => {
      if (line.trim() === 'go') {
        started = true;
        resolve();
        lines.close();
      }
    });
    lines.on('close', () => {
      if (!started) reject(new Error('stdin closed before go'));
    });
  });
}

main().then(
  () => process.exit(0),
  (error: unknown) => {
    process.stderr.write(`${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
    process.exit(1);
  },
);

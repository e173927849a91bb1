import { Worker } from 'node:worker_threads';
import { AttachmentError, type AttachmentErrorJson, formatDuration } from './attachment-error.js';
import type { DetectedType } from './detect-type.js';
import type { ExtractDocumentOptions, ExtractedDocument } from './extract-document.js';

/**
 * The worker's whole program, inline so it runs the same under tsx, vitest and the compiled
 * dist/. From TypeScript sources (tests, benches) it registers tsx first; the compiled service
 * imports the emitted .js directly.
 */
const WORKER_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
const loaded = (async () => {
  if (workerData.typescript) (await import('tsx/esm/api')).register();
  const module = await import(workerData.moduleUrl);
  await module.warmUpExtractors();
  return module;
})();
loaded.then(() => parentPort.postMessage({ ready: true }), () => undefined);
parentPort.on('message', async ({ id, bytes, type, options }) => {
  try {
    const { extractDocument } = await loaded;
    parentPort.postMessage({ id, result: await extractDocument(bytes, type, options) });
  } catch (error) {
    const known = error !== null && typeof error === 'object' && typeof error.code === 'string' && error.name === 'AttachmentError';
    parentPort.postMessage({ id, error: known ? error.toJSON() : { message: String(error && error.stack || error) } });
  }
});
`;

const EXTRACTOR_URL = new URL(`./extract-document.${import.meta.url.endsWith('.ts') ? 'ts' : 'js'}`, import.meta.url);

export interface ExtractionPoolOptions {
  /**
   * One file in the worker, from posting it to its result. Queue wait is not included (the queue
   * is bounded by `maxQueued`, so a wait is at most that many files' limits), nor is loading the
   * parsers into a fresh worker (bounded by `startTimeoutMs`).
   */
  timeoutMs?: number;
  /** Extractions allowed to wait; one more fails at once with ATTACHMENT_BUSY. */
  maxQueued?: number;
  /** Loading the parsers into a new worker. */
  startTimeoutMs?: number;
  /** V8 heap of the worker; a parser that needs more kills only the worker (ATTACHMENT_TOO_LARGE). */
  maxHeapMb?: number;
  /** An idle worker exits after this long, returning its memory (pdf.js caches, parser state). */
  idleMs?: number;
}

export interface ExtractionPool {
  /** `extractDocument` in the worker, bounded by the pool's timeout and the caller's signal. */
  extract(
    bytes: Uint8Array,
    type: DetectedType,
    options: ExtractDocumentOptions & { signal?: AbortSignal },
  ): Promise<ExtractedDocument>;
  /**
   * Starts the worker and resolves once it has loaded every parser (never rejects). Call it at
   * start-up: loading is not charged to a file's timeout only when it happened before.
   */
  warm(): Promise<void>;
  stats(): { queued: number; running: boolean; workerAlive: boolean; restarts: number };
  /** Fails whatever waits or runs with ATTACHMENT_ABORTED and stops the worker. */
  close(): Promise<void>;
}

interface Task {
  id: number;
  bytes: Uint8Array;
  type: DetectedType;
  options: ExtractDocumentOptions;
  resolve(document: ExtractedDocument): void;
  reject(error: Error): void;
  /** Start-up, then the file's own time limit; none while queued. */
  timer?: NodeJS.Timeout;
  signal?: AbortSignal;
  onAbort?: () => void;
  /** The worker it was posted to, so a dying old worker never fails a task of its successor. */
  worker?: Worker;
}

type Reply =
  | { id: number; result: ExtractedDocument }
  | { id: number; error: AttachmentErrorJson | { message: string } };

/**
 * Document extraction off the main thread, one file at a time in one worker thread. Parsers are
 * synchronous for long stretches (a 100 000-row sheet blocks about 3 s; a hostile PDF can loop
 * far longer), and a promise timeout cannot interrupt synchronous code: terminating the worker
 * can. So a file that runs past `timeoutMs` or exhausts `maxHeapMb` costs only a worker restart,
 * and the event loop keeps acking webhooks meanwhile.
 *
 * @example
 * const pool = createExtractionPool({ timeoutMs: 20_000 });
 * const document = await pool.extract(bytes, type, { name: 'q3.pdf', maxChars: 40_000, signal });
 * await pool.close(); // at shutdown
 */
export function createExtractionPool({
  timeoutMs = 20_000,
  maxQueued = 32,
  startTimeoutMs = 30_000,
  maxHeapMb = 512,
  idleMs = 60_000,
}: ExtractionPoolOptions = {}): ExtractionPool {
  const queue: Task[] = [];
  let running: Task | undefined;
  let worker: Worker | undefined;
  let ready: Promise<void> | undefined;
  let idleTimer: NodeJS.Timeout | undefined;
  let nextId = 1;
  let restarts = 0;
  let closed = false;

  function startWorker(): Worker {
    let markReady: () => void = () => undefined;
    ready = new Promise<void>((resolve) => {
      markReady = resolve;
    });
    const started = new Worker(WORKER_SOURCE, {
      eval: true,
      workerData: { moduleUrl: EXTRACTOR_URL.href, typescript: EXTRACTOR_URL.pathname.endsWith('.ts') },
      resourceLimits: { maxOldGenerationSizeMb: maxHeapMb },
      stdout: true,
      stderr: true,
    });
    // The worker never keeps a draining process alive; its output is pdf.js chatter, dropped.
    started.unref();
    started.stdout.resume();
    started.stderr.resume();
    started.on('message', (reply: Reply) => {
      if ('ready' in reply) {
        markReady();
        return;
      }
      if (running === undefined || reply.id !== running.id) return;
      const task = running;
      finish(task);
      if ('result' in reply) task.resolve(reply.result);
      else if ('code' in reply.error) task.reject(AttachmentError.fromJSON(reply.error));
      else task.reject(new Error(`extraction failed: ${reply.error.message}`));
    });
    started.on('error', (error: Error & { code?: string }) => {
      const task = running;
      if (task === undefined || task.worker !== started) return;
      finish(task);
      task.reject(
        error.code === 'ERR_WORKER_OUT_OF_MEMORY'
          ? new AttachmentError({
              code: 'ATTACHMENT_TOO_LARGE',
              fileName: task.options.name,
              reason: `reading it needed more than the ${maxHeapMb} MB of memory allowed`,
              cause: error,
            })
          : error,
      );
    });
    started.once('exit', () => {
      markReady();
      if (worker === started) {
        worker = undefined;
        ready = undefined;
      }
      const task = running;
      if (task !== undefined && task.worker === started) {
        finish(task);
        task.reject(new Error('the extraction worker exited unexpectedly'));
      }
    });
    return started;
  }

  function ensureWorker(): Worker {
    worker ??= startWorker();
    return worker;
  }

  /** Clears a task's timer and abort listener; frees the slot if it was running. */
  function finish(task: Task): void {
    clearTimeout(task.timer);
    if (task.onAbort !== undefined) task.signal?.removeEventListener('abort', task.onAbort);
    if (running === task) {
      running = undefined;
      queueMicrotask(pump);
    } else {
      const index = queue.indexOf(task);
      if (index !== -1) queue.splice(index, 1);
    }
  }

  /** Gives up on a task: a queued one just leaves; a running one takes the worker down with it. */
  function cancel(task: Task, error: AttachmentError): void {
    const wasRunning = running === task;
    finish(task);
    task.reject(error);
    if (wasRunning && worker !== undefined) {
      const stopping = worker;
      worker = undefined;
      ready = undefined;
      restarts += 1;
      void stopping.terminate();
    }
  }

  function timeoutError(task: Task, reason: string): AttachmentError {
    return new AttachmentError({ code: 'ATTACHMENT_TIMEOUT', fileName: task.options.name, reason });
  }

  function pump(): void {
    if (closed || running !== undefined) return;
    const task = queue.shift();
    if (task === undefined) {
      scheduleIdleExit();
      return;
    }
    clearTimeout(idleTimer);
    running = task;
    const target = ensureWorker();
    task.worker = target;
    // A worker that never finishes loading must not hold the task forever.
    task.timer = setTimeout(
      () => cancel(task, timeoutError(task, 'the document reader did not start in time')),
      startTimeoutMs,
    );
    task.timer.unref();
    void (ready ?? Promise.resolve()).then(() => {
      if (running !== task || worker !== target) return;
      // The file's own time starts now: loading the parsers is not charged to it.
      clearTimeout(task.timer);
      task.timer = setTimeout(
        () => cancel(task, timeoutError(task, `reading it took longer than ${formatDuration(timeoutMs)}`)),
        timeoutMs,
      );
      task.timer.unref();
      // A copy the worker owns (transferred, not cloned again): the caller keeps its bytes.
      const copy = new Uint8Array(task.bytes);
      task.bytes = new Uint8Array(0);
      target.postMessage({ id: task.id, bytes: copy, type: task.type, options: task.options }, [copy.buffer]);
    });
  }

  function scheduleIdleExit(): void {
    clearTimeout(idleTimer);
    if (worker === undefined) return;
    idleTimer = setTimeout(() => {
      if (running === undefined && queue.length === 0 && worker !== undefined) {
        const idle = worker;
        worker = undefined;
        ready = undefined;
        void idle.terminate();
      }
    }, idleMs);
    idleTimer.unref();
  }

  return {
    extract(bytes, type, { signal, ...options }) {
      return new Promise<ExtractedDocument>((resolve, reject) => {
        const name = options.name;
        if (closed || signal?.aborted) {
          reject(
            new AttachmentError({ code: 'ATTACHMENT_ABORTED', fileName: name, reason: 'reading it was cancelled' }),
          );
          return;
        }
        if (queue.length >= maxQueued) {
          reject(
            new AttachmentError({
              code: 'ATTACHMENT_BUSY',
              fileName: name,
              reason: 'too many files are being read right now; please send it again in a minute',
            }),
          );
          return;
        }
        const task: Task = { id: nextId++, bytes, type, options, resolve, reject, signal };
        if (signal !== undefined) {
          task.onAbort = () =>
            cancel(
              task,
              new AttachmentError({ code: 'ATTACHMENT_ABORTED', fileName: name, reason: 'reading it was cancelled' }),
            );
          signal.addEventListener('abort', task.onAbort, { once: true });
        }
        queue.push(task);
        pump();
      });
    },
    warm() {
      if (closed) return Promise.resolve();
      ensureWorker();
      if (running === undefined && queue.length === 0) scheduleIdleExit();
      return ready ?? Promise.resolve();
    },
    stats() {
      return { queued: queue.length, running: running !== undefined, workerAlive: worker !== undefined, restarts };
    },
    async close() {
      closed = true;
      clearTimeout(idleTimer);
      const aborted = (task: Task) =>
        new AttachmentError({
          code: 'ATTACHMENT_ABORTED',
          fileName: task.options.name,
          reason: 'reading it was cancelled',
        });
      for (const task of [...queue]) cancel(task, aborted(task));
      if (running !== undefined) cancel(running, aborted(running));
      const last = worker;
      worker = undefined;
      if (last !== undefined) await last.terminate();
    },
  };
}

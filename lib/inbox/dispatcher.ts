import type { Logger } from '../log.js';
import type { EventBus } from '../observe/event-bus.js';
import type { Job, Store } from '../store/store.js';
import { backoffDelay } from '../util/backoff.js';
import { errorMessage } from '../util/error-message.js';
import { sleep } from '../util/sleep.js';
import { idempotencyKey } from './idempotency-key.js';
import type { AbortReason, JobContext, JobHandler } from './job-handler.js';

export interface DispatcherOptions {
  store: Store;
  bus: EventBus;
  log: Logger;
  /** This process's lease owner id (config.instanceId): unique per process. */
  owner: string;
  /** One handler per job kind; only kinds with a handler are claimed. */
  handlers: Readonly<Record<string, JobHandler>>;
  /**
   * Most jobs running at once in the main pool (agent runs), not counting `reservedKinds`; a
   * function is read at every claim (the model chain's adaptive limit). Call `wake` when it grows.
   */
  concurrency: number | (() => number);
  /**
   * Kinds that run in a small pool of their own, never waiting behind the main `concurrency` cap:
   * a short reply about the overload (the busy notice) must not wait for the overload to clear.
   */
  reservedKinds?: readonly string[];
  /** Slots of that reserved pool. */
  reservedConcurrency?: number;
  leaseMs: number;
  /** A job failing this many attempts goes to the dead-letter state. */
  maxAttempts: number;
  /** How often to look for jobs others enqueued, retries that became due, and expired leases. */
  pollIntervalMs?: number;
  /** First retry delay; doubles per attempt, capped at maxRetryBackoffMs. */
  retryBackoffMs?: number;
  maxRetryBackoffMs?: number;
  /**
   * After drain aborts the stragglers, how long they get to stop. One still running after that is
   * not handed back: its lease is left to lapse (renewals stop), so the next holder only starts
   * once this process can no longer be writing the same card.
   */
  abortGraceMs?: number;
  /**
   * Last words for a job going to the dead-letter state (its holders kept dying, or its last
   * attempt failed): its handler never runs again, so this is where a half-written reply is
   * closed with a notice instead of streaming forever. Runs while the job is still held, bounded
   * by `deadLetterTimeoutMs` (its signal aborts with 'timeout'); a failure is only logged.
   */
  onDeadLetter?: (context: JobContext, error: string) => Promise<void>;
  deadLetterTimeoutMs?: number;
  now?: () => number;
}

export interface Dispatcher {
  /** Starts claiming; jobs whose lease expired (a crashed holder) are picked up right away. */
  start(): void;
  /**
   * Claims now instead of at the next poll (the inbox calls it after a local enqueue). With the
   * enqueued job's kind, only that slot type is filled, and nothing is queried when it is full:
   * the ack path must not pay for a claim that cannot start anything.
   */
  wake(kind?: string): void;
  /**
   * Stops claiming, waits up to `timeoutMs` for running jobs, then aborts the rest with
   * reason 'shutdown' and hands their jobs back for the next process. A job whose handler still
   * returns normally after the abort (within `abortGraceMs`) is completed, not handed back; one
   * whose handler is still running after `abortGraceMs` keeps its lease until it lapses.
   */
  drain(timeoutMs: number): Promise<void>;
  /** drain(0). */
  stop(): Promise<void>;
  /** Jobs running now, by pool. */
  running(): { main: number; reserved: number };
}

type Pool = 'main' | 'reserved';

/** Claims sent to the store together at most (a bounded batch however large the pool). */
const MAX_CLAIMS_AT_ONCE = 16;

/** Retry wake-ups remembered at most; later ones are found by the poll. */
const MAX_RETRY_WAKES = 1_024;

interface RunningJob {
  job: Job;
  controller: AbortController;
  done: Promise<void>;
  /** Set once the job was handed back or finished, so nothing writes it twice. */
  settled: boolean;
  startedAt: number;
}

/**
 * Runs durable inbox jobs: per-lane FIFO and cross-process lane exclusivity come from
 * `store.claimNextJob`; this adds the global concurrency cap, leases renewed at a third of
 * their length, retries with back-off, dead letters, and a drain that hands work back.
 *
 * @example
 * const dispatcher = createDispatcher({ store, bus, log, owner: config.instanceId, handlers: { answer, notice },
 *   concurrency: 4, reservedKinds: ['notice'], leaseMs: 60_000, maxAttempts: 3 });
 * dispatcher.start();
 * // on shutdown:
 * await dispatcher.drain(10_000);
 */
export function createDispatcher({
  store,
  bus,
  log,
  owner,
  handlers,
  concurrency,
  reservedKinds = [],
  reservedConcurrency = 2,
  leaseMs,
  maxAttempts,
  pollIntervalMs = 1_000,
  retryBackoffMs = 2_000,
  maxRetryBackoffMs = 5 * 60_000,
  abortGraceMs = 1_000,
  onDeadLetter,
  deadLetterTimeoutMs = 10_000,
  now = Date.now,
}: DispatcherOptions): Dispatcher {
  const kindsOf: Record<Pool, string[]> = {
    main: Object.keys(handlers).filter((kind) => !reservedKinds.includes(kind)),
    reserved: reservedKinds.filter((kind) => kind in handlers),
  };
  const capOf: Record<Pool, () => number> = {
    main: typeof concurrency === 'number' ? () => concurrency : () => Math.max(1, Math.floor(concurrency())),
    reserved: () => reservedConcurrency,
  };
  const runningIn: Record<Pool, number> = { main: 0, reserved: 0 };
  const inFlight = new Map<string, RunningJob>();
  let started = false;
  let stopping = false;
  let pumping = false;
  /** Pools a pump round should fill; set by wake/poll/finish, consumed by the pump loop. */
  const wanted: Record<Pool, boolean> = { main: false, reserved: false };
  let pollTimer: NodeJS.Timeout | undefined;
  /**
   * Due times of the retries not yet woken, earliest first, and one timer for the earliest. Every
   * one is kept, not only the earliest: a job can be claimed again before its own timer fires (its
   * failure's commit was slow and another pump saw it due), and if that timer were the only one,
   * the job's next retry would wait for the poll. Bounded: beyond the cap the poll finds the latest.
   */
  const retryDue: number[] = [];
  let retryWake: { timer: NodeJS.Timeout; at: number } | undefined;

  function wakeForRetryAt(at: number): void {
    if (retryDue.length >= MAX_RETRY_WAKES) {
      if (at >= (retryDue.at(-1) ?? at)) return;
      retryDue.pop();
    }
    let index = retryDue.length;
    while (index > 0 && (retryDue[index - 1] ?? 0) > at) index -= 1;
    retryDue.splice(index, 0, at);
    armRetryWake();
  }

  function armRetryWake(): void {
    const next = retryDue[0];
    if (next === undefined || stopping) return;
    if (retryWake !== undefined && retryWake.at <= next) return;
    if (retryWake !== undefined) clearTimeout(retryWake.timer);
    const timer = setTimeout(
      () => {
        retryWake = undefined;
        // Only what is due now: a timer that fired early keeps its entry and is armed again.
        const firedAt = now();
        while ((retryDue[0] ?? Number.POSITIVE_INFINITY) <= firedAt) retryDue.shift();
        void pump();
        armRetryWake();
      },
      // Timers may fire a millisecond before Date.now() reaches `at`; a claim then finds nothing.
      Math.max(0, next - now()) + 5,
    );
    timer.unref();
    retryWake = { timer, at: next };
  }

  async function claim(kinds: readonly string[]): Promise<Job | null> {
    if (kinds.length === 0) return null;
    return store.claimNextJob({ owner, leaseMs, kinds, now: now() });
  }

  /** Fills free slots; one pump at a time, and a wake during a pump runs another round. */
  async function pump(scope: Record<Pool, boolean> = { main: true, reserved: true }): Promise<void> {
    if (!started || stopping) return;
    wanted.main ||= scope.main && kindsOf.main.length > 0;
    wanted.reserved ||= scope.reserved && kindsOf.reserved.length > 0;
    if (pumping) return;
    pumping = true;
    try {
      while (!stopping && (wanted.main || wanted.reserved)) {
        const round = { ...wanted };
        wanted.main = false;
        wanted.reserved = false;
        // The reserved pool first: its jobs are the quick replies that must not wait.
        for (const pool of ['reserved', 'main'] as const) {
          while (round[pool] && !stopping && runningIn[pool] < capOf[pool]()) {
            if (!(await claimBatch(pool))) break;
          }
        }
      }
    } catch (error) {
      // A store outage: the poll tries again, nothing is lost (the jobs are durable).
      log.error({ err: error }, 'dispatcher could not claim jobs');
    } finally {
      pumping = false;
    }
  }

  /**
   * Claims up to the pool's free slots at once and launches what it got; false once the queue
   * had no more (or the drain began). Claims asked for together share one durable commit
   * (SQLite's group commit) instead of paying one each, so a burst of askers starts together;
   * each claim is still atomic, so no two take jobs of one lane.
   */
  async function claimBatch(pool: Pool): Promise<boolean> {
    const free = Math.min(capOf[pool]() - runningIn[pool], MAX_CLAIMS_AT_ONCE);
    const claims = await Promise.allSettled(Array.from({ length: free }, () => claim(kindsOf[pool])));
    let more = true;
    let failure: unknown;
    for (const claimed of claims) {
      if (claimed.status === 'rejected') {
        failure ??= claimed.reason;
        more = false;
      } else if (claimed.value === null) more = false;
      else if (await handBackIfStopping(claimed.value)) more = false;
      else launch(claimed.value, pool);
    }
    if (failure !== undefined) throw failure;
    return more;
  }

  /**
   * A claim is a round trip (Redis): the drain may have started while it was in flight, and
   * then nobody would wait for this job. It goes straight back, untouched.
   */
  async function handBackIfStopping(job: Job): Promise<boolean> {
    if (!stopping) return false;
    await store.releaseJob(job.id, owner, now()).catch((error: unknown) => {
      log.warn(
        { err: error, jobId: job.id },
        'could not hand back a job claimed during the drain; its lease will lapse',
      );
    });
    return true;
  }

  function launch(job: Job, pool: Pool): void {
    runningIn[pool] += 1;
    const controller = new AbortController();
    const entry: RunningJob = { job, controller, done: Promise.resolve(), settled: false, startedAt: now() };
    inFlight.set(job.id, entry);
    entry.done = run(entry)
      .catch((error: unknown) => log.error({ err: error, jobId: job.id }, 'dispatcher bookkeeping failed'))
      .finally(() => {
        inFlight.delete(job.id);
        runningIn[pool] -= 1;
        // The freed slot, and the next job of this lane, which just became claimable.
        void pump({ main: pool === 'main', reserved: pool === 'reserved' });
      });
  }

  function finished(job: Job, outcome: 'done' | 'retry' | 'dead' | 'released', startedAt: number, error?: string) {
    bus.emit({
      type: 'job.finished',
      traceId: job.id,
      jobId: job.id,
      outcome,
      durationMs: now() - startedAt,
      ...(error === undefined ? {} : { error }),
    });
  }

  async function handBack(entry: RunningJob): Promise<void> {
    if (entry.settled) return;
    entry.settled = true;
    try {
      await store.releaseJob(entry.job.id, owner, now());
    } catch (error) {
      // The lease then simply expires and another process resumes the job.
      log.error({ err: error, jobId: entry.job.id }, 'could not hand a job back; its lease will expire');
    }
    finished(entry.job, 'released', entry.startedAt, 'shutdown');
  }

  function jobContext(job: Job, controller: AbortController): JobContext {
    return {
      job,
      signal: controller.signal,
      async saveCheckpoint(checkpoint) {
        if (!(await store.saveCheckpoint(job.id, owner, checkpoint))) {
          if (!controller.signal.aborted) controller.abort('lease-lost' satisfies AbortReason);
          throw new Error(`lease lost on job ${job.id}`);
        }
      },
      idempotencyKey: (part) => idempotencyKey(job.id, part),
    };
  }

  /** Runs `onDeadLetter` for a job about to be dead-lettered; never throws. */
  async function lastWords(entry: RunningJob, error: string): Promise<void> {
    if (onDeadLetter === undefined || handlers[entry.job.kind] === undefined) return;
    const { job, controller } = entry;
    const timer = setTimeout(() => {
      if (!controller.signal.aborted) controller.abort('timeout' satisfies AbortReason);
    }, deadLetterTimeoutMs);
    timer.unref();
    try {
      await Promise.race([onDeadLetter(jobContext(job, controller), error), sleep(deadLetterTimeoutMs)]);
    } catch (hookError) {
      log.warn({ err: hookError, jobId: job.id }, 'dead-letter hook failed');
    } finally {
      clearTimeout(timer);
    }
  }

  async function run(entry: RunningJob): Promise<void> {
    const { job, controller } = entry;
    const { startedAt } = entry;
    const handler = handlers[job.kind];
    if (handler === undefined || job.attempts > maxAttempts) {
      // attempts > maxAttempts: every earlier holder died mid-job (a poison message), so stop here.
      const error = handler === undefined ? `no handler for kind ${job.kind}` : `holder lost ${job.attempts - 1} times`;
      entry.settled = true;
      await lastWords(entry, error);
      await store.failJob(job.id, owner, { error, dead: true, now: now() });
      log.error({ jobId: job.id, attempts: job.attempts, error }, 'job dead-lettered');
      finished(job, 'dead', startedAt, error);
      return;
    }
    bus.emit({ type: 'job.started', traceId: job.id, jobId: job.id, lane: job.lane, attempt: job.attempts });

    let leaseUntil = startedAt + leaseMs;
    const abort = (reason: AbortReason) => {
      if (!controller.signal.aborted) controller.abort(reason);
    };
    const renewal = setInterval(
      () => {
        // Abandoned by the drain: the lease must lapse so the next holder cannot overlap this one.
        if (entry.settled) return;
        store
          .renewLease(job.id, owner, leaseMs, now())
          .then((renewed) => {
            if (renewed) leaseUntil = now() + leaseMs;
            else abort('lease-lost');
          })
          .catch((error: unknown) => {
            log.warn({ err: error, jobId: job.id }, 'lease renewal failed');
            // Past our own lease end another process may have taken the job: stop writing.
            if (now() >= leaseUntil) abort('lease-lost');
          });
      },
      Math.max(1, Math.floor(leaseMs / 3)),
    );
    renewal.unref();

    const context = jobContext(job, controller);

    let failure: { error: unknown } | undefined;
    try {
      await handler(context);
    } catch (error) {
      failure = { error };
    } finally {
      clearInterval(renewal);
    }

    const reason = controller.signal.aborted ? (controller.signal.reason as AbortReason) : undefined;
    // A handler that returned despite the abort finished its work (e.g. the answer was being
    // closed when the drain budget ran out): handing it back would answer the message again.
    if (reason === 'shutdown' && failure !== undefined) return handBack(entry);
    if (entry.settled) return;
    entry.settled = true;
    if (reason === 'lease-lost') {
      // Someone else holds it now; whatever we write would clobber their attempt.
      log.warn({ jobId: job.id }, 'lease lost while running; leaving the job to its new holder');
      finished(job, 'released', startedAt, 'lease-lost');
      return;
    }
    if (failure === undefined) {
      if (!(await store.completeJob(job.id, owner, now()))) {
        log.warn({ jobId: job.id }, 'job finished after its lease was lost');
      }
      finished(job, 'done', startedAt);
      return;
    }
    const error = errorMessage(failure.error);
    const dead = job.attempts >= maxAttempts;
    const retryInMs = backoffDelay(job.attempts, { initialMs: retryBackoffMs, maxMs: maxRetryBackoffMs });
    if (dead) await lastWords(entry, error);
    await store.failJob(job.id, owner, { error, dead, retryInMs, now: now() });
    if (dead) log.error({ err: failure.error, jobId: job.id, attempts: job.attempts }, 'job dead-lettered');
    else {
      log.warn({ err: failure.error, jobId: job.id, attempts: job.attempts, retryInMs }, 'job failed; will retry');
      wakeForRetryAt(now() + retryInMs);
    }
    finished(job, dead ? 'dead' : 'retry', startedAt, error);
  }

  async function drain(timeoutMs: number): Promise<void> {
    stopping = true;
    if (pollTimer !== undefined) clearInterval(pollTimer);
    pollTimer = undefined;
    if (retryWake !== undefined) clearTimeout(retryWake.timer);
    retryWake = undefined;
    retryDue.length = 0;
    const settledAll = () => Promise.allSettled([...inFlight.values()].map((entry) => entry.done));
    if (inFlight.size > 0 && timeoutMs > 0) await Promise.race([settledAll(), sleep(timeoutMs)]);
    if (inFlight.size === 0) return;
    const stragglers = [...inFlight.values()];
    log.warn({ jobs: stragglers.map((entry) => entry.job.id) }, 'drain timed out: aborting and handing jobs back');
    for (const entry of stragglers) entry.controller.abort('shutdown' satisfies AbortReason);
    await Promise.race([settledAll(), sleep(abortGraceMs)]);
    // A handler that ignores its signal may still be writing its card. Handing the job back now
    // would let another instance resume that card at once and both would write it; instead the
    // lease is left to lapse (JOB_LEASE_MS), by which time this process has exited.
    for (const entry of inFlight.values()) abandon(entry);
  }

  function abandon(entry: RunningJob): void {
    if (entry.settled) return;
    entry.settled = true;
    log.warn(
      { jobId: entry.job.id, leaseMs },
      'handler did not stop after the shutdown abort: its lease is left to lapse, then another holder resumes the job',
    );
    finished(entry.job, 'released', entry.startedAt, 'shutdown: lease left to lapse');
  }

  return {
    start() {
      if (started) return;
      started = true;
      stopping = false;
      pollTimer = setInterval(() => void pump(), pollIntervalMs);
      pollTimer.unref();
      void pump();
    },
    wake(kind) {
      if (kind === undefined) {
        void pump();
        return;
      }
      const pool: Pool = reservedKinds.includes(kind) ? 'reserved' : 'main';
      if (runningIn[pool] >= capOf[pool]()) return;
      void pump({ main: pool === 'main', reserved: pool === 'reserved' });
    },
    drain,
    stop: () => drain(0),
    running: () => ({ ...runningIn }),
  };
}

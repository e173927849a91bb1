import { createHash } from 'node:crypto';
import { appScoped } from '../inbox/app-scope.js';
import type { Logger } from '../log.js';
import type { EventBus } from '../observe/event-bus.js';
import type { Schedule, ScheduleRun, Store } from '../store/store.js';
import { errorMessage } from '../util/error-message.js';
import { type ProactivePayload, proactiveJob } from './proactive-job.js';
import { type SchedulePayload, schedulePayload } from './schedule-payload.js';
import { nextRunAfter } from './schedule-time.js';

export interface SchedulerOptions {
  store: Store;
  log: Logger;
  /** Gets `schedule.run` and `job.queued` (metrics, devtools). */
  bus?: EventBus;
  /** This instance's lease owner (unique per boot, like the dispatcher's). */
  owner: string;
  /** A due time missed by more than this is skipped with a note instead of run late. */
  maxLateMs: number;
  /** Runs kept in each schedule's history. */
  maxRuns: number;
  /** How long a claimed schedule is held while its run is enqueued. */
  leaseMs?: number;
  /** How often the store is asked for due schedules. */
  pollMs?: number;
  /** Schedules handled per tick at most, so a backlog after downtime cannot hold the loop. */
  maxPerTick?: number;
  /** Called after a run's job is enqueued (the dispatcher's `wake`). */
  onEnqueued?: (job: { id: string; kind: string }) => void;
  now?: () => number;
}

export interface Scheduler {
  /** Handles every schedule due now (up to `maxPerTick`); returns how many it handled. */
  tick(): Promise<number>;
  start(): void;
  stop(): Promise<void>;
}

/**
 * Turns due schedules into jobs. Each tick claims the schedule due soonest (a lease in the store,
 * so one instance handles a due time), enqueues its run as a `proactive` job whose id is derived
 * from the schedule and the due time, then records the run and moves the schedule to its next
 * time (a one-off is deleted). A holder that dies between the two leaves a lease that expires;
 * whoever claims next enqueues the same job id, which the store refuses as a duplicate, and
 * records the run: the due time runs exactly once. A due time missed by more than `maxLateMs`
 * (the service was down) is not run late: the chat gets a short note instead, and a cron schedule
 * continues from its next time after now (no burst of missed runs).
 *
 * @example
 * const scheduler = createScheduler({ store, log, owner, maxLateMs: 3_600_000, maxRuns: 20, onEnqueued: (job) => dispatcher.wake(job.kind) });
 * scheduler.start();
 */
export function createScheduler({
  store,
  log,
  bus,
  owner,
  maxLateMs,
  maxRuns,
  leaseMs = 60_000,
  pollMs = 15_000,
  maxPerTick = 100,
  onEnqueued,
  now = Date.now,
}: SchedulerOptions): Scheduler {
  let timer: NodeJS.Timeout | undefined;
  let running: Promise<unknown> | undefined;
  let stopped = true;

  async function handle(schedule: Schedule): Promise<void> {
    const parsed = schedulePayload.safeParse(schedule.payload);
    const at = now();
    const dueAt = schedule.nextRunAt;
    if (!parsed.success) {
      // Unreadable (written by a newer build, or damaged): drop it rather than claim it forever.
      log.error({ scheduleId: schedule.id, issues: parsed.error.issues.length }, 'unreadable schedule deleted');
      await store.finishScheduleRun(schedule.id, owner, {
        run: { dueAt, at, outcome: 'skipped' },
        nextRunAt: null,
        maxRuns,
        now: at,
      });
      return;
    }
    const payload = parsed.data;
    const late = at - dueAt;
    const skipped = late > maxLateMs;
    // Scoped by the posting app, so /metrics and devtools count the run against that bot.
    const jobId = appScoped(payload.target.appId, runJobId(schedule.id, dueAt));
    const job = proactiveJob(jobId, skipped ? skipNote(schedule, payload, late) : runOf(schedule, payload));
    // Stamped by the store's clock like every enqueue: the dispatcher claims it by that clock.
    const added = await store.enqueue(job);
    if (added) {
      bus?.emit({ type: 'job.queued', traceId: jobId, jobId, lane: job.lane, kind: job.kind });
      onEnqueued?.(job);
    }
    const outcome = !added ? 'duplicate' : skipped ? 'skipped' : 'ran';
    bus?.emit({
      type: 'schedule.run',
      traceId: jobId,
      scheduleId: schedule.id,
      chatId: payload.target.chatId,
      outcome,
      lateMs: late,
    });
    const run: ScheduleRun = { dueAt, at, outcome: skipped ? 'skipped' : 'ran', jobId };
    // After downtime a cron schedule continues from now: every occurrence missed meanwhile is one.
    const nextRunAt = nextRunAfter(payload.when, Math.max(dueAt, at));
    const recorded = await store.finishScheduleRun(schedule.id, owner, { run, nextRunAt, maxRuns, now: at });
    log.info(
      { scheduleId: schedule.id, jobId, outcome: run.outcome, lateMs: late, nextRunAt, duplicate: !added, recorded },
      skipped ? 'schedule missed: skipped with a note' : 'schedule due: run enqueued',
    );
  }

  async function tick(): Promise<number> {
    let handled = 0;
    while (handled < maxPerTick) {
      const schedule = await store.claimDueSchedule({ owner, leaseMs, now: now() });
      if (schedule === null) break;
      handled += 1;
      try {
        await handle(schedule);
      } catch (error) {
        // Left leased: it comes due again when the lease ends, and the job id keeps it single.
        log.warn({ scheduleId: schedule.id, err: error }, 'schedule run not recorded; retried after its lease');
      }
    }
    return handled;
  }

  function schedule(delayMs: number): void {
    if (stopped) return;
    timer = setTimeout(() => {
      running = tick()
        .catch((error: unknown) => log.warn({ error: errorMessage(error) }, 'scheduler tick failed'))
        .finally(() => schedule(pollMs));
    }, delayMs);
    timer.unref();
  }

  return {
    tick,
    start() {
      if (!stopped) return;
      stopped = false;
      schedule(0);
    },
    async stop() {
      stopped = true;
      if (timer) clearTimeout(timer);
      await running;
    },
  };
}

/** The job id of a schedule's run for one due time: the same for every instance and attempt. */
export function runJobId(scheduleId: string, dueAt: number): string {
  return `schedule-${createHash('sha256').update(`${scheduleId}\u0000${dueAt}`).digest('hex').slice(0, 32)}`;
}

function runOf(schedule: Schedule, payload: SchedulePayload): ProactivePayload {
  return {
    origin: 'schedule',
    action: payload.action,
    text: payload.text,
    target: payload.target,
    scheduleId: schedule.id,
    dueAt: schedule.nextRunAt,
    timeZone: payload.timeZone,
    ...(payload.createdBy === undefined ? {} : { requestedBy: payload.createdBy }),
  };
}

function skipNote(schedule: Schedule, payload: SchedulePayload, lateMs: number): ProactivePayload {
  return { ...runOf(schedule, payload), missed: { lateMs } };
}

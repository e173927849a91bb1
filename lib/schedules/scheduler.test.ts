import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeEach, describe, expect, it } from 'vitest';
import { silentLogger } from '../log.js';
import type { BotEvent } from '../observe/bot-event.js';
import { createEventBus } from '../observe/event-bus.js';
import { openStore } from '../store/open-store.js';
import type { Job, Store } from '../store/store.js';
import { PROACTIVE_JOB_KIND, type ProactivePayload } from './proactive-job.js';
import { createScheduleService, type ScheduleService } from './schedule-service.js';
import { createScheduler, runJobId } from './scheduler.js';

const directory = mkdtempSync(join(tmpdir(), 'scheduler-test-'));
afterAll(() => rmSync(directory, { recursive: true, force: true }));

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const target = { chatId: 'oc_team', chatType: 'group' as const };

/** A clock the test moves: the scheduler, the service and the store calls all read it. */
function fakeClock(start: number) {
  let current = start;
  return {
    now: () => current,
    set: (at: number) => {
      current = at;
    },
    advance: (ms: number) => {
      current += ms;
    },
  };
}

describe('scheduler (fake clock, real SQLite store)', () => {
  let file = 0;
  let path = '';
  const opened: Store[] = [];
  let store: Store;
  let clock: ReturnType<typeof fakeClock>;
  let service: ScheduleService;
  let runs: Extract<BotEvent, { type: 'schedule.run' }>[];
  let bus: ReturnType<typeof createEventBus>;

  async function open(): Promise<Store> {
    const each = await openStore(`sqlite:${path}`);
    opened.push(each);
    return each;
  }

  function scheduler(owner: string, on: Store = store, woken: string[] = []) {
    return createScheduler({
      store: on,
      log: silentLogger(),
      bus,
      owner,
      maxLateMs: HOUR,
      maxRuns: 3,
      leaseMs: MINUTE,
      now: clock.now,
      onEnqueued: (job) => woken.push(job.id),
    });
  }

  async function proactiveJobs(on: Store = store): Promise<Job[]> {
    return (await on.listJobs({ limit: 100 })).filter((job) => job.kind === PROACTIVE_JOB_KIND).reverse();
  }

  beforeEach(async () => {
    file += 1;
    path = join(directory, `schedules-${file}.db`);
    store = await open();
    clock = fakeClock(Date.UTC(2026, 2, 20, 12));
    runs = [];
    bus = createEventBus();
    bus.subscribe((event) => {
      if (event.type === 'schedule.run') runs.push(event);
    });
    service = createScheduleService({
      store,
      defaultTimeZone: 'Europe/Berlin',
      maxPerChat: 5,
      minIntervalMs: 15 * MINUTE,
      now: clock.now,
    });
  });

  afterEach(async () => {
    for (const each of opened.splice(0)) await each.close();
  });

  it('enqueues a one-off reminder when it comes due, once, and then forgets it', async () => {
    const woken: string[] = [];
    const ticker = scheduler('a', store, woken);
    const created = await service.create({
      target,
      when: { at: clock.now() + HOUR },
      action: 'remind',
      text: 'Send the report',
      createdBy: 'ou_alice',
    });
    expect(await ticker.tick()).toBe(0);
    clock.advance(HOUR - 1);
    expect(await ticker.tick()).toBe(0);
    clock.advance(1);
    expect(await ticker.tick()).toBe(1);
    const [job, ...others] = await proactiveJobs();
    expect(others).toEqual([]);
    expect(job?.id).toBe(runJobId(created.id, clock.now()));
    expect(job?.lane).toBe('chat:oc_team');
    expect(job?.payload).toMatchObject({
      origin: 'schedule',
      action: 'remind',
      text: 'Send the report',
      target,
      requestedBy: 'ou_alice',
      scheduleId: created.id,
      dueAt: clock.now(),
    } satisfies Partial<ProactivePayload>);
    expect(woken).toEqual([job?.id]);
    expect(await service.list('oc_team')).toEqual([]);
    clock.advance(HOUR);
    expect(await ticker.tick()).toBe(0);
  });

  it('keeps a weekly local time across the daylight-saving change and records the runs', async () => {
    const ticker = scheduler('a');
    const created = await service.create({
      target,
      when: { cron: '0 10 * * 1' },
      action: 'run',
      text: "Summarize this chat's week",
    });
    // Monday 23 March 10:00 CET, then Monday 30 March 10:00 CEST (clocks went forward on the 29th).
    clock.set(Date.UTC(2026, 2, 23, 9));
    expect(await ticker.tick()).toBe(1);
    clock.set(Date.UTC(2026, 2, 30, 7, 59));
    expect(await ticker.tick()).toBe(0);
    clock.set(Date.UTC(2026, 2, 30, 8));
    expect(await ticker.tick()).toBe(1);
    const jobs = await proactiveJobs();
    expect(jobs.map((job) => (job.payload as ProactivePayload).dueAt)).toEqual([
      Date.UTC(2026, 2, 23, 9),
      Date.UTC(2026, 2, 30, 8),
    ]);
    expect(jobs.every((job) => (job.payload as ProactivePayload).action === 'run')).toBe(true);
    const stored = await store.getSchedule(created.id);
    expect(stored?.nextRunAt).toBe(Date.UTC(2026, 3, 6, 8));
    expect(stored?.runs.map((run) => run.outcome)).toEqual(['ran', 'ran']);
    const [view] = await service.list('oc_team');
    expect(view?.next).toBe('2026-04-06 10:00 (Europe/Berlin)');
    expect(view?.lastRun).toBe('ran 2026-03-30 10:00 (Europe/Berlin)');
  });

  it('skips a due time missed by more than the limit with a note, and continues from now', async () => {
    const ticker = scheduler('a');
    const created = await service.create({ target, when: { cron: '0 9 * * *' }, action: 'remind', text: 'Stand-up' });
    // Down from before 21 March 09:00 until 23 March 11:00: two days of due times missed.
    clock.set(Date.UTC(2026, 2, 23, 10));
    expect(await ticker.tick()).toBe(1);
    const [note, ...others] = await proactiveJobs();
    expect(others).toEqual([]);
    const payload = note?.payload as ProactivePayload;
    // Posted as a short note saying it was missed, not as the reminder itself.
    expect(payload).toMatchObject({ action: 'remind', text: 'Stand-up', dueAt: Date.UTC(2026, 2, 21, 8) });
    expect(payload.missed).toEqual({ lateMs: clock.now() - Date.UTC(2026, 2, 21, 8) });
    const stored = await store.getSchedule(created.id);
    expect(stored?.runs).toEqual([
      { dueAt: Date.UTC(2026, 2, 21, 8), at: clock.now(), outcome: 'skipped', jobId: note?.id },
    ]);
    // Not 22 March: the missed occurrences are not replayed one after another.
    expect(stored?.nextRunAt).toBe(Date.UTC(2026, 2, 24, 8));
    expect(runs).toMatchObject([
      { scheduleId: created.id, outcome: 'skipped', lateMs: clock.now() - Date.UTC(2026, 2, 21, 8) },
    ]);
  });

  it('runs a due time that is late but within the limit', async () => {
    const ticker = scheduler('a');
    await service.create({ target, when: { at: clock.now() + MINUTE }, action: 'remind', text: 'Tea' });
    clock.advance(MINUTE + HOUR - 1);
    expect(await ticker.tick()).toBe(1);
    const [late] = await proactiveJobs();
    expect(late?.payload).toMatchObject({ action: 'remind', text: 'Tea' });
    expect(late?.payload).not.toHaveProperty('missed');
  });

  it('never runs a cancelled schedule', async () => {
    const ticker = scheduler('a');
    const created = await service.create({ target, when: { at: clock.now() + HOUR }, action: 'remind', text: 'x' });
    expect(await service.cancel('oc_other', created.id)).toBe(false);
    expect(await service.cancel('oc_team', created.id)).toBe(true);
    clock.advance(2 * HOUR);
    expect(await ticker.tick()).toBe(0);
    expect(await proactiveJobs()).toEqual([]);
  });

  it('forgets every schedule of a chat the bot left, and only that chat', async () => {
    for (const text of ['a', 'b', 'c'])
      await service.create({ target, when: { at: clock.now() + HOUR }, action: 'remind', text });
    await service.create({
      target: { chatId: 'oc_other', chatType: 'group' },
      when: { at: clock.now() + HOUR },
      action: 'remind',
      text: 'd',
    });
    expect(await service.forgetChat('oc_team')).toBe(3);
    expect(await service.list('oc_team')).toEqual([]);
    expect(await service.list('oc_other')).toHaveLength(1);
    clock.advance(2 * HOUR);
    expect(await scheduler('a').tick()).toBe(1);
  });

  it('gives one due schedule to one of two instances ticking at once: one run', async () => {
    const other = await open();
    await service.create({ target, when: { at: clock.now() + HOUR }, action: 'remind', text: 'Once only' });
    clock.advance(HOUR);
    const handled = await Promise.all([scheduler('a').tick(), scheduler('b', other).tick()]);
    expect(handled.sort()).toEqual([0, 1]);
    expect(await proactiveJobs()).toHaveLength(1);
  });

  it('after a restart mid-run (claimed and enqueued, never recorded), runs the due time once, after the lease', async () => {
    const created = await service.create({ target, when: { cron: '0 9 * * *' }, action: 'remind', text: 'Daily' });
    const dueAt = Date.UTC(2026, 2, 21, 8);
    clock.set(dueAt);
    // The first instance claims the schedule and enqueues the run, then dies before recording it.
    const crashed = await store.claimDueSchedule({ owner: 'crashed', leaseMs: MINUTE, now: clock.now() });
    expect(crashed?.id).toBe(created.id);
    await store.enqueue(
      {
        id: runJobId(created.id, dueAt),
        lane: 'chat:oc_team',
        kind: PROACTIVE_JOB_KIND,
        payload: { origin: 'schedule', action: 'remind', text: 'Daily', target },
      },
      clock.now(),
    );
    const restarted = scheduler('restarted', await open());
    clock.advance(MINUTE - 1);
    expect(await restarted.tick()).toBe(0);
    clock.advance(1);
    expect(await restarted.tick()).toBe(1);
    expect(await proactiveJobs()).toHaveLength(1);
    const stored = await store.getSchedule(created.id);
    expect(stored?.runs[0]).toMatchObject({ dueAt, outcome: 'ran' });
    expect(runs.map((run) => run.outcome)).toEqual(['duplicate']);
    expect(stored?.nextRunAt).toBe(Date.UTC(2026, 2, 22, 8));
  });

  it('refuses past times, too frequent patterns and a full chat with messages for the user', async () => {
    await expect(
      service.create({ target, when: { at: clock.now() - 1 }, action: 'remind', text: 'x' }),
    ).rejects.toThrow(/has already passed/);
    await expect(
      service.create({ target, when: { cron: '*/5 * * * *' }, action: 'remind', text: 'x' }),
    ).rejects.toThrow(/more often than every 15 minutes/);
    for (let index = 0; index < 5; index += 1) {
      await service.create({ target, when: { at: clock.now() + HOUR }, action: 'remind', text: `r${index}` });
    }
    await expect(
      service.create({ target, when: { at: clock.now() + HOUR }, action: 'remind', text: 'six' }),
    ).rejects.toThrow(/already has 5 schedules/);
    expect(await service.list('oc_team')).toHaveLength(5);
  });
});

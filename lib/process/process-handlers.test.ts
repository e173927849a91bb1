import { type ChildProcess, spawn } from 'node:child_process';
import { EventEmitter } from 'node:events';
import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { createLogger } from '../log.js';
import type { StampedBotEvent } from '../observe/bot-event.js';
import { createEventBus } from '../observe/event-bus.js';
import { installProcessHandlers } from './process-handlers.js';

function setup(
  withFatal = true,
  limits: { maxUnhandledRejections?: number; unhandledRejectionWindowMs?: number } = {},
) {
  const clock = { now: 1_000_000 };
  const lines: Array<Record<string, unknown>> = [];
  const destination = new Writable({
    write(chunk, _encoding, callback) {
      for (const line of String(chunk).split('\n').filter(Boolean)) lines.push(JSON.parse(line));
      callback();
    },
  });
  const log = createLogger({ destination, pretty: false });
  const bus = createEventBus();
  const events: StampedBotEvent[] = [];
  bus.subscribe((event) => events.push(event));
  const target = new EventEmitter();
  const exits: number[] = [];
  const fatals: string[] = [];
  const handlers = installProcessHandlers({
    log,
    bus,
    target,
    exit: (code) => exits.push(code),
    now: () => clock.now,
    ...limits,
    ...(withFatal ? { onFatal: (reason: string) => void fatals.push(reason) } : {}),
  });
  return { handlers, target, exits, fatals, lines, events, log, bus, clock };
}

describe('installProcessHandlers', () => {
  it('installs once per process: a second call returns the first handle', () => {
    const { handlers, target, log } = setup();
    const again = installProcessHandlers({ log, target });
    expect(again).toBe(handlers);
    expect(target.listenerCount('uncaughtException')).toBe(1);
    expect(target.listenerCount('unhandledRejection')).toBe(1);
    handlers.uninstall();
    expect(target.listenerCount('uncaughtException')).toBe(0);
    expect(installProcessHandlers({ log, target })).not.toBe(handlers);
  });

  it('logs an uncaught exception with its stack, counts it, emits process.error and drains once', () => {
    const { handlers, target, fatals, lines, events, exits } = setup();
    target.emit('uncaughtException', new Error('boom'));
    target.emit('uncaughtException', new Error('boom while draining'));
    expect(handlers.counts.uncaughtException).toBe(2);
    expect(fatals).toEqual(['uncaughtException']);
    expect(exits).toEqual([]);
    const logged = lines.filter((line) => line.level === 60);
    expect(logged).toHaveLength(2);
    expect((logged[0]!.err as { stack: string }).stack).toMatch(/Error: boom\n\s+at /);
    expect(events.filter((event) => event.type === 'process.error')).toMatchObject([
      { kind: 'uncaughtException', message: 'boom' },
      { kind: 'uncaughtException', message: 'boom while draining' },
    ]);
  });

  it('exits 1 at once when there is no drain to run', () => {
    const { target, exits } = setup(false);
    target.emit('uncaughtException', 'a string, not an Error');
    expect(exits).toEqual([1]);
  });

  it('logs and counts an unhandled rejection and keeps serving', () => {
    const { handlers, target, fatals, exits, lines, events } = setup();
    target.emit('unhandledRejection', new Error('forgotten'), Promise.resolve());
    target.emit('unhandledRejection', { code: 42 }, Promise.resolve());
    expect(handlers.counts.unhandledRejection).toBe(2);
    expect(fatals).toEqual([]);
    expect(exits).toEqual([]);
    expect(lines.map((line) => line.msg)).toEqual([
      'unhandled promise rejection (still serving)',
      'unhandled promise rejection (still serving)',
    ]);
    expect(events.map((event) => event.type === 'process.error' && event.message)).toEqual([
      'forgotten',
      'non-error thrown: {"code":42}',
    ]);
    expect((lines[0]!.err as { stack: string }).stack).toMatch(/Error: forgotten\n\s+at /);
  });

  it('treats the limit-th unhandled rejection within the window like an uncaught exception, once', () => {
    const { handlers, target, fatals, exits, lines, clock } = setup(true, {
      maxUnhandledRejections: 3,
      unhandledRejectionWindowMs: 60_000,
    });
    target.emit('unhandledRejection', new Error('one'), Promise.resolve());
    clock.now += 30_000;
    target.emit('unhandledRejection', new Error('two'), Promise.resolve());
    expect(fatals).toEqual([]);
    clock.now += 29_999;
    target.emit('unhandledRejection', new Error('three'), Promise.resolve());
    expect(fatals).toEqual(['unhandledRejection']);
    expect(lines.at(-1)).toMatchObject({
      level: 60,
      msg: '3 unhandled promise rejections within the window: draining, then exiting 1',
    });
    expect((lines.at(-1)!.err as { stack: string }).stack).toMatch(/Error: three\n\s+at /);
    // Draining already: neither more rejections nor an exception starts a second drain.
    target.emit('unhandledRejection', new Error('four'), Promise.resolve());
    target.emit('uncaughtException', new Error('five'));
    expect(fatals).toEqual(['unhandledRejection']);
    expect(exits).toEqual([]);
    expect(handlers.counts.unhandledRejection).toBe(4);
  });

  it('forgets rejections older than the window', () => {
    const { target, fatals, clock } = setup(true, { maxUnhandledRejections: 3, unhandledRejectionWindowMs: 60_000 });
    for (let rejection = 0; rejection < 30; rejection++) {
      target.emit('unhandledRejection', new Error(`slow leak ${rejection}`), Promise.resolve());
      clock.now += 30_001;
    }
    expect(fatals).toEqual([]);
  });
});

/** Runs the lifecycle fixture in a real process and collects its JSON log lines. */
function runFixture(action: string) {
  const child: ChildProcess = spawn(
    process.execPath,
    ['--import', 'tsx', 'test/support/lifecycle-fixture.ts', action],
    {
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  const lines: Array<Record<string, unknown>> = [];
  let buffered = '';
  let stderr = '';
  const waiters: Array<{ message: string; resolve: () => void }> = [];
  child.stdout!.on('data', (chunk: Buffer) => {
    buffered += chunk.toString('utf8');
    const parts = buffered.split('\n');
    buffered = parts.pop()!;
    for (const part of parts.filter(Boolean)) {
      const line = JSON.parse(part) as Record<string, unknown>;
      lines.push(line);
      for (const waiter of waiters.filter((candidate) => candidate.message === line.msg)) waiter.resolve();
    }
  });
  child.stderr!.on('data', (chunk: Buffer) => {
    stderr += chunk.toString('utf8');
  });
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.once('exit', (code, signal) => resolve({ code, signal })),
  );
  const logged = (message: string) =>
    lines.some((line) => line.msg === message)
      ? Promise.resolve()
      : new Promise<void>((resolve) => waiters.push({ message, resolve }));
  return { child, lines, exited, logged, stderr: () => stderr };
}

describe('process lifecycle in a real process', () => {
  it('uncaught exception: logs the stack, drains, exits 1', async () => {
    const fixture = runFixture('throw');
    const { code } = await fixture.exited;
    expect(code, fixture.stderr()).toBe(1);
    const messages = fixture.lines.map((line) => line.msg);
    expect(messages).toEqual([
      'fixture ready',
      'uncaught exception: draining, then exiting 1',
      'process.error event',
      'shutdown: draining',
      'store closed',
      'shutdown step done',
      'shutdown: drain completed',
    ]);
    expect(fixture.lines[0]).toMatchObject({ sameHandle: true, listeners: 1 });
    expect(String((fixture.lines[1]!.err as { stack: string }).stack)).toContain('boom from a timer');
  });

  it('a stream of unhandled rejections: counted, logged, then drained and exited 1 for PM2 to restart', async () => {
    const fixture = runFixture('reject-many');
    const { code } = await fixture.exited;
    expect(code, fixture.stderr()).toBe(1);
    const messages = fixture.lines.map((line) => line.msg);
    expect(messages.filter((message) => message === 'unhandled promise rejection (still serving)')).toHaveLength(2);
    expect(messages.filter((message) => message === 'process.error event')).toHaveLength(3);
    expect(messages).toContain('3 unhandled promise rejections within the window: draining, then exiting 1');
    expect(messages.slice(-4)).toEqual([
      'shutdown: draining',
      'store closed',
      'shutdown step done',
      'shutdown: drain completed',
    ]);
    expect(fixture.lines.at(-1)).toMatchObject({ reason: 'unhandledRejection', exitCode: 1 });
  });

  it('unhandled rejection: logs it and keeps serving; SIGTERM then drains and exits 0', async () => {
    const fixture = runFixture('reject');
    await fixture.logged('still serving');
    expect(fixture.lines.find((line) => line.msg === 'still serving')).toMatchObject({ rejections: 1 });
    fixture.child.kill('SIGTERM');
    const { code } = await fixture.exited;
    expect(code, fixture.stderr()).toBe(0);
    expect(fixture.lines.at(-1)).toMatchObject({ msg: 'shutdown: drain completed', reason: 'SIGTERM', exitCode: 0 });
    expect(fixture.lines.some((line) => line.msg === 'store closed')).toBe(true);
  });
});

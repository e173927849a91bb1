import { EventEmitter } from 'node:events';
import { createServer, request } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { createLogger } from '../log.js';
import { closeServer, createGracefulShutdown, type ShutdownStep } from './graceful-shutdown.js';
import { createReadiness } from './readiness.js';

function setup({ steps = [], timeoutMs = 1_000 }: { steps?: ShutdownStep[]; timeoutMs?: number } = {}) {
  const lines: Array<Record<string, unknown>> = [];
  const destination = new Writable({
    write(chunk, _encoding, callback) {
      for (const line of String(chunk).split('\n').filter(Boolean)) lines.push(JSON.parse(line));
      callback();
    },
  });
  const log = createLogger({ destination, pretty: false, level: 'debug' });
  const readiness = createReadiness();
  readiness.markReady();
  const exits: number[] = [];
  const target = new EventEmitter();
  const lifecycle = createGracefulShutdown({
    log,
    readiness,
    timeoutMs,
    steps,
    exit: (code) => exits.push(code),
    target,
  });
  return { lifecycle, readiness, exits, target, lines };
}

describe('createGracefulShutdown', () => {
  it('marks draining first, runs the steps in order, then exits 0', async () => {
    const order: string[] = [];
    const steps: ShutdownStep[] = [
      { name: 'stop accepting', run: () => void order.push(`stop accepting (${phase()})`) },
      {
        name: 'hand back jobs',
        run: async () => {
          await new Promise((resolve) => setTimeout(resolve, 10));
          order.push('hand back jobs');
        },
      },
      { name: 'close server', run: () => void order.push('close server') },
      { name: 'close store', run: async () => void order.push('close store') },
    ];
    const context = setup({ steps });
    const phase = () => context.readiness.phase;
    expect(phase()).toBe('ready');
    await context.lifecycle.shutdown('SIGTERM');
    expect(order).toEqual(['stop accepting (draining)', 'hand back jobs', 'close server', 'close store']);
    expect(context.exits).toEqual([0]);
    expect(context.lifecycle.state).toBe('exited');
    const completed = context.lines.find((line) => line.msg === 'shutdown: drain completed');
    expect(completed).toMatchObject({ reason: 'SIGTERM', exitCode: 0 });
  });

  it('runs the steps once however often it is asked', async () => {
    let runs = 0;
    const { lifecycle, exits } = setup({ steps: [{ name: 'count', run: () => void runs++ }] });
    await Promise.all([lifecycle.shutdown('SIGINT'), lifecycle.shutdown('SIGTERM'), lifecycle.drain()]);
    await lifecycle.shutdown('again');
    expect(runs).toBe(1);
    expect(exits).toEqual([0]);
  });

  it('reads steps pushed after it was created', async () => {
    const steps: ShutdownStep[] = [];
    const order: string[] = [];
    const { lifecycle } = setup({ steps });
    steps.push({ name: 'late', run: () => void order.push('late') });
    await lifecycle.drain();
    expect(order).toEqual(['late']);
  });

  it('exits 1 when the budget runs out, naming the step that hung', async () => {
    const { lifecycle, exits, lines } = setup({
      timeoutMs: 50,
      steps: [
        { name: 'quick', run: () => {} },
        { name: 'hangs', run: () => new Promise(() => {}) },
      ],
    });
    await lifecycle.shutdown('SIGTERM');
    expect(exits).toEqual([1]);
    expect(lines.find((line) => /exceeded its budget/.test(String(line.msg)))).toMatchObject({ step: 'hangs' });
  });

  it('goes on past a failing step and exits 1', async () => {
    const order: string[] = [];
    const { lifecycle, exits, lines } = setup({
      steps: [
        {
          name: 'breaks',
          run: () => {
            throw new Error('close failed');
          },
        },
        { name: 'close store', run: () => void order.push('close store') },
      ],
    });
    await lifecycle.shutdown('SIGTERM');
    expect(order).toEqual(['close store']);
    expect(exits).toEqual([1]);
    expect(lines.find((line) => line.msg === 'shutdown step failed')).toMatchObject({ step: 'breaks' });
  });

  it('keeps the uncaught-exception exit code even when a signal started the drain', async () => {
    let release: () => void = () => {};
    const { lifecycle, exits } = setup({
      steps: [{ name: 'slow', run: () => new Promise<void>((resolve) => (release = resolve)) }],
    });
    const first = lifecycle.shutdown('SIGTERM', 0);
    const second = lifecycle.shutdown('uncaughtException', 1);
    release();
    await Promise.all([first, second]);
    expect(exits).toEqual([1]);
  });

  it('drain() runs the steps without exiting (RunningBot.stop)', async () => {
    const { lifecycle, exits, readiness } = setup({ steps: [{ name: 'x', run: () => {} }] });
    await lifecycle.drain();
    expect(readiness.phase).toBe('draining');
    expect(exits).toEqual([]);
  });
});

describe('createGracefulShutdown().install', () => {
  it('starts on SIGTERM, SIGINT or the PM2 shutdown message, and installs once', async () => {
    for (const trigger of ['SIGTERM', 'SIGINT', 'message'] as const) {
      const { lifecycle, exits, target } = setup();
      lifecycle.install();
      lifecycle.install();
      expect(target.listenerCount('SIGTERM')).toBe(1);
      expect(target.listenerCount('message')).toBe(1);
      if (trigger === 'message') {
        target.emit('message', { type: 'something else' });
        expect(lifecycle.state).toBe('running');
        target.emit('message', 'shutdown');
      } else {
        target.emit(trigger, trigger);
      }
      await lifecycle.shutdown('await the drain');
      expect(exits).toEqual([0]);
      // Exiting removes the listeners again.
      expect(target.listenerCount('SIGTERM')).toBe(0);
    }
  });

  it('exits 1 at once on a second signal while draining', async () => {
    const { lifecycle, exits, target } = setup({ steps: [{ name: 'hangs', run: () => new Promise(() => {}) }] });
    lifecycle.install();
    target.emit('SIGINT', 'SIGINT');
    await new Promise((resolve) => setImmediate(resolve));
    expect(exits).toEqual([]);
    target.emit('SIGINT', 'SIGINT');
    expect(exits).toEqual([1]);
  });

  it('uninstalls', () => {
    const { lifecycle, target } = setup();
    const uninstall = lifecycle.install();
    uninstall();
    expect(target.listenerCount('SIGINT')).toBe(0);
    expect(target.listenerCount('message')).toBe(0);
  });
});

describe('closeServer', () => {
  it('stops accepting at once and cuts a stream still open after the grace period', async () => {
    const server = createServer((_request, response) => {
      // An event stream that never ends by itself (devtools SSE).
      response.writeHead(200, { 'content-type': 'text/event-stream' });
      response.write('data: hello\n\n');
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as AddressInfo;
    const streamEnded = new Promise<string>((resolve) => {
      request({ host: '127.0.0.1', port, path: '/events' }, (response) => {
        response.on('data', () => {});
        response.on('close', () => resolve('closed'));
      }).end();
    });
    await new Promise((resolve) => setTimeout(resolve, 50));
    const started = Date.now();
    const closing = closeServer(server, 100);
    // A new connection is refused while the old stream is still open.
    const refused = await new Promise<string>((resolve) => {
      request({ host: '127.0.0.1', port, path: '/' }, () => resolve('answered'))
        .on('error', (error: NodeJS.ErrnoException) => resolve(error.code ?? 'error'))
        .end();
    });
    expect(refused).toBe('ECONNREFUSED');
    await closing;
    expect(await streamEnded).toBe('closed');
    expect(Date.now() - started).toBeGreaterThanOrEqual(90);
    expect(server.listening).toBe(false);
  });
});

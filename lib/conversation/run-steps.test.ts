import { describe, expect, it } from 'vitest';
import { createEventBus } from '../observe/event-bus.js';
import type { ReplyProgress } from './reply-sink.js';
import { trackRunSteps } from './run-steps.js';

describe('trackRunSteps', () => {
  it('follows a delegation and tool calls of its own trace, bounded, and ends done', () => {
    const bus = createEventBus();
    let clock = 1_000;
    const reported: ReplyProgress[] = [];
    const steps = trackRunSteps({
      bus,
      traceId: 't1',
      onProgress: (progress) => reported.push(progress),
      maxSteps: 2,
      tickMs: 60_000,
      now: () => clock,
    });
    bus.emit({ type: 'agent.delegation', traceId: 't1', from: 'manager', to: 'docs', task: 'read it' });
    bus.emit({
      type: 'tool.call',
      traceId: 'other',
      agent: 'manager',
      tool: 'ignored',
      input: '',
      output: '',
      latencyMs: 1,
    });
    clock += 1_500;
    bus.emit({
      type: 'tool.call',
      traceId: 't1',
      agent: 'docs',
      tool: 'readDoc',
      input: '',
      output: '',
      latencyMs: 700,
    });
    clock += 500;
    bus.emit({
      type: 'agent.call',
      traceId: 't1',
      agent: 'docs',
      model: 'm',
      latencyMs: 2_000,
      outcome: 'success',
      inputTokens: 1,
      outputTokens: 1,
    });
    bus.emit({
      type: 'tool.call',
      traceId: 't1',
      agent: 'manager',
      tool: 'webSearch',
      input: '',
      output: '',
      latencyMs: 300,
      error: 'boom',
    });
    expect(reported.at(-1)).toEqual({
      steps: [
        { kind: 'tool', name: 'readDoc', state: 'done', elapsedMs: 700 },
        { kind: 'tool', name: 'webSearch', state: 'failed', elapsedMs: 300 },
      ],
      elapsedMs: 2_000,
      omitted: 1,
      done: false,
    });
    expect(reported[0]?.steps).toEqual([{ kind: 'specialist', name: 'docs', state: 'running', elapsedMs: 0 }]);
    expect(steps.finish()).toMatchObject({ done: true, omitted: 1 });
    // Unsubscribed: later events change nothing.
    const count = reported.length;
    bus.emit({ type: 'agent.delegation', traceId: 't1', from: 'manager', to: 'docs', task: 'again' });
    expect(reported).toHaveLength(count);
  });

  it('shows a tool as running from its start, and completes that same step when it finishes', () => {
    const bus = createEventBus();
    let clock = 1_000;
    const reported: ReplyProgress[] = [];
    const steps = trackRunSteps({
      bus,
      traceId: 't1',
      onProgress: (progress) => reported.push(progress),
      tickMs: 60_000,
      now: () => clock,
    });
    const call = (toolCallId: string, latencyMs: number, error?: string) =>
      bus.emit({
        type: 'tool.call',
        traceId: 't1',
        agent: 'manager',
        tool: 'readDocument',
        toolCallId,
        input: '',
        output: '',
        latencyMs,
        ...(error === undefined ? {} : { error }),
      });
    bus.emit({ type: 'tool.started', traceId: 't1', agent: 'manager', tool: 'readDocument', toolCallId: 'c1' });
    expect(reported.at(-1)?.steps).toEqual([{ kind: 'tool', name: 'readDocument', state: 'running', elapsedMs: 0 }]);
    clock += 200;
    bus.emit({ type: 'tool.started', traceId: 't1', agent: 'manager', tool: 'readDocument', toolCallId: 'c2' });
    clock += 300;
    // The second call ends first: matched by its id, not by its name.
    call('c2', 300, 'boom');
    expect(reported.at(-1)?.steps).toEqual([
      { kind: 'tool', name: 'readDocument', state: 'running', elapsedMs: 500 },
      { kind: 'tool', name: 'readDocument', state: 'failed', elapsedMs: 300 },
    ]);
    clock += 100;
    call('c1', 600);
    expect(reported.at(-1)?.steps).toEqual([
      { kind: 'tool', name: 'readDocument', state: 'done', elapsedMs: 600 },
      { kind: 'tool', name: 'readDocument', state: 'failed', elapsedMs: 300 },
    ]);
    expect(steps.finish()?.steps).toHaveLength(2);
  });

  it('reports nothing for a plain answer, so its card gets no panel', () => {
    const reported: ReplyProgress[] = [];
    const steps = trackRunSteps({
      bus: createEventBus(),
      traceId: 't2',
      onProgress: (progress) => reported.push(progress),
    });
    steps.textArrived();
    expect(steps.finish()).toBeUndefined();
    expect(reported).toEqual([]);
  });
});

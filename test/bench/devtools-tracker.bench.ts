/**
 * What the devtools tracker adds to every bus emit, and that its memory stays flat however many
 * events pass.
 *
 *   node --expose-gc --import tsx test/bench/devtools-tracker.bench.ts
 *
 * Prints microseconds per emitted event for a bus with the tracker subscribed next to a
 * same-run baseline: the same bus with one no-op listener (the cost every observer pays anyway).
 * Then the heap after 200 000 and after 1 000 000 events with a 5 000-slot ring: the ring is
 * preallocated and traces are capped, so the second figure must not be larger than the first by
 * more than noise.
 */

import { createTracker } from '../../lib/devtools/tracker.js';
import type { BotEvent } from '../../lib/observe/bot-event.js';
import { createEventBus } from '../../lib/observe/event-bus.js';

const gc = (globalThis as { gc?: () => void }).gc;
/** A typical 300-character answer: every finished reply carries its text to the tracker. */
const ANSWER = 'It is Monday 12:00 in Berlin. '.repeat(10);

/** A realistic mix: one message's worth of events per 8, spread over many traces. */
function eventAt(index: number): BotEvent {
  const traceId = `message:om_${index >> 3}`;
  switch (index % 8) {
    case 0:
      return {
        type: 'event.received',
        traceId,
        source: 'webhook',
        eventType: 'im.message.receive_v1',
        eventId: `ev_${index}`,
      };
    case 1:
      return { type: 'job.started', traceId, jobId: traceId, lane: 'chat:oc_1', attempt: 1 };
    case 2:
      return {
        type: 'message.received',
        traceId,
        chatId: 'oc_1',
        chatType: 'group',
        userId: 'ou_1',
        text: 'what is the weather like in Berlin today?',
      };
    case 3:
      return {
        type: 'tool.call',
        traceId,
        agent: 'manager',
        tool: 'currentTime',
        input: '{"timeZone":"Europe/Berlin"}',
        output: 'Monday 12:00',
        latencyMs: 2,
      };
    case 4:
      return {
        type: 'agent.call',
        traceId,
        agent: 'manager',
        model: 'gpt-4o-mini',
        latencyMs: 800,
        outcome: 'success',
        inputTokens: 900,
        outputTokens: 80,
      };
    case 5:
      return { type: 'reply.update', traceId, cardId: 'card', sequence: index, length: 120 };
    case 6:
      return { type: 'reply.finished', traceId, mode: 'card', length: ANSWER.length, cards: 1, text: ANSWER };
    default:
      return { type: 'job.finished', traceId, jobId: traceId, outcome: 'done', durationMs: 900 };
  }
}

function microsecondsPerEvent(count: number, attach: (bus: ReturnType<typeof createEventBus>) => void): number {
  const bus = createEventBus();
  attach(bus);
  const events = Array.from({ length: 8_000 }, (_, index) => eventAt(index));
  // Warm up the JIT before timing.
  for (let index = 0; index < 20_000; index++) bus.emit(events[index % events.length] as BotEvent);
  const started = performance.now();
  for (let index = 0; index < count; index++) bus.emit(eventAt(index));
  return ((performance.now() - started) * 1_000) / count;
}

const count = 200_000;
const baseline = microsecondsPerEvent(count, (bus) => bus.subscribe(() => {}));
const tracked = microsecondsPerEvent(count, (bus) => createTracker({ bus, ringSize: 5_000 }));

async function heapAfter(events: number): Promise<number> {
  const bus = createEventBus();
  const tracker = createTracker({ bus, ringSize: 5_000 });
  for (let index = 0; index < events; index++) bus.emit(eventAt(index));
  gc?.();
  const used = process.memoryUsage().heapUsed;
  if ((await tracker.stats()).events.inRing !== 5_000) throw new Error('ring did not fill');
  return used;
}

gc?.();
const heapSmall = await heapAfter(200_000);
gc?.();
const heapLarge = await heapAfter(1_000_000);
const mb = (bytes: number) => `${(bytes / 1024 / 1024).toFixed(1)} MB`;

process.stdout.write(
  [
    `events: ${count} emits, mix of 8 types over ${count / 8} traces, ring 5000`,
    `baseline, bus + no-op listener: ${baseline.toFixed(3)} µs per event`,
    `bus + devtools tracker:         ${tracked.toFixed(3)} µs per event (${(tracked / baseline).toFixed(1)}× the baseline)`,
    `heap after 200 000 events:      ${mb(heapSmall)}${gc ? '' : ' (run with --expose-gc for stable figures)'}`,
    `heap after 1 000 000 events:    ${mb(heapLarge)} (${(heapLarge / heapSmall).toFixed(2)}× the 200 000 figure)`,
    `summary: devtools tracker ${tracked.toFixed(2)} µs/event (${(tracked / baseline).toFixed(1)}× no-op listener), heap ${(heapLarge / heapSmall).toFixed(2)}× from 200k to 1M events`,
    '',
  ].join('\n'),
);

import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { createLogger } from '../log.js';
import { createEventBus } from './event-bus.js';
import { logBotEvents } from './log-bot-events.js';

describe('logBotEvents', () => {
  it('logs arrival, ignoring and finishing of a message, tied by the trace id, and nothing else', () => {
    const lines: Array<Record<string, unknown>> = [];
    const destination = new Writable({
      write(chunk: Buffer, _encoding, callback) {
        lines.push(JSON.parse(chunk.toString('utf8')) as Record<string, unknown>);
        callback();
      },
    });
    const bus = createEventBus();
    const unsubscribe = logBotEvents(bus, createLogger({ destination, pretty: false }));
    bus.emit({
      type: 'event.received',
      traceId: 't1',
      source: 'webhook',
      eventType: 'im.message.receive_v1',
      eventId: 'e1',
    });
    bus.emit({ type: 'message.ignored', traceId: 't1', reason: 'not mentioned' });
    bus.emit({ type: 'job.finished', traceId: 't1', jobId: 'j1', outcome: 'done', durationMs: 12 });
    bus.emit({ type: 'feishu.api', api: 'im.v1.message.reply', outcome: 'ok', latencyMs: 3 });
    unsubscribe();
    bus.emit({ type: 'message.ignored', traceId: 't2', reason: 'not mentioned' });
    expect(lines.map((line) => [line.msg, line.traceId])).toEqual([
      ['event received', 't1'],
      ['message ignored', 't1'],
      ['job finished', 't1'],
    ]);
    expect(lines[0]).toMatchObject({ source: 'webhook', eventType: 'im.message.receive_v1', eventId: 'e1', level: 30 });
    expect(lines[1]).toMatchObject({ reason: 'not mentioned' });
    expect(lines[2]).toMatchObject({ jobId: 'j1', outcome: 'done', durationMs: 12 });
  });
});

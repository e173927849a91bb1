import { describe, expect, it } from 'vitest';
import type { BotEvent } from '../observe/bot-event.js';
import { createEventBus } from '../observe/event-bus.js';
import { createDevtoolsReplies, type DevtoolsReplyUpdate } from './devtools-replies.js';

/** Replies on a bus, and a way to play the inbox receiving a playground message. */
function playground(options: Parameters<typeof createDevtoolsReplies>[0] = {}) {
  const bus = createEventBus();
  const replies = createDevtoolsReplies({ bus, ...options });
  const received = (traceId: string, source: 'devtools' | 'webhook' = 'devtools') =>
    bus.emit({ type: 'event.received', traceId, source, eventType: 'im.message.receive_v1', eventId: `e-${traceId}` });
  return { bus, replies, received };
}

describe('createDevtoolsReplies', () => {
  it('streams start, full-text updates and the finish to a subscriber', async () => {
    const { replies, received } = playground();
    received('t1');
    const seen: DevtoolsReplyUpdate[] = [];
    replies.subscribe('t1', (update) => seen.push(update));
    const sink = replies.sinkFor('t1');
    await sink.start();
    sink.update('Hel');
    sink.update('Hello');
    await sink.finish('Hello!', 'gpt-test · 12 tokens');
    sink.update('ignored after finish');
    expect(seen).toEqual([
      { type: 'start', text: '' },
      { type: 'update', text: 'Hel' },
      { type: 'update', text: 'Hello' },
      { type: 'finish', text: 'Hello!', detail: 'gpt-test · 12 tokens' },
    ]);
    expect(replies.get('t1')).toEqual({ type: 'finish', text: 'Hello!', detail: 'gpt-test · 12 tokens' });
  });

  it('replays what happened so far to a late subscriber', async () => {
    const replies = createDevtoolsReplies();
    const sink = replies.sinkFor('t2');
    await sink.start();
    sink.update('partial');
    const seen: DevtoolsReplyUpdate[] = [];
    replies.subscribe('t2', (update) => seen.push(update));
    await sink.fail('partial', 'The model is unavailable');
    expect(seen).toEqual([
      { type: 'start', text: '' },
      { type: 'update', text: 'partial' },
      { type: 'fail', text: 'partial', detail: 'The model is unavailable' },
    ]);
  });

  it('stops calling an unsubscribed listener and survives a throwing one', async () => {
    const { replies, received } = playground();
    received('t3');
    const seen: string[] = [];
    const stop = replies.subscribe('t3', (update) => seen.push(update.text));
    replies.subscribe('t3', () => {
      throw new Error('broken writer');
    });
    const sink = replies.sinkFor('t3');
    sink.update('a');
    stop?.();
    sink.update('b');
    expect(seen).toEqual(['a']);
  });

  it('expires entries after the TTL and caps their number and text', async () => {
    let clock = 0;
    const replies = createDevtoolsReplies({ ttlMs: 1_000, maxEntries: 3, maxTextChars: 5, now: () => clock });
    replies.sinkFor('long').update('0123456789');
    expect(replies.get('long')?.text).toBe('01234');
    clock = 2_000;
    expect(replies.get('long')).toBeNull();
    for (const id of ['a', 'b', 'c', 'd']) replies.sinkFor(id).update(id);
    expect(replies.get('a')).toBeNull();
    expect(replies.get('d')?.text).toBe('d');
  });

  it('reports reply.started and reply.finished on the bus like a Feishu reply', async () => {
    const bus = createEventBus();
    const events: BotEvent[] = [];
    bus.subscribe((event) => events.push(event));
    const replies = createDevtoolsReplies({ bus });
    const ok = replies.sinkFor('ok');
    await ok.start();
    ok.update('partial');
    await ok.finish('done!');
    const broken = replies.sinkFor('broken');
    await broken.start();
    await broken.fail('half', 'model unavailable');
    expect(events.map(({ type, traceId }: BotEvent & { traceId?: string }) => `${type}:${traceId}`)).toEqual([
      'reply.started:ok',
      'reply.finished:ok',
      'reply.started:broken',
      'reply.finished:broken',
    ]);
    expect(events[1]).toMatchObject({ mode: 'devtools', length: 5, cards: 0, text: 'done!' });
    expect(events[3]).toMatchObject({ notice: 'model unavailable', length: 4, text: 'half' });
  });

  it('follows only traces the playground started: nothing is created for any other id', () => {
    const { replies, received } = playground({ maxEntries: 5 });
    expect(replies.subscribe('never-sent', () => {})).toBeNull();
    received('from-feishu', 'webhook');
    expect(replies.subscribe('from-feishu', () => {})).toBeNull();
    for (let index = 0; index < 3_000; index++) expect(replies.subscribe(`guess-${index}`, () => {})).toBeNull();
    received('mine');
    expect(replies.subscribe('mine', () => {})).toBeTypeOf('function');
  });

  it('closes an answer its job ended without, with the reason, as soon as the job ends', async () => {
    const { bus, replies, received } = playground({ redact: (text) => text.replaceAll('sk-live-123', '[Redacted]') });
    const seen: Record<string, DevtoolsReplyUpdate[]> = {};
    for (const traceId of ['ignored', 'dead', 'silent', 'answered']) {
      received(traceId);
      seen[traceId] = [];
      replies.subscribe(traceId, (update) => seen[traceId]?.push(update));
    }
    bus.emit({ type: 'message.ignored', traceId: 'ignored', reason: 'a bot wrote it' });
    bus.emit({ type: 'job.finished', traceId: 'ignored', jobId: 'ignored', outcome: 'done', durationMs: 1 });
    bus.emit({ type: 'job.finished', traceId: 'dead', jobId: 'dead', outcome: 'retry', durationMs: 1 });
    expect(seen.dead).toEqual([]);
    bus.emit({
      type: 'job.finished',
      traceId: 'dead',
      jobId: 'dead',
      outcome: 'dead',
      durationMs: 1,
      error: 'provider said 401 for sk-live-123',
    });
    bus.emit({ type: 'job.finished', traceId: 'silent', jobId: 'silent', outcome: 'done', durationMs: 1 });
    await replies.sinkFor('answered').finish('Hello');
    bus.emit({ type: 'job.finished', traceId: 'answered', jobId: 'answered', outcome: 'done', durationMs: 1 });

    expect(seen.ignored).toEqual([{ type: 'fail', text: '', detail: 'Not answered: a bot wrote it' }]);
    expect(seen.dead).toEqual([
      { type: 'fail', text: '', detail: 'The job failed for good: provider said 401 for [Redacted]' },
    ]);
    expect(seen.silent).toEqual([{ type: 'fail', text: '', detail: 'Finished without an answer' }]);
    expect(seen.answered).toEqual([{ type: 'finish', text: 'Hello' }]);
    expect(replies.get('silent')).toEqual({ type: 'fail', text: '', detail: 'Finished without an answer' });
  });
});

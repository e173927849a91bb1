import { describe, expect, it } from 'vitest';
import type { BotEvent } from '../observe/bot-event.js';
import { createEventBus } from '../observe/event-bus.js';
import { createDevtoolsReplies, type DevtoolsReplyUpdate } from './devtools-replies.js';

describe('createDevtoolsReplies', () => {
  it('streams start, full-text updates and the finish to a subscriber', async () => {
    const replies = createDevtoolsReplies();
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
    const replies = createDevtoolsReplies();
    const seen: string[] = [];
    const stop = replies.subscribe('t3', (update) => seen.push(update.text));
    replies.subscribe('t3', () => {
      throw new Error('broken writer');
    });
    const sink = replies.sinkFor('t3');
    sink.update('a');
    stop();
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
});

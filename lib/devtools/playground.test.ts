import pino from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import type { AcceptResult, InboundEvent } from '../inbox/inbound-event.js';
import { createInbox } from '../inbox/inbox.js';
import { createEventBus } from '../observe/event-bus.js';
import { openStore } from '../store/open-store.js';
import type { Store } from '../store/store.js';
import {
  buildPlaygroundEvent,
  createPlayground,
  PlaygroundRequestError,
  parsePlaygroundRequest,
} from './playground.js';

describe('parsePlaygroundRequest', () => {
  it.each([
    [null, 'invalid_body'],
    [[], 'invalid_body'],
    [{ text: 42 }, 'invalid_body'],
    [{ text: '   ' }, 'empty_text'],
    [{ text: 'x'.repeat(11) }, 'text_too_long'],
    [{ text: 'hi', sessionId: 'has space' }, 'invalid_session_id'],
    [{ text: 'hi', sessionId: 7 }, 'invalid_session_id'],
    [{ text: 'hi', app: 'gamma' }, 'unknown_app'],
    [{ text: 'hi', app: 7 }, 'unknown_app'],
  ])('rejects %j with %s', (body, code) => {
    try {
      parsePlaygroundRequest(body, { maxChars: 10, apps: ['default', 'beta'] });
      expect.unreachable('should have thrown');
    } catch (error) {
      expect(PlaygroundRequestError.isInstance(error)).toBe(true);
      expect((error as PlaygroundRequestError).code).toBe(code);
    }
  });

  it('keeps the text verbatim, including markup', () => {
    expect(parsePlaygroundRequest({ text: '<b>hi</b>', sessionId: 'tab_1' })).toEqual({
      text: '<b>hi</b>',
      sessionId: 'tab_1',
    });
  });
});

describe('buildPlaygroundEvent', () => {
  it('carries the neutral message directly: a direct chat with one text part', () => {
    let id = 0;
    const event = buildPlaygroundEvent(
      { text: 'hello "bot"', sessionId: 's1' },
      { now: () => 1_700_000_000_000, newId: () => `uuid-${++id}` },
    );
    expect(event).toEqual({
      source: 'devtools',
      eventId: 'devtools_uuid-2',
      eventType: 'im.message.receive_v1',
      createdAt: 1_700_000_000_000,
      receivedAt: 1_700_000_000_000,
      event: {},
      message: {
        kind: 'message',
        messageId: 'om_devtools_uuid-1',
        chatId: 'oc_devtools_s1',
        chatType: 'p2p',
        sender: { openId: 'ou_devtools_s1', type: 'user' },
        text: 'hello "bot"',
        parts: [{ type: 'text', text: 'hello "bot"' }],
        mentions: [],
        mentionsBot: false,
        createTime: 1_700_000_000_000,
        messageType: 'text',
      },
    });
  });

  it('names the app it is addressed to, except the default one, whose keys carry no app', () => {
    expect(buildPlaygroundEvent({ text: 'a', app: 'beta' }).appId).toBe('beta');
    expect('appId' in buildPlaygroundEvent({ text: 'a', app: 'default' })).toBe(false);
    expect('appId' in buildPlaygroundEvent({ text: 'a' })).toBe(false);
    expect(parsePlaygroundRequest({ text: 'a', app: 'beta' }, { apps: ['alpha', 'beta'] })).toEqual({
      text: 'a',
      app: 'beta',
    });
    // Served apps only; without a list only the default one is.
    expect(() => parsePlaygroundRequest({ text: 'a', app: 'beta' })).toThrow(PlaygroundRequestError);
    expect(parsePlaygroundRequest({ text: 'a', app: 'default' })).toEqual({ text: 'a', app: 'default' });
  });

  it('makes a new event and message id per call', () => {
    const first = buildPlaygroundEvent({ text: 'a' });
    const second = buildPlaygroundEvent({ text: 'a' });
    expect(first.eventId).not.toBe(second.eventId);
    const messageId = (event: InboundEvent) => event.message?.messageId;
    expect(messageId(first)).not.toBe(messageId(second));
    expect(messageId(first)).toMatch(/^om_devtools_[0-9a-f-]{36}$/);
  });
});

describe('createPlayground', () => {
  let store: Store | undefined;
  afterEach(async () => {
    await store?.close();
    store = undefined;
  });

  it('answers a message naming no app as the first app, under the same keys as when it is picked', async () => {
    const received: InboundEvent[] = [];
    const inbox = {
      async accept(event: InboundEvent): Promise<AcceptResult> {
        received.push(event);
        return { status: 'accepted', jobId: 'job-1' };
      },
    };
    const fileApps = createPlayground({ inbox, apps: ['alpha', 'beta'] });
    await fileApps.send({ text: 'hi' });
    await fileApps.send({ text: 'hi', app: 'alpha' });
    expect(received.map((event) => event.appId)).toEqual(['alpha', 'alpha']);
    // The FEISHU_APP_ID app keeps the unprefixed keys it always had.
    const withDefault = createPlayground({ inbox, apps: ['default', 'beta'] });
    await withDefault.send({ text: 'hi' });
    await withDefault.send({ text: 'hi', app: 'default' });
    expect(received.slice(2).map((event) => event.appId)).toEqual([undefined, undefined]);
  });

  it('hands the event to the inbox and returns its answer', async () => {
    const received: InboundEvent[] = [];
    const playground = createPlayground({
      inbox: {
        async accept(event): Promise<AcceptResult> {
          received.push(event);
          return { status: 'accepted', jobId: 'job-7' };
        },
      },
    });
    expect(await playground.send({ text: 'hi', sessionId: 'x' })).toEqual({ status: 'accepted', jobId: 'job-7' });
    expect(received).toHaveLength(1);
    expect(received[0]?.source).toBe('devtools');
    await expect(playground.send({ text: '' })).rejects.toThrow(PlaygroundRequestError);
    expect(received).toHaveLength(1);
  });

  it('goes through the real inbox into a durable job on the conversation lane', async () => {
    store = await openStore('sqlite::memory:');
    const bus = createEventBus();
    const seen: string[] = [];
    bus.subscribe((event) => seen.push(event.type));
    const inbox = createInbox({
      store,
      bus,
      log: pino({ level: 'silent' }),
      dedupeTtlMs: 12 * 3_600_000,
      maxBacklog: 10,
    });
    const playground = createPlayground({ inbox });

    const result = await playground.send({ text: 'what is the weather?', sessionId: 'tab-1' });
    if (result.status !== 'accepted') throw new Error(`not accepted: ${JSON.stringify(result)}`);
    const job = await store.getJob(result.jobId);
    if (!job) throw new Error('job not persisted');
    expect(job.status).toBe('pending');
    expect(job.lane).toContain('oc_devtools_tab-1');
    expect((job.payload as InboundEvent).source).toBe('devtools');
    expect(seen).toEqual(['event.received', 'job.queued']);

    // Each send is a new message, never a duplicate of the previous one.
    const again = await playground.send({ text: 'what is the weather?', sessionId: 'tab-1' });
    expect(again.status).toBe('accepted');
  });

  it("puts a message to another app into that app's job and lane", async () => {
    store = await openStore('sqlite::memory:');
    const inbox = createInbox({
      store,
      bus: createEventBus(),
      log: pino({ level: 'silent' }),
      dedupeTtlMs: 12 * 3_600_000,
      maxBacklog: 10,
    });
    const playground = createPlayground({ inbox, apps: ['alpha', 'beta'] });
    const result = await playground.send({ text: 'who are you?', sessionId: 'tab-1', app: 'beta' });
    if (result.status !== 'accepted') throw new Error(`not accepted: ${JSON.stringify(result)}`);
    expect(result.jobId).toMatch(/^app:beta:message:om_devtools_/);
    const job = await store.getJob(result.jobId);
    if (!job) throw new Error('job not persisted');
    expect(job.lane).toBe('app:beta:chat:oc_devtools_tab-1');
    expect((job.payload as InboundEvent).appId).toBe('beta');
  });
});

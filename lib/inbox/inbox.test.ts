import pino from 'pino';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { inboundMessage } from '../../test/support/ingress-events.js';
import { silentLogger } from '../log.js';
import type { StampedBotEvent } from '../observe/bot-event.js';
import { createEventBus } from '../observe/event-bus.js';
import { openSqliteStore } from '../store/sqlite-store.js';
import type { Store } from '../store/store.js';
import { StoreUnavailableError } from '../store/store.js';
import { createInbox, type InboxOptions } from './inbox.js';

const DAY = 24 * 3_600_000;

describe('inbox', () => {
  let store: Store;
  let events: StampedBotEvent[];
  const bus = createEventBus();
  bus.subscribe((event) => events.push(event));

  beforeEach(() => {
    store = openSqliteStore(':memory:');
    events = [];
  });
  afterEach(async () => {
    await store.close();
  });

  const inbox = (options: Partial<InboxOptions> = {}) =>
    createInbox({ store, bus, log: silentLogger(), dedupeTtlMs: DAY, maxBacklog: 100, ...options });

  it('persists a message as an answer job in its conversation lane, then reports accepted', async () => {
    const woken: string[] = [];
    const result = await inbox({ onEnqueued: (job) => woken.push(`${job.kind} ${job.id}`) }).accept(
      inboundMessage({ eventId: 'ev1', messageId: 'om_1', chatId: 'oc_a' }),
    );
    expect(result).toEqual({ status: 'accepted', jobId: 'message:om_1' });
    const job = await store.getJob('message:om_1');
    expect(job).toMatchObject({ lane: 'chat:oc_a', kind: 'answer', status: 'pending' });
    expect(job?.payload).toMatchObject({ eventId: 'ev1' });
    expect(woken).toEqual(['answer message:om_1']);
    expect(events.map((event) => event.type)).toEqual(['event.received', 'job.queued']);
  });

  it('puts a thread reply in the thread’s lane', async () => {
    await inbox().accept(inboundMessage({ eventId: 'ev1', messageId: 'om_2', chatId: 'oc_a', rootId: 'om_root' }));
    expect((await store.getJob('message:om_2'))?.lane).toBe('chat:oc_a:thread:om_root');
  });

  it('drops a re-delivered event and the same message under a second event id, on the message id', async () => {
    const receiver = inbox();
    expect((await receiver.accept(inboundMessage({ eventId: 'ev1', messageId: 'om_1' }))).status).toBe('accepted');
    expect(await receiver.accept(inboundMessage({ eventId: 'ev1', messageId: 'om_1' }))).toEqual({
      status: 'duplicate',
      key: 'message_id',
    });
    expect(await receiver.accept(inboundMessage({ eventId: 'ev2', messageId: 'om_1' }))).toEqual({
      status: 'duplicate',
      key: 'message_id',
    });
    expect((await store.countJobs()).pending).toBe(1);
    expect(events.filter((event) => event.type === 'event.duplicate')).toHaveLength(2);
  });

  it('claims no dedupe key for a message: its job id is the key (one write fewer per ack)', async () => {
    expect((await inbox().accept(inboundMessage({ eventId: 'ev1', messageId: 'om_1' }))).status).toBe('accepted');
    // Nothing holds the event id: the claim is free for the taking.
    expect(await store.claimKey('event:ev1', 60_000)).toBe(true);
    expect(await inbox().accept(inboundMessage({ eventId: 'ev2', messageId: 'om_1' }))).toEqual({
      status: 'duplicate',
      key: 'message_id',
    });
  });

  it('remembers across inbox instances (the claims live in the store, not in memory)', async () => {
    await inbox().accept(inboundMessage({ eventId: 'ev1', messageId: 'om_1' }));
    expect((await inbox().accept(inboundMessage({ eventId: 'ev1', messageId: 'om_1' }))).status).toBe('duplicate');
  });

  it('acknowledges and ignores event types that need no work, still deduped', async () => {
    const receiver = inbox();
    const other = { ...inboundMessage({ eventId: 'ev9', messageId: 'om_9' }), eventType: 'im.chat.updated_v1' };
    expect((await receiver.accept(other)).status).toBe('ignored');
    expect(await receiver.accept(other)).toEqual({ status: 'duplicate', key: 'event_id' });
    expect((await store.countJobs()).pending).toBe(0);
  });

  it('ignores a message event without message_id', async () => {
    const broken = inboundMessage({ eventId: 'ev1', messageId: 'om_1' });
    broken.event = { sender: {}, message: { chat_id: 'oc' } };
    expect((await inbox().accept(broken)).status).toBe('ignored');
  });

  it('when the job cannot be persisted: unavailable, and nothing stays claimed, so the retry gets through', async () => {
    let failEnqueue = true;
    const flaky = new Proxy(store, {
      get(target, property, receiver) {
        if (property === 'admit' && failEnqueue) {
          return async () => {
            throw new StoreUnavailableError('disk gone');
          };
        }
        const value = Reflect.get(target, property, receiver);
        return typeof value === 'function' ? value.bind(target) : value;
      },
    });
    const receiver = createInbox({ store: flaky, bus, log: silentLogger(), dedupeTtlMs: DAY, maxBacklog: 100 });
    const event = inboundMessage({ eventId: 'ev1', messageId: 'om_1' });
    expect(await receiver.accept(event)).toMatchObject({ status: 'unavailable', reason: 'disk gone' });
    expect((await store.countJobs()).pending).toBe(0);
    failEnqueue = false;
    expect(await receiver.accept(event)).toEqual({ status: 'accepted', jobId: 'message:om_1' });
  });

  it('beyond the backlog: a busy notice job in its own lane, not silence', async () => {
    let clock = 1_000_000;
    const receiver = inbox({ maxBacklog: 2, backlogCacheMs: 60_000, now: () => clock });
    for (const index of [1, 2]) {
      clock += 1;
      expect((await receiver.accept(inboundMessage({ eventId: `ev${index}`, messageId: `om_${index}` }))).status).toBe(
        'accepted',
      );
    }
    // The cached count is advanced locally, so a burst inside the cache window is still seen.
    const result = await receiver.accept(inboundMessage({ eventId: 'ev3', messageId: 'om_3', chatId: 'oc_chat' }));
    expect(result).toEqual({ status: 'accepted', jobId: 'message:om_3' });
    expect(await store.getJob('message:om_3')).toMatchObject({ kind: 'notice', lane: 'notice:chat:oc_chat' });
    expect(events.some((event) => event.type === 'job.busy')).toBe(true);
  });

  it('past the hard cap (twice the backlog): acked and dropped, stored nothing, counted', async () => {
    const logged: { msg: string }[] = [];
    const log = pino({ level: 'info' }, { write: (line: string) => logged.push(JSON.parse(line)) });
    const receiver = inbox({ maxBacklog: 2, log });
    const results = [];
    for (let index = 1; index <= 8; index++) {
      results.push(
        await receiver.accept(
          inboundMessage({ eventId: `ev${index}`, messageId: `om_${index}`, chatId: `oc_${index}` }),
        ),
      );
    }
    // Two answers, two busy notices, then nothing more is stored.
    expect(results.map((result) => result.status)).toEqual([
      'accepted',
      'accepted',
      'accepted',
      'accepted',
      'ignored',
      'ignored',
      'ignored',
      'ignored',
    ]);
    expect((await store.countJobs()).pending).toBe(4);
    expect(await store.getJob('message:om_5')).toBeNull();
    const dropped = events.filter((event) => event.type === 'event.dropped');
    expect(dropped).toHaveLength(4);
    expect(dropped[0]).toMatchObject({ reason: 'backlog-full' });
    // Logged sampled: the first drop, not one line per event.
    expect(logged.filter((line) => line.msg.includes('hard cap'))).toHaveLength(1);
    // The busy notices are sampled too: one line, not one per message.
    expect(logged.filter((line) => line.msg.includes('busy notice'))).toHaveLength(1);
  });

  it('past its flood cap a chat or a sender is acked and dropped, and other chats are still answered', async () => {
    const receiver = inbox({ floodCaps: { perChat: 3, perUser: 5 } });
    const flood = [];
    for (let index = 1; index <= 6; index++) {
      flood.push(
        await receiver.accept(
          inboundMessage({
            eventId: `ev${index}`,
            messageId: `om_${index}`,
            chatId: 'oc_flood',
            senderOpenId: `ou_${index}`,
          }),
        ),
      );
    }
    expect(flood.map((result) => result.status)).toEqual([
      'accepted',
      'accepted',
      'accepted',
      'ignored',
      'ignored',
      'ignored',
    ]);
    expect(events.filter((event) => event.type === 'event.dropped')).toHaveLength(3);
    expect(events.find((event) => event.type === 'event.dropped')).toMatchObject({ reason: 'flood' });
    // One sender across many chats hits the sender cap.
    const spread = [];
    for (let index = 1; index <= 6; index++) {
      spread.push(
        await receiver.accept(
          inboundMessage({
            eventId: `es${index}`,
            messageId: `os_${index}`,
            chatId: `oc_s${index}`,
            senderOpenId: 'ou_spammer',
          }),
        ),
      );
    }
    expect(spread.map((result) => result.status)).toEqual([
      'accepted',
      'accepted',
      'accepted',
      'accepted',
      'accepted',
      'ignored',
    ]);
    expect(
      (await receiver.accept(inboundMessage({ eventId: 'ev-calm', messageId: 'om_calm', chatId: 'oc_calm' }))).status,
    ).toBe('accepted');
    expect((await store.countJobs()).pending).toBe(3 + 5 + 1);
  });

  it('does not count re-deliveries against the flood cap: only stored messages do', async () => {
    const receiver = inbox({ floodCaps: { perChat: 2, perUser: 100 } });
    const first = inboundMessage({ eventId: 'ev1', messageId: 'om_1', chatId: 'oc_busy' });
    for (let delivery = 0; delivery < 5; delivery++) await receiver.accept(first);
    const second = await receiver.accept(inboundMessage({ eventId: 'ev2', messageId: 'om_2', chatId: 'oc_busy' }));
    expect(second.status).toBe('accepted');
  });

  it('drops (acks, counts, stores nothing) an event created longer ago than the dedupe TTL, after housekeeping purged its keys', async () => {
    let clock = Date.UTC(2026, 0, 1);
    const receiver = inbox({ now: () => clock });
    const event = inboundMessage({ eventId: 'ev-old', messageId: 'om_old', createTime: clock });
    expect((await receiver.accept(event)).status).toBe('accepted');
    const job = await store.claimNextJob({ owner: 'worker', leaseMs: 60_000, now: clock });
    expect(job?.id).toBe('message:om_old');
    await store.completeJob('message:om_old', 'worker', clock);
    // +73 h: the dedupe claim (24 h) expired and housekeeping deleted the finished job (72 h).
    clock += 73 * 3_600_000;
    await store.purgeJobs(clock - 72 * 3_600_000);
    expect(await store.getJob('message:om_old')).toBeNull();
    events = [];

    const replayed = await receiver.accept({ ...event, receivedAt: clock });
    expect(replayed).toEqual({ status: 'ignored', reason: expect.stringContaining('stale') });
    expect(await store.getJob('message:om_old')).toBeNull();
    expect(events.map((each) => each.type)).toEqual(['event.received', 'event.dropped']);
    expect(events[1]).toMatchObject({ reason: 'stale', source: 'webhook' });
    // Inside the window an event is still taken.
    const fresh = inboundMessage({ eventId: 'ev-new', messageId: 'om_new', createTime: clock - DAY + 1 });
    expect((await receiver.accept(fresh)).status).toBe('accepted');
  });

  it.each(['bot', 'app'])(
    'stores nothing for a message whose sender_type is %s, and reports it skipped',
    async (senderType) => {
      const result = await inbox({ maxBacklog: 0 }).accept(
        inboundMessage({ eventId: `ev-${senderType}`, messageId: `om_${senderType}`, senderType }),
      );
      // Not even the busy notice (backlog 0 would turn an answer into one).
      expect(result).toEqual({ status: 'ignored', reason: 'sender is a bot' });
      expect(await store.countJobs()).toMatchObject({ pending: 0 });
      expect(events.find((event) => event.type === 'message.bot-skipped')).toMatchObject({ sender: senderType });
    },
  );
  it('keeps a non-message event as its own job when the backlog is full: only messages get the busy reply', async () => {
    const receiver = inbox({
      maxBacklog: 1,
      backlogCacheMs: 0,
      jobKinds: { 'im.message.receive_v1': 'answer', 'contact.user.deleted_v3': 'person-departed' },
    });
    await receiver.accept(inboundMessage({ eventId: 'ev-first', messageId: 'om_first', chatId: 'oc_a' }));
    // The backlog is full: a second message would get the busy reply.
    const result = await receiver.accept({
      source: 'webhook',
      eventId: 'ev-left',
      eventType: 'contact.user.deleted_v3',
      createdAt: Date.now(),
      receivedAt: Date.now(),
      event: { object: { open_id: 'ou_left' } },
    });
    expect(result).toEqual({ status: 'accepted', jobId: 'event:ev-left' });
    expect(await store.getJob('event:ev-left')).toMatchObject({ kind: 'person-departed', status: 'pending' });
  });
});

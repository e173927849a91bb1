import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { inboundMessage } from '../../test/support/ingress-events.js';
import { silentLogger } from '../log.js';
import { createEventBus } from '../observe/event-bus.js';
import { openSqliteStore } from '../store/sqlite-store.js';
import { type Store, StoreUnavailableError } from '../store/store.js';
import type { InboundEvent } from './inbound-event.js';
import { createInbox, type InboxOptions } from './inbox.js';

const DAY = 24 * 3_600_000;

/**
 * A non-message event that is worked on (the bot added to a group): unlike a message, whose job
 * id is its dedupe key, it is deduplicated by claiming its event id, the claim a failed accept
 * must release.
 */
const BOT_ADDED = 'im.chat.member.bot.added_v1';
function botAdded(eventId: string): InboundEvent {
  const at = Date.now();
  return {
    source: 'webhook',
    eventId,
    eventType: BOT_ADDED,
    createdAt: at,
    receivedAt: at,
    event: { chat_id: 'oc_new' },
  };
}

/**
 * A real SQLite store behind a switch: while `down`, every call fails like a Redis outage.
 * `failAfterCalls` lets that many calls land first, so the outage hits mid-accept (an accept
 * calls countJobs, then admit). `loseReplyOf` names a method whose call lands but whose answer is
 * lost with the connection, after which the store is down: the ambiguous case.
 */
function switchableStore(inner: Store) {
  const state: { down: boolean; failAfterCalls: number; loseReplyOf?: string } = {
    down: false,
    failAfterCalls: Number.POSITIVE_INFINITY,
  };
  const unavailable = () => new StoreUnavailableError('Redis unavailable: Connection is closed');
  const store = new Proxy(inner, {
    get(target, property, receiver) {
      const value = Reflect.get(target, property, receiver) as unknown;
      if (typeof value !== 'function' || property === 'close') return value;
      return async (...args: unknown[]) => {
        if (!state.down && state.failAfterCalls === 0) {
          state.down = true;
          state.failAfterCalls = Number.POSITIVE_INFINITY;
        }
        if (!state.down) state.failAfterCalls -= 1;
        if (state.down) throw unavailable();
        const result = await (value as (...parameters: unknown[]) => unknown).apply(target, args);
        if (property === state.loseReplyOf) {
          state.loseReplyOf = undefined;
          state.down = true;
          throw unavailable();
        }
        return result;
      };
    },
  });
  return { store, state };
}

describe('inbox during a store outage', () => {
  let inner: Store;

  beforeEach(() => {
    inner = openSqliteStore(':memory:');
  });
  afterEach(async () => {
    await inner.close();
  });

  const inboxOn = (store: Store, options: Partial<InboxOptions> = {}) =>
    createInbox({
      store,
      bus: createEventBus(),
      log: silentLogger(),
      dedupeTtlMs: DAY,
      maxBacklog: 100,
      jobKinds: { 'im.message.receive_v1': 'answer', [BOT_ADDED]: 'welcome' },
      ...options,
    });

  it('an admission whose answer was lost is neither lost nor answered twice when Feishu re-delivers', async () => {
    const { store, state } = switchableStore(inner);
    const inbox = inboxOn(store, { releaseRetryMs: 60_000 });
    // The job lands, the reply is lost and the store goes away: 503.
    state.loseReplyOf = 'admit';
    const event = inboundMessage({ eventId: 'ev_outage', messageId: 'om_outage' });
    expect((await inbox.accept(event)).status).toBe('unavailable');

    // The store is back; Feishu re-delivers: the job the lost admission queued makes the
    // re-delivery a duplicate instead of a second answer.
    state.down = false;
    expect(await inbox.accept(event)).toEqual({ status: 'duplicate', key: 'message_id' });
    expect(await inner.countJobs()).toEqual({ pending: 1, leased: 0, done: 0, dead: 0 });
    expect((await inner.getJob('message:om_outage'))?.status).toBe('pending');
  });

  it('an outage before the admission claims nothing: the re-delivery is accepted', async () => {
    const { store, state } = switchableStore(inner);
    const inbox = inboxOn(store);
    state.failAfterCalls = 0;
    const event = inboundMessage({ eventId: 'ev_early', messageId: 'om_early' });
    expect((await inbox.accept(event)).status).toBe('unavailable');
    state.down = false;
    expect(await inbox.accept(event)).toEqual({ status: 'accepted', jobId: 'message:om_early' });
  });

  it('retries the release on a timer, so another instance sees the re-delivery as new', async () => {
    const { store, state } = switchableStore(inner);
    const inbox = inboxOn(store, { releaseRetryMs: 20 });
    state.loseReplyOf = 'admit';
    const event = botAdded('ev_timer');
    // The claim and the job land, the answer is lost: 503 with a claim the store cannot release.
    expect((await inbox.accept(event)).status).toBe('unavailable');
    expect(await inner.claimKey('event:ev_timer', DAY)).toBe(false);
    state.down = false;
    const deadline = Date.now() + 5_000;
    while (!(await inner.claimKey('event:ev_timer', DAY))) {
      if (Date.now() > deadline) throw new Error('the claim was never released');
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    // The job that did land is still done once (the re-delivery finds it: same job id).
    expect((await inner.getJob('event:ev_timer'))?.status).toBe('pending');
    expect((await inbox.accept(event)).status).toBe('duplicate');
    expect((await inner.countJobs()).pending).toBe(1);
  });

  it('keeps a duplicate a duplicate: only claims of failed accepts are released', async () => {
    const { store, state } = switchableStore(inner);
    const inbox = inboxOn(store, { releaseRetryMs: 10 });
    const event = botAdded('ev_once');
    expect((await inbox.accept(event)).status).toBe('accepted');
    // A failed accept of another event must not release this one's claim.
    state.failAfterCalls = 0;
    expect((await inbox.accept(botAdded('ev_other'))).status).toBe('unavailable');
    state.down = false;
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(await inbox.accept(event)).toEqual({ status: 'duplicate', key: 'event_id' });
    expect(await inner.claimKey('event:ev_once', DAY)).toBe(false);
  });
});

import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { inboundMessage } from '../../test/support/ingress-events.js';
import { silentLogger } from '../log.js';
import { createEventBus } from '../observe/event-bus.js';
import { openSqliteStore } from '../store/sqlite-store.js';
import { type Store, StoreUnavailableError } from '../store/store.js';
import { createInbox, type InboxOptions } from './inbox.js';

const DAY = 24 * 3_600_000;

/**
 * A real SQLite store behind a switch: while `down`, every call fails like a Redis outage.
 * `failAfterCalls` lets that many calls land first, so the outage hits mid-accept (an accept
 * calls claimKey(event), claimKey(message), countJobs, enqueue).
 */
function switchableStore(inner: Store) {
  const state = { down: false, failAfterCalls: Number.POSITIVE_INFINITY };
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
        return (value as (...parameters: unknown[]) => unknown).apply(target, args);
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
      ...options,
    });

  it('a claim that landed before the outage does not turn the re-delivery into a lost duplicate', async () => {
    const { store, state } = switchableStore(inner);
    const inbox = inboxOn(store, { releaseRetryMs: 60_000 });
    // The event-id claim lands, then the store goes away before the message claim: 503, and the
    // release of the event claim fails too.
    state.failAfterCalls = 1;
    const event = inboundMessage({ eventId: 'ev_outage', messageId: 'om_outage' });
    expect((await inbox.accept(event)).status).toBe('unavailable');
    expect(await inner.claimKey('event:ev_outage', DAY)).toBe(false);

    // The store is back; Feishu re-delivers: the stale claim is released first, so it is accepted.
    state.down = false;
    expect(await inbox.accept(event)).toEqual({ status: 'accepted', jobId: 'message:om_outage' });
    expect((await inner.getJob('message:om_outage'))?.status).toBe('pending');
  });

  it('releases a claim whose answer was lost with the connection (it may have landed)', async () => {
    // claimKey lands in the store but the caller sees an error: the ambiguous case.
    let lose = true;
    const store = new Proxy(inner, {
      get(target, property, receiver) {
        const value = Reflect.get(target, property, receiver) as unknown;
        if (property !== 'claimKey' || typeof value !== 'function') return value;
        return async (...args: unknown[]) => {
          const result = await (value as (...parameters: unknown[]) => Promise<boolean>).apply(target, args);
          if (lose) throw new StoreUnavailableError('Redis unavailable: Connection is closed');
          return result;
        };
      },
    });
    const inbox = inboxOn(store);
    const event = inboundMessage({ eventId: 'ev_lost_reply', messageId: 'om_lost_reply' });
    expect((await inbox.accept(event)).status).toBe('unavailable');
    lose = false;
    expect((await inbox.accept(event)).status).toBe('accepted');
  });

  it('retries the release on a timer, so another instance sees the re-delivery as new', async () => {
    const { store, state } = switchableStore(inner);
    const inbox = inboxOn(store, { releaseRetryMs: 20 });
    state.failAfterCalls = 2;
    const event = inboundMessage({ eventId: 'ev_timer', messageId: 'om_timer' });
    // Both claims land, the backlog count fails: 503 with two claims the store cannot release.
    expect((await inbox.accept(event)).status).toBe('unavailable');
    expect(await inner.claimKey('message:om_timer', DAY)).toBe(false);
    state.down = false;
    const deadline = Date.now() + 5_000;
    while (!(await inner.claimKey('message:om_timer', DAY))) {
      if (Date.now() > deadline) throw new Error('the claim was never released');
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    expect(await inner.claimKey('event:ev_timer', DAY)).toBe(true);
  });

  it('keeps a duplicate a duplicate: only claims of failed accepts are released', async () => {
    const { store, state } = switchableStore(inner);
    const inbox = inboxOn(store, { releaseRetryMs: 10 });
    const event = inboundMessage({ eventId: 'ev_once', messageId: 'om_once' });
    expect((await inbox.accept(event)).status).toBe('accepted');
    // A failed accept of another event must not release this one's claims.
    state.failAfterCalls = 0;
    expect((await inbox.accept(inboundMessage({ eventId: 'ev_other', messageId: 'om_other' }))).status).toBe(
      'unavailable',
    );
    state.down = false;
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(await inbox.accept(event)).toEqual({ status: 'duplicate', key: 'event_id' });
    expect(await inbox.accept(inboundMessage({ eventId: 'ev_again', messageId: 'om_once' }))).toEqual({
      status: 'duplicate',
      key: 'message_id',
    });
  });
});

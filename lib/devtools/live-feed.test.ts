import { describe, expect, it } from 'vitest';
import { createLiveFeed } from './live-feed.js';
import type { TrackedEvent } from './tracked-event.js';

const event = (seq: number): TrackedEvent => ({ type: 'message.ignored', traceId: 't', reason: 'x', at: seq, seq });

describe('createLiveFeed', () => {
  it('refuses subscribers beyond the limit and makes room when one closes', () => {
    const feed = createLiveFeed({ maxSubscribers: 1 });
    const first = feed.subscribe();
    expect(feed.subscribe()).toBeNull();
    first?.close();
    expect(feed.size).toBe(0);
    expect(feed.subscribe()).not.toBeNull();
  });

  it('hands a waiting take the next event, queues while nobody waits, and times out with []', async () => {
    const feed = createLiveFeed();
    const subscription = feed.subscribe();
    if (!subscription) throw new Error('subscribe failed');
    const waiting = subscription.take(10_000);
    feed.publish(event(1));
    expect((await waiting)?.map((each) => each.seq)).toEqual([1]);
    feed.publish(event(2));
    feed.publish(event(3));
    expect((await subscription.take(10_000))?.map((each) => each.seq)).toEqual([2, 3]);
    expect(await subscription.take(5)).toEqual([]);
  });

  it('answers a replaced take with [] so only one waiter is ever pending', async () => {
    const feed = createLiveFeed();
    const subscription = feed.subscribe();
    const first = subscription?.take(10_000);
    const second = subscription?.take(10_000);
    expect(await first).toEqual([]);
    feed.publish(event(1));
    expect((await second)?.length).toBe(1);
  });

  it('drops a subscriber whose queue is full, and leaves the others', async () => {
    const feed = createLiveFeed({ subscriberQueue: 2 });
    const slow = feed.subscribe();
    const roomy = feed.subscribe({ maxQueue: 10 });
    for (let seq = 1; seq <= 3; seq++) feed.publish(event(seq));
    expect(slow?.dropped).toBe(true);
    expect(slow?.closed).toBe(true);
    expect(await slow?.take(1)).toBeNull();
    expect(roomy?.dropped).toBe(false);
    expect((await roomy?.take(1))?.length).toBe(3);
    expect(feed.size).toBe(1);
  });

  it('ends a pending take with null on close, for every subscriber at once', async () => {
    const feed = createLiveFeed();
    const takes = [feed.subscribe(), feed.subscribe()].map((subscription) => subscription?.take(10_000));
    feed.closeAll();
    expect(await Promise.all(takes)).toEqual([null, null]);
    expect(feed.size).toBe(0);
  });
});

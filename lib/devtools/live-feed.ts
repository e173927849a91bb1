import type { TrackedEvent } from './tracked-event.js';

/** A live feed for one SSE client. */
export interface LiveSubscription {
  /**
   * Resolves with the queued events as soon as there are any, with [] after `timeoutMs`
   * (time for a heartbeat), or with null once the subscription is closed or was dropped.
   */
  take(timeoutMs: number): Promise<TrackedEvent[] | null>;
  close(): void;
  /** True when it was dropped for falling behind (its queue hit the bound). */
  readonly dropped: boolean;
  readonly closed: boolean;
}

export interface LiveFeedOptions {
  maxSubscribers?: number;
  /** Default per-subscriber queue bound; a subscriber that falls this far behind is dropped. */
  subscriberQueue?: number;
}

export interface LiveFeed {
  /** Null when the subscriber limit is reached. */
  subscribe(options?: { maxQueue?: number }): LiveSubscription | null;
  /** Queues an event for every subscriber. */
  publish(event: TrackedEvent): void;
  closeAll(): void;
  readonly size: number;
}

interface SubscriptionState extends LiveSubscription {
  offer(event: TrackedEvent): void;
}

/**
 * Fans tracked events out to the SSE clients of GET /devtools/api/stream: each subscriber has
 * its own bounded queue, and one that falls behind is dropped (it reconnects and catches up from
 * the ring) instead of holding memory for a tab nobody reads.
 *
 * @example
 * const feed = createLiveFeed({ maxSubscribers: 16 });
 * const subscription = feed.subscribe();
 * const batch = await subscription?.take(15_000); // [] means: send a heartbeat
 */
export function createLiveFeed({ maxSubscribers = 16, subscriberQueue = 1_000 }: LiveFeedOptions = {}): LiveFeed {
  const subscribers = new Set<SubscriptionState>();
  return {
    get size() {
      return subscribers.size;
    },
    subscribe({ maxQueue = subscriberQueue } = {}) {
      if (subscribers.size >= maxSubscribers) return null;
      const subscription = createSubscription(maxQueue, () => subscribers.delete(subscription));
      subscribers.add(subscription);
      return subscription;
    },
    publish(event) {
      for (const subscriber of subscribers) subscriber.offer(event);
    },
    closeAll() {
      for (const subscriber of [...subscribers]) subscriber.close();
    },
  };
}

function createSubscription(maxQueue: number, onClose: () => void): SubscriptionState {
  let queue: TrackedEvent[] = [];
  let waiter: ((events: TrackedEvent[] | null) => void) | null = null;
  let timer: NodeJS.Timeout | null = null;
  let closed = false;
  let dropped = false;

  function settle(value: TrackedEvent[] | null): void {
    if (!waiter) return;
    const resolve = waiter;
    waiter = null;
    if (timer) clearTimeout(timer);
    timer = null;
    resolve(value);
  }

  const subscription: SubscriptionState = {
    get dropped() {
      return dropped;
    },
    get closed() {
      return closed;
    },
    offer(event) {
      if (closed) return;
      if (queue.length >= maxQueue) {
        // A client this far behind would only ever see stale data; drop it so memory stays
        // bounded. It reconnects and catches up from the ring with `after`.
        dropped = true;
        subscription.close();
        return;
      }
      queue.push(event);
      if (waiter) {
        const events = queue;
        queue = [];
        settle(events);
      }
    },
    take(timeoutMs) {
      if (closed) return Promise.resolve(null);
      if (queue.length > 0) {
        const events = queue;
        queue = [];
        return Promise.resolve(events);
      }
      settle([]); // one waiter at a time; a second take replaces the first
      return new Promise((resolve) => {
        waiter = resolve;
        timer = setTimeout(() => settle([]), timeoutMs);
        timer.unref?.();
      });
    },
    close() {
      if (closed) return;
      closed = true;
      queue = [];
      onClose();
      settle(null);
    },
  };
  return subscription;
}

import type { BotEvent, StampedBotEvent } from './bot-event.js';

export type BotEventListener = (event: StampedBotEvent) => void;

/**
 * A synchronous fan-out of BotEvents to observers. Emitting never throws and never waits:
 * a broken observer must not break the message path, so its error goes to `onListenerError`.
 *
 * @example
 * const bus = createEventBus();
 * const unsubscribe = bus.subscribe((event) => console.log(event.type));
 * bus.emit({ type: 'message.ignored', traceId: 'job-1', reason: 'not mentioned' });
 */
export interface EventBus {
  emit(event: BotEvent): void;
  subscribe(listener: BotEventListener): () => void;
}

export function createEventBus({
  now = Date.now,
  onListenerError = () => {},
}: {
  now?: () => number;
  onListenerError?: (error: unknown) => void;
} = {}): EventBus {
  const listeners = new Set<BotEventListener>();
  return {
    emit(event) {
      if (listeners.size === 0) return;
      const stamped = { ...event, at: now() } as StampedBotEvent;
      for (const listener of listeners) {
        try {
          listener(stamped);
        } catch (error) {
          onListenerError(error);
        }
      }
    },
    subscribe(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
  };
}

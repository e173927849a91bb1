import { type Context, Hono } from 'hono';
import { type SSEStreamingApi, streamSSE } from 'hono/streaming';
import { readFilter, readInteger } from './devtools-query.js';
import type { DevtoolsReplies, DevtoolsReplyUpdate } from './devtools-replies.js';
import type { Tracker } from './tracker.js';

export interface DevtoolsStreamsOptions {
  tracker: Pick<Tracker, 'events' | 'matches' | 'subscribe'>;
  replies: Pick<DevtoolsReplies, 'subscribe'>;
  now?: () => number;
  /** SSE heartbeat, so proxies and the browser keep an idle stream open and notice a dead one. */
  heartbeatMs?: number;
  /** Longest a chat stream stays open. */
  chatStreamMaxMs?: number;
  /** Chat streams open at once, over all traces (like the live feed's cap); more answer 503. */
  maxChatStreams?: number;
  /** Aborted when the process starts draining: open streams end at once, new ones answer 503. */
  shutdownSignal?: AbortSignal;
}

/**
 * The two SSE endpoints of the devtools API: `GET /api/chat/:traceId/stream` (one playground
 * answer as it is written, then `finish` or `fail`; 404 for a trace the playground did not
 * start) and `GET /api/stream` (every bus event live, with catch-up from the ring after `after`
 * or `Last-Event-ID`). Both are event-driven and capped. Mounted by `devtoolsRoutes` behind its auth.
 *
 * @example
 * app.route('/', devtoolsStreams({ tracker, replies, shutdownSignal }));
 */
export function devtoolsStreams({
  tracker,
  replies,
  now = Date.now,
  heartbeatMs = 15_000,
  chatStreamMaxMs = 15 * 60_000,
  maxChatStreams = 16,
  shutdownSignal,
}: DevtoolsStreamsOptions): Hono {
  const app = new Hono();
  let openChatStreams = 0;

  app.get('/api/chat/:traceId/stream', (c) => {
    if (shutdownSignal?.aborted) return c.json({ error: 'shutting_down', message: 'The bot is restarting' }, 503);
    if (openChatStreams >= maxChatStreams) {
      return c.json({ error: 'too_many_streams', message: 'Too many playground streams open' }, 503);
    }
    const traceId = c.req.param('traceId');
    const pending: DevtoolsReplyUpdate[] = [];
    const signal = createWakeSignal();
    // Subscribing replays what happened so far: nothing is missed before the stream starts.
    const unsubscribe = replies.subscribe(traceId, (update) => {
      // Updates carry the full text, so only the newest unsent one matters: the queue stays tiny.
      const last = pending.at(-1);
      if (update.type === 'update' && last?.type === 'update') pending[pending.length - 1] = update;
      else pending.push(update);
      signal.wake();
    });
    if (unsubscribe === null) {
      return c.json(
        { error: 'not_found', message: 'No playground message with this trace id (it may have expired)' },
        404,
      );
    }
    openChatStreams++;
    return streamSSE(c, async (stream) => {
      onAbort(c, stream, () => signal.wake());
      const onShutdown = () => signal.wake();
      shutdownSignal?.addEventListener('abort', onShutdown, { once: true });
      const deadline = now() + chatStreamMaxMs;
      let lastWrite = now();
      let ended = false;
      try {
        while (!ended && !stream.aborted && !shutdownSignal?.aborted && now() < deadline) {
          while (pending.length > 0) {
            const update = pending.shift() as DevtoolsReplyUpdate;
            await stream.writeSSE({ event: update.type, data: JSON.stringify(update) });
            lastWrite = now();
            if (update.type === 'finish' || update.type === 'fail') ended = true;
          }
          if (ended || stream.aborted) break;
          if (now() - lastWrite >= heartbeatMs) {
            await stream.writeSSE({ event: 'heartbeat', data: String(now()) });
            lastWrite = now();
          }
          // Sleeps until an update, the client leaving, shutdown, or the next heartbeat is due.
          await signal.wait(Math.max(1, Math.min(lastWrite + heartbeatMs, deadline) - now()));
        }
      } finally {
        openChatStreams--;
        unsubscribe();
        shutdownSignal?.removeEventListener('abort', onShutdown);
      }
    });
  });

  // ── live feed ─────────────────────────────────────────────────────────────
  app.get('/api/stream', (c) => {
    const filter = readFilter(c);
    if (typeof filter === 'string') return c.json({ error: 'invalid_query', message: filter }, 400);
    if (shutdownSignal?.aborted) return c.json({ error: 'shutting_down', message: 'The bot is restarting' }, 503);
    const subscription = tracker.subscribe();
    if (!subscription) return c.json({ error: 'too_many_streams', message: 'Too many live streams open' }, 503);
    // An EventSource reconnecting on its own resends the original URL but a newer Last-Event-ID.
    const after = readInteger(c.req.header('last-event-id')) ?? readInteger(c.req.query('after'));
    return streamSSE(c, async (stream) => {
      onAbort(c, stream, () => subscription.close());
      const onShutdown = () => subscription.close();
      shutdownSignal?.addEventListener('abort', onShutdown, { once: true });
      let lastSent = 0;
      try {
        await stream.writeSSE({
          event: 'hello',
          data: JSON.stringify({ latestSeq: tracker.events({ limit: 1 }).latestSeq }),
        });
        if (after !== undefined) {
          // Catch up from the ring; the subscription (opened first) covers anything newer.
          for (const event of tracker.events({ ...filter, after, limit: 1_000 }).events) {
            await stream.writeSSE({ event: 'bot-event', id: String(event.seq), data: JSON.stringify(event) });
            lastSent = event.seq;
          }
        }
        while (!stream.aborted) {
          const batch = await subscription.take(heartbeatMs);
          if (batch === null) {
            if (subscription.dropped) await stream.writeSSE({ event: 'dropped', data: JSON.stringify({ lastSent }) });
            break;
          }
          if (batch.length === 0) {
            await stream.writeSSE({ event: 'heartbeat', data: String(now()) });
            continue;
          }
          for (const event of batch) {
            if (event.seq <= lastSent || !tracker.matches(event, filter)) continue;
            await stream.writeSSE({ event: 'bot-event', id: String(event.seq), data: JSON.stringify(event) });
            lastSent = event.seq;
          }
        }
      } finally {
        subscription.close();
        shutdownSignal?.removeEventListener('abort', onShutdown);
      }
    });
  });

  return app;
}

function onAbort(c: Context, stream: SSEStreamingApi, listener: () => void): void {
  stream.onAbort(listener);
  c.req.raw.signal?.addEventListener('abort', () => {
    stream.abort();
    listener();
  });
}

interface WakeSignal {
  wake(): void;
  wait(timeoutMs: number): Promise<void>;
}

function createWakeSignal(): WakeSignal {
  let resolve: (() => void) | null = null;
  let woken = false;
  return {
    wake() {
      woken = true;
      resolve?.();
    },
    wait(timeoutMs) {
      if (woken) {
        woken = false;
        return Promise.resolve();
      }
      return new Promise<void>((done) => {
        const timer = setTimeout(finish, timeoutMs);
        function finish() {
          clearTimeout(timer);
          resolve = null;
          woken = false;
          done();
        }
        resolve = finish;
      });
    },
  };
}

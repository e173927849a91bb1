import type { AddressInfo } from 'node:net';
import { type ServerType, serve } from '@hono/node-server';
import { Hono } from 'hono';
import { afterEach, describe, expect, it } from 'vitest';
import { buildBotMembershipEvent, buildCardActionEvent, buildUserDeletedEvent } from '../../test/fakes/event-sender.js';
import { startFakeLongConnection } from '../../test/fakes/fake-long-connection.js';
import { messageEnvelope } from '../../test/support/ingress-events.js';
import type { AcceptResult, InboundEvent } from '../inbox/inbound-event.js';
import { createInbox } from '../inbox/inbox.js';
import { silentLogger } from '../log.js';
import type { StampedBotEvent } from '../observe/bot-event.js';
import { createEventBus } from '../observe/event-bus.js';
import { openSqliteStore } from '../store/sqlite-store.js';
import { StoreUnavailableError } from '../store/store.js';
import { readCardPress } from './card-callback.js';
import { type LongConnection, messageEventDispatcher, startLongConnection } from './long-connection.js';
import type { CardAction } from './webhook/webhook-routes.js';

const APP_ID = 'cli_a1b2c3d4e5f60718';

async function waitFor(condition: () => boolean, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

/** Answers the SDK's endpoint discovery (its first HTTP call) the way we tell it to. */
async function fakeEndpoint(answer: (c: import('hono').Context) => Response | Promise<Response>) {
  const calls: unknown[] = [];
  const app = new Hono();
  app.post('/callback/ws/endpoint', async (c) => {
    calls.push(await c.req.json());
    return answer(c);
  });
  const server = await new Promise<ServerType>((resolve) => {
    const created = serve({ fetch: app.fetch, port: 0, hostname: '127.0.0.1' }, () => resolve(created));
  });
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return { url, calls, close: () => new Promise<void>((resolve) => server.close(() => resolve())) };
}

describe('long connection state', () => {
  const cleanups: (() => unknown)[] = [];
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0)) await cleanup();
  });

  function start(url: string, events: StampedBotEvent[]): LongConnection {
    const bus = createEventBus();
    bus.subscribe((event) => events.push(event));
    const connection = startLongConnection({
      appId: APP_ID,
      appSecret: 'secret',
      domain: url,
      inbox: { accept: async () => ({ status: 'ignored', reason: 'test' }) },
      log: silentLogger(),
      bus,
      statusPollMs: 10,
    });
    cleanups.push(() => connection.close());
    return connection;
  }

  it('a refused endpoint discovery (bad credentials) is a visible failed state, not "online"', async () => {
    const fake = await fakeEndpoint((c) => c.json({ code: 1000040345, msg: 'app secret invalid', data: {} }));
    cleanups.push(fake.close);
    const events: StampedBotEvent[] = [];
    const connection = start(fake.url, events);
    expect(connection.status().state).toBe('connecting');
    await expect(connection.ready).rejects.toThrow(/1000040345/);
    expect(connection.status()).toMatchObject({ state: 'failed', lastError: expect.stringContaining('1000040345') });
    expect(connection.isReady()).toBe(false);
    expect(fake.calls[0]).toMatchObject({ AppID: APP_ID });
    expect(events.filter((event) => event.type === 'feishu.connection').map((event) => event.state)).toEqual([
      'connecting',
      'failed',
    ]);
  });

  it('an endpoint that errors (HTTP 500) shows reconnecting, and close() turns it off', async () => {
    const fake = await fakeEndpoint((c) => c.text('upstream down', 500));
    cleanups.push(fake.close);
    const events: StampedBotEvent[] = [];
    const connection = start(fake.url, events);
    await waitFor(() => connection.status().state === 'reconnecting');
    expect(connection.isReady()).toBe(false);
    expect(connection.status().reconnects).toBe(1);
    expect(fake.calls.length).toBeGreaterThanOrEqual(1);
    connection.close();
    expect(connection.status().state).toBe('off');
    expect(events.at(-1)).toMatchObject({ type: 'feishu.connection', state: 'off' });
  });
});

describe('long connection event handling (the SDK dispatcher, without WS frames)', () => {
  it('turns the SDK-parsed v2 event into an InboundEvent and awaits inbox.accept', async () => {
    const accepted: InboundEvent[] = [];
    let seenAt: number | undefined;
    const dispatcher = messageEventDispatcher({
      inbox: {
        accept: async (event): Promise<AcceptResult> => {
          accepted.push(event);
          return { status: 'accepted', jobId: 'message:om_ws' };
        },
      },
      log: silentLogger(),
      now: () => 1234,
      onEvent: (at) => {
        seenAt = at;
      },
    });
    const envelope = messageEnvelope({
      eventId: 'ev-ws',
      messageId: 'om_ws',
      chatId: 'oc_ws',
      createTime: 1_700_000_000_000,
    });
    await dispatcher.invoke(envelope, { needCheck: false });
    expect(accepted).toEqual([
      {
        source: 'websocket',
        eventId: 'ev-ws',
        eventType: 'im.message.receive_v1',
        createdAt: 1_700_000_000_000,
        receivedAt: 1234,
        event: envelope.event,
      },
    ]);
    expect(seenAt).toBe(1234);
  });

  it('passes the bot joining a group to the inbox with the event body as Feishu sent it', async () => {
    const accepted: InboundEvent[] = [];
    const dispatcher = messageEventDispatcher({
      inbox: {
        accept: async (event): Promise<AcceptResult> => {
          accepted.push(event);
          return { status: 'accepted', jobId: 'event:ev-added' };
        },
      },
      log: silentLogger(),
      now: () => 99,
    });
    const envelope = buildBotMembershipEvent({
      kind: 'added',
      chatId: 'oc_joined',
      eventId: 'ev-added',
      createTime: 5,
    });
    await dispatcher.invoke(envelope, { needCheck: false });
    expect(accepted).toEqual([
      {
        source: 'websocket',
        eventId: 'ev-added',
        eventType: 'im.chat.member.bot.added_v1',
        createdAt: 5,
        receivedAt: 99,
        event: envelope.event,
      },
    ]);
  });

  it('passes a deleted user to the inbox with only their open_id, not their contact card', async () => {
    const accepted: InboundEvent[] = [];
    const dispatcher = messageEventDispatcher({
      inbox: {
        accept: async (event): Promise<AcceptResult> => {
          accepted.push(event);
          return { status: 'accepted', jobId: 'event:ev-left' };
        },
      },
      log: silentLogger(),
      now: () => 99,
    });
    await dispatcher.invoke(buildUserDeletedEvent({ openId: 'ou_left', eventId: 'ev-left', createTime: 5 }), {
      needCheck: false,
    });
    expect(accepted).toEqual([
      {
        source: 'websocket',
        eventId: 'ev-left',
        eventType: 'contact.user.deleted_v3',
        createdAt: 5,
        receivedAt: 99,
        event: { object: { open_id: 'ou_left' } },
      },
    ]);
  });

  it('throws when the inbox cannot persist, so the SDK answers 500 and Feishu re-delivers', async () => {
    const dispatcher = messageEventDispatcher({
      inbox: { accept: async () => ({ status: 'unavailable', reason: 'store down' }) },
      log: silentLogger(),
    });
    await expect(
      dispatcher.invoke(messageEnvelope({ eventId: 'e', messageId: 'm' }), { needCheck: false }),
    ).rejects.toThrow(/store down/);
  });
});

describe('long connection over real frames (SDK WSClient against the fake gateway)', () => {
  it('acks an event only after the inbox persisted it, de-duplicates, and survives a dropped connection', async () => {
    const gateway = await startFakeLongConnection();
    const store = openSqliteStore(':memory:');
    let storeDown = false;
    const flaky = new Proxy(store, {
      get(target, property, receiver) {
        if (property === 'admit' && storeDown) {
          return async () => {
            throw new StoreUnavailableError('disk gone');
          };
        }
        const value = Reflect.get(target, property, receiver);
        return typeof value === 'function' ? value.bind(target) : value;
      },
    });
    const events: StampedBotEvent[] = [];
    const bus = createEventBus();
    bus.subscribe((event) => events.push(event));
    const log = silentLogger();
    const inbox = createInbox({ store: flaky, bus, log, dedupeTtlMs: 24 * 3_600_000, maxBacklog: 100 });
    const connection = startLongConnection({
      appId: APP_ID,
      appSecret: 'secret',
      domain: gateway.url,
      inbox,
      log,
      bus,
      statusPollMs: 10,
    });
    try {
      await connection.ready;
      expect(connection.status()).toMatchObject({ state: 'connected', reconnects: 0, lastEventAt: null });
      expect(connection.isReady()).toBe(true);

      const envelope = messageEnvelope({ eventId: 'ws-ev-1', messageId: 'om_ws_1', chatId: 'oc_ws' });
      expect(await gateway.sendEvent(envelope)).toEqual({ code: 200 });
      expect(await store.getJob('message:om_ws_1')).toMatchObject({ status: 'pending', lane: 'chat:oc_ws' });
      expect((await store.getJob('message:om_ws_1'))?.payload).toMatchObject({
        source: 'websocket',
        eventId: 'ws-ev-1',
      });
      expect(connection.status().lastEventAt).not.toBeNull();

      // Re-delivered: acked again, still one job.
      expect(await gateway.sendEvent(envelope)).toEqual({ code: 200 });
      expect((await store.countJobs()).pending).toBe(1);

      // Store down: the SDK answers 500 so Feishu delivers again; once it is back, the retry lands.
      storeDown = true;
      const second = messageEnvelope({ eventId: 'ws-ev-2', messageId: 'om_ws_2', chatId: 'oc_ws' });
      expect(await gateway.sendEvent(second)).toEqual({ code: 500 });
      storeDown = false;
      expect(await gateway.sendEvent(second)).toEqual({ code: 200 });
      expect((await store.countJobs()).pending).toBe(2);

      // A network cut: visibly reconnecting, then connected again, and events flow.
      gateway.dropConnections();
      await waitFor(() => connection.status().state === 'connected' && gateway.connections() === 1);
      const states = events.flatMap((event) => (event.type === 'feishu.connection' ? [event.state] : []));
      expect(states).toEqual(['connecting', 'connected', 'reconnecting', 'connected']);
      expect(connection.status().reconnects).toBe(1);
      const third = messageEnvelope({ eventId: 'ws-ev-3', messageId: 'om_ws_3', chatId: 'oc_ws' });
      expect(await gateway.sendEvent(third)).toEqual({ code: 200 });
      expect((await store.countJobs()).pending).toBe(3);

      // Older than the dedupe TTL (a replay whose keys may be purged), or sent by a bot: acked
      // so Feishu stops, and dropped without a job, over the long connection as on the webhook.
      const stale = messageEnvelope({
        eventId: 'ws-ev-old',
        messageId: 'om_ws_old',
        chatId: 'oc_ws',
        createTime: Date.now() - 25 * 3_600_000,
      });
      const fromBot = messageEnvelope({
        eventId: 'ws-ev-bot',
        messageId: 'om_ws_bot',
        chatId: 'oc_ws',
        senderType: 'bot',
      });
      expect(await gateway.sendEvent(stale)).toEqual({ code: 200 });
      expect(await gateway.sendEvent(fromBot)).toEqual({ code: 200 });
      expect((await store.countJobs()).pending).toBe(3);
      expect(events.some((event) => event.type === 'event.dropped' && event.source === 'websocket')).toBe(true);
    } finally {
      connection.close();
      await gateway.close();
      await store.close();
    }
  });
});

describe('card callbacks over the long connection', () => {
  it('answers a card frame on the same connection, and a card.action.trigger event frame too; events still flow', async () => {
    const gateway = await startFakeLongConnection();
    const store = openSqliteStore(':memory:');
    const bus = createEventBus();
    const log = silentLogger();
    const inbox = createInbox({ store, bus, log, dedupeTtlMs: 24 * 3_600_000, maxBacklog: 100 });
    const actions: CardAction[] = [];
    const connection = startLongConnection({
      appId: APP_ID,
      appSecret: 'secret',
      domain: gateway.url,
      inbox,
      log,
      bus,
      statusPollMs: 10,
      onCardAction: async (action) => {
        actions.push(action);
        if ((action.event as { action?: { value?: { fail?: boolean } } }).action?.value?.fail) {
          throw new Error('handler broke');
        }
        return { toast: { type: 'info', content: 'Stopping…' } };
      },
    });
    try {
      await connection.ready;
      const callback = buildCardActionEvent({
        appId: APP_ID,
        eventId: 'card-ev-1',
        messageId: 'om_card_1',
        chatId: 'oc_ws',
        operatorOpenId: 'ou_presser',
        value: { action: 'stop', run: 'message:om_1', asker: 'ou_presser' },
      });
      // A `card` frame, which the SDK alone would drop: answered, with the request's type header.
      expect(await gateway.sendCardAction(callback)).toEqual({
        code: 200,
        type: 'card',
        data: { toast: { type: 'info', content: 'Stopping…' } },
      });
      expect(actions[0]).toMatchObject({ eventId: 'card-ev-1', eventType: 'card.action.trigger' });
      expect(readCardPress(actions[0]!)).toEqual({
        deliveryId: 'card-ev-1',
        operatorId: 'ou_presser',
        messageId: 'om_card_1',
        chatId: 'oc_ws',
        value: { action: 'stop', run: 'message:om_1', asker: 'ou_presser' },
      });

      // The same callback as an `event` frame goes through the SDK's dispatcher to the same handler.
      expect(
        await gateway.sendEvent({ ...callback, header: { ...(callback.header as object), event_id: 'card-ev-2' } }),
      ).toEqual({
        code: 200,
      });
      expect(readCardPress(actions[1]!)).toMatchObject({ deliveryId: 'card-ev-2', operatorId: 'ou_presser' });

      // A handler failure is an error code, not a dropped frame or a crashed connection.
      const broken = buildCardActionEvent({ appId: APP_ID, messageId: 'om_card_1', value: { fail: true } });
      expect(await gateway.sendCardAction(broken)).toMatchObject({ code: 500, data: undefined });

      const envelope = messageEnvelope({ eventId: 'ws-ev-after-card', messageId: 'om_ws_after', chatId: 'oc_ws' });
      expect(await gateway.sendEvent(envelope)).toEqual({ code: 200 });
      expect(await store.getJob('message:om_ws_after')).toMatchObject({ status: 'pending' });
    } finally {
      connection.close();
      await gateway.close();
      await store.close();
    }
  });
});

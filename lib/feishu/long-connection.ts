import * as lark from '@larksuiteoapi/node-sdk';
import { BOT_ADDED_EVENT, BOT_REMOVED_EVENT } from '../conversation/chat-membership.js';
import type { InboundEvent, InboxReceiver } from '../inbox/inbound-event.js';
import { MESSAGE_EVENT_TYPE } from '../inbox/inbox.js';
import type { Logger } from '../log.js';
import type { ConnectionState } from '../observe/bot-event.js';
import type { EventBus } from '../observe/event-bus.js';
import { departedBody, USER_DELETED_EVENT } from '../user-auth/person-departed.js';
import { errorMessage, toError } from '../util/error-message.js';
import { feishuDomain, sdkLogger } from './feishu-client.js';
import { readEnvelope } from './webhook/event-envelope.js';
import { type CardAction, type CardActionResponse, cardActionFromEnvelope } from './webhook/webhook-routes.js';
import { installCardFrameHook } from './ws-card-frames.js';

/** The v2 event type of a card button press. */
export const CARD_ACTION_EVENT_TYPE = 'card.action.trigger';

export interface LongConnectionStatus {
  state: ConnectionState;
  /** Times the connection went into 'reconnecting' since start (a failed first connect included). */
  reconnects: number;
  /** Epoch ms of the last event received, null before the first. */
  lastEventAt: number | null;
  /** Epoch ms the state last changed. */
  since: number;
  /** Why it failed, when it did (no secrets: SDK messages carry codes, not credentials). */
  lastError: string | null;
}

export interface LongConnection {
  status(): LongConnectionStatus;
  /** True once the SDK's onReady fired (the first handshake succeeded). */
  isReady(): boolean;
  /** Resolves on onReady, rejects on a terminal failure (wrong credentials, retries exhausted). */
  ready: Promise<void>;
  close(): void;
}

export interface LongConnectionOptions {
  appId: string;
  /** The app's configured id (several apps in one process): named on its state events. */
  app?: string;
  appSecret: string;
  /** `feishu`, `lark` or a base URL (tests point it at a fake). */
  domain: string;
  inbox: InboxReceiver;
  log: Logger;
  bus: EventBus;
  /**
   * Card button presses received over the connection (as card frames, or as
   * `card.action.trigger` events); the answer goes back on the same connection.
   */
  onCardAction?: (action: CardAction) => Promise<CardActionResponse | undefined>;
  /** How often the SDK's own status is read: it does not call back for first-connect retries. */
  statusPollMs?: number;
  now?: () => number;
}

type JsonObject = Record<string, unknown>;

function text(value: unknown): string | undefined {
  return typeof value === 'string' && value.length > 0 ? value : undefined;
}

/** The SDK hands handlers the v2 envelope flattened: header fields and event fields side by side. */
export function inboundFromLongConnection(
  data: JsonObject,
  receivedAt: number,
  /** The event body; default: a message event's `sender` and `message`. */
  event: unknown = { sender: data.sender, message: data.message },
): InboundEvent | undefined {
  const eventId = text(data.event_id);
  if (eventId === undefined) return undefined;
  const createdAt = Number(data.create_time);
  return {
    source: 'websocket',
    eventId,
    eventType: text(data.event_type) ?? MESSAGE_EVENT_TYPE,
    createdAt: Number.isFinite(createdAt) && createdAt > 0 ? createdAt : receivedAt,
    receivedAt,
    event,
  };
}

/** The body of a bot-added/removed event, taken back out of the SDK's flattened envelope. */
function membershipBody(data: JsonObject): JsonObject {
  const { chat_id, operator_id, external, operator_tenant_key, name, i18n_names } = data;
  return { chat_id, operator_id, external, operator_tenant_key, name, i18n_names };
}

/**
 * The SDK dispatcher the long connection feeds: `im.message.receive_v1` → `inbox.accept`.
 * Exported so a test can drive it with the SDK's own envelope parsing, without WS frames.
 */
export function messageEventDispatcher({
  inbox,
  log,
  now = Date.now,
  onEvent = () => {},
  onCardAction,
}: {
  inbox: InboxReceiver;
  log: Logger;
  now?: () => number;
  onEvent?: (receivedAt: number) => void;
  onCardAction?: LongConnectionOptions['onCardAction'];
}): lark.EventDispatcher {
  return new lark.EventDispatcher({ logger: sdkLogger(log, 'feishu-ws'), loggerLevel: lark.LoggerLevel.warn }).register(
    {
      [MESSAGE_EVENT_TYPE]: async (data: JsonObject) => {
        const receivedAt = now();
        onEvent(receivedAt);
        const inbound = inboundFromLongConnection(data, receivedAt);
        if (inbound === undefined) {
          log.warn('long-connection message event without event_id ignored');
          return;
        }
        const result = await inbox.accept(inbound);
        // Throwing makes the SDK answer 500, so Feishu delivers the event again later.
        if (result.status === 'unavailable') throw new Error(`inbox unavailable: ${result.reason}`);
      },
      // The bot joining or leaving a group: a welcome, and its state purged later.
      ...Object.fromEntries(
        [BOT_ADDED_EVENT, BOT_REMOVED_EVENT].map((type) => [
          type,
          async (data: JsonObject) => {
            const receivedAt = now();
            onEvent(receivedAt);
            const inbound = inboundFromLongConnection({ ...data, event_type: type }, receivedAt, membershipBody(data));
            if (inbound === undefined) return;
            const result = await inbox.accept(inbound);
            if (result.status === 'unavailable') throw new Error(`inbox unavailable: ${result.reason}`);
          },
        ]),
      ),
      // A person left the company: their own authorization is forgotten (only their open_id is kept).
      [USER_DELETED_EVENT]: async (data: JsonObject) => {
        const receivedAt = now();
        onEvent(receivedAt);
        const object = data.object as { open_id?: unknown } | undefined;
        const body = departedBody(text(object?.open_id));
        const inbound = inboundFromLongConnection({ ...data, event_type: USER_DELETED_EVENT }, receivedAt, body);
        if (inbound === undefined) return;
        const result = await inbox.accept(inbound);
        if (result.status === 'unavailable') throw new Error(`inbox unavailable: ${result.reason}`);
      },
      // The SDK flattens the envelope: header fields (event_id) beside the event's own fields.
      ...(onCardAction === undefined
        ? {}
        : {
            [CARD_ACTION_EVENT_TYPE]: async (data: JsonObject) =>
              onCardAction({ eventId: text(data.event_id), eventType: CARD_ACTION_EVENT_TYPE, event: data }),
          }),
    },
  );
}

/**
 * Receives events over the SDK's long connection (`WSClient`): no public URL needed. Each
 * `im.message.receive_v1` goes through `inbox.accept`; the SDK acks when the handler settles,
 * so a handler that throws (store down) makes Feishu deliver the event again.
 *
 * State comes from the SDK's callbacks plus a poll of `getConnectionStatus()`, because the SDK
 * calls back nothing while it retries a first connect: without the poll a bot that never
 * connected would look "connecting" forever instead of "reconnecting".
 *
 * @example
 * const connection = startLongConnection({ appId, appSecret, domain: 'feishu', inbox, log, bus });
 * await connection.ready; // readiness only after the first handshake
 * connection.status();    // { state: 'connected', reconnects: 0, lastEventAt: ... }
 */
export function startLongConnection({
  appId,
  app: appLabel,
  appSecret,
  domain,
  inbox,
  log,
  bus,
  statusPollMs = 1_000,
  now = Date.now,
  onCardAction,
}: LongConnectionOptions): LongConnection {
  let state: ConnectionState = 'connecting';
  let reconnects = 0;
  let lastEventAt: number | null = null;
  let lastError: string | null = null;
  let since = now();
  let readyFlag = false;
  let closed = false;
  let resolveReady: () => void = () => {};
  let rejectReady: (error: Error) => void = () => {};
  const ready = new Promise<void>((resolve, reject) => {
    resolveReady = resolve;
    rejectReady = reject;
  });
  // A caller that never awaits `ready` must not see an unhandled rejection.
  ready.catch(() => {});

  const setState = (next: ConnectionState) => {
    if (next === state) return;
    if (next === 'reconnecting') reconnects += 1;
    state = next;
    since = now();
    log.info({ state, reconnects }, 'feishu long connection state');
    bus.emit({ type: 'feishu.connection', state, reconnects, ...(appLabel === undefined ? {} : { app: appLabel }) });
  };

  const client = new lark.WSClient({
    appId,
    appSecret,
    domain: feishuDomain(domain),
    logger: sdkLogger(log, 'feishu-ws'),
    loggerLevel: lark.LoggerLevel.info,
    onReady: () => {
      readyFlag = true;
      lastError = null;
      setState('connected');
      resolveReady();
    },
    onReconnecting: () => setState('reconnecting'),
    onReconnected: () => {
      lastError = null;
      setState('connected');
    },
    onError: (error) => {
      lastError = error.message;
      log.error({ err: error }, 'feishu long connection failed');
      setState('failed');
      rejectReady(error);
    },
  });

  if (onCardAction !== undefined) {
    installCardFrameHook(client, (callback) => onCardAction(cardActionFromEnvelope(readEnvelope(callback))), log);
  }
  const dispatcher = messageEventDispatcher({
    inbox,
    log,
    now,
    onCardAction,
    onEvent: (at) => {
      lastEventAt = at;
    },
  });

  const poll = setInterval(() => {
    if (closed) return;
    const sdk = client.getConnectionStatus();
    if (sdk.state === 'failed') setState('failed');
    else if (sdk.state === 'connected') setState('connected');
    else if (sdk.state === 'reconnecting') setState('reconnecting');
    else if (sdk.state === 'connecting' && (sdk.nextConnectTime ?? 0) > (sdk.lastConnectTime ?? 0)) {
      // The first connect failed and a retry is scheduled.
      setState('reconnecting');
    }
  }, statusPollMs);
  poll.unref();

  bus.emit({ type: 'feishu.connection', state, reconnects, ...(appLabel === undefined ? {} : { app: appLabel }) });
  client.start({ eventDispatcher: dispatcher }).catch((error: unknown) => {
    lastError = errorMessage(error);
    setState('failed');
    rejectReady(toError(error));
  });

  return {
    status: () => ({ state, reconnects, lastEventAt, since, lastError }),
    isReady: () => readyFlag && state === 'connected',
    ready,
    close() {
      if (closed) return;
      closed = true;
      clearInterval(poll);
      client.close({ force: true });
      setState('off');
    },
  };
}

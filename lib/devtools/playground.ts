import { randomUUID } from 'node:crypto';
import { appIdField, DEFAULT_APP_ID } from '../inbox/app-scope.js';
import type { AcceptResult, InboundEvent, InboxReceiver } from '../inbox/inbound-event.js';

/** A playground session id: short, and safe to embed in fake Feishu ids. */
const SESSION_ID = /^[A-Za-z0-9_-]{1,64}$/;

export interface PlaygroundRequest {
  text: string;
  /** Groups messages into one conversation (one fake p2p chat); a fresh one per browser tab by default. */
  sessionId?: string;
  /**
   * The Feishu app (its id in FEISHU_APPS_FILE) whose bot answers: its persona, tools, allow-lists
   * and memory. Left out: the default (or first) app, as before several apps were served.
   */
  app?: string;
}

/** Stable error codes for a bad playground request. */
export type PlaygroundErrorCode =
  | 'invalid_body'
  | 'empty_text'
  | 'text_too_long'
  | 'invalid_session_id'
  | 'unknown_app';

export class PlaygroundRequestError extends Error {
  readonly code: PlaygroundErrorCode;
  constructor(code: PlaygroundErrorCode, message: string) {
    super(message);
    this.name = 'PlaygroundRequestError';
    this.code = code;
  }
  static isInstance(error: unknown): error is PlaygroundRequestError {
    return error instanceof Error && error.name === 'PlaygroundRequestError' && 'code' in error;
  }
}

/**
 * Checks a POST /devtools/api/chat body. Throws a PlaygroundRequestError naming what is wrong.
 * `apps` are the ids of the apps served (default: the one default app); an `app` outside them is
 * refused rather than queued for a runtime that does not exist.
 *
 * @example
 * parsePlaygroundRequest({ text: 'hi', sessionId: 'tab-1' }); // { text: 'hi', sessionId: 'tab-1' }
 * parsePlaygroundRequest({ text: 'hi', app: 'beta' }, { apps: ['alpha', 'beta'] }); // { text: 'hi', app: 'beta' }
 */
export function parsePlaygroundRequest(
  body: unknown,
  { maxChars = 8_000, apps = [DEFAULT_APP_ID] }: { maxChars?: number; apps?: readonly string[] } = {},
): PlaygroundRequest {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    throw new PlaygroundRequestError('invalid_body', 'Body must be a JSON object like {"text":"hello"}');
  }
  const { text, sessionId, app } = body as Record<string, unknown>;
  if (typeof text !== 'string') throw new PlaygroundRequestError('invalid_body', '"text" must be a string');
  if (text.trim() === '') throw new PlaygroundRequestError('empty_text', '"text" must not be empty');
  if (text.length > maxChars) {
    throw new PlaygroundRequestError('text_too_long', `"text" is longer than ${maxChars} characters`);
  }
  if (sessionId !== undefined && (typeof sessionId !== 'string' || !SESSION_ID.test(sessionId))) {
    throw new PlaygroundRequestError('invalid_session_id', '"sessionId" must be 1-64 letters, digits, _ or -');
  }
  if (app !== undefined && (typeof app !== 'string' || !apps.includes(app))) {
    throw new PlaygroundRequestError('unknown_app', `"app" must be one of the apps served: ${apps.join(', ')}`);
  }
  return { text, ...(sessionId === undefined ? {} : { sessionId }), ...(app === undefined ? {} : { app }) };
}

export interface PlaygroundEventOptions {
  now?: () => number;
  newId?: () => string;
}

/**
 * Turns a playground message into an InboundEvent carrying the neutral message directly (a
 * direct chat with one text part), so it takes the same inbox → dispatcher → conversation →
 * agent path as a Feishu message without pretending to be Feishu JSON. Only
 * `source: 'devtools'` tells the conversation layer to answer into the devtools reply sink.
 * Another app than the default one is named as a Feishu event of that app is (`appId`), so the
 * job runs with that app's runtime and its keys, memory included, are that app's.
 */
export function buildPlaygroundEvent(
  { text, sessionId = 'default', app }: PlaygroundRequest,
  { now = Date.now, newId = randomUUID }: PlaygroundEventOptions = {},
): InboundEvent {
  const at = now();
  const messageUuid = newId();
  return {
    source: 'devtools',
    ...appIdField(app),
    eventId: `devtools_${newId()}`,
    eventType: 'im.message.receive_v1',
    createdAt: at,
    receivedAt: at,
    event: {},
    message: {
      kind: 'message',
      messageId: `om_devtools_${messageUuid}`,
      chatId: `oc_devtools_${sessionId}`,
      chatType: 'p2p',
      sender: { openId: `ou_devtools_${sessionId}`, type: 'user' },
      text,
      parts: [{ type: 'text', text }],
      mentions: [],
      mentionsBot: false,
      createTime: at,
      messageType: 'text',
    },
  };
}

export interface Playground {
  /** Validates and hands a message to the inbox; 'accepted' carries the job id (= trace id) to follow. */
  send(body: unknown): Promise<AcceptResult>;
}

/**
 * The devtools "talk to the bot" door into the inbox.
 *
 * @example
 * const playground = createPlayground({ inbox });
 * const result = await playground.send({ text: 'hello', sessionId: 'tab-1', app: 'beta' });
 * if (result.status === 'accepted') follow(result.jobId);
 */
export function createPlayground({
  inbox,
  maxChars = 8_000,
  apps,
  now,
  newId,
}: {
  inbox: InboxReceiver;
  maxChars?: number;
  /** The ids of the apps served, the default (or first) first; default: the one default app. */
  apps?: readonly string[];
} & PlaygroundEventOptions): Playground {
  return {
    async send(body) {
      const request = parsePlaygroundRequest(body, { maxChars, apps });
      // No app named: the default (or first) app, under the same keys as when it is picked, so
      // one app has one playground memory whichever way it was reached.
      const app = request.app ?? apps?.[0];
      return inbox.accept(buildPlaygroundEvent({ ...request, ...(app === undefined ? {} : { app }) }, { now, newId }));
    },
  };
}

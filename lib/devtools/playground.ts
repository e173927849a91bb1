import { randomUUID } from 'node:crypto';
import type { AcceptResult, InboundEvent, InboxReceiver } from '../inbox/inbound-event.js';

/** A playground session id: short, and safe to embed in fake Feishu ids. */
const SESSION_ID = /^[A-Za-z0-9_-]{1,64}$/;

export interface PlaygroundRequest {
  text: string;
  /** Groups messages into one conversation (one fake p2p chat); a fresh one per browser tab by default. */
  sessionId?: string;
}

/** Stable error codes for a bad playground request. */
export type PlaygroundErrorCode = 'invalid_body' | 'empty_text' | 'text_too_long' | 'invalid_session_id';

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
 *
 * @example
 * parsePlaygroundRequest({ text: 'hi', sessionId: 'tab-1' }); // { text: 'hi', sessionId: 'tab-1' }
 */
export function parsePlaygroundRequest(
  body: unknown,
  { maxChars = 8_000 }: { maxChars?: number } = {},
): PlaygroundRequest {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    throw new PlaygroundRequestError('invalid_body', 'Body must be a JSON object like {"text":"hello"}');
  }
  const { text, sessionId } = body as Record<string, unknown>;
  if (typeof text !== 'string') throw new PlaygroundRequestError('invalid_body', '"text" must be a string');
  if (text.trim() === '') throw new PlaygroundRequestError('empty_text', '"text" must not be empty');
  if (text.length > maxChars) {
    throw new PlaygroundRequestError('text_too_long', `"text" is longer than ${maxChars} characters`);
  }
  if (sessionId !== undefined && (typeof sessionId !== 'string' || !SESSION_ID.test(sessionId))) {
    throw new PlaygroundRequestError('invalid_session_id', '"sessionId" must be 1-64 letters, digits, _ or -');
  }
  return sessionId === undefined ? { text } : { text, sessionId };
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
 */
export function buildPlaygroundEvent(
  { text, sessionId = 'default' }: PlaygroundRequest,
  { now = Date.now, newId = randomUUID }: PlaygroundEventOptions = {},
): InboundEvent {
  const at = now();
  const messageUuid = newId();
  return {
    source: 'devtools',
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
 * const result = await playground.send({ text: 'hello', sessionId: 'tab-1' });
 * if (result.status === 'accepted') follow(result.jobId);
 */
export function createPlayground({
  inbox,
  maxChars = 8_000,
  now,
  newId,
}: { inbox: InboxReceiver; maxChars?: number } & PlaygroundEventOptions): Playground {
  return {
    async send(body) {
      const request = parsePlaygroundRequest(body, { maxChars });
      return inbox.accept(buildPlaygroundEvent(request, { now, newId }));
    },
  };
}

import type { InboundEvent } from '../../inbox/inbound-event.js';
import type { EventSource } from '../../observe/bot-event.js';
import { departedBody, USER_DELETED_EVENT } from '../../user-auth/person-departed.js';

/**
 * What a (decrypted) Feishu callback body is: the URL-verification handshake, an event in the
 * v2 (`schema: "2.0"`, `header`) or v1 (`uuid`, `event.type`) shape, or something we refuse.
 */
export type Envelope =
  | { kind: 'challenge'; challenge: string; token: string | undefined }
  | {
      kind: 'event';
      token: string | undefined;
      eventId: string;
      eventType: string;
      /** Epoch ms Feishu stamped on it, when it did. */
      createdAt: number | undefined;
      event: unknown;
    }
  /** `token` is kept so a legacy card callback (no header, top-level token) can still be checked. */
  | { kind: 'invalid'; reason: string; token?: string | undefined; body?: unknown };

type JsonObject = Record<string, unknown>;

function isObject(value: unknown): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function nonEmptyString(value: unknown): string | undefined {
  return typeof value === 'string' && value.length > 0 ? value : undefined;
}

/** Feishu sends create_time as epoch-ms strings (v2) and `ts` as epoch seconds with a fraction (v1). */
function epochMs(value: unknown, unit: 'ms' | 's'): number | undefined {
  const number = typeof value === 'number' ? value : typeof value === 'string' ? Number(value) : Number.NaN;
  if (!Number.isFinite(number) || number <= 0) return undefined;
  return Math.round(unit === 's' ? number * 1000 : number);
}

/**
 * Classifies a parsed (and already decrypted) callback body.
 *
 * @example
 * const envelope = readEnvelope(JSON.parse(text));
 * if (envelope.kind === 'challenge') return c.json({ challenge: envelope.challenge });
 */
export function readEnvelope(body: unknown): Envelope {
  if (!isObject(body)) return { kind: 'invalid', reason: 'body is not a JSON object' };
  if (body.type === 'url_verification') {
    const challenge = nonEmptyString(body.challenge);
    if (challenge === undefined) return { kind: 'invalid', reason: 'url_verification without challenge' };
    return { kind: 'challenge', challenge, token: nonEmptyString(body.token) };
  }
  if (isObject(body.header)) {
    const header = body.header;
    const eventId = nonEmptyString(header.event_id);
    const eventType = nonEmptyString(header.event_type);
    if (eventId === undefined || eventType === undefined) {
      return { kind: 'invalid', reason: 'v2 event without header.event_id or header.event_type' };
    }
    return {
      kind: 'event',
      token: nonEmptyString(header.token),
      eventId,
      eventType,
      createdAt: epochMs(header.create_time, 'ms'),
      event: body.event ?? {},
    };
  }
  if (isObject(body.event)) {
    const eventId = nonEmptyString(body.uuid);
    const eventType = nonEmptyString(body.event.type);
    if (eventId === undefined || eventType === undefined) {
      return { kind: 'invalid', reason: 'v1 event without uuid or event.type' };
    }
    return {
      kind: 'event',
      token: nonEmptyString(body.token),
      eventId,
      eventType,
      createdAt: epochMs(body.ts, 's'),
      event: body.event,
    };
  }
  return { kind: 'invalid', reason: 'neither a v2 header nor a v1 event', token: nonEmptyString(body.token), body };
}

/** The transport-independent record the inbox persists. */
export function toInboundEvent(
  envelope: Extract<Envelope, { kind: 'event' }>,
  source: EventSource,
  receivedAt: number,
): InboundEvent {
  return {
    source,
    eventId: envelope.eventId,
    eventType: envelope.eventType,
    createdAt: envelope.createdAt ?? receivedAt,
    receivedAt,
    // A deleted user's contact card (name, mobile, email) is not stored with the job: its open_id is enough.
    event:
      envelope.eventType === USER_DELETED_EVENT
        ? departedBody(
            nonEmptyString(
              (isObject(envelope.event) && isObject(envelope.event.object) ? envelope.event.object : {}).open_id,
            ),
          )
        : envelope.event,
  };
}

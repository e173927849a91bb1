import { createHash, timingSafeEqual } from 'node:crypto';
import type { Context } from 'hono';
import { Hono } from 'hono';
import type { InboxReceiver } from '../../inbox/inbound-event.js';
import type { Logger } from '../../log.js';
import type { EventBus } from '../../observe/event-bus.js';
import { createSampledLog } from '../../observe/sampled-log.js';
import { withTimeout } from '../../util/with-timeout.js';
import { decryptEvent } from './decrypt-event.js';
import { type Envelope, readEnvelope, toInboundEvent } from './event-envelope.js';
import { verifySignature } from './verify-signature.js';

/** Stable codes in every 4xx/5xx body the webhook answers, also the `reason` of 'event.rejected'. */
export type WebhookErrorCode =
  | 'INVALID_JSON'
  | 'INVALID_EVENT'
  | 'ENCRYPT_KEY_MISSING'
  | 'DECRYPT_MALFORMED'
  | 'DECRYPT_FAILED'
  | 'SIGNATURE_MISSING'
  | 'SIGNATURE_INVALID'
  | 'TIMESTAMP_STALE'
  | 'TOKEN_INVALID'
  /** No encrypt key and no FEISHU_ALLOW_UNSIGNED_WEBHOOK: only Feishu's URL check is answered. */
  | 'SIGNATURE_REQUIRED'
  | 'STORE_UNAVAILABLE';

/**
 * A card button press as the card route hands it on (after verification).
 * Legacy (schema 1) card callbacks have no header: the body itself is the action.
 */
export function cardActionFromEnvelope(envelope: Envelope): CardAction {
  return envelope.kind === 'event'
    ? { eventId: envelope.eventId, eventType: envelope.eventType, event: envelope.event }
    : {
        eventId: undefined,
        eventType: 'card.action.legacy',
        event: envelope.kind === 'invalid' ? envelope.body : undefined,
      };
}

/** A card button press as the card route hands it on (after verification). */
export interface CardAction {
  eventId: string | undefined;
  eventType: string;
  event: unknown;
}

/** What a card callback may answer: `{}` or e.g. `{ toast: { type: 'info', content: '…' } }`. */
export type CardActionResponse = Record<string, unknown>;

export interface WebhookRoutesOptions {
  inbox: InboxReceiver;
  /** The app these routes receive for (several apps in one process): named on rejections. */
  app?: string;
  /**
   * With a key, every request but the URL check must carry a valid `x-lark-signature`, checked
   * before anything in the body is read.
   */
  encryptKey: string | undefined;
  /**
   * Without a key: true runs on the verification token alone (forgeable: the token travels in
   * every event body); false (the default) refuses every request but the URL check.
   */
  allowUnsigned?: boolean;
  /** With a token, v2 `header.token` / v1 `token` must equal it. */
  verificationToken: string | undefined;
  maxSkewSeconds: number;
  log: Logger;
  bus: EventBus;
  now?: () => number;
  /** Card button callbacks; must be quick (no model calls): its answer is the HTTP answer. */
  onCardAction?: (action: CardAction) => Promise<CardActionResponse | undefined>;
  /** Feishu waits 3 s for a card answer; past this we answer `{}` and let the handler finish alone. */
  cardTimeoutMs?: number;
  /** Rejections are logged at most once per reason per this many ms (every one is still counted). */
  rejectionLogIntervalMs?: number;
}

type Verified =
  | { ok: true; envelope: Envelope }
  | { ok: false; status: 400 | 401; code: WebhookErrorCode; detail?: string }
  | { ok: 'challenge'; challenge: string };

const utf8 = new TextDecoder('utf-8', { fatal: true });

/**
 * Deepest JSON nesting an event may have. Feishu's are under 10 levels; a deeper one (found by
 * the webhook fuzz test) overflowed the stack in JSON.stringify when the inbox persisted it, which
 * surfaced as 503 and would have made Feishu re-deliver a poison event for hours.
 */
export const MAX_EVENT_DEPTH = 64;

/** Iterative, so the check itself cannot overflow the stack it protects. */
function deeperThan(value: unknown, limit: number): boolean {
  const stack: { value: unknown; depth: number }[] = [{ value, depth: 1 }];
  while (stack.length > 0) {
    const { value: current, depth } = stack.pop()!;
    if (typeof current !== 'object' || current === null) continue;
    if (depth > limit) return true;
    for (const child of Array.isArray(current) ? current : Object.values(current)) {
      if (typeof child === 'object' && child !== null) stack.push({ value: child, depth: depth + 1 });
    }
  }
  return false;
}

const sha256 = (text: string) => createHash('sha256').update(text).digest();

/** A constant-time check against one secret, hashed once rather than on every request. */
function secretMatcher(expected: string): (given: string | undefined) => boolean {
  const expectedHash = sha256(expected);
  // Hashing first gives equal lengths, which timingSafeEqual needs, without leaking the length.
  return (given) => given !== undefined && timingSafeEqual(sha256(given), expectedHash);
}

/**
 * The Feishu callback routes, mounted at '/webhook': `POST /event` (events) and `POST /card`
 * (card button callbacks). Order of checks: JSON → decrypt → URL-verification challenge (it
 * carries no signature) → signature and timestamp → verification token → inbox. Bad input is
 * always a 4xx with a stable code; only a store outage is a 5xx (503), so Feishu delivers again.
 *
 * @example
 * const routes = webhookRoutes({ inbox, encryptKey, verificationToken, maxSkewSeconds: 300, log, bus });
 * const app = createApp({ log, routes: [{ path: '/webhook', app: routes }] });
 */
export function webhookRoutes({
  inbox,
  app: appLabel,
  encryptKey,
  verificationToken,
  maxSkewSeconds,
  log,
  bus,
  now = Date.now,
  onCardAction,
  cardTimeoutMs = 2_500,
  allowUnsigned = false,
  rejectionLogIntervalMs = 10_000,
}: WebhookRoutesOptions): Hono {
  const app = new Hono();
  const tokenMatches = verificationToken === undefined ? undefined : secretMatcher(verificationToken);
  // A flood of forged requests must not become a flood of log lines (a full disk stops the store).
  const logRejection = createSampledLog({ log, intervalMs: rejectionLogIntervalMs, now });

  const reject = (c: Context, status: 400 | 401 | 503, code: WebhookErrorCode, detail?: string) => {
    bus.emit({
      type: 'event.rejected',
      source: 'webhook',
      status,
      reason: code,
      ...(appLabel === undefined ? {} : { app: appLabel }),
    });
    logRejection(code, { status, code, detail, path: c.req.path }, 'webhook request rejected');
    // Why a decryption failed (bad padding, not UTF-8, not JSON) stays in the log: told to the
    // caller, it is a CBC padding oracle that decrypts captured bodies without the key.
    const publicDetail = code === 'DECRYPT_FAILED' ? undefined : detail;
    return c.json({ error: code, ...(publicDetail === undefined ? {} : { message: publicDetail }) }, status);
  };

  /** JSON → decrypt → envelope, or the 4xx a body that does not get that far earns. */
  function open(rawBody: Uint8Array): { envelope: Envelope; payload: unknown } | Extract<Verified, { ok: false }> {
    let body: unknown;
    try {
      body = JSON.parse(utf8.decode(rawBody));
    } catch {
      return { ok: false, status: 400, code: 'INVALID_JSON' };
    }
    let payload = body;
    if (typeof body === 'object' && body !== null && 'encrypt' in body) {
      if (encryptKey === undefined) return { ok: false, status: 400, code: 'ENCRYPT_KEY_MISSING' };
      const decrypted = decryptEvent((body as { encrypt: unknown }).encrypt, encryptKey);
      if (!decrypted.ok) return { ok: false, status: 400, code: decrypted.code, detail: decrypted.detail };
      payload = decrypted.value;
    }
    return { envelope: readEnvelope(payload), payload };
  }

  /** Feishu sends the URL check unsigned, encrypted or not; the token is all it carries. */
  function challenge(envelope: Extract<Envelope, { kind: 'challenge' }>): Verified {
    if (tokenMatches !== undefined && !tokenMatches(envelope.token)) {
      return { ok: false, status: 401, code: 'TOKEN_INVALID' };
    }
    return { ok: 'challenge', challenge: envelope.challenge };
  }

  async function verify(c: Context, route: 'event' | 'card'): Promise<Verified> {
    // The raw bytes, read once: the signature is over exactly these.
    const rawBody = new Uint8Array(await c.req.arrayBuffer());
    const signature = c.req.header('x-lark-signature');
    if (encryptKey !== undefined && signature !== undefined && signature !== '') {
      // Signed: the signature is checked before a byte of the body is parsed or decrypted, so an
      // outsider learns nothing about what decrypts (400) and what does not (401).
      const check = verifySignature({
        timestamp: c.req.header('x-lark-request-timestamp'),
        nonce: c.req.header('x-lark-request-nonce'),
        signature,
        encryptKey,
        rawBody,
        maxSkewSeconds,
        now: now(),
      });
      if (!check.ok) return { ok: false, status: 401, code: check.code };
    }
    // Where only a URL check may pass, whatever else arrives is a 401, however broken its body.
    const onlyChallenge: Verified | undefined =
      encryptKey === undefined
        ? allowUnsigned
          ? undefined
          : { ok: false, status: 401, code: 'SIGNATURE_REQUIRED' }
        : signature === undefined || signature === ''
          ? { ok: false, status: 401, code: 'SIGNATURE_MISSING' }
          : undefined;
    const opened = open(rawBody);
    if ('ok' in opened) return onlyChallenge ?? opened;
    const { envelope, payload } = opened;
    if (envelope.kind === 'challenge') return challenge(envelope);
    if (onlyChallenge !== undefined) return onlyChallenge;
    if (envelope.kind === 'invalid' && (route === 'event' || envelope.body === undefined)) {
      return { ok: false, status: 400, code: 'INVALID_EVENT', detail: envelope.reason };
    }
    if (tokenMatches !== undefined && !tokenMatches(envelope.token)) {
      return { ok: false, status: 401, code: 'TOKEN_INVALID' };
    }
    if (deeperThan(payload, MAX_EVENT_DEPTH)) {
      return {
        ok: false,
        status: 400,
        code: 'INVALID_EVENT',
        detail: `JSON nested deeper than ${MAX_EVENT_DEPTH} levels`,
      };
    }
    return { ok: true, envelope };
  }

  app.post('/event', async (c) => {
    const verified = await verify(c, 'event');
    if (verified.ok === 'challenge') return c.json({ challenge: verified.challenge });
    if (!verified.ok) return reject(c, verified.status, verified.code, verified.detail);
    const { envelope } = verified;
    if (envelope.kind !== 'event') return reject(c, 400, 'INVALID_EVENT');
    const result = await inbox.accept(toInboundEvent(envelope, 'webhook', now()));
    switch (result.status) {
      case 'accepted':
        return c.json({ ok: true });
      case 'duplicate':
        return c.json({ ok: true, duplicate: result.key });
      case 'ignored':
        return c.json({ ok: true, ignored: result.reason });
      case 'unavailable':
        return reject(c, 503, 'STORE_UNAVAILABLE', result.reason);
    }
  });

  app.post('/card', async (c) => {
    const verified = await verify(c, 'card');
    if (verified.ok === 'challenge') return c.json({ challenge: verified.challenge });
    if (!verified.ok) return reject(c, verified.status, verified.code, verified.detail);
    const { envelope } = verified;
    const action = cardActionFromEnvelope(envelope);
    if (onCardAction === undefined) return c.json({});
    const handled = onCardAction(action).catch((error: unknown) => {
      log.error({ err: error, eventType: action.eventType }, 'card action handler failed');
      return undefined;
    });
    // A slow handler gets the empty answer in time; Feishu shows nothing rather than an error.
    const answer = await withTimeout(handled, cardTimeoutMs, () => new Error('card action too slow')).catch(
      () => undefined,
    );
    return c.json(answer ?? {});
  });

  return app;
}

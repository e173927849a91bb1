import pino from 'pino';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { messageEnvelope, webhookRequest } from '../../../test/support/ingress-events.js';
import { createApp } from '../../app.js';
import { createInbox } from '../../inbox/inbox.js';
import { silentLogger } from '../../log.js';
import type { StampedBotEvent } from '../../observe/bot-event.js';
import { createEventBus } from '../../observe/event-bus.js';
import { openSqliteStore } from '../../store/sqlite-store.js';
import { type Store, StoreUnavailableError } from '../../store/store.js';
import { encryptEvent } from './decrypt-event.js';
import { computeSignature } from './verify-signature.js';
import { type WebhookRoutesOptions, webhookRoutes } from './webhook-routes.js';

const encryptKey = 'encrypt-key-for-tests';
const verificationToken = 'verification-token';

describe('webhook routes', () => {
  let store: Store;
  let events: StampedBotEvent[];
  const bus = createEventBus();
  bus.subscribe((event) => events.push(event));
  const log = silentLogger();

  beforeEach(() => {
    store = openSqliteStore(':memory:');
    events = [];
  });
  afterEach(async () => {
    await store.close();
  });

  function app(options: Partial<WebhookRoutesOptions> = {}, bodyLimitBytes?: number) {
    const inbox = createInbox({ store, bus, log, dedupeTtlMs: 24 * 3_600_000, maxBacklog: 100 });
    const routes = webhookRoutes({ inbox, encryptKey, verificationToken, maxSkewSeconds: 300, log, bus, ...options });
    return createApp({
      log,
      routes: [{ path: '/webhook', app: routes }],
      ...(bodyLimitBytes ? { bodyLimitBytes } : {}),
    });
  }

  const post = (
    target: ReturnType<typeof app>,
    request: { headers: Record<string, string>; body: string | Uint8Array },
    path = '/webhook/event',
  ) => target.request(path, { method: 'POST', headers: request.headers, body: request.body });

  const pendingJobs = async () => (await store.countJobs()).pending;
  const rejections = () => events.filter((event) => event.type === 'event.rejected');

  describe('url_verification', () => {
    it('answers the plain challenge (unsigned) without touching the inbox or the store', async () => {
      // Feishu allows 1 s: nothing that can be slow sits on this path (a timing claim belongs in a bench).
      const routes = webhookRoutes({
        inbox: {
          accept: () => {
            throw new Error('the challenge must not reach the inbox');
          },
        },
        encryptKey,
        verificationToken,
        maxSkewSeconds: 300,
        log,
        bus,
      });
      const target = createApp({ log, routes: [{ path: '/webhook', app: routes }] });
      const response = await post(
        target,
        webhookRequest({ type: 'url_verification', challenge: 'c-123', token: verificationToken }),
      );
      expect(response.status).toBe(200);
      expect(await response.json()).toEqual({ challenge: 'c-123' });
    });

    it('answers the encrypted challenge, which carries no signature header', async () => {
      const request = webhookRequest(
        { type: 'url_verification', challenge: 'c-enc', token: verificationToken },
        { encryptKey, sign: false },
      );
      expect(request.headers['x-lark-signature']).toBeUndefined();
      const response = await post(app(), request);
      expect(response.status).toBe(200);
      expect(await response.json()).toEqual({ challenge: 'c-enc' });
    });

    it('refuses a challenge with the wrong token', async () => {
      const response = await post(app(), webhookRequest({ type: 'url_verification', challenge: 'c', token: 'nope' }));
      expect(response.status).toBe(401);
      expect(await response.json()).toMatchObject({ error: 'TOKEN_INVALID' });
    });
  });

  describe('events', () => {
    const envelope = () => messageEnvelope({ eventId: 'ev-1', messageId: 'om_1', token: verificationToken });

    it('accepts a signed, encrypted message event and enqueues exactly one job', async () => {
      const target = app();
      const response = await post(target, webhookRequest(envelope(), { encryptKey }));
      expect(response.status).toBe(200);
      expect(await pendingJobs()).toBe(1);
      const again = await post(target, webhookRequest(envelope(), { encryptKey }));
      expect(again.status).toBe(200);
      expect(await again.json()).toMatchObject({ duplicate: 'message_id' });
      expect(await pendingJobs()).toBe(1);
    });

    it('accepts plain events without an encrypt key only when unsigned is opted into, checking the token', async () => {
      const target = app({ encryptKey: undefined, allowUnsigned: true });
      expect((await post(target, webhookRequest(envelope()))).status).toBe(200);
      expect(await pendingJobs()).toBe(1);
    });

    it('accepts the v1 envelope shape', async () => {
      const target = app({ encryptKey: undefined, allowUnsigned: true });
      const v1 = {
        uuid: 'v1-uuid',
        token: verificationToken,
        ts: String(Date.now() / 1000),
        type: 'event_callback',
        event: { type: 'message', chat_id: 'oc' },
      };
      const response = await post(target, webhookRequest(v1));
      expect(response.status).toBe(200);
      expect(await response.json()).toMatchObject({ ignored: 'no work for message' });
    });

    it.each([
      [
        'forged signature',
        () => {
          const request = webhookRequest(envelope(), { encryptKey });
          request.headers['x-lark-signature'] = 'f'.repeat(64);
          return request;
        },
        401,
        'SIGNATURE_INVALID',
      ],
      [
        'signature by another key',
        () => {
          const request = webhookRequest(envelope(), { encryptKey: 'other-key', encrypt: false });
          return { ...request, body: JSON.stringify({ encrypt: encryptEvent(envelope(), encryptKey) }) };
        },
        401,
        'SIGNATURE_INVALID',
      ],
      ['missing signature', () => webhookRequest(envelope(), { encryptKey, sign: false }), 401, 'SIGNATURE_MISSING'],
      [
        'stale timestamp',
        () => webhookRequest(envelope(), { encryptKey, timestamp: String(Math.floor(Date.now() / 1000) - 3_600) }),
        401,
        'TIMESTAMP_STALE',
      ],
      [
        'wrong token',
        () => webhookRequest(messageEnvelope({ eventId: 'e', messageId: 'm', token: 'wrong' }), { encryptKey }),
        401,
        'TOKEN_INVALID',
      ],
      [
        'no token',
        () => webhookRequest(messageEnvelope({ eventId: 'e', messageId: 'm', token: '' }), { encryptKey }),
        401,
        'TOKEN_INVALID',
      ],
      ['garbage JSON, signed', () => signedRaw('{"schema": "2.0", '), 400, 'INVALID_JSON'],
      [
        'garbage JSON, unsigned',
        () => ({ headers: { 'content-type': 'application/json' }, body: '{"schema": "2.0", ' }),
        401,
        'SIGNATURE_MISSING',
      ],
      [
        'not UTF-8, unsigned',
        () => ({ headers: {}, body: new Uint8Array([0x7b, 0xff, 0xfe, 0x7d]) }),
        401,
        'SIGNATURE_MISSING',
      ],
      [
        'truncated ciphertext',
        () => {
          const encrypted = encryptEvent(envelope(), encryptKey);
          return signedBody(JSON.stringify({ encrypt: encrypted.slice(0, encrypted.length - 12) }));
        },
        400,
        'DECRYPT_MALFORMED',
      ],
      [
        'ciphertext under another key',
        () => signedBody(JSON.stringify({ encrypt: encryptEvent(envelope(), 'wrong-key') })),
        400,
        'DECRYPT_FAILED',
      ],
      ['a JSON array', () => signedBody('[1,2,3]'), 400, 'INVALID_EVENT'],
      ['an event without header or event', () => signedBody('{"hello":"world"}'), 400, 'INVALID_EVENT'],
    ])('%s → %i %s, nothing enqueued, still serving', async (_name, build, status, code) => {
      const target = app();
      const response = await post(target, build());
      expect(response.status).toBe(status);
      expect(await response.json()).toMatchObject({ error: code });
      expect(await pendingJobs()).toBe(0);
      expect(rejections()).toEqual([expect.objectContaining({ status, reason: code, source: 'webhook' })]);
      // The next good event still goes through.
      expect((await post(target, webhookRequest(envelope(), { encryptKey }))).status).toBe(200);
      expect(await pendingJobs()).toBe(1);
    });

    function signedRaw(body: string) {
      const timestamp = String(Math.floor(Date.now() / 1000));
      const rawBody = new TextEncoder().encode(body);
      return {
        headers: {
          'x-lark-request-timestamp': timestamp,
          'x-lark-request-nonce': 'n',
          'x-lark-signature': computeSignature({ timestamp, nonce: 'n', encryptKey, rawBody }),
        },
        body,
      };
    }

    function signedBody(body: string) {
      return webhookRequest(JSON.parse(body), { encryptKey, encrypt: false });
    }

    it('checks the signature before decrypting: without a valid one, nothing tells what decrypts (401 either way)', async () => {
      const good = encryptEvent(envelope(), encryptKey);
      const undecryptable = JSON.stringify({ encrypt: encryptEvent(envelope(), 'wrong-key') });
      const decryptable = JSON.stringify({ encrypt: good });
      const truncated = JSON.stringify({ encrypt: good.slice(0, -12) });
      const answers = [];
      for (const body of [undecryptable, decryptable, truncated, 'not json', '{"encrypt": 7}']) {
        for (const headers of [
          {} as Record<string, string>,
          {
            'x-lark-request-timestamp': String(Math.floor(Date.now() / 1000)),
            'x-lark-request-nonce': 'n',
            'x-lark-signature': 'a'.repeat(64),
          },
        ]) {
          const response = await post(app(), { headers, body });
          answers.push({ status: response.status, error: ((await response.json()) as { error: string }).error });
        }
      }
      expect(answers.every((answer) => answer.status === 401)).toBe(true);
      expect(new Set(answers.map((answer) => answer.error))).toEqual(
        new Set(['SIGNATURE_MISSING', 'SIGNATURE_INVALID']),
      );
      expect(await pendingJobs()).toBe(0);
    });

    it('refuses every event without an encrypt key and without the unsigned opt-in, but still answers the URL check', async () => {
      const target = app({ encryptKey: undefined });
      const forged = await post(target, webhookRequest(envelope()));
      expect(forged.status).toBe(401);
      expect(await forged.json()).toEqual({ error: 'SIGNATURE_REQUIRED' });
      const card = await post(target, webhookRequest(envelope()), '/webhook/card');
      expect(card.status).toBe(401);
      expect(await pendingJobs()).toBe(0);
      const challenge = await post(
        target,
        webhookRequest({ type: 'url_verification', challenge: 'c-1', token: verificationToken }),
      );
      expect(await challenge.json()).toEqual({ challenge: 'c-1' });
    });

    it('logs rejections sampled (first of each reason, then one line per 10 s) while every one is counted on the bus', async () => {
      const lines: Array<{ reason?: string; suppressed?: number }> = [];
      const sink = pino({ level: 'info' }, { write: (line: string) => lines.push(JSON.parse(line)) });
      let clock = Date.now();
      const target = app({ log: sink, now: () => clock });
      const forged = () => ({
        headers: {
          'x-lark-request-timestamp': String(Math.floor(clock / 1000)),
          'x-lark-request-nonce': 'n',
          'x-lark-signature': 'f'.repeat(64),
        },
        body: '{}',
      });
      for (let index = 0; index < 2_000; index += 1) await post(target, forged());
      await post(target, { headers: {}, body: '{}' });
      expect(rejections()).toHaveLength(2_001);
      expect(lines.map((line) => line.reason)).toEqual(['SIGNATURE_INVALID', 'SIGNATURE_MISSING']);
      clock += 10_000;
      await post(target, forged());
      expect(lines).toHaveLength(3);
      expect(lines[2]).toMatchObject({ reason: 'SIGNATURE_INVALID', suppressed: 1_999 });
    });

    it('answers every failed decryption alike, so the response is no padding oracle', async () => {
      const bodies = [
        encryptEvent(envelope(), 'wrong-key'),
        encryptEvent({ not: 'an event' } as never, encryptKey).replace(/.{4}$/, 'AAAA'),
      ];
      const answers = [];
      for (const encrypt of bodies) {
        const response = await post(app(), signedBody(JSON.stringify({ encrypt })));
        answers.push({ status: response.status, body: await response.json() });
      }
      for (const answer of answers) expect(answer).toEqual({ status: 400, body: { error: 'DECRYPT_FAILED' } });
    });

    it('answers 200 and ignores unknown event types', async () => {
      const unknown = { ...envelope(), header: { ...envelope().header, event_type: 'drive.file.edit_v1' } };
      const response = await post(app(), webhookRequest(unknown, { encryptKey }));
      expect(response.status).toBe(200);
      expect(await response.json()).toMatchObject({ ignored: expect.stringContaining('drive.file.edit_v1') });
      expect(await pendingJobs()).toBe(0);
    });

    it('answers 503 (so Feishu retries) when the store is down, and the retry succeeds', async () => {
      let down = true;
      const flaky = new Proxy(store, {
        get(target, property, receiver) {
          if (property === 'admit' && down) {
            return async () => {
              throw new StoreUnavailableError('database is locked');
            };
          }
          const value = Reflect.get(target, property, receiver);
          return typeof value === 'function' ? value.bind(target) : value;
        },
      });
      const inbox = createInbox({ store: flaky, bus, log, dedupeTtlMs: 24 * 3_600_000, maxBacklog: 100 });
      const routes = webhookRoutes({ inbox, encryptKey, verificationToken, maxSkewSeconds: 300, log, bus });
      const target = createApp({ log, routes: [{ path: '/webhook', app: routes }] });
      expect((await post(target, webhookRequest(envelope(), { encryptKey }))).status).toBe(503);
      down = false;
      expect((await post(target, webhookRequest(envelope(), { encryptKey }))).status).toBe(200);
      expect(await pendingJobs()).toBe(1);
    });

    it('answers 413 to a 2 MB body through the full app, and keeps serving', async () => {
      const target = app({}, 1024 * 1024);
      const huge = messageEnvelope({
        eventId: 'big',
        messageId: 'om_big',
        token: verificationToken,
        text: 'x'.repeat(2 * 1024 * 1024),
      });
      const response = await post(target, webhookRequest(huge, { encryptKey }));
      expect(response.status).toBe(413);
      expect(await pendingJobs()).toBe(0);
      // Without a content-length header too (chunked upload).
      const request = webhookRequest(huge, { encryptKey });
      const stream = new ReadableStream<Uint8Array>({
        start(controller) {
          controller.enqueue(new TextEncoder().encode(request.body));
          controller.close();
        },
      });
      const chunked = await target.request('/webhook/event', {
        method: 'POST',
        headers: request.headers,
        body: stream,
        duplex: 'half',
      } as RequestInit);
      expect(chunked.status).toBe(413);
      expect(await pendingJobs()).toBe(0);
      expect((await post(target, webhookRequest(envelope(), { encryptKey }))).status).toBe(200);
    });
  });

  describe('card callbacks', () => {
    const cardEvent = (token = verificationToken) => ({
      schema: '2.0',
      header: { event_id: 'card-1', event_type: 'card.action.trigger', token, create_time: String(Date.now()) },
      event: { operator: { open_id: 'ou_user' }, action: { value: { choice: 'yes' }, tag: 'button' } },
    });

    it('answers {} for a verified callback without a handler', async () => {
      const response = await post(app(), webhookRequest(cardEvent(), { encryptKey }), '/webhook/card');
      expect(response.status).toBe(200);
      expect(await response.json()).toEqual({});
    });

    it('hands the action to the handler and returns its toast', async () => {
      const seen: unknown[] = [];
      const target = app({
        onCardAction: async (action) => {
          seen.push(action.event);
          return { toast: { type: 'info', content: 'Got it' } };
        },
      });
      const response = await post(target, webhookRequest(cardEvent(), { encryptKey }), '/webhook/card');
      expect(await response.json()).toEqual({ toast: { type: 'info', content: 'Got it' } });
      expect(seen).toEqual([cardEvent().event]);
    });

    it('answers {} in time when the handler is slow', async () => {
      const target = app({ onCardAction: () => new Promise(() => {}), cardTimeoutMs: 30 });
      const response = await post(target, webhookRequest(cardEvent(), { encryptKey }), '/webhook/card');
      expect(response.status).toBe(200);
      expect(await response.json()).toEqual({});
    });

    it('verifies card callbacks like events: forged signature and wrong token are 401', async () => {
      const forged = webhookRequest(cardEvent(), { encryptKey });
      forged.headers['x-lark-signature'] = '0'.repeat(64);
      expect((await post(app(), forged, '/webhook/card')).status).toBe(401);
      expect((await post(app(), webhookRequest(cardEvent('bad'), { encryptKey }), '/webhook/card')).status).toBe(401);
    });

    it('accepts a legacy (schema 1) card callback with the right token', async () => {
      const legacy = { open_id: 'ou_user', open_message_id: 'om_1', token: verificationToken, action: { value: {} } };
      const target = app({ encryptKey: undefined, allowUnsigned: true });
      expect((await post(target, webhookRequest(legacy), '/webhook/card')).status).toBe(200);
      expect((await post(target, webhookRequest({ ...legacy, token: 'x' }), '/webhook/card')).status).toBe(401);
    });
  });
});

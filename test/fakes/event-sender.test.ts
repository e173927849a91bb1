import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import * as lark from '@larksuiteoapi/node-sdk';
import { Hono } from 'hono';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createFeishuClient } from '../../lib/feishu/feishu-client.js';
import { silentLogger } from '../../lib/log.js';
import {
  buildCardActionEvent,
  buildMessageEvent,
  buildUrlVerification,
  buildV1MessageEvent,
  DEFAULT_USER_OPEN_ID,
  encryptBody,
  eventRequest,
  type FeishuMessageReceiveEvent,
  postEvent,
  signRequest,
} from './event-sender.js';
import { type FakeFeishu, startFakeFeishu } from './fake-feishu.js';

const encryptKey = 'test-encrypt-key-0123456789';
/** LoggerLevel.fatal is 0, which the SDK treats as "unset" (info); a silent logger keeps test output clean. */
const silentSdkLogger = { error() {}, warn() {}, info() {}, debug() {}, trace() {} };

/** What the SDK's adapters hand to the dispatcher: the parsed body with the headers on its prototype. */
function sdkRequestData(headers: Record<string, string>, rawBody: string): Record<string, unknown> {
  return Object.assign(Object.create({ headers }), JSON.parse(rawBody));
}

function quietDispatcher(received: unknown[]) {
  return new lark.EventDispatcher({ encryptKey, logger: silentSdkLogger }).register({
    'im.message.receive_v1': async (data: unknown) => {
      received.push(data);
      return 'handled';
    },
  });
}

describe('event builders', () => {
  let fake: FakeFeishu;
  beforeEach(async () => {
    fake = await startFakeFeishu();
  });
  afterEach(async () => {
    await fake.close();
  });

  it('builds a group message that mentions the bot in the real v2 shape', () => {
    const event = buildMessageEvent({ fake, text: 'hello', mentionBot: true, token: 'verify-me' });
    expect(event.schema).toBe('2.0');
    expect(event.header).toMatchObject({
      event_type: 'im.message.receive_v1',
      token: 'verify-me',
      app_id: fake.appId,
      tenant_key: fake.tenantKey,
    });
    expect(event.header.event_id).toMatch(/^[0-9a-f]{32}$/);
    const { message, sender } = event.event;
    expect(sender).toMatchObject({ sender_type: 'user', sender_id: { open_id: DEFAULT_USER_OPEN_ID } });
    expect(sender.sender_id.union_id).toMatch(/^on_/);
    expect(message).toMatchObject({ chat_type: 'group', message_type: 'text' });
    expect(message.message_id).toMatch(/^om_/);
    expect(typeof message.content).toBe('string');
    expect(JSON.parse(message.content)).toEqual({ text: '@_user_1 hello' });
    expect(message.mentions).toEqual([
      {
        key: '@_user_1',
        id: expect.objectContaining({ open_id: fake.botOpenId }),
        name: fake.botName,
        tenant_key: fake.tenantKey,
      },
    ]);
    expect(message.root_id).toBeUndefined();
  });

  it('numbers several mentions in order and leaves explicit text alone', () => {
    const event = buildMessageEvent({
      fake,
      text: '@_user_2 and @_user_1 please look',
      mentionBot: true,
      mentions: [{ openId: 'ou_ann', name: 'Ann' }],
    });
    expect(event.event.message.mentions?.map((mention) => [mention.key, mention.name])).toEqual([
      ['@_user_1', fake.botName],
      ['@_user_2', 'Ann'],
    ]);
    expect(JSON.parse(event.event.message.content).text).toBe('@_user_2 and @_user_1 please look');
  });

  it('builds p2p messages in the fake p2p chat, post messages and thread replies', () => {
    const direct = buildMessageEvent({ fake, chatType: 'p2p', text: 'hi', senderOpenId: 'ou_bob' });
    expect(direct.event.message.chat_id).toBe(fake.p2pChatIdFor('ou_bob'));
    expect(direct.event.message.mentions).toBeUndefined();

    const post = buildMessageEvent({
      fake,
      mentionBot: true,
      post: {
        title: 'Report',
        content: [
          [
            { tag: 'text', text: 'summarise ' },
            { tag: 'a', text: 'this', href: 'https://x' },
          ],
        ],
      },
    });
    expect(post.event.message.message_type).toBe('post');
    expect(JSON.parse(post.event.message.content)).toEqual({
      title: 'Report',
      content: [
        [
          { tag: 'at', user_id: '@_user_1', user_name: fake.botName },
          { tag: 'text', text: 'summarise ' },
          { tag: 'a', text: 'this', href: 'https://x' },
        ],
      ],
    });
    expect(fake.visibleText(post.event.message.message_id)).toBe(`Report\n@${fake.botName}summarise this`);

    const inThread = buildMessageEvent({
      fake,
      text: 'follow-up',
      rootId: post.event.message.message_id,
      parentId: post.event.message.message_id,
      threadId: 'omt_abc',
      senderType: 'app',
    });
    expect(inThread.event.message).toMatchObject({
      root_id: post.event.message.message_id,
      parent_id: post.event.message.message_id,
      thread_id: 'omt_abc',
    });
    expect(inThread.event.sender.sender_type).toBe('app');
  });

  it('stores the event message in the fake so the real SDK can reply to it', async () => {
    const event = buildMessageEvent({ fake, text: 'question', mentionBot: true, chatId: 'oc_team' });
    const stored = fake.message(event.event.message.message_id);
    expect(stored).toMatchObject({ chatId: 'oc_team', fromBot: false, sender: { id: DEFAULT_USER_OPEN_ID } });
    expect(fake.visibleText(event.event.message.message_id)).toBe(`@${fake.botName} question`);

    const client = createFeishuClient({
      appId: fake.appId,
      appSecret: fake.appSecret,
      domain: fake.url,
      log: silentLogger(),
    });
    const reply = await client.im.v1.message.reply({
      path: { message_id: event.event.message.message_id },
      data: { msg_type: 'text', content: JSON.stringify({ text: 'answer' }) },
    });
    expect(reply.data?.chat_id).toBe('oc_team');
    expect(
      fake.repliesTo(event.event.message.message_id, { fromBot: true }).map((m) => fake.visibleText(m.messageId)),
    ).toEqual(['answer']);
  });

  it('builds url_verification, v1 and card action payloads', () => {
    expect(buildUrlVerification({ token: 't', challenge: 'c' })).toEqual({
      challenge: 'c',
      token: 't',
      type: 'url_verification',
    });
    const v1 = buildV1MessageEvent({ text: '@_user_1 hi', isMention: true, chatType: 'p2p' });
    expect(v1).toMatchObject({
      type: 'event_callback',
      event: { type: 'message', chat_type: 'private', text_without_at_bot: 'hi' },
    });
    const message = fake.seedMessage({ chatId: 'oc_cards', text: 'card' });
    const action = buildCardActionEvent({ fake, messageId: message.messageId, value: { action: 'retry' } });
    expect(action).toMatchObject({
      schema: '2.0',
      header: { event_type: 'card.action.trigger', app_id: fake.appId },
      event: {
        action: { value: { action: 'retry' }, tag: 'button' },
        context: { open_message_id: message.messageId, open_chat_id: 'oc_cards' },
      },
    });
  });
});

describe('encryption and signature against the lark SDK', () => {
  it('encrypts so that the SDK AESCipher decrypts the exact plaintext', () => {
    const event = buildMessageEvent({ botOpenId: 'ou_bot', mentionBot: true, text: '你好, 世界 — ünïcode' });
    const plaintext = JSON.stringify(event);
    const { encrypt } = encryptBody(event, encryptKey);
    expect(new lark.AESCipher(encryptKey).decrypt(encrypt)).toBe(plaintext);
    // A fresh IV each time: same plaintext, different ciphertext.
    expect(encryptBody(event, encryptKey).encrypt).not.toBe(encrypt);
    expect(() => new lark.AESCipher('another key').decrypt(encrypt)).toThrow();
  });

  it('signs so that the SDK signature check accepts it, and rejects tampering', async () => {
    const received: unknown[] = [];
    const dispatcher = quietDispatcher(received);
    const event = buildMessageEvent({ botOpenId: 'ou_bot', text: 'signed' });

    const good = eventRequest(event, { encryptKey });
    expect(good.headers['x-lark-signature']).toMatch(/^[0-9a-f]{64}$/);
    expect(await dispatcher.invoke(sdkRequestData(good.headers, good.body))).toBe('handled');
    expect(received).toHaveLength(1);
    expect(received[0]).toMatchObject({ message: { message_id: event.event.message.message_id } });

    for (const tamper of ['signature', 'body', 'unsigned'] as const) {
      const spoiled = eventRequest(event, { encryptKey, tamper });
      expect(await dispatcher.invoke(sdkRequestData(spoiled.headers, spoiled.body)), tamper).toBeUndefined();
    }
    expect(received).toHaveLength(1);

    // The documented formula, independently.
    const headers = signRequest('{"a":1}', 'k', { timestamp: '1700000000', nonce: 'n' });
    const { createHash } = await import('node:crypto');
    expect(headers['x-lark-signature']).toBe(createHash('sha256').update('1700000000nk{"a":1}').digest('hex'));
  });

  it('stale timestamps are correctly signed (the SDK does not check age; our webhook must)', async () => {
    const received: unknown[] = [];
    const dispatcher = quietDispatcher(received);
    const stale = eventRequest(buildMessageEvent({ botOpenId: 'ou_bot' }), { encryptKey, tamper: 'stale-timestamp' });
    expect(Number(stale.headers['x-lark-request-timestamp'])).toBeLessThan(Date.now() / 1000 - 3500);
    expect(await dispatcher.invoke(sdkRequestData(stale.headers, stale.body))).toBe('handled');
  });

  it('corrupted ciphertext is still signed but does not decrypt to the event', () => {
    const spoiled = eventRequest(buildMessageEvent({ botOpenId: 'ou_bot' }), { encryptKey, tamper: 'ciphertext' });
    expect(spoiled.headers['x-lark-signature']).toBe(
      signRequest(spoiled.body, encryptKey, {
        timestamp: spoiled.headers['x-lark-request-timestamp'],
        nonce: spoiled.headers['x-lark-request-nonce'],
      })['x-lark-signature'],
    );
    const { encrypt } = JSON.parse(spoiled.body) as { encrypt: string };
    let decoded: unknown;
    try {
      decoded = JSON.parse(new lark.AESCipher(encryptKey).decrypt(encrypt));
    } catch (error) {
      decoded = error;
    }
    expect(decoded).toBeInstanceOf(Error);
  });

  it('sends url_verification unsigned, even when encrypted', () => {
    const plain = eventRequest(buildUrlVerification({ challenge: 'abc' }));
    expect(JSON.parse(plain.body)).toEqual({ challenge: 'abc', token: '', type: 'url_verification' });
    const encrypted = eventRequest(buildUrlVerification({ challenge: 'abc' }), { encryptKey });
    expect(encrypted.headers['x-lark-signature']).toBeUndefined();
    expect(JSON.parse(new lark.AESCipher(encryptKey).decrypt(JSON.parse(encrypted.body).encrypt))).toMatchObject({
      challenge: 'abc',
    });
  });
});

describe('delivery', () => {
  let server: Server | undefined;
  afterEach(async () => {
    await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()));
    server?.closeAllConnections();
    server = undefined;
  });

  it('postEvent reaches the SDK HTTP adapter over a real socket: verified, decrypted, challenged', async () => {
    const received: FeishuMessageReceiveEvent['event'][] = [];
    const dispatcher = new lark.EventDispatcher({ encryptKey, logger: silentSdkLogger }).register({
      'im.message.receive_v1': async (data) => {
        received.push(data as FeishuMessageReceiveEvent['event']);
        return { ok: true };
      },
    });
    server = createServer(lark.adaptDefault('/webhook/event', dispatcher, { autoChallenge: true }));
    await new Promise<void>((resolve) => server?.listen(0, '127.0.0.1', () => resolve()));
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/webhook/event`;

    const event = buildMessageEvent({ botOpenId: 'ou_bot', mentionBot: true, text: 'over http' });
    const response = await postEvent(url, event, { encryptKey });
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ ok: true });
    expect(received.map((data) => data.message.message_id)).toEqual([event.event.message.message_id]);

    const spoiled = await postEvent(url, event, { encryptKey, tamper: 'signature' });
    await spoiled.text();
    expect(received).toHaveLength(1);

    const challenge = await postEvent(url, buildUrlVerification({ challenge: 'xyz' }), { encryptKey });
    expect(await challenge.json()).toEqual({ challenge: 'xyz' });
  });

  it('eventRequest works with Hono app.request without a socket', async () => {
    const seen: Array<{ signature: string | undefined; raw: string }> = [];
    const app = new Hono().post('/webhook/event', async (c) => {
      const raw = await c.req.text();
      seen.push({ signature: c.req.header('x-lark-signature'), raw });
      return c.json({ ok: true });
    });
    const init = eventRequest(buildMessageEvent({ botOpenId: 'ou_bot' }), { encryptKey });
    const response = await app.request('/webhook/event', init);
    expect(response.status).toBe(200);
    expect(seen).toEqual([{ signature: init.headers['x-lark-signature'], raw: init.body }]);
    // What arrived is byte-for-byte what was signed.
    expect(
      signRequest(seen[0]?.raw ?? '', encryptKey, {
        timestamp: init.headers['x-lark-request-timestamp'],
        nonce: init.headers['x-lark-request-nonce'],
      })['x-lark-signature'],
    ).toBe(seen[0]?.signature);
  });
});

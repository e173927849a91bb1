import * as lark from '@larksuiteoapi/node-sdk';
import type { AxiosError } from 'axios';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createFeishuClient, type FeishuClient } from '../../lib/feishu/feishu-client.js';
import { type FakeFeishu, FEISHU_CODES, startFakeFeishu } from './fake-feishu.js';

/** The SDK rethrows axios errors for non-2xx answers; this pulls out what a caller sees. */
async function sdkFailure(
  promise: Promise<unknown>,
): Promise<{ status: number | undefined; code: unknown; headers: Record<string, unknown> }> {
  try {
    await promise;
  } catch (error) {
    const axiosError = error as AxiosError<{ code?: number }>;
    return {
      status: axiosError.response?.status,
      code: axiosError.response?.data?.code,
      headers: { ...(axiosError.response?.headers ?? {}) },
    };
  }
  throw new Error('expected the SDK call to fail');
}

const text = (value: string) => JSON.stringify({ text: value });

function streamingCard(initial = '...') {
  return {
    schema: '2.0',
    config: { streaming_mode: true, summary: { content: '[Generating...]' } },
    header: { title: { tag: 'plain_text', content: 'Answer' } },
    body: { elements: [{ tag: 'markdown', element_id: 'answer', content: initial }] },
  };
}

describe('fake Feishu with the real lark SDK client', () => {
  let fake: FakeFeishu;
  let client: FeishuClient;

  beforeEach(async () => {
    fake = await startFakeFeishu();
    client = createFeishuClient({ appId: fake.appId, appSecret: fake.appSecret, domain: fake.url });
  });
  afterEach(async () => {
    await fake.close();
  });

  it('looks like a real app: cli_ + 16 hex app id, loopback URL', () => {
    expect(fake.appId).toMatch(/^cli_[0-9a-f]{16}$/);
    expect(fake.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(fake.botOpenId).toMatch(/^ou_/);
  });

  it('issues a tenant token once and the SDK caches it across calls', async () => {
    await client.im.v1.message.create({
      params: { receive_id_type: 'chat_id' },
      data: { receive_id: 'oc_a', msg_type: 'text', content: text('one') },
    });
    await client.im.v1.message.create({
      params: { receive_id_type: 'chat_id' },
      data: { receive_id: 'oc_a', msg_type: 'text', content: text('two') },
    });
    expect(fake.callsTo('auth.tenantAccessToken')).toHaveLength(1);
    const [tokenCall] = fake.callsTo('auth.tenantAccessToken');
    expect(tokenCall?.body).toEqual({ app_id: fake.appId, app_secret: fake.appSecret });
    const sends = fake.callsTo('im.message.create');
    expect(sends.map((call) => call.headers.authorization)).toEqual([
      `Bearer ${fake.issuedTokens()[0]}`,
      `Bearer ${fake.issuedTokens()[0]}`,
    ]);
  });

  it('re-fetches the token once the SDK considers it expired', async () => {
    const shortLived = await startFakeFeishu({ tokenExpireSeconds: 180 });
    try {
      // The SDK caches for expire − 180 s, so a 180 s token is stale at once.
      const shortClient = createFeishuClient({
        appId: shortLived.appId,
        appSecret: shortLived.appSecret,
        domain: shortLived.url,
      });
      for (const value of ['a', 'b']) {
        await shortClient.im.v1.message.create({
          params: { receive_id_type: 'chat_id' },
          data: { receive_id: 'oc_a', msg_type: 'text', content: text(value) },
        });
      }
      expect(shortLived.callsTo('auth.tenantAccessToken')).toHaveLength(2);
      expect(new Set(shortLived.issuedTokens()).size).toBe(2);
    } finally {
      await shortLived.close();
    }
  });

  it('rejects a wrong app secret at the token endpoint', async () => {
    const wrong = createFeishuClient({ appId: fake.appId, appSecret: 'nope', domain: fake.url });
    const failure = await sdkFailure(wrong.request({ url: '/open-apis/bot/v3/info', method: 'GET' }));
    expect(failure.code).toBe(FEISHU_CODES.appSecretInvalid);
  });

  it('answers 99991663 for invalidated and server-side expired tokens', async () => {
    await client.request({ url: '/open-apis/bot/v3/info', method: 'GET' });
    fake.invalidateTokens();
    const failure = await sdkFailure(client.request({ url: '/open-apis/bot/v3/info', method: 'GET' }));
    expect(failure).toMatchObject({ status: 400, code: FEISHU_CODES.invalidAccessToken });

    // Server-side expiry: the SDK still trusts its cached token, the fake no longer does.
    const other = await startFakeFeishu({ tokenExpireSeconds: 3600 });
    try {
      const otherClient = createFeishuClient({ appId: other.appId, appSecret: other.appSecret, domain: other.url });
      await otherClient.request({ url: '/open-apis/bot/v3/info', method: 'GET' });
      other.advanceClock(3601 * 1000);
      const expired = await sdkFailure(otherClient.request({ url: '/open-apis/bot/v3/info', method: 'GET' }));
      expect(expired.code).toBe(FEISHU_CODES.invalidAccessToken);
    } finally {
      await other.close();
    }
  });

  it('after invalidateTokens, evicting the SDK cached token makes the next call fetch a working one', async () => {
    await client.request({ url: '/open-apis/bot/v3/info', method: 'GET' });
    fake.invalidateTokens();
    // What the app does on 99991663: overwrite the SDK cache entry with an expired one.
    await client.tokenManager.cache.set(lark.CTenantAccessToken, '', 1, { namespace: fake.appId });
    const info = (await client.request({ url: '/open-apis/bot/v3/info', method: 'GET' })) as { code: number };
    expect(info.code).toBe(0);
    expect(fake.issuedTokens()).toHaveLength(2);
  });

  it('answers 99991661 without an Authorization header', async () => {
    const response = await fetch(`${fake.url}/open-apis/bot/v3/info`);
    expect(response.status).toBe(400);
    expect(await response.json()).toMatchObject({ code: FEISHU_CODES.missingAccessToken });
  });

  it('serves bot info with bot at the top level, through client.request', async () => {
    const info = (await client.request({ url: '/open-apis/bot/v3/info', method: 'GET' })) as {
      code: number;
      bot: { open_id: string; app_name: string; activate_status: number };
    };
    expect(info.code).toBe(0);
    expect(info.bot).toMatchObject({ open_id: fake.botOpenId, app_name: fake.botName, activate_status: 2 });
  });

  it('creates messages in group and p2p chats and shows what the user sees', async () => {
    const group = await client.im.v1.message.create({
      params: { receive_id_type: 'chat_id' },
      data: { receive_id: 'oc_group', msg_type: 'text', content: text('hello <at user_id="ou_1">Ann</at>') },
    });
    expect(group.code).toBe(0);
    const groupId = group.data?.message_id ?? '';
    expect(groupId).toMatch(/^om_[0-9a-f]+$/);
    expect(group.data?.sender).toMatchObject({ id: fake.appId, id_type: 'app_id', sender_type: 'app' });
    expect(fake.visibleText(groupId)).toBe('hello @Ann');

    const direct = await client.im.v1.message.create({
      params: { receive_id_type: 'open_id' },
      data: {
        receive_id: 'ou_user',
        msg_type: 'post',
        content: JSON.stringify({
          zh_cn: {
            title: 'T',
            content: [
              [
                { tag: 'text', text: 'line ' },
                { tag: 'a', text: 'link', href: 'https://x' },
              ],
            ],
          },
        }),
      },
    });
    const directMessage = fake.message(direct.data?.message_id ?? '');
    expect(directMessage).toMatchObject({ chatType: 'p2p', chatId: fake.p2pChatIdFor('ou_user'), fromBot: true });
    expect(fake.visibleText(directMessage?.messageId ?? '')).toBe('T\nline link');
  });

  it('makes create and reply idempotent by uuid: one message per uuid', async () => {
    const user = fake.seedMessage({ chatId: 'oc_g', text: 'question', senderOpenId: 'ou_u' });
    const first = await client.im.v1.message.reply({
      path: { message_id: user.messageId },
      data: { msg_type: 'text', content: text('answer'), uuid: 'reply-1' },
    });
    const second = await client.im.v1.message.reply({
      path: { message_id: user.messageId },
      data: { msg_type: 'text', content: text('answer'), uuid: 'reply-1' },
    });
    expect(second.data?.message_id).toBe(first.data?.message_id);
    expect(fake.repliesTo(user.messageId)).toHaveLength(1);

    const created = await Promise.all(
      [1, 2, 3].map(() =>
        client.im.v1.message.create({
          params: { receive_id_type: 'chat_id' },
          data: { receive_id: 'oc_g', msg_type: 'text', content: text('once'), uuid: 'create-1' },
        }),
      ),
    );
    expect(new Set(created.map((result) => result.data?.message_id)).size).toBe(1);
    expect(fake.messages({ chatId: 'oc_g', fromBot: true })).toHaveLength(2);

    // The uuid window ends after an hour.
    fake.advanceClock(60 * 60 * 1000 + 1);
    const later = await client.im.v1.message.reply({
      path: { message_id: user.messageId },
      data: { msg_type: 'text', content: text('answer'), uuid: 'reply-1' },
    });
    expect(later.data?.message_id).not.toBe(first.data?.message_id);
  });

  it('replies in a thread: root, parent and thread ids like Feishu', async () => {
    const root = fake.seedMessage({ chatId: 'oc_g', text: 'root' });
    const reply = await client.im.v1.message.reply({
      path: { message_id: root.messageId },
      data: { msg_type: 'text', content: text('in thread'), reply_in_thread: true },
    });
    const threadId = reply.data?.thread_id ?? '';
    expect(threadId).toMatch(/^omt_/);
    expect(reply.data).toMatchObject({ root_id: root.messageId, parent_id: root.messageId });
    expect(fake.message(root.messageId)?.threadId).toBe(threadId);

    // A later plain reply to a message inside the thread stays in the thread.
    const inside = await client.im.v1.message.reply({
      path: { message_id: reply.data?.message_id ?? '' },
      data: { msg_type: 'text', content: text('still in thread') },
    });
    expect(inside.data).toMatchObject({ thread_id: threadId, root_id: root.messageId });

    const unknown = await sdkFailure(
      client.im.v1.message.reply({
        path: { message_id: 'om_missing' },
        data: { msg_type: 'text', content: text('x') },
      }),
    );
    expect(unknown.code).toBe(FEISHU_CODES.imInvalidParameter);
  });

  it('lists chat and thread history with real pagination', async () => {
    const base = Date.UTC(2026, 0, 1);
    for (let index = 0; index < 7; index++) {
      fake.seedMessage({ chatId: 'oc_hist', text: `m${index}`, createTime: base + index * 1000, senderOpenId: 'ou_a' });
    }
    const threadRoot = fake.seedMessage({
      chatId: 'oc_hist',
      text: 'topic',
      createTime: base + 10_000,
      threadId: 'omt_t1',
    });
    fake.seedMessage({ chatId: 'oc_hist', text: 't-reply-1', createTime: base + 11_000, threadId: 'omt_t1' });
    fake.seedMessage({ chatId: 'oc_hist', text: 't-reply-2', createTime: base + 12_000, threadId: 'omt_t1' });

    const seen: string[] = [];
    let pageToken: string | undefined;
    let pages = 0;
    do {
      const page = await client.im.v1.message.list({
        params: {
          container_id_type: 'chat',
          container_id: 'oc_hist',
          page_size: 3,
          sort_type: 'ByCreateTimeAsc',
          page_token: pageToken,
        },
      });
      pages++;
      for (const item of page.data?.items ?? []) seen.push(JSON.parse(item.body?.content ?? '{}').text);
      pageToken = page.data?.has_more ? page.data.page_token : undefined;
    } while (pageToken);
    // Thread replies stay in the thread; the chat stream shows the topic root only.
    expect(seen).toEqual(['m0', 'm1', 'm2', 'm3', 'm4', 'm5', 'm6', 'topic']);
    expect(pages).toBe(3);

    const thread = await client.im.v1.message.list({
      params: { container_id_type: 'thread', container_id: 'omt_t1', sort_type: 'ByCreateTimeDesc' },
    });
    expect(thread.data?.items?.map((item) => JSON.parse(item.body?.content ?? '{}').text)).toEqual([
      't-reply-2',
      't-reply-1',
      'topic',
    ]);
    expect(thread.data?.items?.[0]).toMatchObject({ root_id: threadRoot.messageId, thread_id: 'omt_t1' });

    const tooBig = await sdkFailure(
      client.im.v1.message.list({ params: { container_id_type: 'chat', container_id: 'oc_hist', page_size: 51 } }),
    );
    expect(tooBig.code).toBe(FEISHU_CODES.imInvalidParameter);
  });

  it('adds, lists and removes reactions', async () => {
    const message = fake.seedMessage({ chatId: 'oc_g', text: 'hi' });
    const added = await client.im.v1.messageReaction.create({
      path: { message_id: message.messageId },
      data: { reaction_type: { emoji_type: 'Typing' } },
    });
    const reactionId = added.data?.reaction_id ?? '';
    expect(fake.reactions(message.messageId).map((reaction) => reaction.emojiType)).toEqual(['Typing']);
    await client.im.v1.messageReaction.delete({ path: { message_id: message.messageId, reaction_id: reactionId } });
    expect(fake.reactions(message.messageId)).toEqual([]);
  });

  it('enforces content limits: text 150 KB, card 30 KB (230025)', async () => {
    const bigText = await sdkFailure(
      client.im.v1.message.create({
        params: { receive_id_type: 'chat_id' },
        data: { receive_id: 'oc_g', msg_type: 'text', content: text('x'.repeat(151 * 1024)) },
      }),
    );
    expect(bigText.code).toBe(FEISHU_CODES.messageTooLong);
    const card = { schema: '2.0', body: { elements: [{ tag: 'markdown', content: 'y'.repeat(31 * 1024) }] } };
    const bigCard = await sdkFailure(
      client.im.v1.message.create({
        params: { receive_id_type: 'chat_id' },
        data: { receive_id: 'oc_g', msg_type: 'interactive', content: JSON.stringify(card) },
      }),
    );
    expect(bigCard.code).toBe(FEISHU_CODES.messageTooLong);
    // 100 KB of text is fine.
    const fine = await client.im.v1.message.create({
      params: { receive_id_type: 'chat_id' },
      data: { receive_id: 'oc_g', msg_type: 'text', content: text('z'.repeat(100 * 1024)) },
    });
    expect(fine.code).toBe(0);
  });

  it('patches inline cards and edits text; visibleText follows', async () => {
    const sent = await client.im.v1.message.create({
      params: { receive_id_type: 'chat_id' },
      data: {
        receive_id: 'oc_g',
        msg_type: 'interactive',
        content: JSON.stringify({ schema: '2.0', body: { elements: [{ tag: 'markdown', content: 'thinking' }] } }),
      },
    });
    const messageId = sent.data?.message_id ?? '';
    expect(fake.visibleText(messageId)).toBe('thinking');
    await client.im.v1.message.patch({
      path: { message_id: messageId },
      data: { content: JSON.stringify({ schema: '2.0', body: { elements: [{ tag: 'markdown', content: 'done' }] } }) },
    });
    expect(fake.visibleText(messageId)).toBe('done');
    expect(fake.message(messageId)?.updated).toBe(true);

    const plain = await client.im.v1.message.create({
      params: { receive_id_type: 'chat_id' },
      data: { receive_id: 'oc_g', msg_type: 'text', content: text('draft') },
    });
    const notACard = await sdkFailure(
      client.im.v1.message.patch({ path: { message_id: plain.data?.message_id ?? '' }, data: { content: text('x') } }),
    );
    expect(notACard.code).toBe(FEISHU_CODES.imInvalidParameter);
    await client.im.v1.message.update({
      path: { message_id: plain.data?.message_id ?? '' },
      data: { msg_type: 'text', content: text('final') },
    });
    expect(fake.visibleText(plain.data?.message_id ?? '')).toBe('final');
  });

  it('streams a CardKit card: ordered sequence, 300317 on replays, settings close streaming', async () => {
    const user = fake.seedMessage({ chatId: 'oc_g', text: 'explain' });
    const created = await client.cardkit.v1.card.create({
      data: { type: 'card_json', data: JSON.stringify(streamingCard()) },
    });
    const cardId = created.data?.card_id ?? '';
    expect(cardId).toMatch(/^\d{19}$/);
    const reply = await client.im.v1.message.reply({
      path: { message_id: user.messageId },
      data: { msg_type: 'interactive', content: JSON.stringify({ type: 'card', data: { card_id: cardId } }) },
    });
    const messageId = reply.data?.message_id ?? '';
    expect(fake.cardForMessage(messageId)?.cardId).toBe(cardId);

    const stream = (content: string, sequence: number) =>
      client.cardkit.v1.cardElement.content({
        path: { card_id: cardId, element_id: 'answer' },
        data: { content, sequence },
      });
    await stream('Hel', 1);
    await stream('Hello wor', 2);
    expect(fake.visibleText(messageId)).toBe('Answer\nHello wor');

    const equal = await sdkFailure(stream('stale', 2));
    expect(equal).toMatchObject({ status: 400, code: FEISHU_CODES.sequenceNotIncreasing });
    const lower = await sdkFailure(stream('older', 1));
    expect(lower.code).toBe(FEISHU_CODES.sequenceNotIncreasing);
    await stream('Hello world', 5);

    const missingElement = await sdkFailure(
      client.cardkit.v1.cardElement.content({
        path: { card_id: cardId, element_id: 'nope' },
        data: { content: 'x', sequence: 6 },
      }),
    );
    expect(missingElement.code).toBe(FEISHU_CODES.invalidParameter);

    await client.cardkit.v1.card.settings({
      path: { card_id: cardId },
      data: {
        settings: JSON.stringify({ config: { streaming_mode: false, summary: { content: 'Hello world' } } }),
        sequence: 7,
      },
    });
    const closed = await sdkFailure(stream('after close', 8));
    expect(closed.code).toBe(FEISHU_CODES.streamingClosed);

    const state = fake.cardState(cardId);
    expect(state).toMatchObject({
      streaming: false,
      streamingClosedBy: 'settings',
      sequence: 7,
      sequenceHistory: [1, 2, 5, 7],
      rejectedSequences: [2, 1],
      messageId,
    });
    expect(state?.elements.answer).toMatchObject({
      tag: 'markdown',
      content: 'Hello world',
      contentHistory: ['Hel', 'Hello wor', 'Hello world'],
    });
    expect(fake.visibleText(messageId)).toBe('Answer\nHello world');
    // A card entity can be sent only once.
    const again = await sdkFailure(
      client.im.v1.message.create({
        params: { receive_id_type: 'chat_id' },
        data: {
          receive_id: 'oc_g',
          msg_type: 'interactive',
          content: JSON.stringify({ type: 'card', data: { card_id: cardId } }),
        },
      }),
    );
    expect(again.code).toBe(FEISHU_CODES.cardContentFailed);
  });

  it('treats a repeated CardKit uuid as a replay, and times streaming out', async () => {
    const created = await client.cardkit.v1.card.create({
      data: { type: 'card_json', data: JSON.stringify(streamingCard()) },
    });
    const cardId = created.data?.card_id ?? '';
    await client.cardkit.v1.cardElement.content({
      path: { card_id: cardId, element_id: 'answer' },
      data: { content: 'first', sequence: 1, uuid: 'c_1' },
    });
    const replay = await client.cardkit.v1.cardElement.content({
      path: { card_id: cardId, element_id: 'answer' },
      data: { content: 'first', sequence: 1, uuid: 'c_1' },
    });
    expect(replay.code).toBe(0);
    expect(fake.cardState(cardId)?.sequenceHistory).toEqual([1]);

    fake.advanceClock(10 * 60 * 1000);
    expect(fake.cardState(cardId)).toMatchObject({ streaming: false, streamingClosedBy: 'timeout' });
    const late = await sdkFailure(
      client.cardkit.v1.cardElement.content({
        path: { card_id: cardId, element_id: 'answer' },
        data: { content: 'late', sequence: 2 },
      }),
    );
    expect(late.code).toBe(FEISHU_CODES.streamingTimeout);
  });

  it('limits each card to 10 updates per second and records violations', async () => {
    let clockMs = Date.UTC(2026, 0, 1);
    const limited = await startFakeFeishu({ clock: () => clockMs });
    try {
      const limitedClient = createFeishuClient({
        appId: limited.appId,
        appSecret: limited.appSecret,
        domain: limited.url,
      });
      const created = await limitedClient.cardkit.v1.card.create({
        data: { type: 'card_json', data: JSON.stringify(streamingCard()) },
      });
      const cardId = created.data?.card_id ?? '';
      const update = (sequence: number) =>
        limitedClient.cardkit.v1.cardElement.content({
          path: { card_id: cardId, element_id: 'answer' },
          data: { content: `v${sequence}`, sequence },
        });
      // The clock stands still: ten updates fit in the second, the eleventh does not.
      for (let sequence = 1; sequence <= 10; sequence++) expect((await update(sequence)).code).toBe(0);
      const eleventh = await sdkFailure(update(11));
      expect(eleventh).toMatchObject({ status: 429, code: FEISHU_CODES.messageRateLimited });
      expect(eleventh.headers['x-ogw-ratelimit-reset']).toBe('1');
      expect(limited.rateLimitViolations()).toEqual([{ cardId, api: 'cardkit.cardElement.content', at: clockMs }]);
      // The rejected call did not consume its sequence; a second later it goes through.
      clockMs += 1000;
      expect((await update(11)).code).toBe(0);
      expect(limited.cardState(cardId)?.sequence).toBe(11);
    } finally {
      await limited.close();
    }
  });

  it('can record rate-limit violations without rejecting', async () => {
    const clockMs = Date.UTC(2026, 0, 1);
    const lenient = await startFakeFeishu({
      clock: () => clockMs,
      cardUpdateRateLimit: { perSecond: 2, reject: false },
    });
    try {
      const lenientClient = createFeishuClient({
        appId: lenient.appId,
        appSecret: lenient.appSecret,
        domain: lenient.url,
      });
      const created = await lenientClient.cardkit.v1.card.create({
        data: { type: 'card_json', data: JSON.stringify(streamingCard()) },
      });
      const cardId = created.data?.card_id ?? '';
      for (let sequence = 1; sequence <= 4; sequence++) {
        const result = await lenientClient.cardkit.v1.cardElement.content({
          path: { card_id: cardId, element_id: 'answer' },
          data: { content: `v${sequence}`, sequence },
        });
        expect(result.code).toBe(0);
      }
      expect(lenient.rateLimitViolations()).toHaveLength(2);
    } finally {
      await lenient.close();
    }
  });

  it('injects 429 with x-ogw-ratelimit-reset, 230020, 5xx, dropped connections and latency', async () => {
    const send = () =>
      client.im.v1.message.create({
        params: { receive_id_type: 'chat_id' },
        data: { receive_id: 'oc_g', msg_type: 'text', content: text('x') },
      });
    const limited = fake.inject({ api: 'im.message.create', status: 429, headers: { 'x-ogw-ratelimit-reset': '2' } });
    const rateLimited = await sdkFailure(send());
    expect(rateLimited).toMatchObject({ status: 429, code: FEISHU_CODES.appRateLimited });
    expect(rateLimited.headers['x-ogw-ratelimit-reset']).toBe('2');
    expect(limited.remaining).toBe(0);

    fake.inject({ api: 'im.message.create', code: FEISHU_CODES.messageRateLimited });
    expect((await sdkFailure(send())).code).toBe(FEISHU_CODES.messageRateLimited);

    fake.inject({ api: '*', status: 503, times: 2 });
    expect((await sdkFailure(send())).status).toBe(503);
    expect((await sdkFailure(client.request({ url: '/open-apis/bot/v3/info', method: 'GET' }))).status).toBe(503);

    fake.inject({ api: 'im.message.create', dropConnection: true });
    await expect(send()).rejects.toThrow();

    fake.inject({ api: 'im.message.create', latencyMs: 150 });
    const started = performance.now();
    const slow = await send();
    expect(slow.code).toBe(0);
    expect(performance.now() - started).toBeGreaterThanOrEqual(140);

    const injected = fake.calls.filter((call) => call.injected).map((call) => call.api);
    expect(injected).toEqual([
      'im.message.create',
      'im.message.create',
      'im.message.create',
      'bot.info',
      'im.message.create',
    ]);
    expect((await send()).code).toBe(0);
  });

  it('optionally limits sends to 5 per second per chat (230020)', async () => {
    const clockMs = Date.UTC(2026, 0, 1);
    const strict = await startFakeFeishu({ clock: () => clockMs, chatSendRateLimit: { perSecond: 5 } });
    try {
      const strictClient = createFeishuClient({
        ...{ appId: strict.appId, appSecret: strict.appSecret },
        domain: strict.url,
      });
      const send = (chatId: string) =>
        strictClient.im.v1.message.create({
          params: { receive_id_type: 'chat_id' },
          data: { receive_id: chatId, msg_type: 'text', content: text('x') },
        });
      for (let index = 0; index < 5; index++) expect((await send('oc_busy')).code).toBe(0);
      expect((await sdkFailure(send('oc_busy'))).code).toBe(FEISHU_CODES.messageRateLimited);
      // Another chat has its own budget.
      expect((await send('oc_quiet')).code).toBe(0);
      expect(strict.rateLimitViolations()).toEqual([{ chatId: 'oc_busy', api: 'im.message.create', at: clockMs }]);
      expect(strict.messages({ chatId: 'oc_busy' })).toHaveLength(5);
    } finally {
      await strict.close();
    }
  });

  it('exposes env vars that point the app at the fake', () => {
    expect(fake.env()).toEqual({
      FEISHU_APP_ID: fake.appId,
      FEISHU_APP_SECRET: fake.appSecret,
      FEISHU_DOMAIN: fake.url,
    });
  });

  it('waitFor resolves when a matching message arrives', async () => {
    const pending = fake.waitFor(() => fake.messages({ chatId: 'oc_wait' })[0], { timeoutMs: 2000 });
    await client.im.v1.message.create({
      params: { receive_id_type: 'chat_id' },
      data: { receive_id: 'oc_wait', msg_type: 'text', content: text('arrived') },
    });
    const message = await pending;
    expect(fake.visibleText(message.messageId)).toBe('arrived');
    await expect(fake.waitFor(() => false, { timeoutMs: 50, description: 'nothing' })).rejects.toThrow(/nothing/);
  });
});

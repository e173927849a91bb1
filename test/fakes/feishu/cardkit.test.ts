import { describe, expect, it } from 'vitest';
import { createFeishuClient } from '../../../lib/feishu/feishu-client.js';
import { silentLogger } from '../../../lib/log.js';
import { FEISHU_CODES, startFakeFeishu } from '../fake-feishu.js';
import { sdkFailure, streamingCard, useFakeFeishuPerTest } from './sdk-harness.js';

describe('fake Feishu CardKit with the real lark SDK client', () => {
  const feishu = useFakeFeishuPerTest();

  it('streams a CardKit card: ordered sequence, 300317 on replays, settings close streaming', async () => {
    const { fake, client } = feishu();
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

  it('refuses a card holding more tables than Feishu renders (11310), on create and on a streamed write', async () => {
    const { client } = feishu();
    const table = (index: number) => `| a${index} | b |\n|---|---|\n| 1 | 2 |`;
    const tables = (count: number) => Array.from({ length: count }, (_, index) => table(index)).join('\n\n');
    const tooMany = await sdkFailure(
      client.cardkit.v1.card.create({ data: { type: 'card_json', data: JSON.stringify(streamingCard(tables(6))) } }),
    );
    expect(tooMany).toMatchObject({ status: 400, code: FEISHU_CODES.tooManyTables });
    // Tables inside a code block are text, not tables.
    const fenced = `${tables(5)}\n\n\`\`\`\n${table(9)}\n\`\`\``;
    const created = await client.cardkit.v1.card.create({
      data: { type: 'card_json', data: JSON.stringify(streamingCard(fenced)) },
    });
    const cardId = created.data?.card_id ?? '';
    const write = await sdkFailure(
      client.cardkit.v1.cardElement.content({
        path: { card_id: cardId, element_id: 'answer' },
        data: { content: tables(6), sequence: 1 },
      }),
    );
    expect(write.code).toBe(FEISHU_CODES.tooManyTables);
  });

  it('treats a repeated CardKit uuid as a replay, and times streaming out', async () => {
    const { fake, client } = feishu();
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
        log: silentLogger(),
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
        log: silentLogger(),
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
});

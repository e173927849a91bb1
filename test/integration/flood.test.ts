/**
 * One chat floods the running service (real message handler, real AI SDK against the fake
 * OpenAI, real CardKit cards against the fake Feishu): what it can make the bot store and send
 * is bounded, and another chat is still answered, not put onto "busy" notices.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { buildMessageEvent, postEvent } from '../fakes/event-sender.js';
import { useE2eService } from '../support/e2e-service.js';
import { parsePrometheusText, sampleValue } from '../support/prometheus-text.js';

/** Per-minute limits of this test; the flood cap at the door is four times them. */
const LIMIT = 2;
const FLOOD_CAP = 4 * LIMIT;

describe('a flooding chat against the running service', () => {
  const service = useE2eService({
    env: { USER_MESSAGES_PER_MINUTE: String(LIMIT), CHAT_MESSAGES_PER_MINUTE: String(LIMIT) },
  });

  beforeAll(() => {
    service.openai.setDefaultResponder((request) => ({ text: `echo: ${request.lastUserText}` }));
  });

  const botReplies = (messageIds: readonly string[]) =>
    messageIds.flatMap((messageId) => service.feishu.repliesTo(messageId, { fromBot: true }));

  it('stores at most the flood cap, answers within the limits once, and still answers another chat', async () => {
    // The caps count in fixed minutes: start well inside one.
    const intoMinute = Date.now() % 60_000;
    if (intoMinute > 30_000) await new Promise((resolve) => setTimeout(resolve, 60_000 - intoMinute + 200));

    const flood = Array.from({ length: FLOOD_CAP + 12 }, (_, index) =>
      buildMessageEvent({
        fake: service.feishu,
        chatType: 'p2p',
        text: `flood ${index}`,
        token: service.token,
        senderOpenId: 'ou_flooder',
      }),
    );
    const statuses: number[] = [];
    for (const event of flood)
      statuses.push((await postEvent(service.webhookUrl, event, { encryptKey: service.encryptKey })).status);
    // Every one is acknowledged: Feishu must not deliver the flood again.
    expect(statuses).toEqual(flood.map(() => 200));

    const floodIds = flood.map((event) => event.event.message.message_id);
    const stored = await Promise.all(floodIds.map((id) => service.bot.store.getJob(`message:${id}`)));
    expect(stored.filter((job) => job !== null)).toHaveLength(FLOOD_CAP);

    // Another person in another chat is answered, not told the bot is busy.
    const calm = buildMessageEvent({
      fake: service.feishu,
      chatType: 'p2p',
      text: 'a calm question',
      token: service.token,
      senderOpenId: 'ou_calm',
    });
    expect((await postEvent(service.webhookUrl, calm, { encryptKey: service.encryptKey })).status).toBe(200);
    await service.feishu.waitFor(() => botReplies([calm.event.message.message_id]).length > 0, {
      timeoutMs: 30_000,
      description: 'an answer to the calm chat',
    });
    const calmReply = botReplies([calm.event.message.message_id])[0];
    await service.feishu.waitFor(
      () => service.feishu.visibleText(calmReply?.messageId ?? '').includes('echo: a calm question'),
      {
        timeoutMs: 30_000,
        description: 'the echo in the calm chat',
      },
    );

    // The flooding chat: its LIMIT answers and one rate-limit reply, nothing for the rest.
    await service.feishu.waitFor(() => botReplies(floodIds).length >= LIMIT + 1, {
      timeoutMs: 30_000,
      description: 'the flooding chat answered within its limit',
    });
    await new Promise((resolve) => setTimeout(resolve, 1_000));
    const replies = botReplies(floodIds);
    expect(replies).toHaveLength(LIMIT + 1);
    expect(replies.map((reply) => service.feishu.visibleText(reply.messageId)).join('\n')).toMatch(
      /faster than I can answer/,
    );

    const metrics = parsePrometheusText(await (await fetch(`${service.base}/metrics`)).text());
    expect(sampleValue(metrics, 'feishu_bot_events_dropped_total', { source: 'webhook', reason: 'flood' })).toBe(12);
  }, 120_000);
});

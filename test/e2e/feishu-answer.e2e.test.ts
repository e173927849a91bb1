import { beforeEach, describe, expect, it } from 'vitest';
import { buildMessageEvent, postEvent } from '../fakes/event-sender.js';
import { waitForClosedAnswer } from '../support/ask-in-chat.js';
import { useE2eService } from '../support/e2e-service.js';

/**
 * The whole path of one message, every part real: a signed, encrypted webhook event → inbox →
 * dispatcher → conversation → manager agent on the real AI SDK provider (fake OpenAI over HTTP)
 * → CardKit streaming card through the real lark SDK (fake Feishu over HTTP).
 */

const UPDATES_PER_SECOND = 4;
const GROUP_CHAT = 'oc_e2e_group';
const THREAD = 'omt_e2e_thread';

const ANSWER = [
  '# Deploy checklist',
  '',
  'Here is what to check before a release:',
  '',
  '1. Run `npm test` on a clean clone.',
  '2. Read `/health` after the rollout.',
  '',
  '```ts',
  'const ready = await fetch("/health/ready");',
  '```',
  '',
  '| step | owner |',
  '|---|---|',
  '| build | CI |',
  '| rollout | on-call |',
  '',
  '发布前请确认监控正常。',
].join('\n');

describe('a mention in a group thread, end to end', () => {
  const service = useE2eService({
    env: {
      FALLBACK_MODELS: 'gpt-test-fallback',
      CARD_UPDATES_PER_SECOND: String(UPDATES_PER_SECOND),
      MODEL_FIRST_TOKEN_TIMEOUT_MS: '2000',
      MODEL_MAX_RETRY_DELAY_MS: '200',
    },
  });

  beforeEach(() => service.reset());

  async function mention(text: string, options: { threadId?: string } = {}) {
    const root = service.feishu.seedMessage({
      chatId: GROUP_CHAT,
      threadId: options.threadId ?? THREAD,
      text: 'thread root',
    });
    const event = buildMessageEvent({
      fake: service.feishu,
      chatType: 'group',
      chatId: GROUP_CHAT,
      mentionBot: true,
      text,
      rootId: root.messageId,
      threadId: options.threadId ?? THREAD,
      token: service.token,
    });
    const response = await postEvent(service.webhookUrl, event, { encryptKey: service.encryptKey });
    expect(response.status).toBe(200);
    return event.event.message.message_id;
  }

  async function closedCardReply(messageId: string) {
    await waitForClosedAnswer({ ...service, messageId });
    const replies = service.feishu.repliesTo(messageId, { fromBot: true });
    const card = service.feishu.cardForMessage(replies[0]!.messageId)!;
    return { replies, card };
  }

  it('streams one card into the thread whose final text is the model output, in order and throttled', async () => {
    service.openai.script('gpt-test', {
      text: ANSWER,
      chunkSize: 6,
      chunkDelayMs: 15,
      usage: { prompt_tokens: 42, completion_tokens: 64 },
    });
    const messageId = await mention('what do I check before a release?');
    const { replies, card } = await closedCardReply(messageId);

    expect(replies).toHaveLength(1);
    expect(replies[0]!.threadId).toBe(THREAD);
    expect(replies[0]!.msgType).toBe('interactive');
    expect(card.streamingClosedBy).toBe('settings');
    // This answer needs no markdown adaptation, so the card holds exactly what the model said.
    const answerElement = Object.values(card.elements).find((element) => element.content?.includes('Deploy checklist'));
    expect(answerElement?.content).toBe(ANSWER);
    expect(card.rejectedSequences).toEqual([]);
    for (let index = 1; index < card.sequenceHistory.length; index++) {
      expect(card.sequenceHistory[index]!).toBeGreaterThan(card.sequenceHistory[index - 1]!);
    }
    for (let index = UPDATES_PER_SECOND; index < card.updateTimes.length; index++) {
      expect(card.updateTimes[index]! - card.updateTimes[index - UPDATES_PER_SECOND]!).toBeGreaterThanOrEqual(1_000);
    }

    // The model saw the user's words without the bot's mention, and its answer was tracked.
    const request = service.openai.requestsFor('gpt-test')[0]!;
    expect(JSON.stringify(request.messages)).toContain('what do I check before a release?');
    const agentCall = service.events.find((event) => event.type === 'agent.call' && event.agent === 'manager');
    expect(agentCall).toMatchObject({ outcome: 'success', model: 'gpt-test', inputTokens: 42, outputTokens: 64 });
    expect(service.bot.monitor.snapshot().agents.manager?.successCount).toBeGreaterThanOrEqual(1);
  });

  it('answers a follow-up in the same thread with the earlier turns in memory', async () => {
    service.openai.script('gpt-test', { text: 'The capital of France is Paris.' });
    const first = await mention('what is the capital of France?', { threadId: 'omt_memory' });
    await closedCardReply(first);
    service.openai.script('gpt-test', { text: 'About 2.1 million people live there.' });
    const second = await mention('and how many people live there?', { threadId: 'omt_memory' });
    await closedCardReply(second);
    const followUp = service.openai.requestsFor('gpt-test').at(-1)!;
    const said = JSON.stringify(followUp.messages);
    expect(said).toContain('what is the capital of France?');
    expect(said).toContain('The capital of France is Paris.');
  });

  it('falls over to the fallback model during a 429 storm and tells the truth in the card', async () => {
    service.openai.alwaysFail('gpt-test', { status: 429, retryAfterSeconds: 1 });
    service.openai.script('gpt-test-fallback', { text: 'Answered by the fallback model.' });
    const messageId = await mention('are you there?', { threadId: 'omt_storm' });
    const { replies } = await closedCardReply(messageId);
    expect(replies).toHaveLength(1);
    expect(service.feishu.visibleText(replies[0]!.messageId)).toContain('Answered by the fallback model.');
    expect(service.events.some((event) => event.type === 'model.fallback' && event.to === 'gpt-test-fallback')).toBe(
      true,
    );
    expect(service.bot.monitor.snapshot().errors.rateLimits).toBeGreaterThanOrEqual(1);
  });

  it('ignores group chatter that does not mention the bot', async () => {
    const event = buildMessageEvent({
      fake: service.feishu,
      chatType: 'group',
      chatId: GROUP_CHAT,
      text: 'lunch?',
      token: service.token,
    });
    expect((await postEvent(service.webhookUrl, event, { encryptKey: service.encryptKey })).status).toBe(200);
    await new Promise((resolve) => setTimeout(resolve, 500));
    expect(service.feishu.repliesTo(event.event.message.message_id, { fromBot: true })).toHaveLength(0);
    expect(service.openai.requests).toHaveLength(0);
    expect(service.events.some((each) => each.type === 'message.ignored')).toBe(true);
  });

  it('answers no bot and sends no notice to one: sender_type bot, app, our own open_id, a bot image in a direct chat', async () => {
    const groupMention = {
      fake: service.feishu,
      chatType: 'group',
      chatId: GROUP_CHAT,
      mentionBot: true,
      token: service.token,
    } as const;
    const fromBots = [
      // Another service.bot @mentioning ours, typed as Feishu's receive event types bots.
      buildMessageEvent({ ...groupMention, text: 'ping', senderType: 'bot', senderOpenId: 'ou_other_bot' }),
      // The same as the message APIs type it.
      buildMessageEvent({ ...groupMention, text: 'ping', senderType: 'app', senderOpenId: 'ou_other_bot' }),
      // Our own message echoed back, whatever its type says.
      buildMessageEvent({ ...groupMention, text: 'echo', senderOpenId: service.feishu.botOpenId }),
      // An image from a service.bot in a direct chat: a person would get the "text only" notice.
      buildMessageEvent({
        fake: service.feishu,
        chatType: 'p2p',
        messageType: 'image',
        content: { image_key: 'img_1' },
        token: service.token,
        senderType: 'bot',
        senderOpenId: 'ou_other_bot',
      }),
    ];
    for (const event of fromBots)
      expect((await postEvent(service.webhookUrl, event, { encryptKey: service.encryptKey })).status).toBe(200);
    // The echo becomes a job (only the conversation knows our open_id); the others are never stored.
    await service.feishu.waitFor(
      () => service.events.filter((event) => event.type === 'message.bot-skipped').length === 4,
      {
        timeoutMs: 10_000,
        description: 'four service.bot messages skipped',
      },
    );
    // A person is still answered.
    service.openai.script('gpt-test', { text: 'Hello, person.' });
    await closedCardReply(await mention('hello?', { threadId: 'omt_after_bots' }));

    for (const event of fromBots) {
      expect(service.feishu.repliesTo(event.event.message.message_id, { fromBot: true })).toHaveLength(0);
    }
    expect(service.openai.requests).toHaveLength(1);
    const skipped = service.events.filter((event) => event.type === 'message.bot-skipped').map((event) => event.sender);
    expect(skipped.sort()).toEqual(['app', 'bot', 'bot', 'self']);
    const metrics = await (await fetch(`${service.base}/metrics`)).text();
    expect(metrics).toMatch(/feishu_bot_bot_messages_skipped_total\{sender="bot"[^}]*\} 2/);
    expect(metrics).toMatch(/feishu_bot_bot_messages_skipped_total\{sender="self"[^}]*\} 1/);
  });

  it('does not read one chat for another: an event naming a victim group with a message from the attacker’s chat gets no reply, a security event and a metric', async () => {
    service.feishu.seedMessage({
      chatId: 'oc_victim',
      text: 'the secret launch date is 1 May',
      senderOpenId: 'ou_victim',
    });
    const attackerMessage = service.feishu.seedMessage({
      chatId: 'oc_attacker',
      text: 'summarise this chat',
      senderOpenId: 'ou_mallory',
    });
    // Built without the fake, so Feishu's record keeps the message where it really is.
    const forged = buildMessageEvent({
      botOpenId: service.feishu.botOpenId,
      chatType: 'group',
      chatId: 'oc_victim',
      messageId: attackerMessage.messageId,
      senderOpenId: 'ou_mallory',
      mentionBot: true,
      text: 'summarise this chat',
      token: service.token,
    });
    expect((await postEvent(service.webhookUrl, forged, { encryptKey: service.encryptKey })).status).toBe(200);
    const traceId = `message:${attackerMessage.messageId}`;
    const finished = () => service.events.find((event) => event.type === 'job.finished' && event.traceId === traceId);
    await service.feishu.waitFor(() => finished() !== undefined, {
      timeoutMs: 10_000,
      description: 'the forged job finished',
    });
    expect(service.events.find((event) => event.type === 'security.event')).toMatchObject({
      kind: 'message-origin',
      reason: 'CHAT_MISMATCH',
    });
    expect(finished()).toMatchObject({ outcome: 'done' });
    expect(service.feishu.repliesTo(attackerMessage.messageId, { fromBot: true })).toHaveLength(0);
    expect(service.feishu.messages({ chatId: 'oc_attacker', fromBot: true })).toHaveLength(0);
    expect(service.feishu.callsTo('im.message.list')).toHaveLength(0);
    expect(service.openai.requests).toHaveLength(0);
    const metrics = await (await fetch(`${service.base}/metrics`)).text();
    expect(metrics).toMatch(/feishu_bot_security_events_total\{kind="message-origin",reason="CHAT_MISMATCH"[^}]*\} 1/);
  });
});

import { beforeEach, describe, expect, it } from 'vitest';
import { buildMessageEvent, postEvent } from '../fakes/event-sender.js';
import type { CardState } from '../fakes/fake-feishu.js';
import { answerCard, buttonValue, pressCard, waitForStreamingCard } from '../support/card-press.js';
import { useE2eService } from '../support/e2e-service.js';

/**
 * The bot's own words in the person's language, as a person sees them: signed, encrypted events
 * into the running service, the answer card's buttons and notices read from the fake Feishu, a
 * Stop pressed through a real card callback. A Chinese question gets Chinese notices, buttons and
 * toasts; a direct chat whose owner set `/config language en` gets English even for Chinese.
 */

const SLOW_ANSWER = Array.from({ length: 60 }, (_, index) => `word${index}`).join(' ');
const LONG_CHINESE = '请帮我总结一下这份很长的文档'.repeat(10);

describe('the bot writes its own texts in the chat’s or the person’s language', () => {
  const service = useE2eService({
    env: { MAX_INPUT_CHARS: '100', USER_MESSAGES_PER_MINUTE: '1000', CHAT_MESSAGES_PER_MINUTE: '1000' },
  });
  let chats = 0;

  beforeEach(() => {
    service.openai.reset();
  });

  /** A direct message from the default user into `chatId`; returns its message id. */
  async function dm(chatId: string, text: string): Promise<string> {
    const event = buildMessageEvent({ fake: service.feishu, chatType: 'p2p', chatId, text, token: service.token });
    expect((await postEvent(service.webhookUrl, event, { encryptKey: service.encryptKey })).status).toBe(200);
    return event.event.message.message_id;
  }

  /** The label of the button `elementId` on the card as it is now. */
  function buttonLabel(card: CardState, elementId: string): string | undefined {
    const elements = (card.card.body as { elements?: Array<Record<string, unknown>> } | undefined)?.elements ?? [];
    const button = elements.find((element) => element.tag === 'button' && element.element_id === elementId);
    return (button?.text as { content?: string } | undefined)?.content;
  }

  /** Waits for the answer to `messageId` to stream words with its Stop button; presses Stop; waits for the close. */
  async function stopMidStream(chatId: string, messageId: string) {
    const { replyId, card } = await waitForStreamingCard(service.feishu, messageId);
    const label = buttonLabel(card, 'stop');
    const value = buttonValue(card, 'stop');
    expect(value).toBeDefined();
    const { status, toast } = await pressCard(`${service.base}/webhook/card`, {
      fake: service.feishu,
      replyId,
      value: value!,
      encryptKey: service.encryptKey,
      token: service.token,
      chatId,
    });
    expect(status).toBe(200);
    await service.feishu.waitFor(() => answerCard(service.feishu, messageId)?.card.streaming === false, {
      timeoutMs: 15_000,
      description: 'the answer card closed',
    });
    return { label, toast: toast?.content, shown: service.feishu.visibleText(replyId) };
  }

  /** The text of the bot's reply to `messageId` once there is one. */
  async function replyText(messageId: string): Promise<string> {
    await service.feishu.waitFor(() => answerCard(service.feishu, messageId)?.card.streaming === false, {
      timeoutMs: 15_000,
      description: 'the reply closed',
    });
    return service.feishu.visibleText(answerCard(service.feishu, messageId)!.replyId);
  }

  it('a Chinese question in a chat left on auto: Chinese Stop button, toast, Stopped ending and refusals', async () => {
    const chatId = `oc_language_${++chats}`;
    service.openai.script('gpt-test', { text: SLOW_ANSWER, chunkSize: 6, chunkDelayMs: 150 });
    const asked = await dm(chatId, '帮我写一段发布说明');
    const stopped = await stopMidStream(chatId, asked);
    expect(stopped.label).toBe('⏹ 停止');
    expect(stopped.toast).toBe('正在停止…');
    expect(stopped.shown).toContain('⏹ 已停止');
    expect(stopped.shown).not.toContain('Stopped');

    // A refusal before the model: in Chinese too, and the model is not asked.
    const requests = service.openai.requests.length;
    expect(await replyText(await dm(chatId, LONG_CHINESE))).toContain('消息太长了');
    expect(service.openai.requests.length).toBe(requests);

    // The same chat, an English question: English (auto follows each message).
    service.openai.script('gpt-test', { text: SLOW_ANSWER, chunkSize: 6, chunkDelayMs: 150 });
    const english = await stopMidStream(chatId, await dm(chatId, 'draft the release notes'));
    expect(english).toMatchObject({ label: '⏹ Stop', toast: 'Stopping…' });
    expect(english.shown).toContain('⏹ Stopped');
  });

  it('a model failure on a Chinese question is explained in Chinese, on an English one in English', async () => {
    const chatId = `oc_language_${++chats}`;
    service.openai.script('gpt-test', { error: { status: 401, code: 'invalid_api_key' } });
    const shown = await replyText(await dm(chatId, '今天的会议纪要在哪里？'));
    expect(shown).toContain('机器人无法登录模型服务商');
    expect(shown).not.toContain('sign in');

    service.openai.script('gpt-test', { error: { status: 401, code: 'invalid_api_key' } });
    expect(await replyText(await dm(chatId, 'where are the meeting notes?'))).toContain(
      'The bot cannot sign in to its model provider',
    );
  });

  it('a chat set to English answers a Chinese question with English buttons, toasts and refusals', async () => {
    const chatId = `oc_language_${++chats}`;
    // In a direct chat the person configures it themselves, with the command.
    const set = await dm(chatId, '/config language en');
    await service.feishu.waitFor(
      () => answerCard(service.feishu, set) !== undefined || service.feishu.repliesTo(set).length > 0,
      {
        timeoutMs: 15_000,
        description: 'the /config reply',
      },
    );
    await expect.poll(async () => (await service.bot.chats.settings.effective(chatId)).language).toBe('en');

    service.openai.script('gpt-test', { text: SLOW_ANSWER, chunkSize: 6, chunkDelayMs: 150 });
    const stopped = await stopMidStream(chatId, await dm(chatId, '帮我写一段发布说明'));
    expect(stopped).toMatchObject({ label: '⏹ Stop', toast: 'Stopping…' });
    expect(stopped.shown).toContain('⏹ Stopped');
    expect(stopped.shown).not.toContain('已停止');

    expect(await replyText(await dm(chatId, LONG_CHINESE))).toContain('Your message is too long');
  });

  it('a chat set to Chinese answers commands in Chinese, even when they are typed without Chinese', async () => {
    const chatId = `oc_language_${++chats}`;
    expect(await replyText(await dm(chatId, '/config language zh'))).toContain('已保存');
    expect(await replyText(await dm(chatId, '/help'))).toContain('如何与我对话');
    const history = await replyText(await dm(chatId, '/config history'));
    expect(history).toContain('最近的修改');
    expect(history).toContain('language = zh');
    expect(await replyText(await dm(chatId, '/reset'))).toContain('我已忘记');
    expect(await replyText(await dm(chatId, '/config colour blue'))).toContain('没有“colour”这个设置');
    // A refused change says why in Chinese too.
    expect(await replyText(await dm(chatId, '/config model gpt-nope'))).toContain(
      '没有修改：gpt-nope 不在允许的模型中（可选：gpt-test）。',
    );
  });
});

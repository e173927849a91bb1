import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { type RunningBot, startBot } from '../../lib/bot.js';
import { loadConfig } from '../../lib/config.js';
import { silentLogger } from '../../lib/log.js';
import { buildMessageEvent, postEvent } from '../fakes/event-sender.js';
import { type CardState, type FakeFeishu, startFakeFeishu } from '../fakes/fake-feishu.js';
import { type FakeOpenAI, startFakeOpenAI } from '../fakes/fake-openai.js';
import { answerCard, buttonValue, pressCard } from '../support/card-press.js';

/**
 * The bot's own words in the person's language, as a person sees them: signed, encrypted events
 * into the running service, the answer card's buttons and notices read from the fake Feishu, a
 * Stop pressed through a real card callback. A Chinese question gets Chinese notices, buttons and
 * toasts; a direct chat whose owner set `/config language en` gets English even for Chinese.
 */

const encryptKey = 'language-encrypt-key';
const token = 'language-token';
const SLOW_ANSWER = Array.from({ length: 60 }, (_, index) => `word${index}`).join(' ');
const LONG_CHINESE = '请帮我总结一下这份很长的文档'.repeat(10);

describe('the bot writes its own texts in the chat’s or the person’s language', () => {
  let feishu: FakeFeishu;
  let openai: FakeOpenAI;
  let bot: RunningBot;
  let baseUrl: string;
  let chats = 0;

  beforeAll(async () => {
    feishu = await startFakeFeishu();
    openai = await startFakeOpenAI();
    const config = loadConfig({
      NODE_ENV: 'test',
      PORT: '0',
      HOST: '127.0.0.1',
      LOG_LEVEL: 'silent',
      ...feishu.env(),
      FEISHU_ENCRYPT_KEY: encryptKey,
      FEISHU_VERIFICATION_TOKEN: token,
      OPENAI_BASE_URL: openai.baseURL,
      OPENAI_API_KEY: openai.apiKey,
      MODEL: 'gpt-test',
      MAX_INPUT_CHARS: '100',
      USER_MESSAGES_PER_MINUTE: '1000',
      CHAT_MESSAGES_PER_MINUTE: '1000',
      STORE_URL: 'sqlite::memory:',
      ENABLE_DEVTOOLS: 'false',
    });
    bot = await startBot(config, { log: silentLogger(), dispatcher: { pollIntervalMs: 50 } });
    baseUrl = `http://127.0.0.1:${bot.port}`;
  });

  afterAll(async () => {
    await bot?.stop();
    await openai?.close();
    await feishu?.close();
  });

  beforeEach(() => {
    openai.reset();
  });

  /** A direct message from the default user into `chatId`; returns its message id. */
  async function dm(chatId: string, text: string): Promise<string> {
    const event = buildMessageEvent({ fake: feishu, chatType: 'p2p', chatId, text, token });
    expect((await postEvent(`${baseUrl}/webhook/event`, event, { encryptKey })).status).toBe(200);
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
    await feishu.waitFor(
      () => {
        const found = answerCard(feishu, messageId);
        return found?.card.streaming === true && feishu.visibleText(found.replyId).includes('word1');
      },
      { timeoutMs: 15_000, description: 'a streaming card with words' },
    );
    const { replyId, card } = answerCard(feishu, messageId)!;
    const label = buttonLabel(card, 'stop');
    const value = buttonValue(card, 'stop');
    expect(value).toBeDefined();
    const { status, toast } = await pressCard(`${baseUrl}/webhook/card`, {
      fake: feishu,
      replyId,
      value: value!,
      encryptKey,
      token,
      chatId,
    });
    expect(status).toBe(200);
    await feishu.waitFor(() => answerCard(feishu, messageId)?.card.streaming === false, {
      timeoutMs: 15_000,
      description: 'the answer card closed',
    });
    return { label, toast: toast?.content, shown: feishu.visibleText(replyId) };
  }

  /** The text of the bot's reply to `messageId` once there is one. */
  async function replyText(messageId: string): Promise<string> {
    await feishu.waitFor(() => answerCard(feishu, messageId)?.card.streaming === false, {
      timeoutMs: 15_000,
      description: 'the reply closed',
    });
    return feishu.visibleText(answerCard(feishu, messageId)!.replyId);
  }

  it('a Chinese question in a chat left on auto: Chinese Stop button, toast, Stopped ending and refusals', async () => {
    const chatId = `oc_language_${++chats}`;
    openai.script('gpt-test', { text: SLOW_ANSWER, chunkSize: 6, chunkDelayMs: 150 });
    const asked = await dm(chatId, '帮我写一段发布说明');
    const stopped = await stopMidStream(chatId, asked);
    expect(stopped.label).toBe('⏹ 停止');
    expect(stopped.toast).toBe('正在停止…');
    expect(stopped.shown).toContain('⏹ 已停止');
    expect(stopped.shown).not.toContain('Stopped');

    // A refusal before the model: in Chinese too, and the model is not asked.
    const requests = openai.requests.length;
    expect(await replyText(await dm(chatId, LONG_CHINESE))).toContain('消息太长了');
    expect(openai.requests.length).toBe(requests);

    // The same chat, an English question: English (auto follows each message).
    openai.script('gpt-test', { text: SLOW_ANSWER, chunkSize: 6, chunkDelayMs: 150 });
    const english = await stopMidStream(chatId, await dm(chatId, 'draft the release notes'));
    expect(english).toMatchObject({ label: '⏹ Stop', toast: 'Stopping…' });
    expect(english.shown).toContain('⏹ Stopped');
  });

  it('a model failure on a Chinese question is explained in Chinese, on an English one in English', async () => {
    const chatId = `oc_language_${++chats}`;
    openai.script('gpt-test', { error: { status: 401, code: 'invalid_api_key' } });
    const shown = await replyText(await dm(chatId, '今天的会议纪要在哪里？'));
    expect(shown).toContain('机器人无法登录模型服务商');
    expect(shown).not.toContain('sign in');

    openai.script('gpt-test', { error: { status: 401, code: 'invalid_api_key' } });
    expect(await replyText(await dm(chatId, 'where are the meeting notes?'))).toContain(
      'The bot cannot sign in to its model provider',
    );
  });

  it('a chat set to English answers a Chinese question with English buttons, toasts and refusals', async () => {
    const chatId = `oc_language_${++chats}`;
    // In a direct chat the person configures it themselves, with the command.
    const set = await dm(chatId, '/config language en');
    await feishu.waitFor(() => answerCard(feishu, set) !== undefined || feishu.repliesTo(set).length > 0, {
      timeoutMs: 15_000,
      description: 'the /config reply',
    });
    await expect.poll(async () => (await bot.chats.settings.effective(chatId)).language).toBe('en');

    openai.script('gpt-test', { text: SLOW_ANSWER, chunkSize: 6, chunkDelayMs: 150 });
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
  });
});

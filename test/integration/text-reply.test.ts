import { beforeEach, describe, expect, it } from 'vitest';
import {
  createTextReply,
  escapeTextMessage,
  splitForMessages,
  type TextReplyOptions,
} from '../../lib/feishu/reply/text-reply.js';
import { silentLogger } from '../../lib/log.js';
import type { BotEvent } from '../../lib/observe/bot-event.js';
import { createEventBus } from '../../lib/observe/event-bus.js';
import { useFakeFeishuChat } from '../support/fake-feishu-chat.js';

const CHAT = 'oc_text_reply_chat';

const chat = useFakeFeishuChat((fake) => fake.seedMessage({ chatId: CHAT, chatType: 'p2p', text: 'hello bot' }));
let events: BotEvent[];

beforeEach(() => {
  events = [];
});

function textReply(overrides: Partial<TextReplyOptions> = {}) {
  const bus = createEventBus();
  bus.subscribe((event) => events.push(event));
  return createTextReply({
    client: chat.client,
    bus,
    log: silentLogger(),
    traceId: 'job-t',
    target: { messageId: chat.userMessage.messageId, chatId: CHAT, replyInThread: false },
    idempotencyKey: (part) => `job-t-${part}`,
    backoff: { initialMs: 10, maxMs: 50, jitter: 0 },
    ...overrides,
  });
}

describe('text reply (real lark SDK against the fake Feishu)', () => {
  it('shows a reaction while working, then replies once with the full text and removes the reaction', async () => {
    const sink = textReply();
    await sink.start();
    expect(chat.fake.reactions(chat.userMessage.messageId).map((reaction) => reaction.emojiType)).toEqual(['Typing']);
    sink.update('partial');
    expect(chat.fake.messages({ fromBot: true })).toEqual([]);
    await sink.finish('The **full** answer.');

    const replies = chat.fake.repliesTo(chat.userMessage.messageId, { fromBot: true });
    expect(replies).toHaveLength(1);
    expect(replies[0]!.msgType).toBe('text');
    expect(chat.fake.visibleText(replies[0]!.messageId)).toBe('The **full** answer.');
    expect(chat.fake.reactions(chat.userMessage.messageId)).toEqual([]);
    expect(events.map((event) => event.type)).toEqual(
      expect.arrayContaining(['reply.started', 'reply.finished', 'feishu.api']),
    );
    expect(events.find((event) => event.type === 'reply.finished')).toMatchObject({ text: 'The **full** answer.' });
  });

  it('splits an answer over 150 KB into several messages that concatenate to it exactly', async () => {
    const line = `${'長い答え '.repeat(20)}\n`;
    const answer = line.repeat(1200);
    expect(Buffer.byteLength(answer)).toBeGreaterThan(150 * 1024);
    const sink = textReply({ reaction: false });
    await sink.start();
    await sink.finish(answer);

    const replies = chat.fake.repliesTo(chat.userMessage.messageId, { fromBot: true });
    expect(replies.length).toBeGreaterThanOrEqual(2);
    expect(replies.map((reply) => reply.uuid)).toEqual(replies.map((_, index) => `job-t-text-${index}`));
    expect(replies.map((reply) => chat.fake.visibleText(reply.messageId)).join('')).toBe(answer);
  });

  it('a resumed job sending the same answer again posts nothing new (uuid)', async () => {
    await textReply({ reaction: false }).finish('Once.');
    await textReply({ reaction: false }).finish('Once.');
    expect(chat.fake.repliesTo(chat.userMessage.messageId, { fromBot: true })).toHaveLength(1);
  });

  it('retries a rate-limited reply and posts into the chat when the question was recalled', async () => {
    chat.fake.inject({ api: 'im.message.reply', times: 2, status: 429, headers: { 'x-ogw-ratelimit-reset': '0' } });
    await textReply({ reaction: false }).finish('After the storm.');
    expect(
      chat.fake
        .repliesTo(chat.userMessage.messageId, { fromBot: true })
        .map((reply) => chat.fake.visibleText(reply.messageId)),
    ).toEqual(['After the storm.']);

    const recalled = chat.fake.seedMessage({ chatId: CHAT, text: 'never mind' });
    chat.fake.message(recalled.messageId)!.deleted = true;
    const sink = textReply({
      reaction: false,
      target: { messageId: recalled.messageId, chatId: CHAT, replyInThread: false },
      idempotencyKey: (part) => `job-r-${part}`,
    });
    await sink.finish('Still answered.');
    const inChat = chat.fake
      .messages({ chatId: CHAT, fromBot: true })
      .map((message) => chat.fake.visibleText(message.messageId));
    expect(inChat).toEqual(['After the storm.', 'Still answered.']);
  });

  it('fail() sends the partial text with the notice; post format renders markdown', async () => {
    await textReply({ format: 'post', reaction: false }).fail('Half an answer', '⚠️ The model timed out.');
    const [reply] = chat.fake.repliesTo(chat.userMessage.messageId, { fromBot: true });
    expect(reply!.msgType).toBe('post');
    expect(chat.fake.visibleText(reply!.messageId)).toBe('Half an answer\n\n⚠️ The model timed out.');
    expect(events.find((event) => event.type === 'reply.finished')).toMatchObject({
      notice: '⚠️ The model timed out.',
      text: 'Half an answer\n\n⚠️ The model timed out.',
    });
  });
});

describe('splitForMessages / escapeTextMessage', () => {
  it('cuts at line ends under the byte budget and never loses a character', () => {
    const text = Array.from({ length: 50 }, (_, index) => `line ${index} ${'x'.repeat(index)}`).join('\n');
    const encode = (piece: string) => JSON.stringify({ text: piece });
    const pieces = splitForMessages(text, 300, encode);
    expect(pieces.join('')).toBe(text);
    for (const piece of pieces) expect(Buffer.byteLength(encode(piece))).toBeLessThanOrEqual(300);
    for (const piece of pieces.slice(0, -1)) expect(piece.endsWith('\n')).toBe(true);
  });

  it('breaks <at> tags so the model cannot mention anyone', () => {
    expect(escapeTextMessage('hi <at user_id="all">all</at>')).toBe('hi <\u200bat user_id="all">all<\u200b/at>');
    expect(escapeTextMessage('a <b> c')).toBe('a <b> c');
  });
});

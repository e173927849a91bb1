import { describe, expect, it } from 'vitest';
import {
  ignoreReason,
  type NormalisedMessage,
  normaliseMessage,
  readMessageItem,
  shouldAnswer,
} from './normalise-message.js';

const BOT = 'ou_bot';

function event({
  type = 'text',
  content,
  chatType = 'group',
  mentions = [],
  senderType = 'user',
  extra = {},
}: {
  type?: string;
  content: unknown;
  chatType?: string;
  mentions?: unknown[];
  senderType?: string;
  extra?: Record<string, unknown>;
}) {
  return {
    sender: { sender_id: { open_id: 'ou_alice', user_id: 'u1' }, sender_type: senderType, tenant_key: 't' },
    message: {
      message_id: 'om_1',
      chat_id: 'oc_1',
      chat_type: chatType,
      message_type: type,
      create_time: '1700000000123',
      content: typeof content === 'string' ? content : JSON.stringify(content),
      mentions,
      ...extra,
    },
  };
}

const botMention = { key: '@_user_1', id: { open_id: BOT, union_id: 'on_b' }, name: 'Helper' };
const bobMention = { key: '@_user_2', id: { open_id: 'ou_bob' }, name: 'Bob' };

function message(result: ReturnType<typeof normaliseMessage>): NormalisedMessage {
  if (result.kind !== 'message') throw new Error(`expected a message, got ${result.reason}: ${result.detail}`);
  return result;
}

describe('normaliseMessage', () => {
  it('text: resolves mentions to @names and removes the bot’s own mention', () => {
    const result = message(
      normaliseMessage(
        event({ content: { text: '@_user_1 please ask @_user_2 about it' }, mentions: [botMention, bobMention] }),
        { botOpenId: BOT },
      ),
    );
    expect(result).toMatchObject({
      kind: 'message',
      messageId: 'om_1',
      chatId: 'oc_1',
      chatType: 'group',
      sender: { openId: 'ou_alice', type: 'user' },
      text: 'please ask @Bob about it',
      mentionsBot: true,
      createTime: 1700000000123,
      messageType: 'text',
    });
    expect(result.mentions.map((mention) => mention.openId)).toEqual([BOT, 'ou_bob']);
  });

  it('text: @_user_10 is its own key, and @_all reads as @all', () => {
    const mentions = Array.from({ length: 10 }, (_, index) => ({
      key: `@_user_${index + 1}`,
      id: { open_id: `ou_${index + 1}` },
      name: `P${index + 1}`,
    }));
    const result = message(
      normaliseMessage(event({ content: { text: '@_user_10 and @_user_1, @_all' }, mentions }), { botOpenId: BOT }),
    );
    expect(result.text).toBe('@P10 and @P1, @all');
    expect(result.mentionsBot).toBe(false);
  });

  it('post: title and lines to plain text, mentions resolved, links and images readable', () => {
    const content = {
      title: 'Weekly',
      content: [
        [
          { tag: 'at', user_id: '@_user_1', user_name: 'Helper' },
          { tag: 'text', text: ' summarise ' },
          { tag: 'a', text: 'the doc', href: 'https://example.com/d' },
        ],
        [
          { tag: 'text', text: 'cc ' },
          { tag: 'at', user_id: '@_user_2' },
          { tag: 'img', image_key: 'img_1' },
        ],
        [{ tag: 'code_block', language: 'JS', text: 'let a = 1;' }],
      ],
    };
    const result = message(
      normaliseMessage(event({ type: 'post', content, mentions: [botMention, bobMention] }), { botOpenId: BOT }),
    );
    expect(result.text).toBe('Weekly\nsummarise the doc (https://example.com/d)\ncc @Bob[image]\n\nlet a = 1;');
    expect(result.mentionsBot).toBe(true);
  });

  it('post: accepts the localised shape too', () => {
    const content = { zh_cn: { title: '', content: [[{ tag: 'text', text: '你好' }]] } };
    expect(message(normaliseMessage(event({ type: 'post', content }), { botOpenId: BOT })).text).toBe('你好');
  });

  it('keeps thread information', () => {
    const result = message(
      normaliseMessage(
        event({ content: { text: 'hi' }, extra: { root_id: 'om_root', parent_id: 'om_parent', thread_id: 'omt_1' } }),
        { botOpenId: BOT },
      ),
    );
    expect(result).toMatchObject({ rootId: 'om_root', parentId: 'om_parent', threadId: 'omt_1' });
    const plain = message(normaliseMessage(event({ content: { text: 'hi' } }), { botOpenId: BOT }));
    expect('rootId' in plain).toBe(false);
  });

  it('a mention of someone with the bot’s name but another open_id is not a call to the bot', () => {
    const impostor = { key: '@_user_1', id: { open_id: 'ou_other' }, name: 'Helper' };
    const result = message(
      normaliseMessage(event({ content: { text: '@_user_1 hi' }, mentions: [impostor] }), { botOpenId: BOT }),
    );
    expect(result.mentionsBot).toBe(false);
    expect(result.text).toBe('@Helper hi');
  });

  it('unsupported types and malformed content are typed results, not throws', () => {
    expect(
      normaliseMessage(event({ type: 'share_chat', content: { chat_id: 'oc_x' } }), { botOpenId: BOT }),
    ).toMatchObject({
      kind: 'unsupported',
      reason: 'MESSAGE_TYPE_UNSUPPORTED',
      messageType: 'share_chat',
      chatId: 'oc_1',
      messageId: 'om_1',
    });
    expect(normaliseMessage(event({ content: '{not json' }), { botOpenId: BOT })).toMatchObject({
      kind: 'unsupported',
      reason: 'MALFORMED',
    });
    expect(normaliseMessage({ nothing: true }, { botOpenId: BOT })).toMatchObject({
      kind: 'unsupported',
      reason: 'MALFORMED',
    });
    expect(normaliseMessage(null, { botOpenId: BOT })).toMatchObject({ kind: 'unsupported', reason: 'MALFORMED' });
  });
});

describe('normaliseMessage: parts in order', () => {
  it('image, file, voice and forwarded bundles become parts that name their resource', () => {
    const image = message(
      normaliseMessage(event({ type: 'image', content: { image_key: 'img_1' } }), { botOpenId: BOT }),
    );
    expect(image.parts).toEqual([{ type: 'image', messageId: 'om_1', key: 'img_1' }]);
    expect(image.text).toBe('[image]');
    const file = message(
      normaliseMessage(event({ type: 'file', content: { file_key: 'file_1', file_name: 'q3.pdf' } }), {
        botOpenId: BOT,
      }),
    );
    expect(file.parts).toEqual([{ type: 'file', messageId: 'om_1', key: 'file_1', name: 'q3.pdf' }]);
    const voice = message(
      normaliseMessage(event({ type: 'audio', content: { file_key: 'file_2', duration: 3000 } }), { botOpenId: BOT }),
    );
    expect(voice.parts).toEqual([{ type: 'audio', messageId: 'om_1', key: 'file_2', durationMs: 3000 }]);
    const bundle = message(
      normaliseMessage(event({ type: 'merge_forward', content: { content: 'Merged and Forwarded Message' } }), {
        botOpenId: BOT,
      }),
    );
    expect(bundle.parts).toEqual([{ type: 'forward', messageId: 'om_1' }]);
    const sticker = message(
      normaliseMessage(event({ type: 'sticker', content: { file_key: 'x' } }), { botOpenId: BOT }),
    );
    expect(sticker.parts).toEqual([{ type: 'unreadable', what: 'a sticker' }]);
  });

  it('post keeps links, mentions, code blocks and images in order', () => {
    const content = {
      title: 'Bug',
      content: [
        [
          { tag: 'at', user_id: '@_user_1' },
          { tag: 'text', text: ' see ' },
          { tag: 'a', text: 'the log', href: 'https://example.com/log' },
          { tag: 'text', text: ' and ask ' },
          { tag: 'at', user_id: '@_user_2' },
        ],
        [{ tag: 'img', image_key: 'img_a' }],
        [{ tag: 'code_block', language: 'PYTHON', text: 'print(1)\n' }],
        [{ tag: 'text', text: 'thanks' }],
      ],
    };
    const result = message(
      normaliseMessage(event({ type: 'post', content, mentions: [botMention, bobMention] }), { botOpenId: BOT }),
    );
    expect(result.parts).toEqual([
      { type: 'text', text: 'Bug\nsee the log (https://example.com/log) and ask @Bob' },
      { type: 'image', messageId: 'om_1', key: 'img_a' },
      { type: 'text', text: '```python\nprint(1)\n```\n\nthanks' },
    ]);
    expect(result.text).toContain('[image]');
  });

  it('a reply starts with the quoted message, to be read in the job', () => {
    const result = message(
      normaliseMessage(event({ content: { text: 'what about this?' }, extra: { parent_id: 'om_parent' } }), {
        botOpenId: BOT,
      }),
    );
    expect(result.parts).toEqual([
      { type: 'quote', messageId: 'om_parent' },
      { type: 'text', text: 'what about this?' },
    ]);
  });

  it('reads Open API items (quotes, bundle members), unknown types as a named unreadable part', () => {
    const item = {
      message_id: 'om_sub',
      msg_type: 'text',
      upper_message_id: 'om_bundle',
      create_time: '1700000000000',
      sender: { id: 'ou_bob', sender_type: 'user' },
      body: { content: JSON.stringify({ text: 'hi @_user_1' }) },
      mentions: [{ key: '@_user_1', id: 'ou_carol', name: 'Carol' }],
    };
    expect(readMessageItem(item, { botOpenId: BOT })).toMatchObject({
      messageId: 'om_sub',
      senderId: 'ou_bob',
      upperMessageId: 'om_bundle',
      text: 'hi @Carol',
      parts: [{ type: 'text', text: 'hi @Carol' }],
    });
    const card = readMessageItem({ ...item, msg_type: 'interactive' }, { botOpenId: BOT });
    expect(card?.parts).toEqual([{ type: 'unreadable', what: 'a card' }]);
  });
});

describe('shouldAnswer', () => {
  const text = { text: '@_user_1 hi' };
  it('answers in p2p without a mention', () => {
    const result = message(normaliseMessage(event({ content: { text: 'hi' }, chatType: 'p2p' }), { botOpenId: BOT }));
    expect(shouldAnswer(result)).toBe(true);
  });
  it('answers in a group only when the bot itself is mentioned', () => {
    const mentioned = message(normaliseMessage(event({ content: text, mentions: [botMention] }), { botOpenId: BOT }));
    const other = message(normaliseMessage(event({ content: text, mentions: [bobMention] }), { botOpenId: BOT }));
    expect(shouldAnswer(mentioned)).toBe(true);
    expect(shouldAnswer(other)).toBe(false);
    expect(ignoreReason(other)).toMatch(/without a mention/);
  });
  it('never answers a bot, not even itself, not even in p2p', () => {
    const fromBot = message(
      normaliseMessage(event({ content: text, mentions: [botMention], senderType: 'app', chatType: 'p2p' }), {
        botOpenId: BOT,
      }),
    );
    expect(shouldAnswer(fromBot)).toBe(false);
    expect(ignoreReason(fromBot)).toBe('sender is a bot');
  });
});

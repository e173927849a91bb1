import { describe, expect, it } from 'vitest';
import { addressedToBot, type DecidableMessage, type Decision, decide } from './decide.js';
import type { MessagePart } from './message-parts.js';
import type { PolicyVerdict } from './policy.js';

type Sender = { openId: string; type: string; self?: true };
const person: Sender = { openId: 'ou_person', type: 'user' };
const bot: Sender = { openId: 'ou_other_bot', type: 'app' };

const direct = (text: string, sender = person): DecidableMessage => ({
  kind: 'message',
  chatType: 'p2p',
  sender,
  mentionsBot: false,
  text,
});
const group = (text: string, mentionsBot: boolean, sender = person): DecidableMessage => ({
  kind: 'message',
  chatType: 'group',
  sender,
  mentionsBot,
  text,
});
const image = (chatType: 'p2p' | 'group', sender = person): DecidableMessage => ({
  kind: 'unsupported',
  reason: 'MESSAGE_TYPE_UNSUPPORTED',
  detail: 'image messages are not read',
  messageId: 'om_1',
  chatId: 'oc_1',
  chatType,
  sender,
});

const pdf: MessagePart = { type: 'file', messageId: 'om_1', key: 'file_1', name: 'q3.pdf' };
const quote: MessagePart = { type: 'quote', messageId: 'om_0' };

const allow: PolicyVerdict = { action: 'allow' };
const tooLong: PolicyVerdict = { action: 'reply', reason: 'input too long', text: 'Please shorten it.' };
const overBudget: PolicyVerdict = {
  action: 'reply',
  reason: 'chat over daily budget',
  text: 'Budget used.',
  answersOnly: true,
};

const table: Array<[string, DecidableMessage, PolicyVerdict | undefined, Decision]> = [
  ['a direct question', direct('what is 2+2?'), allow, { action: 'answer' }],
  [
    'a question past the budget',
    direct('what is 2+2?'),
    overBudget,
    { action: 'refuse', reason: 'chat over daily budget', text: 'Budget used.' },
  ],
  [
    'a command past the budget (it calls no model)',
    direct('/config'),
    overBudget,
    { action: 'command', command: 'config' },
  ],
  [
    'a command too long',
    direct('/config persona x'),
    tooLong,
    { action: 'refuse', reason: 'input too long', text: 'Please shorten it.' },
  ],
  ['a group question that mentions the bot', group('what is 2+2?', true), allow, { action: 'answer' }],
  [
    'a group message without a mention',
    group('lunch?', false),
    undefined,
    { action: 'ignore', reason: 'group message without a mention of the bot' },
  ],
  ['a bot in a direct chat', direct('beep', bot), undefined, { action: 'ignore', reason: 'sender is a bot' }],
  ['a bot that mentions the bot', group('beep', true, bot), undefined, { action: 'ignore', reason: 'sender is a bot' }],
  [
    'an image in a direct chat',
    image('p2p'),
    undefined,
    { action: 'notice', kind: 'unsupported-type', reason: 'unsupported: image messages are not read' },
  ],
  [
    'an image in a group',
    image('group'),
    undefined,
    { action: 'ignore', reason: 'unsupported: image messages are not read' },
  ],
  [
    'an image a bot sent in a direct chat',
    image('p2p', bot),
    undefined,
    { action: 'ignore', reason: 'sender is a bot' },
  ],
  [
    'an image with sender_type bot (the receive event schema) in a direct chat: no notice either',
    image('p2p', { openId: 'ou_other_bot', type: 'bot' }),
    undefined,
    { action: 'ignore', reason: 'sender is a bot' },
  ],
  [
    'a mention from a bot whose sender_type is bot',
    group('@Bot hello', true, { openId: 'ou_other_bot', type: 'bot' }),
    allow,
    { action: 'ignore', reason: 'sender is a bot' },
  ],
  [
    'our own message echoed back, typed as a user',
    direct('hello', { openId: 'ou_self', type: 'user', self: true }),
    allow,
    { action: 'ignore', reason: 'sender is a bot' },
  ],
  [
    'a direct message without a chat id',
    {
      kind: 'unsupported',
      reason: 'MESSAGE_TYPE_UNSUPPORTED',
      detail: 'image messages are not read',
      messageId: 'om_1',
      chatType: 'p2p',
      sender: person,
    },
    undefined,
    { action: 'ignore', reason: 'unsupported: image messages are not read' },
  ],
  [
    'a malformed direct message',
    {
      kind: 'unsupported',
      reason: 'MALFORMED',
      detail: 'content is not JSON',
      chatType: 'p2p',
      messageId: 'om_1',
      chatId: 'oc_1',
    },
    undefined,
    { action: 'ignore', reason: 'unsupported: content is not JSON' },
  ],
  [
    'a message outside the allowlists',
    direct('hi there'),
    { action: 'ignore', reason: 'chat not allowed' },
    { action: 'ignore', reason: 'chat not allowed' },
  ],
  [
    'the first message over the rate limit',
    direct('again'),
    { action: 'reply', reason: 'user rate limited', text: 'Please wait a moment.' },
    { action: 'refuse', reason: 'user rate limited', text: 'Please wait a moment.' },
  ],
  [
    'a later message over the rate limit',
    direct('again'),
    { action: 'ignore', reason: 'user rate limited' },
    { action: 'ignore', reason: 'user rate limited' },
  ],
  [
    'an over-long message',
    direct('x'.repeat(200)),
    tooLong,
    { action: 'refuse', reason: 'input too long', text: 'Please shorten it.' },
  ],
  [
    'a refused command stays refused',
    direct('/reset'),
    tooLong,
    { action: 'refuse', reason: 'input too long', text: 'Please shorten it.' },
  ],
  ['/reset', direct('/reset'), allow, { action: 'command', command: 'reset' }],
  ['/new with a full-width slash', group('／new', true), allow, { action: 'command', command: 'new' }],
  ['/help with words after it', direct('/help me'), allow, { action: 'command', command: 'help' }],
  ['an unknown /word goes to the agent', direct('/weather'), allow, { action: 'answer' }],
  ['a bare mention', group('', true), allow, { action: 'notice', kind: 'greeting' }],
  ['a whitespace-only direct message', direct('  \n '), allow, { action: 'notice', kind: 'greeting' }],
  [
    'a file with no words is answered, not greeted',
    { kind: 'message', chatType: 'p2p', sender: person, mentionsBot: false, text: '', parts: [pdf] },
    allow,
    { action: 'answer' },
  ],
  [
    'a bare mention replying to a message asks about that message',
    { kind: 'message', chatType: 'group', sender: person, mentionsBot: true, text: '', parts: [quote] },
    allow,
    { action: 'answer' },
  ],
  [
    'an addressed message nobody put to the policy',
    direct('hello'),
    undefined,
    { action: 'ignore', reason: 'policy not consulted' },
  ],
];

describe('decide', () => {
  it.each(table)('%s', (_name, message, verdict, expected) => {
    expect(decide({ message, verdict })).toEqual(expected);
  });
});

describe('addressedToBot', () => {
  it.each([
    ['a direct message', direct('hi'), true],
    ['a group mention', group('hi', true), true],
    ['a group message without a mention', group('hi', false), false],
    ['a bot', direct('hi', bot), false],
    ['an unreadable direct message', image('p2p'), false],
  ])('%s: %s', (_name, message, expected) => {
    expect(addressedToBot(message)).toBe(expected);
  });

  it('holds exactly for the messages whose decision needs the policy verdict', () => {
    for (const [name, message] of table) {
      const withoutVerdict = decide({ message });
      const needsVerdict = withoutVerdict.action === 'ignore' && withoutVerdict.reason === 'policy not consulted';
      expect(addressedToBot(message), name).toBe(needsVerdict);
    }
  });
});

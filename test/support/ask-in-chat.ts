import { expect } from 'vitest';
import type { StampedBotEvent } from '../../lib/observe/bot-event.js';
import { buildMessageEvent, postEvent } from '../fakes/event-sender.js';
import type { FakeFeishu } from '../fakes/fake-feishu.js';
import type { FakeChatRequest } from '../fakes/openai/steps.js';

/** The text of the last tool result the model was sent ('' when none). */
export function lastToolResult(request: FakeChatRequest): string {
  const tool = request.messages.filter((message) => message.role === 'tool').at(-1);
  return typeof tool?.content === 'string' ? tool.content : JSON.stringify(tool?.content ?? '');
}

/** A person's message as a signed event to the bot's webhook (see `postMessage`). */
interface PostedMessage {
  feishu: FakeFeishu;
  webhookUrl: string;
  encryptKey: string;
  token: string;
  chatType: 'p2p' | 'group';
  /** Absent: the fake's direct chat with the sender. */
  chatId?: string | undefined;
  senderOpenId: string;
  text: string;
  /** The message this one replies to (a quote). */
  parentId?: string;
  /** The app the event is delivered to (its app_id in the header); default: the fake's first app. */
  appId?: string | undefined;
}

/** Posts a person's message (mentioning the bot in a group) as a signed event; returns its id. */
async function postMessage({
  feishu,
  webhookUrl,
  encryptKey,
  token,
  chatType,
  chatId,
  senderOpenId,
  text,
  parentId,
  appId,
}: PostedMessage): Promise<string> {
  const event = buildMessageEvent({
    fake: feishu,
    token,
    ...(appId === undefined ? {} : { appId }),
    chatType,
    ...(chatId === undefined ? {} : { chatId }),
    mentionBot: chatType === 'group',
    senderOpenId,
    text,
    ...(parentId === undefined ? {} : { parentId }),
  });
  expect((await postEvent(webhookUrl, event, { encryptKey })).status).toBe(200);
  return event.event.message.message_id;
}

/**
 * A person asks the running bot: a signed, encrypted message event mentioning the bot in a group
 * goes to its webhook; resolves once the answer card is closed and the job finished, with the
 * text the user sees. Fails when anything answers twice or the job does not finish.
 *
 * @example
 * const { shown } = await askInChat({ ...service, chatId, senderOpenId, text: 'search the web' }); // service: useE2eService()
 */
export async function askInChat({
  events,
  timeoutMs = 20_000,
  ...message
}: Omit<PostedMessage, 'chatType' | 'chatId' | 'appId'> & {
  /** The bot's bus events since the test began. */
  events: readonly StampedBotEvent[];
  chatId: string;
  timeoutMs?: number;
}): Promise<{ messageId: string; shown: string }> {
  const { feishu } = message;
  const messageId = await postMessage({ ...message, chatType: 'group' });
  return { messageId, shown: await waitForClosedAnswer({ feishu, events, messageId, timeoutMs }) };
}

/**
 * A person writes to the running bot (a signed, encrypted message event; in a group it mentions
 * the bot); resolves with what they see of the bot's reply, a plain message or a closed card.
 * For commands and notices as much as answers.
 *
 * @example
 * expect(await sayInChat({ feishu, webhookUrl, encryptKey, token, chatId, senderOpenId, text: '/config' })).toContain('model');
 */
export async function sayInChat({
  chatType = 'group',
  timeoutMs = 20_000,
  ...message
}: Omit<PostedMessage, 'chatType' | 'parentId'> & { chatType?: 'p2p' | 'group'; timeoutMs?: number }): Promise<string> {
  const { feishu, text } = message;
  const messageId = await postMessage({ ...message, chatType });
  await feishu.waitFor(
    () => {
      const [reply] = feishu.repliesTo(messageId, { fromBot: true });
      const card = reply ? feishu.cardForMessage(reply.messageId) : undefined;
      return reply !== undefined && (card === undefined || !card.streaming);
    },
    { timeoutMs, description: `the reply to "${text}"` },
  );
  const [reply] = feishu.repliesTo(messageId, { fromBot: true });
  return feishu.visibleText(reply?.messageId ?? '');
}

/**
 * Waits until the answer to `messageId` is a closed card and its job finished; returns the text
 * the user sees. Fails when anything answered twice or the job ended other than done.
 *
 * @example
 * const shown = await waitForClosedAnswer({ feishu, events, messageId });
 */
export async function waitForClosedAnswer({
  feishu,
  events,
  messageId,
  timeoutMs = 20_000,
}: {
  feishu: FakeFeishu;
  events: readonly StampedBotEvent[];
  messageId: string;
  timeoutMs?: number;
}): Promise<string> {
  await feishu.waitFor(
    () => {
      const [reply] = feishu.repliesTo(messageId, { fromBot: true });
      const card = reply ? feishu.cardForMessage(reply.messageId) : undefined;
      return card !== undefined && !card.streaming;
    },
    { timeoutMs, description: `a closed card answering ${messageId}` },
  );
  const traceId = `message:${messageId}`;
  await feishu.waitFor(() => events.some((each) => each.type === 'job.finished' && each.traceId === traceId), {
    timeoutMs: 10_000,
    description: 'the job to finish',
  });
  // The job finished once and done (not retried, not dead): nothing is answered twice.
  const finished = events.filter((each) => each.type === 'job.finished' && each.traceId === traceId);
  expect(finished.map((each) => (each.type === 'job.finished' ? each.outcome : ''))).toEqual(['done']);
  const replies = feishu.repliesTo(messageId, { fromBot: true });
  expect(replies).toHaveLength(1);
  return feishu.visibleText(replies[0]?.messageId ?? '');
}

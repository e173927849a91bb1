import { buildCardActionEvent, DEFAULT_USER_OPEN_ID, postEvent } from '../fakes/event-sender.js';
import type { CardState, FakeFeishu } from '../fakes/fake-feishu.js';

/**
 * Pressing the bot's card buttons as a person does: the button's callback value is read from the
 * card the fake Feishu holds, and the press goes to the bot as Feishu sends it (a signed,
 * encrypted `card.action.trigger` callback).
 *
 * @example
 * const { replyId, card } = answerCard(feishu, messageId)!;
 * const answer = await pressCard(`${base}/webhook/card`, { fake: feishu, replyId, value: buttonValue(card, 'stop')!,
 *   encryptKey, token });
 * answer.toast?.content; // 'Stopping…'
 */

/** The bot's (first) reply to `messageId` and the CardKit card behind it. */
export function answerCard(fake: FakeFeishu, messageId: string): { replyId: string; card: CardState } | undefined {
  const [reply] = fake.repliesTo(messageId, { fromBot: true });
  const card = reply ? fake.cardForMessage(reply.messageId) : undefined;
  return reply && card ? { replyId: reply.messageId, card } : undefined;
}

/**
 * Waits until the answer to `messageId` is a card still streaming whose text has `containing`
 * (a slow answer's first words, so a press lands mid-stream); returns it as answerCard does.
 */
export async function waitForStreamingCard(
  fake: FakeFeishu,
  messageId: string,
  { containing = 'word1', timeoutMs = 15_000 }: { containing?: string; timeoutMs?: number } = {},
): Promise<{ replyId: string; card: CardState }> {
  return fake.waitFor(
    () => {
      const found = answerCard(fake, messageId);
      return found?.card.streaming === true && fake.visibleText(found.replyId).includes(containing) ? found : undefined;
    },
    { timeoutMs, description: 'a streaming card with words' },
  );
}

/** The callback value of the button `elementId` on the card as it is now; undefined when it has none. */
export function buttonValue(card: CardState, elementId: string): Record<string, unknown> | undefined {
  const elements = (card.card.body as { elements?: Array<Record<string, unknown>> } | undefined)?.elements ?? [];
  const button = elements.find((element) => element.tag === 'button' && element.element_id === elementId);
  const behaviors = button?.behaviors as Array<{ type: string; value: Record<string, unknown> }> | undefined;
  return behaviors?.find((behavior) => behavior.type === 'callback')?.value;
}

export interface PressOptions {
  fake: FakeFeishu;
  /** The card's message. */
  replyId: string;
  value: Record<string, unknown>;
  encryptKey: string;
  token: string;
  operator?: string;
  chatId?: string;
  eventId?: string;
}

/** A signed card callback for a press; the object is what Feishu sends (before encryption). */
export function pressCallback({
  fake,
  replyId,
  value,
  token,
  operator,
  chatId,
  eventId,
}: Omit<PressOptions, 'encryptKey'>) {
  return buildCardActionEvent({
    fake,
    token,
    operatorOpenId: operator ?? DEFAULT_USER_OPEN_ID,
    messageId: replyId,
    value,
    ...(chatId === undefined ? {} : { chatId }),
    ...(eventId === undefined ? {} : { eventId }),
  });
}

/** Posts the press to `/webhook/card` at `url`; resolves with the JSON answer (the toast). */
export async function pressCard(
  url: string,
  options: PressOptions,
): Promise<{ status: number; toast?: { type: string; content: string } }> {
  const response = await postEvent(url, pressCallback(options), { encryptKey: options.encryptKey });
  const body = (await response.json()) as { toast?: { type: string; content: string } };
  return { status: response.status, ...body };
}

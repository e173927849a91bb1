/**
 * Shared pieces of the process-level tests that run the real answer path (webhook → inbox →
 * dispatcher → manager agent on the real AI SDK → CardKit card) against the fakes:
 * the child's environment, a slow model, and the "answered exactly once" check.
 */
import { afterAll, afterEach, beforeAll, expect } from 'vitest';
import { buildMessageEvent, eventRequest, type FeishuMessageReceiveEvent } from '../fakes/event-sender.js';
import { type CardState, type FakeFeishu, type FakeMessage, startFakeFeishu } from '../fakes/fake-feishu.js';
import { type FakeOpenAI, startFakeOpenAI } from '../fakes/fake-openai.js';
import { ensureBuilt, killBotProcesses } from './bot-process.js';
import { setUpValue } from './set-up-value.js';

export const ENCRYPT_KEY = 'scale-encrypt-key';
export const VERIFICATION_TOKEN = 'scale-verification-token';
export const MODEL = 'gpt-test';

export interface ServiceFakes {
  readonly feishu: FakeFeishu;
  readonly openai: FakeOpenAI;
}

/**
 * The set-up of a file whose tests run bot processes: dist/ built, one fake Feishu and one fake
 * OpenAI for the file, every bot process killed after each test and at the end. Vitest runs a
 * file's own afterEach hooks before this one's; one that must stop the bots before tearing
 * something down (a Redis, a prefix) calls `killBotProcesses()` itself first.
 *
 * @example
 * const fakes = useServiceFakes();
 * it('answers', async () => {
 *   const bot = await startBotProcess({ name: 'a', env: serviceEnvironment({ ...fakes, storeUrl }) });
 * });
 */
export function useServiceFakes(): ServiceFakes {
  let feishu: FakeFeishu | undefined;
  let openai: FakeOpenAI | undefined;
  beforeAll(async () => {
    ensureBuilt();
    feishu = await startFakeFeishu();
    openai = await startFakeOpenAI();
  });
  afterEach(async () => {
    await killBotProcesses();
  });
  afterAll(async () => {
    await killBotProcesses();
    await openai?.close();
    await feishu?.close();
  });
  return {
    get feishu() {
      return setUpValue('useServiceFakes', 'feishu', feishu);
    },
    get openai() {
      return setUpValue('useServiceFakes', 'openai', openai);
    },
  };
}

/** The environment of one service process: fakes, a store, short leases, generous rate limits. */
export function serviceEnvironment({
  feishu,
  openai,
  storeUrl,
  leaseMs = 2_000,
  extra = {},
}: {
  feishu: FakeFeishu;
  openai: FakeOpenAI;
  storeUrl: string;
  leaseMs?: number;
  extra?: Record<string, string>;
}): Record<string, string> {
  return {
    NODE_ENV: 'test',
    ...feishu.env(),
    FEISHU_ENCRYPT_KEY: ENCRYPT_KEY,
    FEISHU_VERIFICATION_TOKEN: VERIFICATION_TOKEN,
    OPENAI_BASE_URL: openai.baseURL,
    OPENAI_API_KEY: openai.apiKey,
    MODEL,
    STORE_URL: storeUrl,
    JOB_LEASE_MS: String(leaseMs),
    // The per-user/chat limits are not under test here; many events come from one test user.
    USER_MESSAGES_PER_MINUTE: '100000',
    CHAT_MESSAGES_PER_MINUTE: '100000',
    CARD_UPDATES_PER_SECOND: '8',
    MODEL_MAX_RETRIES: '0',
    // Less to start per process; devtools play no part here.
    ENABLE_DEVTOOLS: 'false',
    ...extra,
  };
}

/**
 * Makes every answer of the fake model `text(userText)`, streamed in `chunkSize` pieces
 * `chunkDelayMs` apart. A function (not a script queue), so a resumed attempt gets the same answer.
 */
export function answerWith(
  openai: FakeOpenAI,
  text: (userText: string) => string,
  { chunkSize = 8, chunkDelayMs = 0 }: { chunkSize?: number; chunkDelayMs?: number } = {},
): void {
  openai.setDefaultResponder((request) => ({ text: text(request.lastUserText), chunkSize, chunkDelayMs }));
}

/** A p2p message event from `senderOpenId` (its own chat, so its own lane), stored in the fake. */
export function directMessage(
  feishu: FakeFeishu,
  text: string,
  options: { senderOpenId?: string; eventId?: string; messageId?: string } = {},
): FeishuMessageReceiveEvent {
  return buildMessageEvent({ fake: feishu, chatType: 'p2p', text, token: VERIFICATION_TOKEN, ...options });
}

/** Posts the event signed and encrypted like Feishu; returns the HTTP status (0 when nothing answered). */
export async function deliver(baseUrl: string, event: unknown, timeoutMs = 10_000): Promise<number> {
  try {
    const response = await fetch(`${baseUrl}/webhook/event`, {
      ...eventRequest(event, { encryptKey: ENCRYPT_KEY }),
      signal: AbortSignal.timeout(timeoutMs),
    });
    await response.body?.cancel();
    return response.status;
  } catch {
    return 0;
  }
}

/** CardKit content updates the fake accepted for the card answering `messageId` so far. */
export function streamedUpdates(feishu: FakeFeishu, messageId: string): number {
  const [reply] = feishu.repliesTo(messageId, { fromBot: true });
  const card = reply ? feishu.cardForMessage(reply.messageId) : undefined;
  return card ? Object.values(card.elements).reduce((sum, element) => sum + element.contentHistory.length, 0) : 0;
}

/** Waits until the bot's reply to `messageId` is a closed card (streaming ended). */
export async function waitForClosedCard(feishu: FakeFeishu, messageId: string, timeoutMs = 30_000): Promise<void> {
  await feishu.waitFor(
    () => {
      const [reply] = feishu.repliesTo(messageId, { fromBot: true });
      const card = reply ? feishu.cardForMessage(reply.messageId) : undefined;
      // Closed by the bot's settings call, not merely "not streaming yet": a card is created
      // before its stream opens, and a probe landing in that moment would see it as closed.
      return card !== undefined && !card.streaming && card.streamingClosedBy === 'settings';
    },
    { timeoutMs, description: `a closed card answering ${messageId}` },
  );
}

/**
 * The user's message got exactly one bot reply: one interactive message whose card is closed
 * (streaming false, closed by settings) and holds the whole model answer.
 */
export function expectAnsweredOnce(
  feishu: FakeFeishu,
  messageId: string,
  answer: string,
): { reply: FakeMessage; card: CardState } {
  const replies = feishu.repliesTo(messageId, { fromBot: true });
  expect(replies, `bot replies to ${messageId}`).toHaveLength(1);
  const reply = replies[0]!;
  expect(reply.msgType).toBe('interactive');
  const card = feishu.cardForMessage(reply.messageId);
  expect(card, `the card of ${reply.messageId}`).toBeDefined();
  expect(card!.streaming).toBe(false);
  expect(card!.streamingClosedBy).toBe('settings');
  const contents = Object.values(card!.elements).map((element) => element.content);
  expect(contents).toContain(answer);
  return { reply, card: card! };
}

/**
 * The set-up every reply test shares: one fake Feishu per file (started before its tests, closed
 * after them), a real SDK client pointed at it, and before each test an emptied fake with the
 * user's message seeded again. Call it at the top of a file or a describe block.
 *
 * @example
 * const chat = useFakeFeishuChat((fake) => fake.seedMessage({ chatId: CHAT, chatType: 'p2p', text: 'hello?' }));
 * it('answers', async () => {
 *   await reply({ client: chat.client, target: { messageId: chat.userMessage.messageId, chatId: CHAT } });
 *   expect(chat.fake.repliesTo(chat.userMessage.messageId)).toHaveLength(1);
 * });
 */
import { afterAll, beforeAll, beforeEach } from 'vitest';
import { createFeishuClient, type FeishuClient } from '../../lib/feishu/feishu-client.js';
import { silentLogger } from '../../lib/log.js';
import { type FakeFeishu, type FakeMessage, startFakeFeishu } from '../fakes/fake-feishu.js';
import { setUpValue } from './set-up-value.js';

export interface FakeFeishuChat {
  readonly fake: FakeFeishu;
  readonly client: FeishuClient;
  /** The message the bot answers, seeded anew before each test. */
  readonly userMessage: FakeMessage;
}

export function useFakeFeishuChat(seedUserMessage: (fake: FakeFeishu) => FakeMessage): FakeFeishuChat {
  let fake: FakeFeishu | undefined;
  let client: FeishuClient | undefined;
  let userMessage: FakeMessage | undefined;
  beforeAll(async () => {
    fake = await startFakeFeishu();
    client = createFeishuClient({
      appId: fake.appId,
      appSecret: fake.appSecret,
      domain: fake.url,
      log: silentLogger(),
    });
  });
  afterAll(async () => {
    await fake?.close();
  });
  beforeEach(() => {
    fake?.reset();
    userMessage = fake === undefined ? undefined : seedUserMessage(fake);
  });
  return {
    get fake() {
      return setUpValue('useFakeFeishuChat', 'fake', fake);
    },
    get client() {
      return setUpValue('useFakeFeishuChat', 'client', client);
    },
    get userMessage() {
      return setUpValue('useFakeFeishuChat', 'userMessage', userMessage);
    },
  };
}

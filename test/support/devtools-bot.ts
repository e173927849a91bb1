import pino from 'pino';
import { type RunningBot, startBot } from '../../lib/bot.js';
import { loadConfig } from '../../lib/config.js';
import type { FakeFeishu } from '../fakes/fake-feishu.js';
import type { FakeOpenAI } from '../fakes/fake-openai.js';

export const DEVTOOLS_BOT_ENCRYPT_KEY = 'devtools-bot-encrypt-key';
export const DEVTOOLS_BOT_VERIFICATION_TOKEN = 'devtools-bot-verification-token';

export interface DevtoolsBotOptions {
  /** The model server; without one MODEL is unset and the agent is off. */
  openai?: FakeOpenAI;
  /** The model name the fake answers as (MODEL). */
  model?: string;
  /** The Feishu server; with one the bot receives signed webhook events and answers in cards. */
  feishu?: FakeFeishu;
  /** More settings, e.g. CARD_UPDATES_PER_SECOND; undefined unsets one (FEISHU_APP_ID beside FEISHU_APPS_FILE). */
  env?: Record<string, string | undefined>;
}

/**
 * The real bot in-process with devtools on, on an ephemeral port and an in-memory store, wired to
 * the fakes: what the devtools Chromium tests and the screenshot script open in a browser.
 *
 * @example
 * const { bot, base } = await startDevtoolsBot({ openai, feishu });
 * await page.goto(`${base}/devtools`);
 * await bot.stop();
 */
export async function startDevtoolsBot({
  openai,
  model = 'gpt-test',
  feishu,
  env = {},
}: DevtoolsBotOptions = {}): Promise<{ bot: RunningBot; base: string }> {
  const bot = await startBot(
    loadConfig({
      PORT: '0',
      HOST: '127.0.0.1',
      STORE_URL: 'sqlite::memory:',
      ENABLE_DEVTOOLS: 'true',
      NODE_ENV: 'test',
      LOG_LEVEL: 'silent',
      ...(openai ? { MODEL: model, OPENAI_BASE_URL: openai.baseURL, OPENAI_API_KEY: openai.apiKey } : {}),
      ...(feishu
        ? {
            ...feishu.env(),
            FEISHU_ENCRYPT_KEY: DEVTOOLS_BOT_ENCRYPT_KEY,
            FEISHU_VERIFICATION_TOKEN: DEVTOOLS_BOT_VERIFICATION_TOKEN,
          }
        : {}),
      ...env,
    }),
    { log: pino({ level: 'silent' }), dispatcher: { pollIntervalMs: 50 } },
  );
  return { bot, base: `http://127.0.0.1:${bot.port}` };
}

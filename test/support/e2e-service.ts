import { afterAll, beforeAll } from 'vitest';
import { type RunningBot, type StartBotOptions, startBot } from '../../lib/bot.js';
import { loadConfig } from '../../lib/config.js';
import { silentLogger } from '../../lib/log.js';
import type { StampedBotEvent } from '../../lib/observe/bot-event.js';
import { type FakeFeishu, type FakeFeishuOptions, startFakeFeishu } from '../fakes/fake-feishu.js';
import { type FakeOpenAI, type FakeOpenAIOptions, startFakeOpenAI } from '../fakes/fake-openai.js';
import { setUpValue } from './set-up-value.js';

/** Settings on top of the base: a string sets one, `undefined` drops a base one. */
export type EnvOverrides = Readonly<Record<string, string | undefined>>;

/** What a service's settings may depend on: its fakes (their URLs, their keys). */
export interface E2eFakes {
  readonly feishu: FakeFeishu;
  readonly openai: FakeOpenAI;
}

export interface E2eServiceOptions {
  /**
   * This test's settings over the base ones, or a function of the fakes giving them (one that may
   * start something first, e.g. a long-connection gateway in front of the fake Feishu).
   */
  env?: EnvOverrides | ((fakes: E2eFakes) => EnvOverrides | Promise<EnvOverrides>);
  /** Options of the fake Feishu, e.g. its bot's identity. */
  feishu?: FakeFeishuOptions;
  /** Options of the fake OpenAI, e.g. the models it serves. */
  openai?: FakeOpenAIOptions;
  /** More startBot options (schedules clock, handlers…); the log is silent, the poll 50 ms. */
  start?: Omit<StartBotOptions, 'log'>;
}

export interface AnotherBotOptions {
  env?: EnvOverrides;
  /** What `env` goes over: the first bot's settings (default) or the base ones. */
  over?: 'service' | 'base';
  start?: Omit<StartBotOptions, 'log'>;
}

/** A running bot on the fakes; every handle a test needs to talk to it and look at what it did. */
export interface E2eService extends E2eFakes {
  readonly bot: RunningBot;
  /** `http://127.0.0.1:<port>` of the bot. */
  readonly base: string;
  /** Where Feishu posts events: `${base}/webhook/event`. */
  readonly webhookUrl: string;
  /** The bot's bus events (of every bot started on this service) since start or the last reset(). */
  readonly events: StampedBotEvent[];
  readonly encryptKey: string;
  readonly token: string;
  /** The settings the bot was started with (base + overrides), e.g. to start it again. */
  readonly env: Readonly<Record<string, string>>;
  /**
   * Another bot on the same fakes: a restart on the same store file, or a second bot set up
   * differently. Its settings are this service's (or with `over: 'base'` the base ones) with `env`
   * over them. Its events go to `events` too; stop() stops it (stopping a bot twice is harmless).
   */
  startAnotherBot(options?: AnotherBotOptions): Promise<RunningBot>;
  /** Forgets the fakes' scripts and calls and the collected events: a clean slate for the next test. */
  reset(): void;
  /** Stops every bot it started, then the fakes. */
  stop(): Promise<void>;
}

export const E2E_ENCRYPT_KEY = 'e2e-encrypt-key';
export const E2E_VERIFICATION_TOKEN = 'e2e-verification-token';

/**
 * Settings for a file where one person asks many questions quickly and a model failure should
 * show at once: the model is not retried, the per-user and per-chat limits are out of reach.
 */
export const MANY_QUICK_ASKS: EnvOverrides = {
  MODEL_MAX_RETRIES: '0',
  USER_MESSAGES_PER_MINUTE: '1000',
  CHAT_MESSAGES_PER_MINUTE: '1000',
};

/**
 * The base settings of an e2e bot: signed, encrypted webhook events from the fake Feishu, the fake
 * OpenAI's `gpt-test`, an in-memory SQLite store, an ephemeral port, silent logs, no devtools.
 */
export function e2eBaseEnv({ feishu, openai }: E2eFakes): Record<string, string> {
  return {
    NODE_ENV: 'test',
    PORT: '0',
    HOST: '127.0.0.1',
    LOG_LEVEL: 'silent',
    ...feishu.env(),
    FEISHU_ENCRYPT_KEY: E2E_ENCRYPT_KEY,
    FEISHU_VERIFICATION_TOKEN: E2E_VERIFICATION_TOKEN,
    OPENAI_BASE_URL: openai.baseURL,
    OPENAI_API_KEY: openai.apiKey,
    MODEL: 'gpt-test',
    STORE_URL: 'sqlite::memory:',
    ENABLE_DEVTOOLS: 'false',
  };
}

function withOverrides(base: Record<string, string>, overrides: EnvOverrides): Record<string, string> {
  const env = { ...base };
  for (const [name, value] of Object.entries(overrides)) {
    if (value === undefined) delete env[name];
    else env[name] = value;
  }
  return env;
}

/**
 * Starts the fake Feishu, the fake OpenAI and the real bot in-process on them (base settings of
 * e2eBaseEnv, then `env`). Use it inside a test, or useE2eService() for a whole file or describe.
 *
 * @example
 * const service = await startE2eService({ env: { MODEL_MAX_RETRIES: '0' } });
 * try {
 *   const { shown } = await askInChat({ ...service, chatId: 'oc_a', senderOpenId: 'ou_a', text: 'hi' });
 * } finally {
 *   await service.stop();
 * }
 */
export async function startE2eService({
  env = {},
  feishu: feishuOptions,
  openai: openaiOptions,
  start = {},
}: E2eServiceOptions = {}): Promise<E2eService> {
  const feishu = await startFakeFeishu(feishuOptions);
  const bots: RunningBot[] = [];
  let openai: FakeOpenAI | undefined;
  const stop = async (): Promise<void> => {
    for (const each of bots.splice(0).reverse()) await each.stop();
    await openai?.close();
    await feishu.close();
  };
  try {
    openai = await startFakeOpenAI(openaiOptions);
    const fakes: E2eFakes = { feishu, openai };
    const base = e2eBaseEnv(fakes);
    const events: StampedBotEvent[] = [];
    const launch = async (settings: Record<string, string>, more: Omit<StartBotOptions, 'log'>) => {
      const bot = await startBot(loadConfig(settings), {
        log: silentLogger(),
        ...more,
        dispatcher: { pollIntervalMs: 50, ...more.dispatcher },
      });
      bots.push(bot);
      bot.bus.subscribe((event) => events.push(event));
      return bot;
    };
    const settings = withOverrides(base, typeof env === 'function' ? await env(fakes) : env);
    const bot = await launch(settings, start);
    const url = `http://127.0.0.1:${bot.port}`;
    const fakeOpenAI = openai;
    return {
      feishu,
      openai,
      bot,
      base: url,
      webhookUrl: `${url}/webhook/event`,
      events,
      encryptKey: settings.FEISHU_ENCRYPT_KEY ?? '',
      token: settings.FEISHU_VERIFICATION_TOKEN ?? '',
      env: settings,
      startAnotherBot: ({ env: overrides = {}, over = 'service', start: more = {} } = {}) =>
        launch(withOverrides(over === 'base' ? base : settings, overrides), more),
      reset() {
        fakeOpenAI.reset();
        feishu.clearCalls();
        events.length = 0;
      },
      stop,
    };
  } catch (error) {
    await stop();
    throw error;
  }
}

/**
 * startE2eService() in beforeAll and its stop() in afterAll of the surrounding file or describe.
 * The handles are read in tests and later hooks; read earlier, they throw. A function `env` is
 * called in the beforeAll, after the file's own earlier beforeAll hooks (e.g. one that started an
 * MCP server whose URL goes into the settings).
 *
 * @example
 * const service = useE2eService({ env: { CARD_UPDATES_PER_SECOND: '5' } });
 * beforeEach(() => service.reset());
 * it('answers', async () => {
 *   const { shown } = await askInChat({ ...service, chatId: 'oc_group', senderOpenId: 'ou_alice', text: 'hello' });
 *   expect(shown).toContain('Hi');
 * });
 */
export function useE2eService(options: E2eServiceOptions = {}): E2eService {
  let service: E2eService | undefined;
  beforeAll(async () => {
    service = await startE2eService(options);
  });
  afterAll(async () => {
    await service?.stop();
  });
  const ready = (): E2eService => setUpValue('useE2eService', 'the service', service);
  return {
    get feishu() {
      return ready().feishu;
    },
    get openai() {
      return ready().openai;
    },
    get bot() {
      return ready().bot;
    },
    get base() {
      return ready().base;
    },
    get webhookUrl() {
      return ready().webhookUrl;
    },
    get events() {
      return ready().events;
    },
    get encryptKey() {
      return ready().encryptKey;
    },
    get token() {
      return ready().token;
    },
    get env() {
      return ready().env;
    },
    startAnotherBot: (options) => ready().startAnotherBot(options),
    reset: () => ready().reset(),
    stop: () => ready().stop(),
  };
}

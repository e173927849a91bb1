import { createEventBus, type EventBus } from '../observe/event-bus.js';
import { backoffDelay } from '../util/backoff.js';
import { errorMessage } from '../util/error-message.js';
import { sleep } from '../util/sleep.js';
import { callFeishu } from './call-feishu.js';
import type { FeishuClient } from './feishu-client.js';

export interface BotIdentity {
  /** What mentions of the bot carry as `id.open_id`; the app id is something else. */
  openId: string;
  name: string;
}

export interface FetchBotIdentityOptions {
  /** Attempts in total, at least 1. */
  attempts?: number;
  /** Delay before the second attempt; doubles after each failure. */
  retryDelayMs?: number;
  /** No delay between attempts is longer than this, however many attempts are allowed. */
  maxRetryDelayMs?: number;
  /** Per attempt. */
  timeoutMs?: number;
  /** Where the calls are reported as `feishu.api` (metrics, devtools). */
  bus?: EventBus;
}

export class BotIdentityError extends Error {
  readonly code = 'BOT_IDENTITY_UNAVAILABLE';
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'BotIdentityError';
  }
  static isInstance(error: unknown): error is BotIdentityError {
    return error instanceof Error && (error as { code?: unknown }).code === 'BOT_IDENTITY_UNAVAILABLE';
  }
}

const cache = new WeakMap<FeishuClient, Promise<BotIdentity>>();

interface BotInfoResponse {
  code?: number;
  msg?: string;
  bot?: { open_id?: string; app_name?: string };
}

async function fetchOnce(client: FeishuClient, timeoutMs: number, bus: EventBus): Promise<BotIdentity> {
  // callFeishu turns non-zero codes into errors and, on a stale cached token, evicts it and retries.
  const response = await callFeishu(
    bus,
    'bot.v3.info',
    () => client.request({ method: 'GET', url: '/open-apis/bot/v3/info' }) as Promise<BotInfoResponse>,
    { client, timeoutMs },
  );
  const openId = response.bot?.open_id;
  if (typeof openId !== 'string' || openId.length === 0) {
    throw new BotIdentityError('bot/v3/info answered without bot.open_id');
  }
  return { openId, name: response.bot?.app_name ?? 'bot' };
}

/**
 * The bot's own open_id and name from `GET /open-apis/bot/v3/info`, with bounded retries and
 * cached per client (a failure is not cached, so the next caller tries again).
 *
 * @example
 * const { openId } = await fetchBotIdentity(client);
 * normaliseMessage(event, { botOpenId: openId });
 */
export function fetchBotIdentity(
  client: FeishuClient,
  {
    attempts = 4,
    retryDelayMs = 500,
    maxRetryDelayMs = 30_000,
    timeoutMs = 5_000,
    bus = createEventBus(),
  }: FetchBotIdentityOptions = {},
): Promise<BotIdentity> {
  const cached = cache.get(client);
  if (cached) return cached;
  const pending = (async () => {
    let lastError: unknown;
    for (let attempt = 1; attempt <= Math.max(1, attempts); attempt++) {
      try {
        return await fetchOnce(client, timeoutMs, bus);
      } catch (error) {
        lastError = error;
        if (attempt < attempts) await sleep(backoffDelay(attempt, { initialMs: retryDelayMs, maxMs: maxRetryDelayMs }));
      }
    }
    throw new BotIdentityError(
      `could not read the bot identity after ${attempts} attempts: ${errorMessage(lastError)}`,
      { cause: lastError },
    );
  })();
  cache.set(client, pending);
  pending.catch(() => cache.delete(client));
  return pending;
}

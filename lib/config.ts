import { existsSync } from 'node:fs';
import { hostname } from 'node:os';
import { z } from 'zod';

/**
 * Every environment variable the bot reads, in one schema. Names in the contract table of
 * shared/ARCHITECTURE.md are fixed (other tools depend on them); the rest are tuning knobs
 * whose defaults are what a production bot should run with.
 */

const booleanFlag = z
  .enum(['true', 'false', '1', '0', 'yes', 'no', 'on', 'off'])
  .transform((value) => ['true', '1', 'yes', 'on'].includes(value));

const commaList = z
  .string()
  .default('')
  .transform((value) =>
    value
      .split(',')
      .map((item) => item.trim())
      .filter((item) => item.length > 0),
  );

const positiveInt = (fallback: number) => z.coerce.number().int().positive().default(fallback);
const nonNegativeInt = (fallback: number) => z.coerce.number().int().min(0).default(fallback);
const ratio = (fallback: number) => z.coerce.number().min(0).max(1).default(fallback);
const optionalSecret = z
  .string()
  .optional()
  .transform((value) => (value === undefined || value.trim() === '' ? undefined : value.trim()));

const feishuDomain = z
  .string()
  .default('feishu')
  .refine((value) => value === 'feishu' || value === 'lark' || /^https?:\/\/[^\s]+$/.test(value), {
    message: 'must be "feishu", "lark" or a base URL such as http://127.0.0.1:9000',
  });

const storeUrl = z
  .string()
  .default('sqlite:./data/bot.db')
  .refine((value) => /^sqlite:.+/.test(value) || /^rediss?:\/\/.+/.test(value), {
    message: 'must be sqlite:PATH, sqlite::memory: or redis://host:port',
  });

const environmentSchema = z.object({
  NODE_ENV: z.enum(['development', 'production', 'test']).default('development'),
  PORT: z.coerce.number().int().min(0).max(65535).default(3000),
  HOST: z.string().min(1).default('0.0.0.0'),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  INSTANCE_ID: z.string().min(1).optional(),

  FEISHU_APP_ID: optionalSecret,
  FEISHU_APP_SECRET: optionalSecret,
  FEISHU_ENCRYPT_KEY: optionalSecret,
  FEISHU_VERIFICATION_TOKEN: optionalSecret,
  FEISHU_DOMAIN: feishuDomain,
  FEISHU_EVENT_MODE: z.enum(['webhook', 'websocket']).default('webhook'),
  /**
   * Seconds a signed webhook request may be old before it is rejected as a replay. Feishu
   * re-delivers for about 7.1 h (15 s, 5 min, 1 h, 6 h) and may keep the first timestamp, so a
   * shorter window could refuse a real re-delivery; a replay inside the window is a duplicate
   * that dedupe drops, which is why it may not exceed DEDUPE_TTL_HOURS.
   */
  WEBHOOK_MAX_SKEW_SECONDS: positiveInt(26_000),
  /** Largest webhook body accepted, in bytes (Feishu events are a few KB). */
  BODY_LIMIT_BYTES: positiveInt(1024 * 1024),

  OPENAI_API_KEY: optionalSecret,
  OPENAI_BASE_URL: z.string().url().optional(),
  MODEL: z.string().min(1).optional(),
  FALLBACK_MODELS: commaList,
  MODEL_FIRST_TOKEN_TIMEOUT_MS: positiveInt(30_000),
  MODEL_TOTAL_TIMEOUT_MS: positiveInt(180_000),
  MODEL_MAX_RETRIES: nonNegativeInt(2),
  /** Longest retry-after the model chain waits on one model before it falls over to the next. */
  MODEL_MAX_RETRY_DELAY_MS: positiveInt(10_000),
  CIRCUIT_BREAKER_FAILURES: positiveInt(3),
  CIRCUIT_BREAKER_COOLDOWN_MS: positiveInt(30_000),
  AGENT_MAX_STEPS: positiveInt(8),
  MEMORY_TOKEN_BUDGET: positiveInt(6_000),
  /** A conversation nobody spoke in for this long is forgotten, so memory stays bounded. */
  MEMORY_RETENTION_DAYS: z.coerce.number().positive().default(30),
  /** JSON file of extra specialist agents operators add without code (see docs/agents.md). */
  SPECIALISTS_FILE: z.string().min(1).optional(),

  STORE_URL: storeUrl,
  DEDUPE_TTL_HOURS: z.coerce.number().min(12).default(24),
  MAX_CONCURRENT_JOBS: positiveInt(4),
  MAX_BACKLOG: positiveInt(500),
  JOB_LEASE_MS: positiveInt(60_000),
  JOB_MAX_ATTEMPTS: positiveInt(3),
  /** Finished jobs (and dead letters) are deleted after this; at least DEDUPE_TTL_HOURS. */
  JOB_RETENTION_HOURS: z.coerce.number().positive().default(72),

  CARD_UPDATES_PER_SECOND: z.coerce.number().positive().max(10).default(4),
  ALLOWED_CHAT_IDS: commaList,
  ALLOWED_USER_IDS: commaList,
  USER_MESSAGES_PER_MINUTE: positiveInt(10),
  CHAT_MESSAGES_PER_MINUTE: positiveInt(30),
  MAX_INPUT_CHARS: positiveInt(8_000),

  HEALTH_WINDOW_SECONDS: positiveInt(300),
  HEALTH_DEGRADED_ERROR_RATE: ratio(0.2),
  HEALTH_UNHEALTHY_ERROR_RATE: ratio(0.5),
  HEALTH_DEGRADED_RATE_LIMITS: positiveInt(5),
  HEALTH_MIN_CALLS: positiveInt(5),
  HEALTH_DEGRADED_P95_MS: positiveInt(60_000),

  SHUTDOWN_TIMEOUT_MS: positiveInt(10_000),

  ENABLE_DEVTOOLS: booleanFlag.optional(),
  DEVTOOLS_TOKEN: optionalSecret,
  DEVTOOLS_RING_SIZE: positiveInt(5_000),
  DEVTOOLS_TRACE_RETENTION: positiveInt(500),
});

type Environment = z.infer<typeof environmentSchema>;

export interface Config {
  nodeEnv: Environment['NODE_ENV'];
  port: number;
  host: string;
  logLevel: Environment['LOG_LEVEL'];
  instanceId: string;
  feishu: {
    /** False when app credentials are missing: the Feishu channel is off, devtools still works. */
    enabled: boolean;
    appId: string | undefined;
    appSecret: string | undefined;
    encryptKey: string | undefined;
    verificationToken: string | undefined;
    domain: string;
    eventMode: Environment['FEISHU_EVENT_MODE'];
    maxSkewSeconds: number;
    bodyLimitBytes: number;
  };
  model: {
    enabled: boolean;
    apiKey: string | undefined;
    baseURL: string | undefined;
    primary: string | undefined;
    fallbacks: string[];
    firstTokenTimeoutMs: number;
    totalTimeoutMs: number;
    maxRetries: number;
    maxRetryDelayMs: number;
    breakerFailures: number;
    breakerCooldownMs: number;
    maxSteps: number;
    memoryTokenBudget: number;
    memoryRetentionMs: number;
    specialistsFile: string | undefined;
  };
  store: { url: string };
  inbox: {
    dedupeTtlMs: number;
    maxConcurrentJobs: number;
    maxBacklog: number;
    leaseMs: number;
    maxAttempts: number;
    retentionMs: number;
  };
  reply: { cardUpdatesPerSecond: number };
  policy: {
    allowedChatIds: string[];
    allowedUserIds: string[];
    userMessagesPerMinute: number;
    chatMessagesPerMinute: number;
    maxInputChars: number;
  };
  health: {
    windowSeconds: number;
    degradedErrorRate: number;
    unhealthyErrorRate: number;
    degradedRateLimits: number;
    minCalls: number;
    degradedP95Ms: number;
  };
  shutdownTimeoutMs: number;
  devtools: { enabled: boolean; token: string | undefined; ringSize: number; traceRetention: number };
  /** Human sentences about features that are off, for the start-up log in development. */
  notices: string[];
  /** Every secret value, so the logger can scrub them wherever they appear. */
  secrets: string[];
}

export class ConfigError extends Error {
  readonly problems: string[];
  constructor(problems: string[]) {
    super(`Invalid configuration:\n${problems.map((problem) => `  - ${problem}`).join('\n')}`);
    this.name = 'ConfigError';
    this.problems = problems;
  }
}

/** The long-connection client silently refuses app ids of any other shape. */
const LONG_CONNECTION_APP_ID = /^cli_[0-9a-f]{16}$/;

/**
 * Parses the environment into a typed Config.
 * Throws one ConfigError that lists every problem, so an operator fixes them all in one go.
 *
 * @example
 * const config = loadConfig(process.env);
 */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const parsed = environmentSchema.safeParse(env);
  if (!parsed.success) {
    throw new ConfigError(
      parsed.error.issues.map((issue) => `${issue.path.join('.') || 'environment'}: ${issue.message}`),
    );
  }
  const e = parsed.data;
  const production = e.NODE_ENV === 'production';
  const problems: string[] = [];
  const notices: string[] = [];

  const feishuEnabled = e.FEISHU_APP_ID !== undefined && e.FEISHU_APP_SECRET !== undefined;
  if (!feishuEnabled) {
    const missing = ['FEISHU_APP_ID', 'FEISHU_APP_SECRET'].filter(
      (name) => env[name] === undefined || env[name] === '',
    );
    (production ? problems : notices).push(
      production
        ? `${missing.join(', ')}: required in production`
        : `Feishu channel off: ${missing.join(', ')} not set`,
    );
  }
  if (
    production &&
    feishuEnabled &&
    e.FEISHU_EVENT_MODE === 'webhook' &&
    e.FEISHU_ENCRYPT_KEY === undefined &&
    e.FEISHU_VERIFICATION_TOKEN === undefined
  ) {
    problems.push(
      'FEISHU_ENCRYPT_KEY or FEISHU_VERIFICATION_TOKEN: required in production webhook mode, else anyone can post events',
    );
  }
  if (
    e.FEISHU_EVENT_MODE === 'websocket' &&
    e.FEISHU_APP_ID !== undefined &&
    !LONG_CONNECTION_APP_ID.test(e.FEISHU_APP_ID)
  ) {
    problems.push('FEISHU_APP_ID: the long connection needs an id like cli_ followed by 16 hex digits');
  }

  const modelEnabled = e.MODEL !== undefined && (e.OPENAI_API_KEY !== undefined || e.OPENAI_BASE_URL !== undefined);
  if (!modelEnabled) {
    const missing: string[] = [];
    if (e.MODEL === undefined) missing.push('MODEL');
    if (e.OPENAI_API_KEY === undefined && e.OPENAI_BASE_URL === undefined) missing.push('OPENAI_API_KEY');
    (production ? problems : notices).push(
      production ? `${missing.join(', ')}: required in production` : `Agent off: ${missing.join(', ')} not set`,
    );
  }
  if (e.WEBHOOK_MAX_SKEW_SECONDS > e.DEDUPE_TTL_HOURS * 3600) {
    problems.push(
      'WEBHOOK_MAX_SKEW_SECONDS: must not exceed DEDUPE_TTL_HOURS, or an old replay outlives its dedupe key',
    );
  }
  if (e.JOB_RETENTION_HOURS < e.DEDUPE_TTL_HOURS) {
    // A finished job is the last line of dedupe once its keys expire.
    problems.push('JOB_RETENTION_HOURS: must not be below DEDUPE_TTL_HOURS');
  }
  if (e.HEALTH_UNHEALTHY_ERROR_RATE < e.HEALTH_DEGRADED_ERROR_RATE) {
    problems.push('HEALTH_UNHEALTHY_ERROR_RATE: must not be below HEALTH_DEGRADED_ERROR_RATE');
  }

  const devtoolsEnabled = e.ENABLE_DEVTOOLS ?? !production;
  if (!devtoolsEnabled) notices.push('Devtools off: set ENABLE_DEVTOOLS=true to turn them on');
  else if (e.DEVTOOLS_TOKEN === undefined)
    notices.push('Devtools answer loopback requests only: DEVTOOLS_TOKEN not set');

  if (problems.length > 0) throw new ConfigError(problems);

  const secrets = [
    e.FEISHU_APP_SECRET,
    e.FEISHU_ENCRYPT_KEY,
    e.FEISHU_VERIFICATION_TOKEN,
    e.OPENAI_API_KEY,
    e.DEVTOOLS_TOKEN,
  ].filter((value): value is string => value !== undefined && value.length >= 4);

  return {
    nodeEnv: e.NODE_ENV,
    port: e.PORT,
    host: e.HOST,
    logLevel: e.LOG_LEVEL,
    instanceId: e.INSTANCE_ID ?? `${hostname()}:${env.NODE_APP_INSTANCE ?? process.pid}`,
    feishu: {
      enabled: feishuEnabled,
      appId: e.FEISHU_APP_ID,
      appSecret: e.FEISHU_APP_SECRET,
      encryptKey: e.FEISHU_ENCRYPT_KEY,
      verificationToken: e.FEISHU_VERIFICATION_TOKEN,
      domain: e.FEISHU_DOMAIN,
      eventMode: e.FEISHU_EVENT_MODE,
      maxSkewSeconds: e.WEBHOOK_MAX_SKEW_SECONDS,
      bodyLimitBytes: e.BODY_LIMIT_BYTES,
    },
    model: {
      enabled: modelEnabled,
      apiKey: e.OPENAI_API_KEY,
      baseURL: e.OPENAI_BASE_URL,
      primary: e.MODEL,
      fallbacks: e.FALLBACK_MODELS,
      firstTokenTimeoutMs: e.MODEL_FIRST_TOKEN_TIMEOUT_MS,
      totalTimeoutMs: e.MODEL_TOTAL_TIMEOUT_MS,
      maxRetries: e.MODEL_MAX_RETRIES,
      maxRetryDelayMs: e.MODEL_MAX_RETRY_DELAY_MS,
      breakerFailures: e.CIRCUIT_BREAKER_FAILURES,
      breakerCooldownMs: e.CIRCUIT_BREAKER_COOLDOWN_MS,
      maxSteps: e.AGENT_MAX_STEPS,
      memoryTokenBudget: e.MEMORY_TOKEN_BUDGET,
      memoryRetentionMs: e.MEMORY_RETENTION_DAYS * 86_400_000,
      specialistsFile: e.SPECIALISTS_FILE,
    },
    store: { url: e.STORE_URL },
    inbox: {
      dedupeTtlMs: e.DEDUPE_TTL_HOURS * 3_600_000,
      maxConcurrentJobs: e.MAX_CONCURRENT_JOBS,
      maxBacklog: e.MAX_BACKLOG,
      leaseMs: e.JOB_LEASE_MS,
      maxAttempts: e.JOB_MAX_ATTEMPTS,
      retentionMs: e.JOB_RETENTION_HOURS * 3_600_000,
    },
    reply: { cardUpdatesPerSecond: e.CARD_UPDATES_PER_SECOND },
    policy: {
      allowedChatIds: e.ALLOWED_CHAT_IDS,
      allowedUserIds: e.ALLOWED_USER_IDS,
      userMessagesPerMinute: e.USER_MESSAGES_PER_MINUTE,
      chatMessagesPerMinute: e.CHAT_MESSAGES_PER_MINUTE,
      maxInputChars: e.MAX_INPUT_CHARS,
    },
    health: {
      windowSeconds: e.HEALTH_WINDOW_SECONDS,
      degradedErrorRate: e.HEALTH_DEGRADED_ERROR_RATE,
      unhealthyErrorRate: e.HEALTH_UNHEALTHY_ERROR_RATE,
      degradedRateLimits: e.HEALTH_DEGRADED_RATE_LIMITS,
      minCalls: e.HEALTH_MIN_CALLS,
      degradedP95Ms: e.HEALTH_DEGRADED_P95_MS,
    },
    shutdownTimeoutMs: e.SHUTDOWN_TIMEOUT_MS,
    devtools: {
      enabled: devtoolsEnabled,
      token: e.DEVTOOLS_TOKEN,
      ringSize: e.DEVTOOLS_RING_SIZE,
      traceRetention: e.DEVTOOLS_TRACE_RETENTION,
    },
    notices,
    secrets,
  };
}

/**
 * Reads `.env` into process.env (without overriding what is already set), then loads the config.
 * Node 20.12+ parses .env natively, so no dotenv dependency.
 */
export function loadConfigFromProcess(path = '.env'): Config {
  if (existsSync(path)) process.loadEnvFile(path);
  return loadConfig(process.env);
}

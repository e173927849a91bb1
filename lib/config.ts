import { existsSync } from 'node:fs';
import { hostname } from 'node:os';
import { z } from 'zod';
import { CHAT_SETTING_NAMES } from './conversation/chat-settings.js';
import { DEFAULT_APP_ID, type FeishuApp, readFeishuAppsFile } from './feishu/feishu-apps.js';
import { parseTokenKey } from './user-auth/token-cipher.js';
import { isTimeZone } from './util/time-zone.js';

/**
 * Every environment variable the bot reads, in one table. The names in the README's first
 * configuration table are a contract (deployments and tools depend on them); the rest are tuning
 * knobs whose defaults are what a production bot should run with.
 *
 * Adding a setting is one line in `SETTINGS`:
 *
 *   MY_SETTING: setting('section.property', positiveInt(42)),
 *   MY_API_KEY: secret('section.apiKey'),
 *
 * The zod schema is built from the table (every invalid value is reported at once), `Config`
 * gets `config.section.property` typed as the schema's output, and every `secret(...)` joins
 * `config.secrets`, which the logger and every redaction scrub. Then document the variable in the
 * README's configuration tables (config.test.ts fails until you do). Only a value that depends on
 * several settings needs code: declare it in `Derived` and compute it in `loadConfig`.
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
const nonNegativeNumber = (fallback: number) => z.coerce.number().finite().min(0).default(fallback);
const timeZone = (fallback: string) =>
  z
    .string()
    .default(fallback)
    .refine(isTimeZone, { message: 'must be an IANA time zone such as UTC or Asia/Shanghai' });
const ratio = (fallback: number) => z.coerce.number().min(0).max(1).default(fallback);
const hoursToMs = (hours: number) => hours * 3_600_000;
const daysToMs = (days: number) => days * 86_400_000;
/** Unset, empty and blank all mean "not set"; surrounding spaces from a .env file are dropped. */
const optionalText = z
  .string()
  .optional()
  .transform((value) => (value === undefined || value.trim() === '' ? undefined : value.trim()));

/** Unset or blank: undefined; otherwise a finite number of at least 0. */
const optionalNonNegativeNumber = optionalText
  .transform((value) => (value === undefined ? undefined : Number(value)))
  .pipe(z.number().finite().min(0).optional());

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

/** One environment variable: where its value lands in `Config` and how it is parsed. */
interface Setting<Path extends string = string, Schema extends z.ZodType = z.ZodType> {
  /** `property` for a top-level Config property, `section.property` for one inside a section. */
  readonly path: Path;
  readonly schema: Schema;
  /** A credential: scrubbed wherever it could appear (`config.secrets`). */
  readonly secret: boolean;
}

function setting<Path extends string, Schema extends z.ZodType>(path: Path, schema: Schema): Setting<Path, Schema> {
  return { path, schema, secret: false };
}

function secret<Path extends string>(path: Path): Setting<Path, typeof optionalText> {
  return { path, schema: optionalText, secret: true };
}

export const SETTINGS = {
  NODE_ENV: setting('nodeEnv', z.enum(['development', 'production', 'test']).default('development')),
  PORT: setting('port', z.coerce.number().int().min(0).max(65535).default(3000)),
  /**
   * Listen address; unset: 127.0.0.1 outside production (a newcomer's devtools stay on this
   * machine), 0.0.0.0 in production.
   */
  HOST: setting('host', optionalText),
  LOG_LEVEL: setting(
    'logLevel',
    z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  ),
  /** `pretty` (coloured, for people) or `json` (one object a line, for PM2 and CI); unset: pretty on a terminal. */
  LOG_FORMAT: setting('logFormat', z.enum(['json', 'pretty']).optional()),
  /** Label on logs, health and metrics; `host:pid` (or PM2's instance number) when unset. */
  INSTANCE_ID: setting('instanceId', z.string().min(1).optional()),

  FEISHU_APP_ID: setting('feishu.appId', optionalText),
  /**
   * JSON array of further Feishu apps this process serves, each `{ "id", "appId", "appSecret", … }`
   * (docs/operations.md, "Several Feishu apps"); the FEISHU_APP_* app, when set, is the one named `default`.
   */
  FEISHU_APPS_FILE: setting('feishu.appsFile', optionalText),
  FEISHU_APP_SECRET: secret('feishu.appSecret'),
  FEISHU_ENCRYPT_KEY: secret('feishu.encryptKey'),
  FEISHU_VERIFICATION_TOKEN: secret('feishu.verificationToken'),
  FEISHU_DOMAIN: setting('feishu.domain', feishuDomain),
  FEISHU_EVENT_MODE: setting('feishu.eventMode', z.enum(['webhook', 'websocket']).default('webhook')),
  /**
   * Webhook mode without FEISHU_ENCRYPT_KEY: events are checked by the verification token alone,
   * which travels in plain text in every event body, so anyone who saw one event can forge more.
   * Off by default: without the key (and without this) the webhook answers only Feishu's URL
   * check, and a production start is refused.
   */
  FEISHU_ALLOW_UNSIGNED_WEBHOOK: setting('feishu.allowUnsignedWebhook', booleanFlag.default(false)),
  /**
   * Seconds a signed webhook request may be old before it is rejected as a replay. Feishu
   * re-delivers for about 7.1 h (15 s, 5 min, 1 h, 6 h) and may keep the first timestamp, so a
   * shorter window could refuse a real re-delivery; a replay inside the window is a duplicate
   * that dedupe drops, which is why it may not exceed DEDUPE_TTL_HOURS.
   */
  WEBHOOK_MAX_SKEW_SECONDS: setting('feishu.maxSkewSeconds', positiveInt(26_000)),
  /** Largest webhook body accepted, in bytes (Feishu events are a few KB). */
  BODY_LIMIT_BYTES: setting('feishu.bodyLimitBytes', positiveInt(1024 * 1024)),

  OPENAI_API_KEY: secret('model.apiKey'),
  OPENAI_BASE_URL: setting('model.baseURL', z.string().url().optional()),
  MODEL: setting('model.primary', z.string().min(1).optional()),
  FALLBACK_MODELS: setting('model.fallbacks', commaList),
  MODEL_FIRST_TOKEN_TIMEOUT_MS: setting('model.firstTokenTimeoutMs', positiveInt(30_000)),
  MODEL_TOTAL_TIMEOUT_MS: setting('model.totalTimeoutMs', positiveInt(180_000)),
  MODEL_MAX_RETRIES: setting('model.maxRetries', nonNegativeInt(2)),
  /** Longest retry-after the model chain waits on one model before it falls over to the next. */
  MODEL_MAX_RETRY_DELAY_MS: setting('model.maxRetryDelayMs', positiveInt(10_000)),
  CIRCUIT_BREAKER_FAILURES: setting('model.breakerFailures', positiveInt(3)),
  /** First cooldown of an opened breaker before one probe may go; doubled per failed probe. */
  CIRCUIT_BREAKER_FIRST_COOLDOWN_MS: setting('model.breakerFirstCooldownMs', positiveInt(1_000)),
  /**
   * The longest cooldown the doubling reaches: during a long outage one probe per model goes this
   * often, and users are answered again at most this long after the provider recovers.
   */
  CIRCUIT_BREAKER_COOLDOWN_MS: setting('model.breakerCooldownMs', positiveInt(4_000)),
  AGENT_MAX_STEPS: setting('model.maxSteps', positiveInt(8)),
  MEMORY_TOKEN_BUDGET: setting('model.memoryTokenBudget', positiveInt(6_000)),
  /** A conversation nobody spoke in for this long is forgotten, so memory stays bounded. */
  MEMORY_RETENTION_DAYS: setting(
    'model.memoryRetentionMs',
    z.coerce.number().positive().default(30).transform(daysToMs),
  ),
  /** JSON file of extra specialist agents operators add without code (see docs/agents.md). */
  SPECIALISTS_FILE: setting('model.specialistsFile', z.string().min(1).optional()),
  /** Whether MODEL takes images; when it does not, turns with images go to VISION_MODEL (or get a notice). */
  MODEL_SUPPORTS_IMAGES: setting(
    'model.primarySeesImages',
    booleanFlag.optional().transform((value) => value ?? true),
  ),
  /** A model that reads images, for turns with pictures when MODEL cannot (docs/messages.md). */
  VISION_MODEL: setting('model.visionModel', optionalText),
  /** OpenAI-compatible speech-to-text model (e.g. whisper-1) for voice messages; unset: a notice instead. */
  TRANSCRIPTION_MODEL: setting('model.transcriptionModel', optionalText),
  TRANSCRIPTION_TIMEOUT_MS: setting('model.transcriptionTimeoutMs', positiveInt(60_000)),

  /** Largest file, image or voice message read, in bytes; larger ones get a notice. */
  ATTACHMENT_MAX_BYTES: setting('attachments.maxBytes', positiveInt(20_000_000)),
  /** Images of one message the model looks at; the rest get a notice. */
  ATTACHMENT_MAX_IMAGES: setting('attachments.maxImages', positiveInt(10)),
  /** One download from Feishu, waiting for the answer included. */
  ATTACHMENT_DOWNLOAD_TIMEOUT_MS: setting('attachments.downloadTimeoutMs', positiveInt(30_000)),
  /** Reading one document in the extraction worker. */
  ATTACHMENT_EXTRACT_TIMEOUT_MS: setting('attachments.extractTimeoutMs', positiveInt(20_000)),
  /** Characters of one document's text the model gets; longer ones end with what was left out. */
  ATTACHMENT_TEXT_BUDGET_CHARS: setting('attachments.textBudgetChars', positiveInt(40_000)),
  /** Characters of one document's text memory keeps for follow-up questions. */
  ATTACHMENT_MEMORY_CHARS: setting('attachments.memoryChars', positiveInt(4_000)),
  /** What an Office file may unpack to (a zip bomb is refused before it is inflated). */
  ATTACHMENT_MAX_UNZIPPED_BYTES: setting('attachments.maxUnzippedBytes', positiveInt(200_000_000)),
  /** Where downloads wait for a job's retries; unset: a folder in the system's temp directory. */
  ATTACHMENT_CACHE_DIR: setting('attachments.cacheDir', optionalText),
  /** All cached downloads together, in bytes (oldest jobs' files go first). */
  ATTACHMENT_CACHE_MAX_BYTES: setting('attachments.cacheMaxBytes', positiveInt(500_000_000)),

  /** One tool call's deadline, Feishu requests included; a slower tool answers "timed out". */
  TOOL_TIMEOUT_MS: setting('tools.timeoutMs', positiveInt(20_000)),
  /** Characters of one tool result the model gets at most; longer results end with a "truncated" note. */
  TOOL_RESULT_MAX_CHARS: setting('tools.maxResultChars', positiveInt(20_000)),
  /** Rows, records, events or documents one tool result lists at most. */
  TOOL_RESULT_MAX_ITEMS: setting('tools.maxResultItems', positiveInt(100)),
  /** Tools the manager calls itself (comma list of names, docs/tools.md); unset: currentTime, readDocument, getUser, readWebPage (and webSearch with a search provider). */
  MANAGER_TOOLS: setting(
    'tools.managerTools',
    z
      .string()
      .optional()
      .transform((value) =>
        value === undefined
          ? undefined
          : value
              .split(',')
              .map((item) => item.trim())
              .filter((item) => item.length > 0),
      ),
  ),
  /** Senders' display names (Feishu contacts) are cached this long, then looked up again. */
  USER_NAME_CACHE_MINUTES: setting(
    'tools.userNameCacheMs',
    z.coerce
      .number()
      .positive()
      .default(60)
      .transform((minutes) => minutes * 60_000),
  ),

  /** Web search behind the `webSearch` tool: `tavily`, `brave` or `searxng`; unset: web search is off. */
  SEARCH_PROVIDER: setting('search.provider', z.enum(['tavily', 'brave', 'searxng']).optional()),
  /** The provider's API key (required for tavily and brave). */
  SEARCH_API_KEY: secret('search.apiKey'),
  /** The provider's base URL: required for searxng (your instance), optional for the others (a proxy). */
  SEARCH_BASE_URL: setting('search.baseURL', z.string().url().optional()),
  /** Results one web search lists at most. */
  SEARCH_MAX_RESULTS: setting('search.maxResults', z.coerce.number().int().min(1).max(20).default(5)),
  /** One page fetch by `readWebPage`, redirects included (within TOOL_TIMEOUT_MS). */
  FETCH_TIMEOUT_MS: setting('fetch.timeoutMs', positiveInt(10_000)),
  /** Bytes of a fetched page read at most (after decompression); the rest is never downloaded. */
  FETCH_MAX_BYTES: setting('fetch.maxBytes', positiveInt(2_000_000)),
  /**
   * Host names `readWebPage` may fetch although they resolve to private addresses (an intranet
   * the operator opens on purpose); everything else private, loopback or link-local is refused.
   */
  FETCH_ALLOW_PRIVATE_HOSTS: setting('fetch.allowPrivateHosts', commaList),

  /**
   * What the bot sees of a group's discussion it was not mentioned in, when it is mentioned:
   * `on-demand` reads the newest messages from Feishu then, `stored` keeps them as they arrive
   * (needs the group-message scope, so Feishu sends every group message), `off` sees only its own
   * conversation. Each chat's admins may choose otherwise (docs/groups.md).
   */
  GROUP_CONTEXT: setting('groups.context', z.enum(['on-demand', 'stored', 'off']).default('on-demand')),
  /** Messages of that discussion given to the model at most. */
  GROUP_CONTEXT_MAX_MESSAGES: setting('groups.contextMaxMessages', positiveInt(30)),
  /** Estimated tokens of that discussion given to the model at most (the newest part is kept). */
  GROUP_CONTEXT_TOKEN_BUDGET: setting('groups.contextTokenBudget', positiveInt(1_500)),
  /** Instructions every chat gets unless its admins set their own persona (`/config persona`). */
  CHAT_DEFAULT_PERSONA: setting('groups.defaultPersona', optionalText),
  /** The language the bot answers in unless a chat chooses: `auto` follows the user's message. */
  CHAT_DEFAULT_LANGUAGE: setting('groups.defaultLanguage', z.enum(['auto', 'zh', 'en']).default('auto')),
  /** Models a chat's admins may choose (`/config model`); unset: MODEL and FALLBACK_MODELS. */
  CHAT_ALLOWED_MODELS: setting('groups.allowedModels', commaList),
  /** Chat settings no chat may change (comma list of persona, language, model, tools, specialists, context, user-reads). */
  CHAT_LOCKED_SETTINGS: setting('groups.lockedSettings', commaList),
  /** After the bot is removed from a chat, that chat's memory and settings are deleted after this. */
  CHAT_STATE_RETENTION_DAYS: setting(
    'groups.removedChatRetentionMs',
    z.coerce.number().min(0).default(7).transform(daysToMs),
  ),
  /** IANA time zone schedules are read and shown in, for chats that set none (`/schedules timezone`). */
  SCHEDULE_TIME_ZONE: setting('schedules.defaultTimeZone', timeZone('Asia/Shanghai')),
  /** Schedules one chat may hold at most. */
  /** How long a change a write tool asked to make waits for Approve / Deny before it expires. */
  APPROVAL_TIMEOUT_MINUTES: setting('approvals.timeoutMinutes', positiveInt(60)),
  SCHEDULES_PER_CHAT: setting('schedules.maxPerChat', positiveInt(20)),
  /** A due time missed by more than this (the service was down) is skipped with a note, not run late. */
  SCHEDULE_MAX_LATE_MINUTES: setting(
    'schedules.maxLateMs',
    z.coerce
      .number()
      .positive()
      .default(60)
      .transform((minutes) => minutes * 60_000),
  ),
  /** A repeating schedule may not fire more often than this. */
  SCHEDULE_MIN_INTERVAL_MINUTES: setting(
    'schedules.minIntervalMs',
    z.coerce
      .number()
      .positive()
      .default(15)
      .transform((minutes) => minutes * 60_000),
  ),
  /** Runs (ran or skipped) remembered per schedule. */
  SCHEDULE_RUN_HISTORY: setting('schedules.maxRuns', positiveInt(20)),
  /** How often each instance asks the store for due schedules. */
  SCHEDULE_POLL_SECONDS: setting(
    'schedules.pollMs',
    z.coerce
      .number()
      .positive()
      .default(15)
      .transform((s) => s * 1000),
  ),
  /**
   * Bearer token of POST /api/notify (at least 32 characters); unset: the endpoint is off.
   * Other systems use it to post into a chat through the bot (docs/schedules.md).
   */
  NOTIFY_TOKEN: secret('notify.token'),
  /** Largest POST /api/notify body, in bytes. */
  NOTIFY_BODY_LIMIT_BYTES: setting('notify.bodyLimitBytes', positiveInt(16 * 1024)),

  /**
   * JSON file of MCP servers whose tools the agents get (`{ "mcpServers": { "name": { "command", "args", "env" } | { "url", "headers" } } }`,
   * docs/tools.md); a bad file stops the start with a message naming every problem.
   */
  MCP_SERVERS_FILE: setting('mcp.serversFile', z.string().min(1).optional()),
  /** Connecting to one MCP server and listing its tools, per attempt. */
  MCP_CONNECT_TIMEOUT_MS: setting('mcp.connectTimeoutMs', positiveInt(10_000)),
  /** Longest pause between attempts to restart a crashed or unreachable MCP server (doubling from 0.5 s). */
  MCP_RESTART_MAX_DELAY_MS: setting('mcp.restartMaxDelayMs', positiveInt(60_000)),
  /** Bytes one message from an MCP server (a tool result) may have; a larger one drops the connection. */
  MCP_MAX_MESSAGE_BYTES: setting('mcp.maxMessageBytes', positiveInt(4_000_000)),

  STORE_URL: setting('store.url', storeUrl),
  DEDUPE_TTL_HOURS: setting('inbox.dedupeTtlMs', z.coerce.number().min(12).default(24).transform(hoursToMs)),
  /**
   * Hard ceiling of agent runs at once. Below it the limit adapts (starts at 16 per model, grows
   * while the provider accepts requests, halves on a 429): the work is almost all waiting on the
   * network, and the provider's rate limits are the real bound.
   */
  MAX_CONCURRENT_JOBS: setting('inbox.maxConcurrentJobs', positiveInt(64)),
  MAX_BACKLOG: setting('inbox.maxBacklog', positiveInt(500)),
  JOB_LEASE_MS: setting('inbox.leaseMs', positiveInt(60_000)),
  JOB_MAX_ATTEMPTS: setting('inbox.maxAttempts', positiveInt(3)),
  /** Finished jobs (and dead letters) are deleted after this; at least DEDUPE_TTL_HOURS. */
  JOB_RETENTION_HOURS: setting('inbox.retentionMs', z.coerce.number().positive().default(72).transform(hoursToMs)),

  CARD_UPDATES_PER_SECOND: setting('reply.cardUpdatesPerSecond', z.coerce.number().positive().max(10).default(4)),
  ALLOWED_CHAT_IDS: setting('policy.allowedChatIds', commaList),
  ALLOWED_USER_IDS: setting('policy.allowedUserIds', commaList),
  USER_MESSAGES_PER_MINUTE: setting('policy.userMessagesPerMinute', positiveInt(10)),
  CHAT_MESSAGES_PER_MINUTE: setting('policy.chatMessagesPerMinute', positiveInt(30)),
  MAX_INPUT_CHARS: setting('policy.maxInputChars', positiveInt(8_000)),

  /** JSON `{ "<model>": { "inputPerMillion", "outputPerMillion" } }` (USD) over the built-in list prices. */
  MODEL_PRICES_FILE: setting('cost.pricesFile', optionalText),
  /** Daily budgets in USD of estimated model cost; 0 (the default) means none. */
  DAILY_BUDGET_USD_PER_CHAT: setting('cost.dailyBudgetPerChatUsd', nonNegativeNumber(0)),
  DAILY_BUDGET_USD_PER_USER: setting('cost.dailyBudgetPerUserUsd', nonNegativeNumber(0)),
  /**
   * The highest daily budgets a chat's admins may set with `/config`; 0: no ceiling. Unset: the
   * budgets above, so admins may only lower them.
   */
  DAILY_BUDGET_MAX_USD_PER_CHAT: setting('cost.maxDailyBudgetPerChatUsd', optionalNonNegativeNumber),
  DAILY_BUDGET_MAX_USD_PER_USER: setting('cost.maxDailyBudgetPerUserUsd', optionalNonNegativeNumber),
  /** Where the budget day starts and ends (an IANA zone such as Asia/Shanghai). */
  BUDGET_TIME_ZONE: setting('cost.timeZone', timeZone('UTC')),

  HEALTH_WINDOW_SECONDS: setting('health.windowSeconds', positiveInt(300)),
  HEALTH_DEGRADED_ERROR_RATE: setting('health.degradedErrorRate', ratio(0.2)),
  HEALTH_UNHEALTHY_ERROR_RATE: setting('health.unhealthyErrorRate', ratio(0.5)),
  HEALTH_DEGRADED_RATE_LIMITS: setting('health.degradedRateLimits', positiveInt(5)),
  HEALTH_MIN_CALLS: setting('health.minCalls', positiveInt(5)),
  HEALTH_DEGRADED_P95_MS: setting('health.degradedP95Ms', positiveInt(60_000)),
  /**
   * How long conditions must stay clear (by the recovery margin) before the status gets better;
   * unset: a quarter of the window, at most 30 s, so a short window is not held for half of it.
   */
  HEALTH_RECOVERY_HOLD_SECONDS: setting('health.recoveryHoldSeconds', z.coerce.number().min(0).optional()),

  SHUTDOWN_TIMEOUT_MS: setting('shutdownTimeoutMs', positiveInt(10_000)),
  /** Unhandled rejections within UNHANDLED_REJECTION_WINDOW_MS that count as a crash (drain, exit 1). */
  FATAL_UNHANDLED_REJECTIONS: setting('process.fatalUnhandledRejections', positiveInt(10)),
  UNHANDLED_REJECTION_WINDOW_MS: setting('process.unhandledRejectionWindowMs', positiveInt(60_000)),

  /**
   * Node's HTTP server. A request (headers and body) must arrive within HTTP_REQUEST_TIMEOUT_MS
   * and its headers within HTTP_HEADERS_TIMEOUT_MS, so a slow client cannot hold a connection for
   * Node's default five minutes; an idle keep-alive connection closes after
   * HTTP_KEEP_ALIVE_TIMEOUT_MS; connections beyond HTTP_MAX_CONNECTIONS are refused, so a flood
   * cannot use up the process's file descriptors.
   */
  HTTP_REQUEST_TIMEOUT_MS: setting('http.requestTimeoutMs', positiveInt(15_000)),
  HTTP_HEADERS_TIMEOUT_MS: setting('http.headersTimeoutMs', positiveInt(10_000)),
  HTTP_KEEP_ALIVE_TIMEOUT_MS: setting('http.keepAliveTimeoutMs', positiveInt(5_000)),
  HTTP_MAX_CONNECTIONS: setting('http.maxConnections', positiveInt(512)),

  /** On outside production when unset. */
  ENABLE_DEVTOOLS: setting('devtools.enabled', booleanFlag.optional()),
  DEVTOOLS_TOKEN: secret('devtools.token'),

  /**
   * Per-person Feishu authorization, for tools that read as the asking user: on when
   * TOKEN_ENCRYPTION_KEY and PUBLIC_BASE_URL are set (and the Feishu channel is on), for every
   * app. Feishu's consent page sends the person back to `${PUBLIC_BASE_URL}/oauth/callback` (the
   * default app's) or `${PUBLIC_BASE_URL}/oauth/<id>/callback` (another app of FEISHU_APPS_FILE),
   * which must be in that app's redirect URLs.
   */
  PUBLIC_BASE_URL: setting('userAuth.publicBaseUrl', z.string().url().optional()),
  /** 32 bytes (64 hex characters or base64) sealing every stored user token with AES-256-GCM. */
  TOKEN_ENCRYPTION_KEY: secret('userAuth.tokenKey'),
  /**
   * Answer with what only the asker may see in group chats too (default: direct chats only); the
   * default for every chat, which a group's admins may change (`/config user-reads`) unless locked.
   */
  USER_AUTH_IN_GROUPS: setting('userAuth.allowInGroups', booleanFlag.default(false)),
  DEVTOOLS_RING_SIZE: setting('devtools.ringSize', positiveInt(5_000)),
  DEVTOOLS_TRACE_RETENTION: setting('devtools.traceRetention', positiveInt(500)),
} satisfies Record<string, Setting>;

type Settings = typeof SETTINGS;
type PathOf<Name extends keyof Settings> = Settings[Name]['path'];
type ValueOf<Name extends keyof Settings> = z.output<Settings[Name]['schema']>;
type SectionName = {
  [Name in keyof Settings]: PathOf<Name> extends `${infer Section}.${string}` ? Section : never;
}[keyof Settings];

/** Config as the table alone makes it: `property` paths at the top, `section.property` one level down. */
type FromTable = {
  [Name in keyof Settings as PathOf<Name> extends `${string}.${string}` ? never : PathOf<Name>]: ValueOf<Name>;
} & {
  [Section in SectionName]: {
    [Name in keyof Settings as PathOf<Name> extends `${Section}.${infer Property}` ? Property : never]: ValueOf<Name>;
  };
};

/** Values that follow from several settings together; each replaces the table's property of that name. */
interface Derived {
  /** HOST, else 127.0.0.1 outside production and 0.0.0.0 in production. */
  host: string;
  /** INSTANCE_ID, else `host:instance` (PM2's NODE_APP_INSTANCE, else the pid). */
  instanceId: string;
  /**
   * False when no app has credentials: the Feishu channel is off, devtools still works. `apps`:
   * every app served, the FEISHU_APP_* one (id `default`) first, then FEISHU_APPS_FILE's.
   */
  feishu: { enabled: boolean; apps: FeishuApp[] };
  /** False without MODEL and an OPENAI_API_KEY or OPENAI_BASE_URL: the agent is off. */
  model: { enabled: boolean };
  /** ENABLE_DEVTOOLS, else on outside production. */
  devtools: { enabled: boolean };
  /** TOKEN_ENCRYPTION_KEY and PUBLIC_BASE_URL set, and the Feishu channel on. */
  userAuth: { enabled: boolean };
  /** Human sentences about features that are off, for the start-up log in development. */
  notices: string[];
  /** Every secret value, so the logger can scrub them wherever they appear. */
  secrets: string[];
}

type Flatten<T> = { [Key in keyof T]: T[Key] } & {};
type Overlay<Base, Top> = Flatten<{
  [Key in keyof Base | keyof Top]: Key extends keyof Top
    ? Key extends keyof Base
      ? Top[Key] extends readonly unknown[] | string | number | boolean
        ? Top[Key]
        : Flatten<Omit<Base[Key], keyof Top[Key]> & Top[Key]>
      : Top[Key]
    : Key extends keyof Base
      ? Base[Key]
      : never;
}>;

/** The whole configuration: every row of `SETTINGS` at its path, plus `Derived`. */
export type Config = Overlay<FromTable, Derived>;

const environmentSchema = z.object(
  Object.fromEntries(Object.entries(SETTINGS).map(([name, { schema }]) => [name, schema])),
);

/** Puts each parsed value at its setting's path. */
function arrange(values: Record<string, unknown>): FromTable {
  const config: Record<string, unknown> = {};
  for (const [name, { path }] of Object.entries(SETTINGS)) {
    const dot = path.indexOf('.');
    if (dot < 0) {
      config[path] = values[name];
      continue;
    }
    const sectionName = path.slice(0, dot);
    const section = (config[sectionName] as Record<string, unknown> | undefined) ?? {};
    section[path.slice(dot + 1)] = values[name];
    config[sectionName] = section;
  }
  // Built from SETTINGS row by row, exactly as FromTable reads the same rows.
  return config as FromTable;
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

/** A shorter NOTIFY_TOKEN could be guessed. */
export const MIN_NOTIFY_TOKEN_LENGTH = 32;

/** A shorter DEVTOOLS_TOKEN could be guessed; `openssl rand -hex 32` gives 64 characters. */
export const MIN_DEVTOOLS_TOKEN_LENGTH = 32;

/**
 * Host names the server can bind to that only this machine reaches. Other loopback addresses
 * (127.0.0.2, …) are left out on purpose: refusing a rare but safe setup costs less than
 * trusting an unusual one.
 */
export function isLoopbackHost(host: string): boolean {
  return host === '127.0.0.1' || host === '::1' || host === 'localhost';
}

/** How the security checks name an app's settings: env variables, or fields of an apps-file entry. */
interface AppSettingNames {
  appId: string;
  encryptKey: string;
  verificationToken: string;
  /** The opt-in as written to turn it on. */
  allowUnsigned: string;
}

const ENV_APP_NAMES: AppSettingNames = {
  appId: 'FEISHU_APP_ID',
  encryptKey: 'FEISHU_ENCRYPT_KEY',
  verificationToken: 'FEISHU_VERIFICATION_TOKEN',
  allowUnsigned: 'FEISHU_ALLOW_UNSIGNED_WEBHOOK=true',
};

function fileAppNames(app: string): AppSettingNames {
  return {
    appId: `${app}: appId`,
    encryptKey: `${app}: encryptKey`,
    verificationToken: `${app}: verificationToken`,
    allowUnsigned: `${app}: "allowUnsignedWebhook": true`,
  };
}

/**
 * The same rules for every app: a webhook is signed (encrypt key) or runs unsigned only by
 * opt-in (with a verification token in production); a long connection needs a well-formed app id.
 */
function appSecurityChecks(
  app: FeishuApp,
  {
    production,
    problems,
    notices,
    names,
  }: { production: boolean; problems: string[]; notices: string[]; names: AppSettingNames },
): void {
  if (app.eventMode === 'webhook' && app.encryptKey === undefined) {
    if (app.allowUnsignedWebhook) {
      notices.push(
        `Webhook unsigned (${names.allowUnsigned}): events are checked by the verification token alone, ` +
          `which travels in every event body, so anyone who saw one event can forge others; set ${names.encryptKey}`,
      );
      if (production && app.verificationToken === undefined) {
        problems.push(`${names.verificationToken}: required with ${names.allowUnsigned}, else anyone can post events`);
      }
    } else if (production) {
      problems.push(
        `${names.encryptKey}: required in webhook mode, so Feishu signs every event (the Encrypt Key under ` +
          `Events & Callbacks → Encryption Strategy); ${names.allowUnsigned} runs on the forgeable verification token alone`,
      );
    } else {
      notices.push(
        `Webhook refuses every event but the URL check: ${names.encryptKey} not set ` +
          `(or ${names.allowUnsigned} to run on the verification token alone)`,
      );
    }
  }
  if (app.eventMode === 'websocket' && !LONG_CONNECTION_APP_ID.test(app.appId)) {
    problems.push(`${names.appId}: the long connection needs an id like cli_ followed by 16 hex digits`);
  }
}

/** Configured secrets shorter than this are not worth scrubbing (they would hit ordinary words). */
const MIN_SECRET_LENGTH = 4;

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
  const settings = arrange(parsed.data);
  const { feishu, model, inbox, health, http } = settings;
  const production = settings.nodeEnv === 'production';
  const host = settings.host ?? (production ? '0.0.0.0' : '127.0.0.1');
  const problems: string[] = [];
  const notices: string[] = [];

  const envAppSet = feishu.appId !== undefined && feishu.appSecret !== undefined;
  const fromFile =
    feishu.appsFile === undefined
      ? { apps: [], problems: [] }
      : readFeishuAppsFile(feishu.appsFile, { defaultEventMode: feishu.eventMode });
  problems.push(...fromFile.problems);
  if (envAppSet && fromFile.apps.some((app) => app.id === DEFAULT_APP_ID)) {
    problems.push(
      `FEISHU_APPS_FILE: the id "${DEFAULT_APP_ID}" names the FEISHU_APP_ID app; unset FEISHU_APP_ID or rename the file's app`,
    );
  }
  if (envAppSet && fromFile.apps.some((app) => app.appId === feishu.appId)) {
    problems.push(`FEISHU_APPS_FILE: appId "${feishu.appId}" is FEISHU_APP_ID already`);
  }
  const apps: FeishuApp[] = [
    ...(envAppSet && feishu.appId !== undefined && feishu.appSecret !== undefined
      ? [
          {
            id: DEFAULT_APP_ID,
            appId: feishu.appId,
            appSecret: feishu.appSecret,
            encryptKey: feishu.encryptKey,
            verificationToken: feishu.verificationToken,
            allowUnsignedWebhook: feishu.allowUnsignedWebhook,
            eventMode: feishu.eventMode,
            persona: undefined,
            allowedChatIds: undefined,
            allowedUserIds: undefined,
          },
        ]
      : []),
    ...fromFile.apps,
  ];
  const feishuEnabled = apps.length > 0;
  if (!envAppSet && feishu.appsFile === undefined) {
    const missing = ['FEISHU_APP_ID', 'FEISHU_APP_SECRET'].filter(
      (name) => env[name] === undefined || env[name] === '',
    );
    (production ? problems : notices).push(
      production
        ? `${missing.join(', ')}: required in production (or FEISHU_APPS_FILE)`
        : `Feishu channel off: ${missing.join(', ')} not set`,
    );
  }
  for (const app of apps) {
    appSecurityChecks(app, {
      production,
      problems,
      notices,
      names: app.id === DEFAULT_APP_ID && envAppSet ? ENV_APP_NAMES : fileAppNames(`FEISHU_APPS_FILE app "${app.id}"`),
    });
  }

  const modelEnabled = model.primary !== undefined && (model.apiKey !== undefined || model.baseURL !== undefined);
  if (!modelEnabled) {
    const missing: string[] = [];
    if (model.primary === undefined) missing.push('MODEL');
    if (model.apiKey === undefined && model.baseURL === undefined) missing.push('OPENAI_API_KEY');
    (production ? problems : notices).push(
      production ? `${missing.join(', ')}: required in production` : `Agent off: ${missing.join(', ')} not set`,
    );
  }
  if (feishu.maxSkewSeconds * 1000 > inbox.dedupeTtlMs) {
    problems.push(
      'WEBHOOK_MAX_SKEW_SECONDS: must not exceed DEDUPE_TTL_HOURS, or an old replay outlives its dedupe key',
    );
  }
  if (inbox.retentionMs < inbox.dedupeTtlMs) {
    // A finished job is the last line of dedupe once its keys expire.
    problems.push('JOB_RETENTION_HOURS: must not be below DEDUPE_TTL_HOURS');
  }
  if (health.unhealthyErrorRate < health.degradedErrorRate) {
    problems.push('HEALTH_UNHEALTHY_ERROR_RATE: must not be below HEALTH_DEGRADED_ERROR_RATE');
  }

  const { search } = settings;
  if ((search.provider === 'tavily' || search.provider === 'brave') && search.apiKey === undefined) {
    problems.push(`SEARCH_API_KEY: required with SEARCH_PROVIDER=${search.provider}`);
  }
  if (search.provider === 'searxng' && search.baseURL === undefined) {
    problems.push(
      'SEARCH_BASE_URL: required with SEARCH_PROVIDER=searxng (your instance, e.g. http://searx.internal:8080)',
    );
  }
  if (search.provider === undefined && (search.apiKey !== undefined || search.baseURL !== undefined)) {
    problems.push('SEARCH_PROVIDER: required when SEARCH_API_KEY or SEARCH_BASE_URL is set (tavily, brave or searxng)');
  }

  const settingNames: readonly string[] = CHAT_SETTING_NAMES;
  const unknownLocks = settings.groups.lockedSettings.filter((name) => !settingNames.includes(name));
  if (unknownLocks.length > 0) {
    problems.push(`CHAT_LOCKED_SETTINGS: unknown ${unknownLocks.join(', ')} (settings: ${settingNames.join(', ')})`);
  }

  if (http.headersTimeoutMs > http.requestTimeoutMs) {
    problems.push(
      'HTTP_HEADERS_TIMEOUT_MS: must not exceed HTTP_REQUEST_TIMEOUT_MS (the headers are part of the request)',
    );
  }

  const devtoolsEnabled = settings.devtools.enabled ?? !production;
  const devtoolsToken = settings.devtools.token;
  const notifyToken = settings.notify.token;
  if (notifyToken !== undefined && notifyToken.length < MIN_NOTIFY_TOKEN_LENGTH) {
    problems.push(
      `NOTIFY_TOKEN: must be at least ${MIN_NOTIFY_TOKEN_LENGTH} characters (for example: openssl rand -hex 32)`,
    );
  }
  if (devtoolsToken !== undefined && devtoolsToken.length < MIN_DEVTOOLS_TOKEN_LENGTH) {
    problems.push(
      `DEVTOOLS_TOKEN: must be at least ${MIN_DEVTOOLS_TOKEN_LENGTH} characters (for example: openssl rand -hex 32)`,
    );
  }
  if (!devtoolsEnabled) notices.push('Devtools off: set ENABLE_DEVTOOLS=true to turn them on');
  else if (devtoolsToken === undefined && !isLoopbackHost(host)) {
    // Bound beyond loopback, a proxy, tunnel or port forward on this host delivers outsiders from
    // 127.0.0.1, so the loopback pass is off and only the token lets anyone in.
    problems.push(
      `DEVTOOLS_TOKEN: required while devtools are on and HOST=${host} is not a loopback address; ` +
        'set DEVTOOLS_TOKEN, or HOST=127.0.0.1, or ENABLE_DEVTOOLS=false',
    );
  } else if (devtoolsToken === undefined) {
    notices.push('Devtools answer loopback requests only: DEVTOOLS_TOKEN not set');
  }

  const { userAuth } = settings;
  if (userAuth.tokenKey !== undefined) {
    try {
      parseTokenKey(userAuth.tokenKey);
    } catch (error) {
      problems.push((error as Error).message);
    }
  }
  if ((userAuth.tokenKey === undefined) !== (userAuth.publicBaseUrl === undefined)) {
    problems.push(
      userAuth.tokenKey === undefined
        ? 'TOKEN_ENCRYPTION_KEY: required with PUBLIC_BASE_URL (per-person authorization stores tokens only encrypted)'
        : 'PUBLIC_BASE_URL: required with TOKEN_ENCRYPTION_KEY (Feishu sends people back to <PUBLIC_BASE_URL>/oauth/callback, or /oauth/<id>/callback for another app)',
    );
  }
  if (production && userAuth.publicBaseUrl?.startsWith('http://')) {
    problems.push('PUBLIC_BASE_URL: must be https:// in production (authorization codes travel in it)');
  }
  const userAuthEnabled = feishuEnabled && userAuth.tokenKey !== undefined && userAuth.publicBaseUrl !== undefined;
  if (feishuEnabled && !userAuthEnabled) {
    notices.push(
      'Per-person authorization off: tools that read as the asking user say they need TOKEN_ENCRYPTION_KEY and PUBLIC_BASE_URL',
    );
  }

  if (problems.length > 0) throw new ConfigError(problems);

  const secrets = [
    ...Object.entries(SETTINGS)
      .filter(([, row]) => row.secret)
      .map(([name]) => parsed.data[name]),
    ...fromFile.apps.flatMap((app) => [app.appSecret, app.encryptKey, app.verificationToken]),
  ].filter((value): value is string => typeof value === 'string' && value.length >= MIN_SECRET_LENGTH);

  return {
    ...settings,
    host,
    instanceId: settings.instanceId ?? `${hostname()}:${env.NODE_APP_INSTANCE ?? process.pid}`,
    feishu: { ...feishu, enabled: feishuEnabled, apps },
    model: { ...model, enabled: modelEnabled },
    devtools: { ...settings.devtools, enabled: devtoolsEnabled },
    userAuth: { ...userAuth, enabled: userAuthEnabled },
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

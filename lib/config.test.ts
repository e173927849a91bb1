import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig, SETTINGS } from './config.js';

const productionEnvironment = {
  NODE_ENV: 'production',
  FEISHU_APP_ID: 'cli_0123456789abcdef',
  FEISHU_APP_SECRET: 'app-secret-value',
  FEISHU_ENCRYPT_KEY: 'encrypt-key-value',
  OPENAI_API_KEY: 'sk-test-key',
  MODEL: 'gpt-4o-mini',
};

describe('loadConfig', () => {
  it('starts in development with nothing set and says what is off', () => {
    const config = loadConfig({});
    expect(config.nodeEnv).toBe('development');
    expect(config.port).toBe(3000);
    // Only this machine reaches a newcomer's devtools, so they need no token.
    expect(config.host).toBe('127.0.0.1');
    expect(config.store.url).toBe('sqlite:./data/bot.db');
    expect(config.feishu.enabled).toBe(false);
    expect(config.model.enabled).toBe(false);
    expect(config.devtools.enabled).toBe(true);
    expect(config.notices).toContain('Feishu channel off: FEISHU_APP_ID, FEISHU_APP_SECRET not set');
    expect(config.notices.some((notice) => notice.startsWith('Agent off: MODEL'))).toBe(true);
  });

  it('names every missing production setting in one error', () => {
    let thrown: unknown;
    try {
      loadConfig({ NODE_ENV: 'production' });
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toBeInstanceOf(ConfigError);
    const message = (thrown as ConfigError).message;
    expect(message).toContain('FEISHU_APP_ID');
    expect(message).toContain('FEISHU_APP_SECRET');
    expect(message).toContain('MODEL');
    expect(message).toContain('OPENAI_API_KEY');
    expect((thrown as ConfigError).problems.length).toBeGreaterThanOrEqual(2);
  });

  it('lists every invalid value at once, not just the first', () => {
    expect(() => loadConfig({ PORT: 'eighty', FEISHU_EVENT_MODE: 'carrier-pigeon', STORE_URL: 'mysql://x' })).toThrow(
      /PORT[\s\S]*FEISHU_EVENT_MODE[\s\S]*STORE_URL|PORT[\s\S]*STORE_URL[\s\S]*FEISHU_EVENT_MODE/,
    );
  });

  it('accepts a complete production configuration and turns devtools off by default', () => {
    const config = loadConfig(productionEnvironment);
    expect(config.feishu.enabled).toBe(true);
    expect(config.model.enabled).toBe(true);
    expect(config.devtools.enabled).toBe(false);
    expect(config.secrets).toEqual(expect.arrayContaining(['app-secret-value', 'encrypt-key-value', 'sk-test-key']));
  });

  it('refuses a production webhook without FEISHU_ENCRYPT_KEY unless unsigned is opted into, in one message', () => {
    const { FEISHU_ENCRYPT_KEY: _unused, ...keyless } = productionEnvironment;
    const withoutKey = { ...keyless, FEISHU_VERIFICATION_TOKEN: 'verification-token' };
    let problems: string[] = [];
    try {
      loadConfig(withoutKey);
    } catch (error) {
      problems = error instanceof ConfigError ? error.problems : [];
    }
    // The verification token alone is no longer enough: it travels in every event body.
    expect(withoutKey.FEISHU_VERIFICATION_TOKEN).toBeDefined();
    expect(problems).toHaveLength(1);
    expect(problems[0]).toMatch(/^FEISHU_ENCRYPT_KEY: required in webhook mode/);
    expect(problems[0]).toContain('FEISHU_ALLOW_UNSIGNED_WEBHOOK=true');
    expect(() => loadConfig({ ...withoutKey, FEISHU_EVENT_MODE: 'websocket' })).not.toThrow();

    const optedIn = loadConfig({ ...withoutKey, FEISHU_ALLOW_UNSIGNED_WEBHOOK: 'true' });
    expect(optedIn.feishu.allowUnsignedWebhook).toBe(true);
    // The start-up warning (bot.ts logs every notice as a warning).
    expect(optedIn.notices.join('\n')).toMatch(/Webhook unsigned \(FEISHU_ALLOW_UNSIGNED_WEBHOOK=true\)/);
    const { FEISHU_VERIFICATION_TOKEN: _token, ...nothing } = withoutKey;
    expect(() => loadConfig({ ...nothing, FEISHU_ALLOW_UNSIGNED_WEBHOOK: 'true' })).toThrow(
      /FEISHU_VERIFICATION_TOKEN: required with FEISHU_ALLOW_UNSIGNED_WEBHOOK/,
    );
  });

  it('starts outside production without the key, with a warning that the webhook refuses events', () => {
    const config = loadConfig({ FEISHU_APP_ID: 'cli_a', FEISHU_APP_SECRET: 's', FEISHU_VERIFICATION_TOKEN: 't' });
    expect(config.feishu.allowUnsignedWebhook).toBe(false);
    expect(config.notices.join('\n')).toContain('Webhook refuses every event but the URL check: FEISHU_ENCRYPT_KEY');
  });

  it('rejects an app id the long connection would silently refuse', () => {
    expect(() =>
      loadConfig({ FEISHU_APP_ID: 'my-app', FEISHU_APP_SECRET: 's', FEISHU_EVENT_MODE: 'websocket' }),
    ).toThrow(/cli_ followed by 16 hex digits/);
  });

  it('parses lists, flags and domains', () => {
    const config = loadConfig({
      FALLBACK_MODELS: ' gpt-4o-mini , deepseek-chat ,,',
      ENABLE_DEVTOOLS: 'false',
      FEISHU_DOMAIN: 'http://127.0.0.1:9000',
      ALLOWED_CHAT_IDS: 'oc_1,oc_2',
    });
    expect(config.model.fallbacks).toEqual(['gpt-4o-mini', 'deepseek-chat']);
    expect(config.devtools.enabled).toBe(false);
    expect(config.feishu.domain).toBe('http://127.0.0.1:9000');
    expect(config.policy.allowedChatIds).toEqual(['oc_1', 'oc_2']);
    expect(() => loadConfig({ FEISHU_DOMAIN: 'not a url' })).toThrow(/FEISHU_DOMAIN/);
  });

  it('keeps dedupe keys at least 12 hours', () => {
    expect(() => loadConfig({ DEDUPE_TTL_HOURS: '1' })).toThrow(/DEDUPE_TTL_HOURS/);
    expect(loadConfig({}).inbox.dedupeTtlMs).toBe(24 * 3_600_000);
    expect(loadConfig({}).inbox.retentionMs).toBe(72 * 3_600_000);
    // Feishu re-delivers for about 7.1 h; a replay inside the window is caught by dedupe.
    expect(loadConfig({}).feishu.maxSkewSeconds).toBeGreaterThan(7.1 * 3600);
    expect(() => loadConfig({ WEBHOOK_MAX_SKEW_SECONDS: String(25 * 3600) })).toThrow(/WEBHOOK_MAX_SKEW_SECONDS/);
    expect(() => loadConfig({ DEDUPE_TTL_HOURS: '48', JOB_RETENTION_HOURS: '24' })).toThrow(/JOB_RETENTION_HOURS/);
  });

  it('puts every setting at its path in Config, parsed by its own schema', () => {
    // Every variable set, so no derived default stands in for one of them.
    const environment: Record<string, string> = {
      ...productionEnvironment,
      FEISHU_VERIFICATION_TOKEN: 'verification-token-value',
      INSTANCE_ID: 'bot-7',
      HOST: '0.0.0.0',
      ENABLE_DEVTOOLS: 'true',
      DEVTOOLS_TOKEN: 'd'.repeat(32),
      NOTIFY_TOKEN: 'n'.repeat(32),
      FALLBACK_MODELS: 'gpt-4o-mini,deepseek-chat',
      MEMORY_RETENTION_DAYS: '2',
      DEDUPE_TTL_HOURS: '30',
      SPECIALISTS_FILE: 'specialists.json',
      SEARCH_PROVIDER: 'tavily',
      SEARCH_API_KEY: 'search-api-key-value',
      SEARCH_BASE_URL: 'https://search-proxy.example.com',
      PUBLIC_BASE_URL: 'https://bot.example.com',
      TOKEN_ENCRYPTION_KEY: 'ab'.repeat(32),
      USER_AUTH_IN_GROUPS: 'true',
      MODEL_PRICES_FILE: 'prices.json',
      DAILY_BUDGET_USD_PER_CHAT: '5',
      DAILY_BUDGET_USD_PER_USER: '1.5',
      BUDGET_TIME_ZONE: 'Asia/Shanghai',
    };
    const config = loadConfig(environment) as unknown as Record<string, unknown>;
    const rows = Object.entries(SETTINGS);
    expect(rows.length).toBeGreaterThan(50);
    for (const [name, row] of rows) {
      const [section, property] = row.path.includes('.') ? row.path.split('.', 2) : [undefined, row.path];
      const holder = (section === undefined ? config : config[section]) as Record<string, unknown>;
      expect(holder, name).toHaveProperty([property as string]);
      expect(holder[property as string], name).toEqual(row.schema.parse(environment[name]));
    }
    expect(config.instanceId).toBe('bot-7');
    expect((config.model as { memoryRetentionMs: number }).memoryRetentionMs).toBe(2 * 86_400_000);
    const secretValues = rows.filter(([, row]) => row.secret).map(([name]) => environment[name]);
    // Every secret row is set above, so each one's value must be scrubbed.
    expect(secretValues.length).toBeGreaterThanOrEqual(8);
    expect(secretValues).not.toContain(undefined);
    expect([...(config.secrets as string[])].sort()).toEqual([...secretValues].sort());
  });

  it('turns per-person authorization on with a valid key and public URL, and names what is missing', () => {
    const feishu = { FEISHU_APP_ID: 'cli_0123456789abcdef', FEISHU_APP_SECRET: 'secret-value' };
    const on = loadConfig({
      ...feishu,
      PUBLIC_BASE_URL: 'https://bot.example.com',
      TOKEN_ENCRYPTION_KEY: 'ab'.repeat(32),
    });
    expect(on.userAuth).toMatchObject({ enabled: true, allowInGroups: false });
    expect(on.secrets).toContain('ab'.repeat(32));
    expect(loadConfig(feishu).userAuth.enabled).toBe(false);
    expect(() => loadConfig({ ...feishu, PUBLIC_BASE_URL: 'https://bot.example.com' })).toThrow(
      /TOKEN_ENCRYPTION_KEY: required/,
    );
    expect(() => loadConfig({ ...feishu, TOKEN_ENCRYPTION_KEY: 'ab'.repeat(32) })).toThrow(/PUBLIC_BASE_URL: required/);
    expect(() =>
      loadConfig({ ...feishu, PUBLIC_BASE_URL: 'https://bot.example.com', TOKEN_ENCRYPTION_KEY: 'too short' }),
    ).toThrow(/TOKEN_ENCRYPTION_KEY must be 32 bytes/);
    expect(() => loadConfig({ BUDGET_TIME_ZONE: 'Mars/Olympus' })).toThrow(
      /BUDGET_TIME_ZONE: must be an IANA time zone/,
    );
  });

  it('listens on loopback outside production and on every interface in production', () => {
    expect(loadConfig({ NODE_ENV: 'test' }).host).toBe('127.0.0.1');
    expect(loadConfig(productionEnvironment).host).toBe('0.0.0.0');
    expect(loadConfig({ ...productionEnvironment, HOST: '10.0.0.5' }).host).toBe('10.0.0.5');
  });

  it('refuses devtools bound beyond loopback without a token, naming DEVTOOLS_TOKEN and the way out', () => {
    for (const environment of [
      { HOST: '0.0.0.0' },
      { HOST: '::' },
      { HOST: '192.168.1.20' },
      { ...productionEnvironment, ENABLE_DEVTOOLS: 'true' },
    ]) {
      let thrown: unknown;
      try {
        loadConfig(environment);
      } catch (error) {
        thrown = error;
      }
      expect(thrown, JSON.stringify(environment)).toBeInstanceOf(ConfigError);
      const problem = (thrown as ConfigError).problems.find((text) => text.startsWith('DEVTOOLS_TOKEN'));
      expect(problem).toMatch(/HOST=\S+ is not a loopback address/);
      expect(problem).toContain('ENABLE_DEVTOOLS=false');
    }
    // Each way out starts.
    expect(() => loadConfig({ HOST: '0.0.0.0', DEVTOOLS_TOKEN: 'd'.repeat(32) })).not.toThrow();
    expect(() => loadConfig({ HOST: '0.0.0.0', ENABLE_DEVTOOLS: 'false' })).not.toThrow();
    for (const host of ['127.0.0.1', '::1', 'localhost']) expect(() => loadConfig({ HOST: host })).not.toThrow();
  });

  it('refuses a devtools token shorter than 32 characters without echoing it', () => {
    const short = 'x'.repeat(31);
    let thrown: unknown;
    try {
      loadConfig({ DEVTOOLS_TOKEN: short });
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toBeInstanceOf(ConfigError);
    expect((thrown as ConfigError).message).toMatch(/DEVTOOLS_TOKEN: must be at least 32 characters/);
    expect((thrown as ConfigError).message).not.toContain(short);
    expect(loadConfig({ DEVTOOLS_TOKEN: 'x'.repeat(32) }).devtools.token).toBe('x'.repeat(32));
  });

  it('refuses a notify token shorter than 32 characters and a time zone that is none, without echoing the token', () => {
    const short = 'n'.repeat(31);
    const refusal = (environment: Record<string, string>) => {
      try {
        loadConfig(environment);
      } catch (error) {
        return error;
      }
      return undefined;
    };
    const thrown = refusal({ NOTIFY_TOKEN: short });
    expect(thrown).toBeInstanceOf(ConfigError);
    expect((thrown as ConfigError).message).toMatch(/NOTIFY_TOKEN: must be at least 32 characters/);
    expect((thrown as ConfigError).message).not.toContain(short);
    expect((refusal({ SCHEDULE_TIME_ZONE: 'Mars/Olympus' }) as ConfigError).message).toMatch(
      /SCHEDULE_TIME_ZONE: must be an IANA time zone such as UTC or Asia\/Shanghai/,
    );
    const config = loadConfig({ NOTIFY_TOKEN: 'n'.repeat(32), SCHEDULE_TIME_ZONE: 'Europe/Berlin' });
    expect(config.notify.token).toBe('n'.repeat(32));
    expect(config.schedules.defaultTimeZone).toBe('Europe/Berlin');
  });

  it('bounds the HTTP server: slow requests cut well within 30 s, a connection cap, keep-alive set', () => {
    const { http } = loadConfig({});
    expect(http.requestTimeoutMs).toBeGreaterThanOrEqual(10_000);
    expect(http.requestTimeoutMs).toBeLessThanOrEqual(15_000);
    expect(http.headersTimeoutMs).toBeLessThanOrEqual(http.requestTimeoutMs);
    expect(http.keepAliveTimeoutMs).toBeGreaterThan(0);
    expect(http.maxConnections).toBeGreaterThan(0);
    expect(() => loadConfig({ HTTP_HEADERS_TIMEOUT_MS: '20000', HTTP_REQUEST_TIMEOUT_MS: '15000' })).toThrow(
      /HTTP_HEADERS_TIMEOUT_MS/,
    );
  });

  it('web search: a provider needs its key or base URL, and a key without a provider is refused', () => {
    const problems = (env: Record<string, string>) => {
      try {
        loadConfig(env);
        return [];
      } catch (error) {
        return (error as ConfigError).problems;
      }
    };
    expect(problems({ SEARCH_PROVIDER: 'brave' })).toEqual(['SEARCH_API_KEY: required with SEARCH_PROVIDER=brave']);
    expect(problems({ SEARCH_PROVIDER: 'searxng' })[0]).toMatch(
      /^SEARCH_BASE_URL: required with SEARCH_PROVIDER=searxng/,
    );
    expect(problems({ SEARCH_API_KEY: 'tvly-0123456789' })[0]).toMatch(/^SEARCH_PROVIDER: required/);
    expect(problems({ SEARCH_PROVIDER: 'bing' })[0]).toMatch(/^SEARCH_PROVIDER: /);
    const config = loadConfig({ SEARCH_PROVIDER: 'tavily', SEARCH_API_KEY: 'tvly-0123456789' });
    expect(config.search).toEqual({ provider: 'tavily', apiKey: 'tvly-0123456789', baseURL: undefined, maxResults: 5 });
    // The key is a secret: scrubbed from logs, traces and /health.
    expect(config.secrets).toContain('tvly-0123456789');
  });

  it('documents every setting in the README configuration tables', () => {
    const readme = readFileSync(new URL('../README.md', import.meta.url), 'utf8');
    const undocumented = Object.keys(SETTINGS).filter((name) => !readme.includes(`\`${name}\``));
    expect(undocumented).toEqual([]);
  });
});

describe('loadConfig with FEISHU_APPS_FILE', () => {
  const appsFile = (apps: unknown) => {
    const folder = mkdtempSync(join(tmpdir(), 'apps-file-'));
    const path = join(folder, 'apps.json');
    writeFileSync(path, JSON.stringify(apps));
    return path;
  };
  const alpha = { id: 'alpha', appId: 'cli_a000000000000001', appSecret: 'alpha-secret', encryptKey: 'alpha-key' };
  const beta = { id: 'beta', appId: 'cli_b000000000000002', appSecret: 'beta-secret', verificationToken: 'beta-token' };
  const {
    FEISHU_APP_ID: _id,
    FEISHU_APP_SECRET: _secret,
    FEISHU_ENCRYPT_KEY: _key,
    ...withoutEnvApp
  } = productionEnvironment;

  it('serves the file apps alone, with every secret scrubbed', () => {
    const config = loadConfig({
      ...withoutEnvApp,
      FEISHU_APPS_FILE: appsFile([alpha, { ...beta, encryptKey: 'beta-key' }]),
    });
    expect(config.feishu.enabled).toBe(true);
    expect(config.feishu.apps.map((app) => app.id)).toEqual(['alpha', 'beta']);
    expect(config.secrets).toEqual(
      expect.arrayContaining(['alpha-secret', 'alpha-key', 'beta-secret', 'beta-key', 'beta-token']),
    );
  });

  it('adds the FEISHU_APP_ID app first, as "default", and keeps the file from taking that id or app id', () => {
    const config = loadConfig({ ...productionEnvironment, FEISHU_APPS_FILE: appsFile([alpha]) });
    expect(config.feishu.apps.map((app) => [app.id, app.appId])).toEqual([
      ['default', productionEnvironment.FEISHU_APP_ID],
      ['alpha', alpha.appId],
    ]);
    expect(() =>
      loadConfig({
        ...productionEnvironment,
        FEISHU_APPS_FILE: appsFile([
          { ...alpha, id: 'default' },
          { ...beta, appId: productionEnvironment.FEISHU_APP_ID },
        ]),
      }),
    ).toThrow(/the id "default" names the FEISHU_APP_ID app[\s\S]*is FEISHU_APP_ID already/);
  });

  it('applies the webhook rules to every app in production, naming the app', () => {
    let thrown: unknown;
    try {
      loadConfig({
        ...withoutEnvApp,
        FEISHU_APPS_FILE: appsFile([
          alpha,
          { ...beta, verificationToken: undefined },
          {
            ...beta,
            id: 'gamma',
            appId: 'cli_c000000000000003',
            allowUnsignedWebhook: true,
            verificationToken: undefined,
          },
          { ...alpha, id: 'delta', appId: 'not-a-cli-id', eventMode: 'websocket' },
        ]),
      });
    } catch (error) {
      thrown = error;
    }
    expect((thrown as ConfigError).problems).toEqual([
      expect.stringMatching(/^FEISHU_APPS_FILE app "beta": encryptKey: required in webhook mode/),
      expect.stringMatching(/^FEISHU_APPS_FILE app "gamma": verificationToken: required with/),
      expect.stringMatching(/^FEISHU_APPS_FILE app "delta": appId: the long connection needs/),
    ]);
  });

  it('refuses to start on an apps file with an unknown field', () => {
    expect(() =>
      loadConfig({ ...withoutEnvApp, FEISHU_APPS_FILE: appsFile([{ ...alpha, persona: 'x', personna: 'typo' }]) }),
    ).toThrow(/app "alpha": unknown field "personna"/);
  });
});

import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../config.js';
import { formatStartupBanner, packageVersion, startupSummary, withoutCredentials } from './startup-summary.js';

const feishu = { FEISHU_APP_ID: 'cli_0123456789abcdef', FEISHU_APP_SECRET: 'app-secret-value' };
const model = { MODEL: 'gpt-4o', FALLBACK_MODELS: 'gpt-4o-mini', OPENAI_API_KEY: 'sk-test-key-1234' };

describe('startupSummary', () => {
  it('names the version, the URLs to give Feishu and the model chain when everything is configured', () => {
    // Bound beyond loopback, devtools need their token.
    const devtoolsToken = 'devtools-token-for-the-summary-test-0123';
    const config = loadConfig({
      ...feishu,
      ...model,
      FEISHU_ENCRYPT_KEY: 'encrypt-key',
      HOST: '0.0.0.0',
      DEVTOOLS_TOKEN: devtoolsToken,
    });
    const summary = startupSummary({ config, port: 3123 });
    expect(summary.version).toBe(JSON.parse(readFileSync('package.json', 'utf8')).version);
    expect(summary).toMatchObject({
      listen: 'http://0.0.0.0:3123',
      devtools: { url: 'http://127.0.0.1:3123/devtools' },
      feishu: {
        mode: 'webhook',
        security: 'signed',
        eventUrl: 'http://127.0.0.1:3123/webhook/event',
        cardUrl: 'http://127.0.0.1:3123/webhook/card',
      },
      model: { primary: 'gpt-4o', fallbacks: ['gpt-4o-mini'], baseURL: 'https://api.openai.com/v1' },
      store: 'sqlite:./data/bot.db',
    });
    expect(summary.features.filter((feature) => feature.on).map((feature) => feature.name)).toEqual([
      'feishu',
      'webhook-signature',
      'agent',
      'devtools',
    ]);
    // Nothing secret in it.
    expect(JSON.stringify(summary)).not.toMatch(/app-secret-value|sk-test-key-1234|encrypt-key/);
    expect(JSON.stringify(summary)).not.toContain(devtoolsToken);
  });

  it('says why each part is off in a bare development start', () => {
    const summary = startupSummary({ config: loadConfig({ ENABLE_DEVTOOLS: 'false' }), port: 3000 });
    expect(summary.feishu).toEqual({ off: 'FEISHU_APP_ID, FEISHU_APP_SECRET not set' });
    expect(summary.model).toEqual({ off: 'no model: MODEL, OPENAI_API_KEY not set' });
    expect(summary.devtools).toEqual({ off: 'ENABLE_DEVTOOLS is false (the default in production)' });
    const agent = summary.features.find((feature) => feature.name === 'agent');
    expect(agent).toEqual({
      name: 'agent',
      on: false,
      detail: 'no model: MODEL, OPENAI_API_KEY not set: nobody gets an answer',
    });
  });

  it('reports the long connection state in websocket mode and hides Redis credentials', () => {
    const config = loadConfig({
      ...feishu,
      ...model,
      FEISHU_EVENT_MODE: 'websocket',
      STORE_URL: 'redis://bot:hunter2@redis.internal:6379/2',
    });
    const summary = startupSummary({ config, port: 3000, longConnectionState: 'connecting' });
    expect(summary.feishu).toEqual({ mode: 'websocket', longConnection: 'connecting' });
    expect(summary.store).toBe('redis://redis.internal:6379/2');
    expect(withoutCredentials('redis://:pw@h:1')).toBe('redis://h:1');
  });

  it('formats one readable block with a row per part and a mark per feature', () => {
    const config = loadConfig({ ...feishu, HOST: '127.0.0.1' });
    const banner = formatStartupBanner(startupSummary({ config, port: 4000, version: '9.9.9' }));
    const lines = banner.split('\n');
    expect(lines[0]).toMatch(/^feishu-agent-bot 9\.9\.9 \(instance .+\)$/);
    expect(banner).toContain('listening  http://127.0.0.1:4000');
    expect(banner).toContain('feishu     webhook, refused');
    expect(banner).toContain('events        http://127.0.0.1:4000/webhook/event');
    expect(banner).toContain('model      off: no model: MODEL, OPENAI_API_KEY not set');
    expect(banner).toContain('✔ feishu:');
    expect(banner).toContain('– webhook-signature: FEISHU_ENCRYPT_KEY not set: every event is refused');
    expect(packageVersion()).toMatch(/^\d+\.\d+\.\d+/);
  });
});

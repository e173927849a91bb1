import { execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { type RunningBot, startBot } from '../../lib/bot.js';
import { loadConfig } from '../../lib/config.js';
import type { CheckResult } from '../../lib/doctor/doctor-check.js';
import { eventDeliveryCheck } from '../../lib/doctor/event-delivery-check.js';
import { formatChecklist } from '../../lib/doctor/format-checklist.js';
import { runDoctor } from '../../lib/doctor/run-doctor.js';
import { mcpServersCheck, webSearchCheck } from '../../lib/doctor/tool-checks.js';
import { silentLogger } from '../../lib/log.js';
import { DEFAULT_GRANTED_SCOPES, type FakeFeishu, FEISHU_CODES, startFakeFeishu } from '../fakes/fake-feishu.js';
import { startFakeLongConnection } from '../fakes/fake-long-connection.js';
import { type FakeChatRequest, type FakeOpenAI, type FakeStaticStep, startFakeOpenAI } from '../fakes/fake-openai.js';
import { startFakeSearch } from '../fakes/fake-search.js';
import { ENCRYPT_KEY, serviceEnvironment } from '../support/real-stack.js';
import { REDIS_URL, requireRedis } from '../support/requirements.js';

/**
 * `npm run doctor` against the fakes: the real SDK asks the fake Feishu for a tenant token, the
 * bot identity and the granted scopes; the real AI SDK asks the fake OpenAI server; the webhook
 * probe posts Feishu's URL verification to a bot running in this process. One failure of each kind.
 */

const fast = { feishuMs: 3_000, connectMs: 5_000, modelMs: 5_000, storeMs: 2_000 };

let feishu: FakeFeishu;
let openai: FakeOpenAI;
let directory: string;
const bots: RunningBot[] = [];

beforeAll(async () => {
  [feishu, openai] = await Promise.all([startFakeFeishu(), startFakeOpenAI()]);
  directory = mkdtempSync(join(tmpdir(), 'doctor-'));
});
afterAll(async () => {
  await Promise.all([feishu.close(), openai.close()]);
  rmSync(directory, { recursive: true, force: true });
});
beforeEach(() => {
  feishu.reset();
  openai.reset();
});
afterEach(async () => {
  await Promise.all(bots.splice(0).map((bot) => bot.stop()));
});

function environment(extra: Record<string, string> = {}): Record<string, string> {
  return serviceEnvironment({
    feishu,
    openai,
    storeUrl: `sqlite:${join(directory, `${Math.random().toString(36).slice(2)}.db`)}`,
    extra: { HOST: '127.0.0.1', PORT: '0', FALLBACK_MODELS: 'gpt-test-fallback', ...extra },
  });
}

/** The bot as an operator runs it beside the doctor: same configuration, listening on a port. */
async function runningBot(extra: Record<string, string> = {}): Promise<RunningBot> {
  const bot = await startBot(loadConfig(environment(extra)), { log: silentLogger() });
  bots.push(bot);
  return bot;
}

async function doctor(extra: Record<string, string> = {}) {
  const outcome = await runDoctor(loadConfig(environment(extra)), { timeouts: fast });
  const byId = (id: string): CheckResult => {
    const result = outcome.results.find((candidate) => candidate.id === id);
    if (result === undefined) throw new Error(`no check ${id}`);
    return result;
  };
  return { ...outcome, byId, text: formatChecklist(outcome.results) };
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => resolve(typeof address === 'object' && address !== null ? address.port : 0));
    });
  });
}

describe('npm run doctor against the fakes', () => {
  it('passes every check of a correctly configured bot and exits 0', async () => {
    const bot = await runningBot();
    const { results, exitCode, byId, text } = await doctor({ PORT: String(bot.port) });
    expect(exitCode).toBe(0);
    expect(results.map((result) => [result.id, result.status])).toEqual([
      ['configuration', 'pass'],
      ['feishu-credentials', 'pass'],
      ['bot-identity', 'pass'],
      ['feishu-scopes', 'pass'],
      ['event-delivery', 'pass'],
      ['user-authorization', 'skip'],
      ['model', 'pass'],
      ['model-images', 'pass'],
      ['store', 'pass'],
      ['redis', 'skip'],
      ['web-search', 'skip'],
      ['mcp-servers', 'skip'],
    ]);
    expect(byId('bot-identity').summary).toBe(`bot "${feishu.botName}" (open_id ${feishu.botOpenId})`);
    expect(byId('model').details).toEqual([
      expect.stringMatching(/^✔ MODEL gpt-test answered in \d+ ms$/),
      expect.stringMatching(/^✔ fallback gpt-test-fallback answered in \d+ ms$/),
    ]);
    // The probe really was Feishu's URL verification, encrypted with the key, on both routes.
    expect(byId('event-delivery').summary).toContain('(signed events)');
    // The one-token request is what reached the model.
    const asked = openai.requestsFor('gpt-test');
    expect(asked[0]?.body).toMatchObject({ max_tokens: 1 });
    expect(JSON.stringify(asked[1]?.messages)).toContain('image_url');
    expect(feishu.callsTo('application.scope.list')).toHaveLength(1);
    expect(text).toContain('ready (exit 0)');
    // No secret in what the doctor prints.
    expect(text).not.toContain(feishu.appSecret);
    expect(text).not.toContain(ENCRYPT_KEY);
  });

  it('fails on wrong app credentials, says where to copy them from, and skips what needs them', async () => {
    const { exitCode, byId } = await doctor({ FEISHU_APP_SECRET: 'not-the-secret' });
    expect(exitCode).toBe(1);
    expect(byId('feishu-credentials')).toMatchObject({
      status: 'fail',
      summary: expect.stringContaining(`code ${FEISHU_CODES.appSecretInvalid}`),
      fix: expect.stringContaining('Credentials & Basic Info'),
    });
    expect(byId('bot-identity').status).toBe('skip');
    expect(byId('feishu-scopes').status).toBe('skip');
    expect(byId('event-delivery').status).toBe('fail'); // nothing listens on PORT 0
  });

  it('fails when Feishu cannot be reached at FEISHU_DOMAIN', async () => {
    const port = await freePort();
    const { byId } = await doctor({ FEISHU_DOMAIN: `http://127.0.0.1:${port}` });
    expect(byId('feishu-credentials')).toMatchObject({
      status: 'fail',
      summary: expect.stringContaining(`cannot reach http://127.0.0.1:${port}`),
      fix: expect.stringContaining('FEISHU_DOMAIN'),
    });
  });

  it('fails when the bot identity does not resolve, naming the Bot capability', async () => {
    feishu.inject({ api: 'bot.info', times: 1, status: 400, code: 99991672, msg: 'Access denied' });
    const { exitCode, byId } = await doctor();
    expect(exitCode).toBe(1);
    expect(byId('bot-identity')).toMatchObject({
      status: 'fail',
      summary: expect.stringContaining('99991672'),
      fix: expect.stringContaining('Bot capability'),
    });
  });

  it('fails when a required scope is not granted and lists what to add; optional ones only warn', async () => {
    const withoutCards = DEFAULT_GRANTED_SCOPES.filter(
      (scope) => scope !== 'cardkit:card:write' && scope !== 'im:message.reactions:write_only',
    );
    feishu.setScopes({ granted: withoutCards, notGranted: ['cardkit:card:write'] });
    const bot = await runningBot();
    const missingRequired = await doctor({ PORT: String(bot.port) });
    expect(missingRequired.exitCode).toBe(1);
    const scopes = missingRequired.byId('feishu-scopes');
    expect(scopes.status).toBe('fail');
    expect(scopes.summary).toBe('1 required scope(s) not granted: cardkit:card:write');
    expect(scopes.details).toContain(
      '✖ stream answers into CardKit cards: needs cardkit:card:write (cardkit:card:write requested, not granted yet)',
    );
    expect(scopes.details).toContain(
      '! the "Typing" reaction on plain-text replies: needs im:message.reactions:write_only or im:message',
    );
    expect(scopes.fix).toMatch(
      /^Permissions & Scopes → add cardkit:card:write, im:message\.reactions:write_only; then/,
    );

    feishu.setScopes({ granted: [...withoutCards, 'cardkit:card:write'] });
    const missingOptional = await doctor({ PORT: String(bot.port) });
    expect(missingOptional.byId('feishu-scopes').status).toBe('warn');
    expect(missingOptional.exitCode).toBe(0);
  });

  it('fails when the tenant has not installed the app', async () => {
    feishu.inject({ api: 'application.scope.list', times: 1, status: 400, code: FEISHU_CODES.appNotInstalled });
    const { byId } = await doctor();
    expect(byId('feishu-scopes')).toMatchObject({
      status: 'fail',
      summary: 'the app is not installed in this tenant (212100)',
      fix: expect.stringContaining('publish'),
    });
  });

  it('fails when nothing answers the webhook, and when the running bot has other keys', async () => {
    const port = await freePort();
    const nothing = await doctor({ PORT: String(port) });
    expect(nothing.byId('event-delivery')).toMatchObject({
      status: 'fail',
      summary: expect.stringContaining(`nothing answers at http://127.0.0.1:${port}/webhook/event`),
      fix: expect.stringContaining('npm run pm2:start'),
    });

    const bot = await runningBot({ FEISHU_ENCRYPT_KEY: 'another-key', FEISHU_VERIFICATION_TOKEN: 'another-token' });
    const mismatch = await doctor({ PORT: String(bot.port) });
    expect(mismatch.byId('event-delivery')).toMatchObject({
      status: 'fail',
      // Encrypted under another key and unsigned (as Feishu sends the URL check): 401, not a 400
      // that would tell what decrypts.
      summary: expect.stringContaining("refused Feishu's URL verification: HTTP 401"),
      fix: expect.stringContaining('FEISHU_ENCRYPT_KEY'),
    });
  });

  it('warns when the webhook runs unsigned by opt-in, and fails when it refuses events for want of a key', async () => {
    const unsigned = { FEISHU_ENCRYPT_KEY: '', FEISHU_ALLOW_UNSIGNED_WEBHOOK: 'true' };
    const bot = await runningBot(unsigned);
    const { byId, exitCode } = await doctor({ PORT: String(bot.port), ...unsigned });
    expect(byId('event-delivery')).toMatchObject({
      status: 'warn',
      summary: expect.stringContaining('unsigned (FEISHU_ALLOW_UNSIGNED_WEBHOOK=true): FEISHU_ENCRYPT_KEY is not set'),
    });
    expect(exitCode).toBe(0);

    const refusing = await runningBot({ FEISHU_ENCRYPT_KEY: '' });
    const refused = await doctor({ PORT: String(refusing.port), FEISHU_ENCRYPT_KEY: '' });
    expect(refused.byId('event-delivery')).toMatchObject({
      status: 'fail',
      summary: expect.stringContaining('refuses every event: FEISHU_ENCRYPT_KEY is not set'),
    });
  });

  it('connects the long connection in websocket mode, and fails when the gateway refuses the app', async () => {
    const gateway = await startFakeLongConnection();
    try {
      const config = loadConfig(environment({ FEISHU_EVENT_MODE: 'websocket', FEISHU_DOMAIN: gateway.url }));
      const connected = await runDoctor(config, { checks: [eventDeliveryCheck], timeouts: fast });
      expect(connected.results[0]).toMatchObject({ status: 'pass', summary: expect.stringContaining('handshake') });
      expect(gateway.endpointCalls()).toBe(1);
      // The doctor's connection is closed again: it must not take the running bot's events.
      await expect.poll(() => gateway.connections()).toBe(0);

      gateway.setEndpointAnswer({ code: 1000040345, msg: 'app secret invalid' });
      const refused = await runDoctor(config, { checks: [eventDeliveryCheck], timeouts: fast });
      expect(refused.exitCode).toBe(1);
      expect(refused.results[0]).toMatchObject({
        status: 'fail',
        summary: expect.stringContaining('the long connection did not connect (failed)'),
        fix: expect.stringContaining('persistent connection'),
      });
    } finally {
      await gateway.close();
    }
  });

  describe('with several Feishu apps', () => {
    let tenant: FakeFeishu;
    beforeAll(async () => {
      tenant = await startFakeFeishu({ otherApps: [{ botName: 'Beta' }] });
    });
    afterAll(() => tenant.close());

    /** The FEISHU_APP_ID app (`default`) and `beta` from FEISHU_APPS_FILE, both of the fake tenant. */
    function twoApps(betaSecret?: string): Record<string, string> {
      const beta = tenant.apps[1];
      if (beta === undefined) throw new Error('the fake serves two apps');
      const file = join(directory, `apps-${Math.random().toString(36).slice(2)}.json`);
      writeFileSync(
        file,
        JSON.stringify([
          { id: 'beta', appId: beta.appId, appSecret: betaSecret ?? beta.appSecret, encryptKey: 'beta-encrypt-key' },
        ]),
      );
      return {
        ...tenant.env(),
        FEISHU_APPS_FILE: file,
        PUBLIC_BASE_URL: 'https://bot.example.com',
        TOKEN_ENCRYPTION_KEY: 'd4'.repeat(32),
      };
    }

    function resultsOf(results: readonly CheckResult[], app: string): Array<[string, string]> {
      return results.filter((result) => result.app === app).map((result) => [result.id, result.status]);
    }

    it('checks every app: credentials, bot, scopes and its own webhook routes, each line naming the app', async () => {
      const bot = await runningBot(twoApps());
      const { results, exitCode, text } = await doctor({ ...twoApps(), PORT: String(bot.port) });
      expect(exitCode).toBe(0);
      for (const app of ['default', 'beta']) {
        expect(resultsOf(results, app)).toEqual([
          ['feishu-credentials', 'pass'],
          ['bot-identity', 'pass'],
          ['feishu-scopes', 'pass'],
          ['event-delivery', 'pass'],
          ['user-authorization', 'pass'],
        ]);
      }
      const line = (title: string) => text.split('\n').find((candidate) => candidate.includes(title)) ?? '';
      expect(line('Bot identity [default]')).toContain(`bot "${tenant.botName}"`);
      expect(line('Bot identity [beta]')).toContain('bot "Beta"');
      // Each app's URL verification went to its own routes, encrypted with its own key.
      expect(line('Event delivery [default]')).toContain(`/webhook/default/event and /webhook/default/card`);
      expect(line('Event delivery [beta]')).toContain(`/webhook/beta/event and /webhook/beta/card`);
      // Each app's own OAuth redirect, to add in that app's console.
      expect(line('Per-person authorization [default]')).toContain('https://bot.example.com/oauth/callback');
      expect(line('Per-person authorization [beta]')).toContain('https://bot.example.com/oauth/beta/callback');
      expect(tenant.callsTo('application.scope.list')).toHaveLength(2);
      expect(text).not.toContain(tenant.apps[1]?.appSecret);
    });

    it("fails the app whose secret is wrong, naming it, while the other app's checks pass", async () => {
      const { results, exitCode, text } = await doctor(twoApps('not-the-secret'));
      expect(exitCode).toBe(1);
      expect(resultsOf(results, 'default').slice(0, 3)).toEqual([
        ['feishu-credentials', 'pass'],
        ['bot-identity', 'pass'],
        ['feishu-scopes', 'pass'],
      ]);
      expect(resultsOf(results, 'beta').slice(0, 3)).toEqual([
        ['feishu-credentials', 'fail'],
        ['bot-identity', 'skip'],
        ['feishu-scopes', 'skip'],
      ]);
      const failed = results.find((result) => result.app === 'beta' && result.id === 'feishu-credentials');
      expect(failed).toMatchObject({
        title: 'Feishu app credentials [beta]',
        summary: expect.stringContaining(`code ${FEISHU_CODES.appSecretInvalid}`),
      });
      expect(text).toMatch(/✖ Feishu app credentials \[beta\] +Feishu refused the app credentials/);
      expect(text).toMatch(/✔ Feishu app credentials \[default\] +tenant token issued/);
      expect(text).not.toContain('not-the-secret');
    });
  });

  it('fails when the model does not answer, warns for a broken fallback and for a model without images', async () => {
    openai.alwaysFail('gpt-test', { status: 401 });
    const unauthorised = await doctor();
    expect(unauthorised.byId('model')).toMatchObject({
      status: 'fail',
      summary: expect.stringContaining('AUTH: HTTP 401'),
      fix: expect.stringContaining('OPENAI_API_KEY'),
    });
    expect(unauthorised.byId('model-images').status).toBe('skip');
    openai.clearFaults();

    const noFallback = await doctor({ FALLBACK_MODELS: 'no-such-model' });
    expect(noFallback.byId('model')).toMatchObject({
      status: 'warn',
      summary: 'gpt-test answers; 1 of 1 fallback(s) do not',
    });
    expect(noFallback.byId('model').details?.[1]).toMatch(/^✖ fallback no-such-model: .*404/);

    // A text-only model, answering images as OpenAI does for one.
    const refuseImages = (request: FakeChatRequest): FakeStaticStep =>
      JSON.stringify(request.messages).includes('image_url')
        ? {
            error: {
              status: 400,
              type: 'invalid_request_error',
              message: 'Invalid content type. image_url is only supported by certain models.',
            },
          }
        : { text: 'OK' };
    openai.script('gpt-test', refuseImages, refuseImages);
    const textOnly = await doctor({ FALLBACK_MODELS: '' });
    expect(textOnly.byId('model').status).toBe('pass');
    expect(textOnly.byId('model-images')).toMatchObject({
      status: 'warn',
      summary: expect.stringContaining('does not accept images: HTTP 400: Invalid content type.'),
    });
  });

  it('fails when the store cannot be written, naming the directory', async () => {
    const blocker = join(directory, 'a-file');
    writeFileSync(blocker, 'not a directory');
    const { byId, exitCode } = await doctor({ STORE_URL: `sqlite:${join(blocker, 'bot.db')}` });
    expect(exitCode).toBe(1);
    expect(byId('store')).toMatchObject({
      status: 'fail',
      fix: expect.stringContaining(`The directory ${blocker} must exist`),
    });
    expect(byId('redis').status).toBe('skip');
  });

  it('fails when the configured Redis does not answer', async () => {
    const port = await freePort();
    const { byId } = await doctor({ STORE_URL: `redis://127.0.0.1:${port}` });
    expect(byId('store').status).toBe('fail');
    expect(byId('redis')).toMatchObject({
      status: 'fail',
      summary: expect.stringContaining(`redis://127.0.0.1:${port} does not answer`),
      fix: expect.stringContaining('STORE_URL'),
    });
  });

  it('reports a reachable Redis with its version and persistence', async () => {
    if (!(await requireRedis())) return;
    const { byId } = await doctor({ STORE_URL: REDIS_URL });
    expect(byId('store').status).toBe('pass');
    const redis = byId('redis');
    expect(['pass', 'warn']).toContain(redis.status);
    expect(redis.summary).toMatch(/answers \(Redis \d+\.\d+/);
  });
});

describe('the doctor command (node dist/lib/doctor/doctor-cli.js)', () => {
  const root = join(import.meta.dirname, '../..');
  beforeAll(() => {
    execFileSync(process.execPath, ['scripts/build-if-needed.mjs'], { cwd: root, stdio: 'inherit' });
  });

  /** Runs the built doctor in an empty directory (no .env) with only this environment. */
  function runCli(env: Record<string, string>): Promise<{ code: number | null; output: string }> {
    return new Promise((resolve) => {
      const child = spawn(process.execPath, [join(root, 'dist/lib/doctor/doctor-cli.js')], {
        cwd: mkdtempSync(join(directory, 'cli-')),
        env: { PATH: process.env.PATH, HOME: process.env.HOME, ...env },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let output = '';
      child.stdout.on('data', (chunk: Buffer) => {
        output += chunk.toString();
      });
      child.stderr.on('data', (chunk: Buffer) => {
        output += chunk.toString();
      });
      child.on('exit', (code) => resolve({ code, output }));
    });
  }

  it('asks the search provider and starts each MCP server: working ones pass, garbage and a missing command warn', async () => {
    const search = await startFakeSearch();
    try {
      const mcpFile = join(directory, 'mcp-servers.json');
      writeFileSync(
        mcpFile,
        JSON.stringify({
          mcpServers: {
            orders: {
              command: process.execPath,
              args: ['--import', 'tsx', join(import.meta.dirname, '../fixtures/mcp/stdio-server.ts')],
              cwd: join(import.meta.dirname, '../..'),
            },
            files: { command: '/nonexistent/mcp-files-server' },
          },
        }),
      );
      search.seed('feishu open platform', [
        { title: 'Feishu Open Platform', url: 'https://open.feishu.cn/', snippet: 'Build apps on Feishu.' },
      ]);
      const config = loadConfig(environment({ ...search.env('tavily'), MCP_SERVERS_FILE: mcpFile }));
      const run = () =>
        runDoctor(config, { timeouts: { ...fast, connectMs: 15_000 }, checks: [webSearchCheck, mcpServersCheck] });
      const first = await run();
      expect(first.results.map((result) => [result.id, result.status, result.summary])).toEqual([
        ['web-search', 'pass', 'tavily answered (first: https://open.feishu.cn/)'],
        ['mcp-servers', 'warn', '1 of 2 not connected: files'],
      ]);
      expect(first.results[1]?.details?.[0]).toBe(
        '✔ orders (stdio): 8 tools offered to manager (1 may write: each call approved first)',
      );
      expect(first.results[1]?.details?.[1]).toMatch(/^✘ files \(stdio\): /);
      expect(first.exitCode).toBe(0);

      search.answerNext({ status: 200, body: '<html>captcha</html>', contentType: 'text/html' });
      const second = await run();
      expect(second.results[0]).toMatchObject({ status: 'warn' });
      expect(second.results[0]?.summary).toMatch(
        /^tavily did not answer a test search: the tavily search service answered with something that is not JSON/,
      );
      expect(formatChecklist(second.results)).not.toContain(search.apiKey);
    } finally {
      await search.close();
    }
  });

  it('prints the checklist and exits 0 when the bot is ready', async () => {
    const bot = await runningBot();
    const { code, output } = await runCli(environment({ PORT: String(bot.port) }));
    expect(output).toContain('✔ Feishu app credentials');
    expect(output).toContain('✔ App scopes');
    expect(output).toContain(`✔ Event delivery         http://127.0.0.1:${bot.port}/webhook/event`);
    expect(output).toContain('✔ Model');
    expect(output).toContain('– Redis');
    expect(output).toContain('ready (exit 0)');
    expect(code).toBe(0);
  });

  it('exits 1 with a fix for each failure', async () => {
    const { MODEL: _unset, ...withoutModel } = environment({ PORT: String(await freePort()) });
    const { code, output } = await runCli(withoutModel);
    expect(code).toBe(1);
    expect(output).toContain('✖ Model');
    expect(output).toContain('fix: Set MODEL');
    expect(output).toContain('✖ Event delivery');
    expect(output).toMatch(/2 failed, \d+ warning\(s\): the bot is not ready \(exit 1\)/);
  });

  it('exits 1 naming every invalid setting when the configuration does not load', async () => {
    const { code, output } = await runCli({ PORT: 'eighty', STORE_URL: 'mongodb://x' });
    expect(code).toBe(1);
    expect(output).toContain('✖ Configuration');
    expect(output).toMatch(/PORT[\s\S]*STORE_URL/);
  });
});

import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type Browser, chromium } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningBot } from '../../lib/bot.js';
import { type FakeOpenAI, startFakeOpenAI } from '../fakes/fake-openai.js';
import { startDevtoolsBot } from '../support/devtools-bot.js';
import { type HttpMcpServer, startHttpMcpServer } from '../support/mcp-fixture.js';
import { CHROMIUM_PATH, requireChromium } from '../support/requirements.js';

/**
 * The devtools Health tab in headless Chromium shows a card per MCP server: a real streamable
 * HTTP server that is connected, and a stdio command that cannot start (restarting, with why),
 * which also makes the bot degraded.
 */

const chromiumAvailable = requireChromium();

describe.skipIf(!chromiumAvailable)('devtools: MCP servers in the Health tab', { timeout: 90_000 }, () => {
  let browser: Browser;
  let openai: FakeOpenAI;
  let http: HttpMcpServer;
  let bot: RunningBot;
  let base: string;

  beforeAll(async () => {
    openai = await startFakeOpenAI();
    http = await startHttpMcpServer();
    const file = join(mkdtempSync(join(tmpdir(), 'devtools-mcp-')), 'mcp-servers.json');
    writeFileSync(
      file,
      JSON.stringify({
        mcpServers: {
          crm: { url: http.url, specialists: ['documents'] },
          files: { command: '/nonexistent/mcp-files-server' },
        },
      }),
    );
    ({ bot, base } = await startDevtoolsBot({
      openai,
      env: { MCP_SERVERS_FILE: file, MCP_CONNECT_TIMEOUT_MS: '8000' },
    }));
    browser = await chromium.launch({
      executablePath: CHROMIUM_PATH,
      headless: true,
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking'],
    });
  });

  afterAll(async () => {
    await browser?.close();
    await bot?.stop();
    await http?.close();
    await openai?.close();
  });

  it('a card per server: connected with its tools and who gets them, or restarting with the reason', async () => {
    const context = await browser.newContext({ viewport: { width: 1440, height: 900 } });
    const page = await context.newPage();
    const errors: string[] = [];
    page.on('pageerror', (error) => errors.push(error.message));
    expect((await page.goto(`${base}/devtools`))?.status()).toBe(200);
    await page.locator('.tab[data-tab="health"]').click();
    const health = page.getByTestId('health');
    const crm = health.locator('.component[data-component="mcp-crm"]');
    await crm.waitFor({ timeout: 20_000 });
    expect(await crm.getAttribute('data-state')).toBe('ready');
    const crmText = await crm.textContent();
    expect(crmText).toContain('MCP crm');
    expect(crmText).toContain('8 offered (1 with approval)');
    expect(crmText).toContain('documents');
    const files = health.locator('.component[data-component="mcp-files"]');
    expect(await files.getAttribute('data-state')).toBe('restarting');
    expect(await files.textContent()).toMatch(/could not start|closed/);
    expect(await files.locator('.pill').getAttribute('class')).toContain('pill-degraded');
    expect(errors).toEqual([]);
    await context.close();
  });
});

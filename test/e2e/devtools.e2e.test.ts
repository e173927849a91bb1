/**
 * The devtools UI in real headless Chromium against the real bot (in-process, PORT=0) and the
 * fake OpenAI server: the playground message goes inbox → dispatcher → conversation → manager
 * agent → devtools reply sink, and the page shows the streamed answer and the trace timeline.
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import pino from 'pino';
import { type Browser, chromium, type Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { type RunningBot, startBot } from '../../lib/bot.js';
import { loadConfig } from '../../lib/config.js';
import { type FakeOpenAI, startFakeOpenAI } from '../fakes/fake-openai.js';
import { CHROMIUM_PATH, requireChromium } from '../support/requirements.js';

const SCREENSHOTS = join('test-results', 'devtools');
const XSS = '<img src=x onerror=window.__xss=1>';
const ANSWER = 'It is 12:00 in UTC right now. Enjoy your lunch!';
const STEP_TIMEOUT_MS = 20_000;

const chromiumAvailable = requireChromium();

/**
 * Runs in the page (as a string: this project compiles without DOM types). Records every state
 * the answer bubble passes through, to prove the answer streamed before it finished.
 */
const RECORD_BUBBLE_STATES = `(() => {
  window.__botStates = [];
  new MutationObserver(() => {
    for (const bubble of document.querySelectorAll('[data-testid="bot-message"]')) {
      const state = bubble.dataset.state || '';
      if (window.__botStates.at(-1) !== state) window.__botStates.push(state);
    }
  }).observe(document.getElementById('chat-log'), { subtree: true, childList: true, characterData: true, attributes: true });
})()`;

describe.skipIf(!chromiumAvailable)('devtools UI in headless Chromium', () => {
  let fake: FakeOpenAI;
  let bot: RunningBot;
  let browser: Browser;
  let base: string;
  const pageErrors: string[] = [];
  let page: Page | undefined;

  beforeAll(async () => {
    mkdirSync(SCREENSHOTS, { recursive: true });
    fake = await startFakeOpenAI();
    bot = await startBot(
      loadConfig({
        PORT: '0',
        HOST: '127.0.0.1',
        STORE_URL: 'sqlite::memory:',
        MODEL: 'gpt-test',
        OPENAI_BASE_URL: fake.baseURL,
        OPENAI_API_KEY: fake.apiKey,
        ENABLE_DEVTOOLS: 'true',
        NODE_ENV: 'test',
        LOG_LEVEL: 'silent',
      }),
      { log: pino({ level: 'silent' }) },
    );
    base = `http://127.0.0.1:${bot.port}`;
    browser = await chromium.launch({
      executablePath: CHROMIUM_PATH,
      headless: true,
      args: [
        '--headless',
        '--no-sandbox',
        '--disable-gpu',
        '--disable-quic',
        '--no-first-run',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
      ],
    });
  });

  afterAll(async () => {
    await browser?.close();
    await bot?.stop();
    await fake?.close();
  });

  afterEach(async () => {
    await page?.close();
    page = undefined;
    pageErrors.length = 0;
  });

  async function openDevtools(): Promise<Page> {
    const opened = await browser.newPage({ viewport: { width: 1440, height: 900 } });
    page = opened;
    // Script errors and CSP violations (an inline style or script the policy blocked) land here.
    opened.on('pageerror', (error) => pageErrors.push(`pageerror: ${error.message}`));
    opened.on('console', (message) => {
      if (message.type() === 'error') pageErrors.push(`console: ${message.text()}`);
    });
    const response = await opened.goto(`${base}/devtools`);
    expect(response?.status()).toBe(200);
    await opened.locator('#live-indicator.live-on').waitFor({ timeout: STEP_TIMEOUT_MS });
    await opened.evaluate(RECORD_BUBBLE_STATES);
    return opened;
  }

  async function send(target: Page, text: string): Promise<void> {
    await target.getByTestId('chat-input').fill(text);
    await target.getByTestId('chat-send').click();
  }

  it('sends a playground message, streams the answer and shows the trace with its agent and tool steps', async () => {
    fake.script(
      'gpt-test',
      { toolCalls: [{ name: 'currentTime', arguments: { timeZone: 'UTC' } }] },
      { text: ANSWER, chunkSize: 3, chunkDelayMs: 15 },
    );
    const target = await openDevtools();
    await send(target, 'What time is it in UTC?');

    const bubble = target.locator('[data-testid="bot-message"]').last();
    await target
      .locator('[data-testid="bot-message"][data-state="finished"]')
      .waitFor({ timeout: STEP_TIMEOUT_MS })
      .catch(async (error: unknown) => {
        await target.screenshot({ path: join(SCREENSHOTS, 'playground-failed.png'), fullPage: true });
        throw new Error(
          `the answer did not finish (state ${await bubble.getAttribute('data-state')}, text ${JSON.stringify(await bubble.textContent())}). ` +
            `Is the devtools reply sink wired into the conversation handler? ${String(error)}`,
        );
      });
    expect(await bubble.locator('.message-text').textContent()).toBe(ANSWER);
    const states = (await target.evaluate('window.__botStates')) as string[];
    expect(states).toContain('streaming');
    expect(states.at(-1)).toBe('finished');

    const traceId = await bubble.getAttribute('data-trace-id');
    expect(traceId).toBeTruthy();
    const timeline = target.getByTestId('timeline');
    await timeline
      .locator('.tl-row[data-type="tool.call"][data-tool="currentTime"]')
      .waitFor({ timeout: STEP_TIMEOUT_MS });
    await timeline
      .locator('.tl-row[data-type="agent.call"][data-agent="manager"]')
      .first()
      .waitFor({ timeout: STEP_TIMEOUT_MS });
    await timeline.locator('.tl-row[data-type="job.finished"]').waitFor({ timeout: STEP_TIMEOUT_MS });
    await expect
      .poll(() => timeline.locator('.timeline-title .status').textContent(), { timeout: STEP_TIMEOUT_MS })
      .toBe('done');
    const traceItem = target.locator(`.trace-item[data-trace-id="${traceId}"]`);
    await traceItem.waitFor({ timeout: STEP_TIMEOUT_MS });
    await expect.poll(() => traceItem.getAttribute('data-status'), { timeout: STEP_TIMEOUT_MS }).toBe('done');
    expect(await traceItem.locator('.chip-tool').allTextContents()).toContain('currentTime');
    expect(await traceItem.locator('.chip-agent').allTextContents()).toContain('manager');
    // The top bar's call count is the one /metrics serves; this is the bot's first message.
    const agentCalls = await timeline.locator('.tl-row[data-type="agent.call"]').count();
    expect(agentCalls).toBeGreaterThan(0);
    await expect
      .poll(async () => Number(await target.locator('#kpi-calls').textContent()), { timeout: STEP_TIMEOUT_MS })
      .toBe(agentCalls);

    // The tool's arguments are there to inspect, as text.
    const toolRow = timeline.locator('.tl-row[data-type="tool.call"]').first();
    await toolRow.locator('summary').first().click();
    expect(await toolRow.locator('pre').first().textContent()).toContain('UTC');

    await target.screenshot({ path: join(SCREENSHOTS, 'playground-trace.png'), fullPage: true });
    expect(pageErrors).toEqual([]);
  });

  it('renders a message with HTML markup as text, never as markup', async () => {
    fake.script('gpt-test', { text: `You wrote: ${XSS} <b>bold?</b>` });
    const target = await openDevtools();
    await send(target, XSS);

    const userMessage = target.locator('[data-testid="user-message"]').last();
    await userMessage.waitFor({ timeout: STEP_TIMEOUT_MS });
    expect(await userMessage.textContent()).toBe(XSS);
    await target
      .locator('[data-testid="bot-message"][data-state="finished"], [data-testid="bot-message"][data-state="failed"]')
      .waitFor({ timeout: STEP_TIMEOUT_MS });
    // The trace list and timeline show the user's text too; give them a moment to render it.
    await target.locator('.trace-item .trace-text', { hasText: XSS }).first().waitFor({ timeout: STEP_TIMEOUT_MS });

    expect(await target.locator('#chat-log img').count()).toBe(0);
    expect(await target.locator('img').count()).toBe(0);
    expect(await target.locator('b').count()).toBe(0);
    expect(await target.evaluate('typeof window.__xss')).toBe('undefined');
    await expect.poll(() => target.getByText(XSS, { exact: true }).count()).toBeGreaterThan(0);

    await target.screenshot({ path: join(SCREENSHOTS, 'markup-as-text.png'), fullPage: true });
    expect(pageErrors).toEqual([]);
  });
});

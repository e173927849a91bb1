/**
 * The devtools UI in real headless Chromium against the real bot (in-process, PORT=0), the fake
 * OpenAI server and the fake Feishu: playground messages go inbox → dispatcher → conversation →
 * manager agent → devtools reply sink, Feishu messages arrive as signed webhook events and are
 * answered in CardKit cards; the page shows the answers, the traces and the health of it all.
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { type Browser, chromium, type Locator, type Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { RunningBot } from '../../lib/bot.js';
import { buildMessageEvent, postEvent } from '../fakes/event-sender.js';
import { type FakeFeishu, startFakeFeishu } from '../fakes/fake-feishu.js';
import { type FakeOpenAI, startFakeOpenAI } from '../fakes/fake-openai.js';
import { fixture } from '../support/attachment-fixtures.js';
import { answerCard, buttonValue, pressCard } from '../support/card-press.js';
import {
  DEVTOOLS_BOT_ENCRYPT_KEY,
  DEVTOOLS_BOT_VERIFICATION_TOKEN,
  startDevtoolsBot,
} from '../support/devtools-bot.js';
import { CHROMIUM_PATH, requireChromium } from '../support/requirements.js';

const SCREENSHOTS = join('test-results', 'devtools');
const XSS = '<img src=x onerror=window.__xss=1>';
const ANSWER = 'It is 12:00 in UTC right now. Enjoy your lunch!';
const STEP_TIMEOUT_MS = 20_000;
const GROUP_CHAT = 'oc_devtools_e2e_group';
const PHONE = { width: 390, height: 844 };
const PHONE_WITH_KEYBOARD = { width: 390, height: 420 };

/** An answer with every Markdown construct a card shows, and every way model text could try to run script. */
const MARKDOWN_ANSWER = [
  '# Release notes',
  '',
  'Read the **docs** and `npm test` first.',
  '',
  '## Steps',
  '',
  '- build the image',
  '- roll it out',
  '',
  'Checks:',
  '',
  '- [x] tests pass',
  '- [ ] canary healthy',
  '',
  '| stage | who | when |',
  '| :-- | :-: | --: |',
  '| image | CI | 09:00 |',
  '| canary | on-call | 10:30 |',
  '',
  '```sh',
  'npm run pm2:reload',
  '```',
  '',
  'See [the guide](https://example.com/guide) or [this](javascript:window.__xss=3).',
  '',
  '<script>window.__xss = 2</script>',
  '',
  `Inline ${XSS} and <a href="javascript:window.__xss=4" onclick="window.__xss=5">raw link</a>.`,
  '',
  '![chart](https://example.com/chart.png)',
].join('\n');

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

/** Everything in the page that could run script: such elements, event-handler attributes, script URLs. */
const SCRIPT_SURFACE = `(() => {
  const found = [];
  for (const node of document.querySelectorAll('script, iframe, object, embed, img, svg script, [srcdoc]')) {
    if (node.tagName === 'SCRIPT' && node.src && node.src.startsWith(location.origin + '/devtools/assets/')) continue;
    found.push(node.outerHTML.slice(0, 120));
  }
  for (const node of document.querySelectorAll('*')) {
    for (const attribute of node.attributes) {
      if (/^on/i.test(attribute.name)) found.push(node.tagName + ' ' + attribute.name);
      if (/^\\s*(javascript|data|vbscript):/i.test(attribute.value) && /^(href|src|action|formaction|xlink:href)$/i.test(attribute.name)) {
        found.push(node.tagName + ' ' + attribute.name + '=' + attribute.value);
      }
    }
  }
  return found;
})()`;

/** A long answer (paragraphs, lists, code) that needs more than one 24 KB card. */
function longAnswer(paragraphs: number): string {
  const parts: string[] = [];
  for (let index = 0; index < paragraphs; index++) {
    parts.push(
      index % 7 === 3
        ? `\`\`\`ts\n// step ${index}\nexport const step${index} = (input: string) => input.trim();\n\`\`\``
        : `Paragraph ${index}: the rollout of part ${index} waits for its health check, then the next part starts. ${'Details follow. '.repeat(12)}`,
    );
  }
  return parts.join('\n\n');
}

/**
 * Each test walks a person's path through several pages and answers; on two shared cores a cold
 * browser context alone can take seconds, so a test gets more than the default 30 s.
 */
const TEST_TIMEOUT_MS = 90_000;

describe.skipIf(!chromiumAvailable)('devtools UI in headless Chromium', { timeout: TEST_TIMEOUT_MS }, () => {
  let browser: Browser;
  const pages: Page[] = [];
  const pageErrors: string[] = [];

  beforeAll(async () => {
    mkdirSync(SCREENSHOTS, { recursive: true });
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
  });

  afterEach(async () => {
    for (const page of pages.splice(0)) await page.context().close();
    pageErrors.length = 0;
  });

  /** A fresh browser context (its own localStorage) on the devtools page, live feed connected. */
  async function openDevtools(
    base: string,
    { viewport = { width: 1440, height: 900 }, phone = false } = {},
  ): Promise<Page> {
    const context = await browser.newContext({
      viewport,
      ...(phone ? { isMobile: true, hasTouch: true, deviceScaleFactor: 2 } : {}),
    });
    const opened = await context.newPage();
    pages.push(opened);
    // Script errors and CSP violations (an inline style or script the policy blocked) land here.
    opened.on('pageerror', (error) => pageErrors.push(`pageerror: ${error.message}`));
    opened.on('console', (message) => {
      if (message.type() === 'error') pageErrors.push(`console: ${message.text()}`);
    });
    await load(opened, `${base}/devtools`);
    return opened;
  }

  async function load(target: Page, url?: string): Promise<void> {
    const response = url ? await target.goto(url) : await target.reload();
    expect(response?.status()).toBe(200);
    await target.locator('#live-indicator.live-on').waitFor({ timeout: STEP_TIMEOUT_MS });
    await target.evaluate(RECORD_BUBBLE_STATES);
  }

  async function send(target: Page, text: string): Promise<void> {
    await target.getByTestId('chat-input').fill(text);
    await target.getByTestId('chat-send').click();
  }

  async function lastAnswer(target: Page, states = ['finished']): Promise<Locator> {
    const selector = states.map((state) => `[data-testid="bot-message"][data-state="${state}"]`).join(', ');
    await target.locator(selector).last().waitFor({ timeout: STEP_TIMEOUT_MS });
    return target.locator('[data-testid="bot-message"]').last();
  }

  /** Whether `locator` lies wholly inside the viewport and is what the page shows at its centre. */
  async function fullyInView(target: Page, locator: Locator): Promise<boolean> {
    const box = await locator.boundingBox();
    const viewport = target.viewportSize();
    if (!box || !viewport) return false;
    const inside =
      box.x >= 0 && box.y >= 0 && box.x + box.width <= viewport.width && box.y + box.height <= viewport.height;
    const id = await locator.getAttribute('data-testid');
    const atCentre = await target.evaluate(
      `document.elementFromPoint(${box.x + box.width / 2}, ${box.y + box.height / 2})?.closest('[data-testid="${id}"]') !== null`,
    );
    return inside && atCentre === true;
  }

  async function healthText(target: Page): Promise<string> {
    return (await target.getByTestId('health').innerText()).trim();
  }

  describe('with a model and a Feishu webhook', () => {
    let openai: FakeOpenAI;
    let feishu: FakeFeishu;
    let bot: RunningBot;
    let base: string;

    beforeAll(async () => {
      openai = await startFakeOpenAI();
      feishu = await startFakeFeishu();
      ({ bot, base } = await startDevtoolsBot({ openai, feishu, env: { CARD_UPDATES_PER_SECOND: '10' } }));
    });

    afterAll(async () => {
      await bot?.stop();
      await openai?.close();
      await feishu?.close();
    });

    /** A signed group message into the webhook, as Feishu sends it. */
    async function groupMessage(text: string, mentionBot: boolean): Promise<string> {
      const event = buildMessageEvent({
        fake: feishu,
        chatType: 'group',
        chatId: GROUP_CHAT,
        mentionBot,
        text,
        token: DEVTOOLS_BOT_VERIFICATION_TOKEN,
      });
      const response = await postEvent(`${base}/webhook/event`, event, { encryptKey: DEVTOOLS_BOT_ENCRYPT_KEY });
      expect(response.status).toBe(200);
      return `message:${event.event.message.message_id}`;
    }

    it('sends a playground message, streams the answer and shows the trace with its agent and tool steps', async () => {
      openai.script(
        'gpt-test',
        { toolCalls: [{ name: 'currentTime', arguments: { timeZone: 'UTC' } }] },
        { text: ANSWER, chunkSize: 3, chunkDelayMs: 15 },
      );
      const target = await openDevtools(base);
      await send(target, 'What time is it in UTC?');

      const bubble = await lastAnswer(target).catch(async (error: unknown) => {
        await target.screenshot({ path: join(SCREENSHOTS, 'playground-failed.png'), fullPage: true });
        const last = target.locator('[data-testid="bot-message"]').last();
        throw new Error(
          `the answer did not finish (state ${await last.getAttribute('data-state')}, text ${JSON.stringify(await last.textContent())}). ` +
            `Is the devtools reply sink wired into the conversation handler? ${String(error)}`,
        );
      });
      expect((await bubble.locator('.message-text').textContent())?.trim()).toBe(ANSWER);
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

      // Clicking a step expands it: the tool's arguments are there to inspect, as text.
      const toolRow = timeline.locator('.tl-row[data-type="tool.call"]').first();
      await toolRow.locator('summary').first().click();
      expect(await toolRow.locator('pre').first().textContent()).toContain('UTC');

      await target.screenshot({ path: join(SCREENSHOTS, 'playground-trace.png'), fullPage: true });
      expect(pageErrors).toEqual([]);
    });

    it('renders a message with HTML markup as text, never as markup', async () => {
      openai.script('gpt-test', { text: `You wrote: ${XSS} <b>bold?</b>` });
      const target = await openDevtools(base);
      await send(target, XSS);

      const userMessage = target.locator('[data-testid="user-message"]').last();
      await userMessage.waitFor({ timeout: STEP_TIMEOUT_MS });
      expect(await userMessage.textContent()).toBe(XSS);
      await lastAnswer(target, ['finished', 'failed']);
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

    it("renders the answer's Markdown as the card would, and keeps script and onerror payloads inert", async () => {
      openai.script('gpt-test', { text: MARKDOWN_ANSWER, chunkSize: 40, chunkDelayMs: 5 });
      const target = await openDevtools(base);
      await send(target, 'Write the release notes');
      const answer = (await lastAnswer(target)).locator('.message-text');

      // Headings, lists, tables, code and links, as elements.
      expect(await answer.locator('h1').textContent()).toBe('Release notes');
      expect(await answer.locator('h2').textContent()).toBe('Steps');
      expect(await answer.locator('strong').first().textContent()).toBe('docs');
      expect(await answer.locator('ul').first().locator('li').allTextContents()).toEqual([
        'build the image',
        'roll it out',
      ]);
      // A task list shows its boxes, ticked or not, and they cannot be changed.
      const boxes = answer.locator('input[type="checkbox"]');
      expect(await boxes.count()).toBe(2);
      expect([await boxes.first().isChecked(), await boxes.last().isChecked()]).toEqual([true, false]);
      expect([await boxes.first().isDisabled(), await boxes.last().isDisabled()]).toEqual([true, true]);
      expect(await answer.locator('table th').allTextContents()).toEqual(['stage', 'who', 'when']);
      expect(await answer.locator('table td').allTextContents()).toEqual([
        'image',
        'CI',
        '09:00',
        'canary',
        'on-call',
        '10:30',
      ]);
      expect(await answer.locator('table th').last().getAttribute('align')).toBe('right');
      expect(await answer.locator('pre code').textContent()).toBe('npm run pm2:reload\n');
      const guide = answer.locator('a', { hasText: 'the guide' });
      expect(await guide.getAttribute('href')).toBe('https://example.com/guide');
      expect(await guide.getAttribute('target')).toBe('_blank');
      expect(await guide.getAttribute('rel')).toContain('noopener');
      // A card cannot show an image by URL; it becomes a link, as in the card.
      expect(await answer.locator('a', { hasText: 'chart' }).getAttribute('href')).toBe(
        'https://example.com/chart.png',
      );

      // The payloads are shown as the text they are, and nothing of them can run.
      const shown = (await answer.textContent()) ?? '';
      expect(shown).toContain('<script>window.__xss = 2</script>');
      expect(shown).toContain(XSS);
      expect(await answer.locator('a', { hasText: 'this' }).getAttribute('href')).toBeNull();
      expect(await target.evaluate(SCRIPT_SURFACE)).toEqual([]);

      // The same answer in the trace, rendered the same way and just as inert.
      const sent = target.getByTestId('sent-text');
      await sent.waitFor({ timeout: STEP_TIMEOUT_MS });
      expect(await sent.locator('h1').textContent()).toBe('Release notes');
      expect(await sent.locator('table td').count()).toBe(6);
      await target.locator('.tl-row[data-type="reply.finished"] summary').click();
      await target.locator('.tl-row[data-type="reply.finished"] .tl-details h1').waitFor({ timeout: STEP_TIMEOUT_MS });
      expect(await target.evaluate(SCRIPT_SURFACE)).toEqual([]);
      await target.locator('a', { hasText: 'this' }).first().click();
      expect(await target.evaluate('typeof window.__xss')).toBe('undefined');
      expect(pageErrors).toEqual([]);
    });

    it('shows the text the bot sent in the trace, and every card a long Feishu answer rolled over from', async () => {
      // A playground answer: the trace shows the text itself, not only its length.
      openai.script('gpt-test', { text: ANSWER });
      const target = await openDevtools(base);
      await send(target, 'What time is it?');
      const bubble = await lastAnswer(target);
      const traceId = await bubble.getAttribute('data-trace-id');
      await expect
        .poll(() => target.getByTestId('sent-text').textContent(), { timeout: STEP_TIMEOUT_MS })
        .toContain(ANSWER);
      const item = target.locator(`.trace-item[data-trace-id="${traceId}"]`);
      await expect.poll(() => item.locator('.trace-reply').textContent(), { timeout: STEP_TIMEOUT_MS }).toBe(ANSWER);
      // Clicking a step expands its details: the agent call's model and tokens.
      const agentRow = target.locator('.tl-row[data-type="agent.call"]').first();
      await agentRow.locator('summary').click();
      const fields = await agentRow.locator('.step-fields').innerText();
      expect(fields).toContain('gpt-test');
      expect(fields).toMatch(/inputTokens\s+\d+/);

      // A long answer to a Feishu mention fills more than one card; each card's text is there.
      const long = longAnswer(140);
      expect(Buffer.byteLength(long)).toBeGreaterThan(30 * 1024);
      openai.script('gpt-test', { text: long, chunkSize: 4_000 });
      const feishuTrace = await groupMessage('Write the whole rollout plan', true);
      await target.locator('#filter-q').fill('rollout plan');
      const feishuItem = target.locator(`.trace-item[data-trace-id="${feishuTrace}"]`);
      await expect.poll(() => feishuItem.getAttribute('data-status'), { timeout: STEP_TIMEOUT_MS * 2 }).toBe('done');
      await feishuItem.locator('button').click();
      const sent = target.getByTestId('sent');
      await expect.poll(() => sent.locator('.sent-card').count(), { timeout: STEP_TIMEOUT_MS }).toBeGreaterThan(0);
      expect(await sent.locator('.section-title').textContent()).toMatch(/as card · [2-9] cards/);
      const firstCard = sent.locator('.sent-card').first();
      await firstCard.locator('summary').click();
      expect(await firstCard.locator('.sent-text p').first().textContent()).toContain('Paragraph 0:');
      // The whole answer is capped in devtools, with a note of how much was cut.
      expect(await target.getByTestId('sent-text').textContent()).toMatch(/Paragraph 0:[\s\S]*\[\+\d+ chars\]/);
      expect(pageErrors).toEqual([]);
    });

    it('lists answers people rated with 👍 / 👎 on the card, filtered by their rating', async () => {
      /** A mention answered at once; returns its trace id and the closed answer card. */
      const answered = async (text: string) => {
        openai.script('gpt-test', { text: `Answer to: ${text}` });
        const traceId = await groupMessage(text, true);
        const messageId = traceId.slice('message:'.length);
        await feishu.waitFor(() => answerCard(feishu, messageId)?.card.streaming === false, {
          timeoutMs: STEP_TIMEOUT_MS,
          description: `the closed card answering ${messageId}`,
        });
        return { traceId, ...answerCard(feishu, messageId)! };
      };
      const rate = async (card: Awaited<ReturnType<typeof answered>>, choice: 'up' | 'down') => {
        const value = buttonValue(card.card, `feedback_${choice}`);
        expect(value).toBeDefined();
        const answer = await pressCard(`${base}/webhook/card`, {
          fake: feishu,
          replyId: card.replyId,
          value: value!,
          encryptKey: DEVTOOLS_BOT_ENCRYPT_KEY,
          token: DEVTOOLS_BOT_VERIFICATION_TOKEN,
          chatId: GROUP_CHAT,
        });
        expect(answer.toast?.type).toBe('success');
      };
      const disliked = await answered('feedback question one');
      const liked = await answered('feedback question two');
      const unrated = await answered('feedback question three');
      await rate(disliked, 'down');
      await rate(liked, 'up');

      const target = await openDevtools(base);
      const item = (trace: { traceId: string }) => target.locator(`.trace-item[data-trace-id="${trace.traceId}"]`);
      await target.getByTestId('filter-feedback').selectOption('down');
      await expect.poll(() => item(disliked).count(), { timeout: STEP_TIMEOUT_MS }).toBe(1);
      await expect.poll(() => item(liked).count(), { timeout: STEP_TIMEOUT_MS }).toBe(0);
      expect(await item(unrated).count()).toBe(0);
      expect(await item(disliked).getByTestId('trace-feedback').textContent()).toContain('disliked');

      await target.getByTestId('filter-feedback').selectOption('up');
      await expect.poll(() => item(liked).count(), { timeout: STEP_TIMEOUT_MS }).toBe(1);
      expect(await item(disliked).count()).toBe(0);
      expect(await item(liked).getByTestId('trace-feedback').textContent()).toContain('liked');

      // Counted for operators by agent and model.
      const metrics = await (await fetch(`${base}/metrics`)).text();
      expect(metrics).toMatch(
        /answer_feedback_total\{[^}]*agent="manager"[^}]*model="gpt-test"[^}]*rating="down"[^}]*\} 1/,
      );
      expect(pageErrors).toEqual([]);
    });

    it('shows each part of a message with a picture: the preview, its type and size, and what reached the model', async () => {
      openai.script('gpt-test', { text: 'The dashboard shows 42 open tickets.' });
      const event = buildMessageEvent({
        fake: feishu,
        chatType: 'group',
        chatId: GROUP_CHAT,
        mentionBot: true,
        token: DEVTOOLS_BOT_VERIFICATION_TOKEN,
        post: {
          content: [[{ tag: 'text', text: 'what does this dashboard show?' }], [{ tag: 'img', image_key: 'img_dev' }]],
        },
      });
      const messageId = event.event.message.message_id;
      feishu.seedResource({ messageId, key: 'img_dev', bytes: fixture('screenshot.png') });
      const target = await openDevtools(base);
      expect((await postEvent(`${base}/webhook/event`, event, { encryptKey: DEVTOOLS_BOT_ENCRYPT_KEY })).status).toBe(
        200,
      );
      const item = target.locator(`.trace-item[data-trace-id="message:${messageId}"]`);
      await expect.poll(() => item.getAttribute('data-status'), { timeout: STEP_TIMEOUT_MS }).toBe('done');
      await item.locator('button').click();
      const part = target.locator('.tl-row[data-type="attachment.resolved"]').first();
      expect(await part.locator('.tl-summary').innerText()).toMatch(/The image[\s\S]*image\/png · 3,?\d{3} bytes/);
      await part.locator('summary').click();
      // The preview loads through the devtools API with the page's own credentials.
      await expect.poll(() => part.getByTestId('attachment-thumb').count(), { timeout: STEP_TIMEOUT_MS }).toBe(1);
      await expect
        .poll(
          () =>
            target.evaluate(
              `(() => { const image = document.querySelector('[data-testid="attachment-thumb"]'); return image && image.complete ? image.naturalWidth : 0; })()`,
            ),
          { timeout: STEP_TIMEOUT_MS },
        )
        .toBeGreaterThan(0);
      const turn = target.locator('.tl-row[data-type="turn.resolved"]').first();
      await turn.locator('summary').click();
      expect(await turn.locator('.tl-details').innerText()).toMatch(
        /What reached the model[\s\S]*text \(\d+ chars\): what does this dashboard show\?[\s\S]*image \(image\/png/,
      );
      await target.screenshot({ path: join(SCREENSHOTS, 'attachment-trace.png') });
      expect(pageErrors).toEqual([]);
    });

    it('lists the message text while it runs, and gives an ignored message a clear title', async () => {
      const target = await openDevtools(base);
      openai.script('gpt-test', { text: 'Slowly, word by word.', chunkSize: 2, chunkDelayMs: 150 });
      const running = await groupMessage('Is the deploy done yet?', true);
      const item = target.locator(`.trace-item[data-trace-id="${running}"]`);
      await expect
        .poll(
          async () => `${await item.getAttribute('data-status')}|${await item.locator('.trace-text').textContent()}`,
          { timeout: STEP_TIMEOUT_MS },
        )
        .toBe('running|Is the deploy done yet?');
      await expect.poll(() => item.getAttribute('data-status'), { timeout: STEP_TIMEOUT_MS }).toBe('done');

      const ignored = await groupMessage('lunch anyone?', false);
      const ignoredItem = target.locator(`.trace-item[data-trace-id="${ignored}"]`);
      await expect
        .poll(() => ignoredItem.locator('.trace-text').textContent(), { timeout: STEP_TIMEOUT_MS })
        .toBe('Not answered: group message without a mention of the bot');
      expect(await ignoredItem.getAttribute('data-ignored')).toBe('true');
      expect(pageErrors).toEqual([]);
    });

    it('keeps the playground conversation across a page reload, and follows an answer still streaming', async () => {
      openai.script('gpt-test', { text: 'First answer.' });
      const target = await openDevtools(base);
      const session = await target.locator('#session-id').textContent();
      await send(target, 'first question');
      await lastAnswer(target);
      openai.script('gpt-test', {
        text: 'A slow second answer, streamed in small pieces.',
        chunkSize: 2,
        chunkDelayMs: 60,
      });
      await send(target, 'second question');
      await target.locator('[data-testid="bot-message"][data-state="streaming"]').waitFor({ timeout: STEP_TIMEOUT_MS });

      await load(target);
      expect(await target.locator('#session-id').textContent()).toBe(session);
      expect(await target.getByTestId('user-message').allTextContents()).toEqual(['first question', 'second question']);
      const answers = target.getByTestId('bot-message');
      expect(await answers.count()).toBe(2);
      expect((await answers.first().locator('.message-text').textContent())?.trim()).toBe('First answer.');
      await target
        .locator('[data-testid="bot-message"][data-state="finished"]')
        .nth(1)
        .waitFor({ timeout: STEP_TIMEOUT_MS });
      expect((await answers.nth(1).locator('.message-text').textContent())?.trim()).toBe(
        'A slow second answer, streamed in small pieces.',
      );

      // The same session continues: the bot sees the earlier turns.
      openai.script('gpt-test', { text: 'Third.' });
      await send(target, 'third question');
      await lastAnswer(target);
      expect(JSON.stringify(openai.requestsFor('gpt-test').at(-1)?.messages)).toContain('first question');

      // New session: an empty conversation, and a reload keeps it empty.
      await target.locator('#new-session').click();
      await load(target);
      expect(await target.getByTestId('user-message').count()).toBe(0);
      expect(await target.locator('#session-id').textContent()).not.toBe(session);
      expect(pageErrors).toEqual([]);
    });

    it('shows the Health tab with component states and charts after the first calls, never "null" or a repeated row', async () => {
      const target = await openDevtools(base);
      openai.script('gpt-test', { text: 'Fine.' }, { error: { status: 401, code: 'invalid_api_key' } });
      await send(target, 'one');
      await lastAnswer(target);
      await send(target, 'two');
      await lastAnswer(target, ['failed']);

      await target.locator('.tab[data-tab="health"]').click();
      const health = target.getByTestId('health');
      const chart = health.locator('.card[data-agent="manager"] svg.chart');
      // Earlier tests share this bot, so bars may be drawn before the failed call reaches the
      // polled snapshot: wait for the red bar itself, and for a non-red one beside it.
      await expect.poll(() => chart.locator('rect.bar-error').count(), { timeout: STEP_TIMEOUT_MS }).toBeGreaterThan(0);
      expect(await chart.locator('rect.bar-agent').count()).toBeGreaterThan(0);
      for (const component of ['agent', 'feishu', 'store', 'deliveries', 'rate-limits', 'concurrency', 'process']) {
        expect(await health.locator(`.component[data-component="${component}"]`).count(), component).toBe(1);
      }
      // The adaptive limit of agent runs, and each model's limit with why it is what it is.
      const concurrency = await health.locator('.component[data-component="concurrency"]').textContent();
      expect(concurrency).toMatch(/\d+ running of \d+ \(ceiling \d+\)/);
      expect(concurrency).toMatch(/gpt-test.*limit \d+ · \d+ in flight.* · (starting limit|growing|cut)/);
      expect(await health.locator('.component[data-component="store"]').getAttribute('data-state')).toBe('ok');
      const text = await healthText(target);
      expect(text).not.toMatch(/\bnull\b|\bundefined\b|\bNaN\b|Invalid Date/);
      const labels = await health.locator('.error-table tbody td:first-child').allTextContents();
      expect(labels).toContain('AUTH');
      expect(labels.at(-1)).toBe('Total');
      expect(new Set(labels).size).toBe(labels.length);
      for (const count of await health.locator('.error-table tbody td.num').allTextContents()) {
        expect(Number(count)).toBeGreaterThan(0);
      }
      await target.screenshot({ path: join(SCREENSHOTS, 'health.png'), fullPage: true });
      expect(pageErrors).toEqual([]);
    });

    it('keeps the input and Send in view on a phone (390×844), however long the answer', async () => {
      const target = await openDevtools(base, { viewport: PHONE, phone: true });
      const input = target.getByTestId('chat-input');
      const sendButton = target.getByTestId('chat-send');
      expect(await fullyInView(target, input)).toBe(true);
      expect(await fullyInView(target, sendButton)).toBe(true);

      const wide = `| ${Array.from({ length: 12 }, (_, index) => `column ${index}`).join(' | ')} |\n|${'---|'.repeat(12)}\n| ${'value | '.repeat(12)}`;
      openai.script('gpt-test', {
        text: `${longAnswer(12)}\n\n${wide}\n\n\`\`\`\n${'x'.repeat(400)}\n\`\`\``,
        chunkSize: 400,
      });
      await send(target, 'Give me the long version');
      await lastAnswer(target);
      openai.script('gpt-test', { text: 'Short one.' });
      await send(target, 'and a short one');
      await lastAnswer(target);

      expect(await fullyInView(target, input)).toBe(true);
      expect(await fullyInView(target, sendButton)).toBe(true);
      // Nothing widens the page: long lines scroll inside their message.
      expect(await target.evaluate('document.documentElement.scrollWidth <= window.innerWidth')).toBe(true);
      // The on-screen keyboard leaves about half the height (the page asks to be resized for it).
      await target.setViewportSize(PHONE_WITH_KEYBOARD);
      await expect.poll(() => fullyInView(target, sendButton)).toBe(true);
      expect(await fullyInView(target, input)).toBe(true);
      expect(await target.locator('meta[name="viewport"]').getAttribute('content')).toContain(
        'interactive-widget=resizes-content',
      );
      await input.fill('typed on a phone');
      await sendButton.tap();
      await expect
        .poll(() => target.getByTestId('user-message').last().textContent(), { timeout: STEP_TIMEOUT_MS })
        .toBe('typed on a phone');
      await target.screenshot({ path: join(SCREENSHOTS, 'phone.png') });
      expect(pageErrors).toEqual([]);
    });
  });

  describe('with the agent off (no MODEL)', () => {
    let bot: RunningBot;
    let base: string;

    beforeAll(async () => {
      ({ bot, base } = await startDevtoolsBot());
    });

    afterAll(async () => {
      await bot?.stop();
    });

    it('answers at once that the agent is off and how to turn it on, and the header says so', async () => {
      const target = await openDevtools(base);
      const pill = target.getByTestId('agent-pill');
      await expect.poll(() => pill.textContent(), { timeout: STEP_TIMEOUT_MS }).toBe('agent off');
      expect(await target.getByTestId('agent-off-hint').isVisible()).toBe(true);

      const sentAt = Date.now();
      await send(target, 'hello?');
      const notice = target.locator('[data-testid="bot-message"][data-state="agent-off"]');
      await notice.waitFor({ timeout: 3_000 });
      expect(Date.now() - sentAt).toBeLessThan(3_000);
      expect(await notice.locator('.message-text').textContent()).toMatch(
        /^The agent is off: set MODEL and OPENAI_API_KEY \(see /,
      );
      // Nothing was queued for an agent that does not exist.
      expect(Object.values(await bot.store.countJobs()).reduce((sum, count) => sum + count, 0)).toBe(0);

      // The Health tab says it too, without a "null" anywhere.
      await target.locator('.tab[data-tab="health"]').click();
      const agent = target.locator('.component[data-component="agent"]');
      await agent.waitFor({ timeout: STEP_TIMEOUT_MS });
      expect(await agent.getAttribute('data-state')).toBe('off');
      expect(await healthText(target)).not.toMatch(/\bnull\b|\bundefined\b|\bNaN\b|Invalid Date/);
      await target.screenshot({ path: join(SCREENSHOTS, 'agent-off.png'), fullPage: true });
      expect(pageErrors).toEqual([]);
    });
  });
});

/**
 * Remakes the devtools screenshots in docs/images (`npm run screenshots`): the real bot
 * in-process with the fake OpenAI and fake Feishu servers from test/fakes, scripted answers, and
 * headless Chromium (/usr/bin/chromium, or CHROMIUM_PATH). Light theme, device scale 1, fixed
 * viewports, so the committed PNGs stay small and only change when the UI does.
 */
import { mkdirSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { type Browser, chromium, type Page } from 'playwright-core';
import type { RunningBot } from '../lib/bot.js';
import { buildBotMembershipEvent, buildMessageEvent, postEvent } from '../test/fakes/event-sender.js';
import { startFakeFeishu } from '../test/fakes/fake-feishu.js';
import { startFakeOpenAI } from '../test/fakes/fake-openai.js';
import {
  DEVTOOLS_BOT_ENCRYPT_KEY,
  DEVTOOLS_BOT_VERIFICATION_TOKEN,
  startDevtoolsBot,
} from '../test/support/devtools-bot.js';

const OUT = resolve(import.meta.dirname, '../docs/images');
const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const DESKTOP = { width: 1280, height: 800 };
const PHONE = { width: 390, height: 844 };
const TIMEOUT_MS = 30_000;
/** The group whose settings and spend the Chats and Spend tabs show, and who owns it. */
const TEAM_CHAT = { chatId: 'oc_screenshots_release', name: 'Release team' };
const OWNER = { openId: 'ou_screenshots0000000000000000000a', name: 'Wang Fang' };
/** Prices for the Spend tab (docs/cost.md's file format); usage comes with each scripted answer. */
const PRICES = { 'gpt-4o-mini': { inputPerMillion: 0.15, outputPerMillion: 0.6 } };

const BERLIN_ANSWER = [
  '## Berlin, right now',
  '',
  'It is **12:04** on Monday in Berlin (CET, UTC+1).',
  '',
  '| city | local time |',
  '|---|---|',
  '| Berlin | 12:04 |',
  '| Shanghai | 19:04 |',
  '',
  'To check it yourself:',
  '',
  '```sh',
  'TZ=Europe/Berlin date',
  '```',
].join('\n');

const RELEASE_ANSWER = [
  '# Release 2.4',
  '',
  '- Cards roll over to a second card past 24 KB',
  '- `/health` reports each component',
  '- The devtools show what the bot sent',
  '',
  'Details: [changelog](https://example.com/changelog).',
].join('\n');

async function shoot(page: Page, name: string, options: Parameters<Page['screenshot']>[0] = {}): Promise<void> {
  const path = join(OUT, name);
  await page.screenshot({ ...options, path, animations: 'disabled', caret: 'hide' });
  console.log(`${path}  ${(statSync(path).size / 1024).toFixed(0)} KB`);
}

/** Open pages, closed before their bot stops (an open page keeps streams open, which the drain waits out). */
const pages: Page[] = [];

async function closePages(): Promise<void> {
  for (const page of pages.splice(0)) await page.context().close();
}

async function openDevtools(browser: Browser, base: string, viewport = DESKTOP, phone = false): Promise<Page> {
  const context = await browser.newContext({
    viewport,
    colorScheme: 'light',
    deviceScaleFactor: 1,
    ...(phone ? { isMobile: true, hasTouch: true } : {}),
  });
  const page = await context.newPage();
  pages.push(page);
  await page.goto(`${base}/devtools`);
  await page.locator('#live-indicator.live-on').waitFor({ timeout: TIMEOUT_MS });
  return page;
}

async function ask(page: Page, text: string, state = 'finished'): Promise<void> {
  const before = await page.getByTestId('bot-message').count();
  await page.getByTestId('chat-input').fill(text);
  await page.getByTestId('chat-send').click();
  await page.locator(`[data-testid="bot-message"][data-state="${state}"]`).nth(before).waitFor({ timeout: TIMEOUT_MS });
}

async function withModel(browser: Browser): Promise<void> {
  const openai = await startFakeOpenAI();
  const feishu = await startFakeFeishu();
  let bot: RunningBot | undefined;
  const directory = mkdtempSync(join(tmpdir(), 'devtools-screenshots-'));
  try {
    const pricesFile = join(directory, 'prices.json');
    writeFileSync(pricesFile, JSON.stringify(PRICES));
    feishu.seedUser(OWNER);
    feishu.seedChat({ chatId: TEAM_CHAT.chatId, name: TEAM_CHAT.name, ownerOpenId: OWNER.openId });
    let base: string;
    ({ bot, base } = await startDevtoolsBot({
      openai,
      feishu,
      model: 'gpt-4o-mini',
      env: { MODEL_PRICES_FILE: pricesFile },
    }));
    const page = await openDevtools(browser, base);

    // Some Feishu traffic first: an answered mention and a message that was not for the bot.
    const group = async (text: string, mentionBot: boolean) => {
      const event = buildMessageEvent({
        fake: feishu,
        chatType: 'group',
        chatId: TEAM_CHAT.chatId,
        senderOpenId: OWNER.openId,
        mentionBot,
        text,
        token: DEVTOOLS_BOT_VERIFICATION_TOKEN,
      });
      await postEvent(`${base}/webhook/event`, event, { encryptKey: DEVTOOLS_BOT_ENCRYPT_KEY });
      return `message:${event.event.message.message_id}`;
    };
    // The bot joins the team's group (the group's name comes with the event: Chats and Spend show it).
    const added = buildBotMembershipEvent({
      fake: feishu,
      token: DEVTOOLS_BOT_VERIFICATION_TOKEN,
      kind: 'added',
      chatId: TEAM_CHAT.chatId,
      chatName: TEAM_CHAT.name,
    });
    await postEvent(`${base}/webhook/event`, added, { encryptKey: DEVTOOLS_BOT_ENCRYPT_KEY });
    // The chat's own settings, set in Feishu by its owner (the Chats tab shows them).
    const configured = await group('/config persona Answer briefly, in the release team’s words.', true);
    await page
      .locator(`.trace-item[data-trace-id="${configured}"][data-status="done"]`)
      .waitFor({ timeout: TIMEOUT_MS });
    openai.script('gpt-4o-mini', {
      text: RELEASE_ANSWER,
      chunkSize: 12,
      chunkDelayMs: 10,
      usage: { prompt_tokens: 41_000, completion_tokens: 9_000 },
    });
    const release = await group('What changed in release 2.4?', true);
    await page.locator(`.trace-item[data-trace-id="${release}"][data-status="done"]`).waitFor({ timeout: TIMEOUT_MS });
    const lunch = await group('lunch anyone?', false);
    await page.locator(`.trace-item[data-trace-id="${lunch}"][data-ignored="true"]`).waitFor({ timeout: TIMEOUT_MS });

    // The playground: a tool call, then a Markdown answer.
    openai.script(
      'gpt-4o-mini',
      { toolCalls: [{ name: 'currentTime', arguments: { timeZone: 'Europe/Berlin' } }] },
      { text: BERLIN_ANSWER, chunkSize: 8, chunkDelayMs: 5 },
    );
    await ask(page, 'What time is it in Berlin?');
    const finished = page.locator('.tl-row[data-type="reply.finished"]');
    await finished.waitFor({ timeout: TIMEOUT_MS });
    await page.locator('.tl-row[data-type="job.finished"]').waitFor({ timeout: TIMEOUT_MS });
    await page.mouse.move(0, 0);
    await shoot(page, 'devtools-playground.png');

    // One step expanded: the tool's arguments and result.
    await page.locator('.tl-row[data-type="tool.call"] summary').click();
    await page.locator('.tl-row[data-type="tool.call"] summary').scrollIntoViewIfNeeded();
    await page.mouse.move(0, 0);
    const detail = await page.locator('.panel.detail').boundingBox();
    if (detail) await shoot(page, 'devtools-trace.png', { clip: detail });

    await page.locator('.tab[data-tab="health"]').click();
    await page.locator('.card[data-agent="manager"] svg.chart rect').first().waitFor({ timeout: TIMEOUT_MS });
    const panel = await page.locator('.panel.detail').boundingBox();
    if (panel) await shoot(page, 'devtools-health.png', { clip: panel });

    await page.locator('.tab[data-tab="chats"]').click();
    const chatRow = page.locator(`[data-testid="chat-row"][data-chat-id="${TEAM_CHAT.chatId}"]`);
    await chatRow.waitFor({ timeout: TIMEOUT_MS });
    await chatRow.click();
    await page.getByTestId('chat-persona').waitFor({ timeout: TIMEOUT_MS });
    await page.mouse.move(0, 0);
    const chats = await page.locator('.panel.detail').boundingBox();
    if (chats) await shoot(page, 'devtools-chats.png', { clip: chats });

    await page.locator('.tab[data-tab="spend"]').click();
    await page
      .locator(`[data-testid="spend-chats-row"][data-id="${TEAM_CHAT.chatId}"]`)
      .waitFor({ timeout: TIMEOUT_MS });
    await page.mouse.move(0, 0);
    const spend = await page.locator('.panel.detail').boundingBox();
    if (spend) await shoot(page, 'devtools-spend.png', { clip: spend });

    const phone = await openDevtools(browser, base, PHONE, true);
    openai.script('gpt-4o-mini', { text: RELEASE_ANSWER });
    await ask(phone, 'And what changed in 2.4?');
    await shoot(phone, 'devtools-phone.png');
  } finally {
    await closePages();
    await bot?.stop();
    await openai.close();
    await feishu.close();
    rmSync(directory, { recursive: true, force: true });
  }
}

async function agentOff(browser: Browser): Promise<void> {
  const { bot, base } = await startDevtoolsBot();
  try {
    const page = await openDevtools(browser, base);
    await page.getByTestId('agent-pill').and(page.locator('[data-state="off"]')).waitFor({ timeout: TIMEOUT_MS });
    await ask(page, 'hello?', 'agent-off');
    await shoot(page, 'devtools-agent-off.png', { clip: { x: 0, y: 0, width: 720, height: 420 } });
  } finally {
    await closePages();
    await bot.stop();
  }
}

mkdirSync(OUT, { recursive: true });
const browser = await chromium.launch({
  executablePath: CHROMIUM,
  headless: true,
  args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--hide-scrollbars'],
});
try {
  await withModel(browser);
  await agentOff(browser);
} finally {
  await browser.close();
}

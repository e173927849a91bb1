import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningBot } from '../../lib/bot.js';
import { buildBotMembershipEvent, buildMessageEvent, postEvent } from '../fakes/event-sender.js';
import { type FakeFeishu, startFakeFeishu } from '../fakes/fake-feishu.js';
import { type FakeOpenAI, startFakeOpenAI } from '../fakes/fake-openai.js';
import { writeAppsFile } from '../support/apps-file.js';
import { launchChromium, openPage } from '../support/chromium.js';
import {
  DEVTOOLS_BOT_ENCRYPT_KEY as encryptKey,
  startDevtoolsBot,
  DEVTOOLS_BOT_VERIFICATION_TOKEN as token,
} from '../support/devtools-bot.js';
import { requireChromium } from '../support/requirements.js';

const STEP_TIMEOUT_MS = 20_000;
const OWNER = { openId: 'ou_owner0000000000000000000000000a', name: 'Wang Fang' };
const CHAT = 'oc_devtools_chats_tab';

describe.skipIf(!requireChromium())('devtools Chats tab in headless Chromium', { timeout: 90_000 }, () => {
  let browser: Browser;
  let feishu: FakeFeishu;
  let openai: FakeOpenAI;
  let bot: RunningBot;
  let base: string;

  beforeAll(async () => {
    feishu = await startFakeFeishu();
    openai = await startFakeOpenAI();
    ({ bot, base } = await startDevtoolsBot({ openai, feishu, env: { CHAT_ALLOWED_MODELS: 'gpt-test,gpt-alt' } }));
    browser = await launchChromium();
    feishu.seedUser(OWNER);
    feishu.seedChat({ chatId: CHAT, name: 'Release team', ownerOpenId: OWNER.openId });
  });

  afterAll(async () => {
    await browser?.close();
    await bot?.stop();
    await openai?.close();
    await feishu?.close();
  });

  async function mention(text: string) {
    const event = buildMessageEvent({
      fake: feishu,
      token,
      chatType: 'group',
      chatId: CHAT,
      mentionBot: true,
      senderOpenId: OWNER.openId,
      text,
    });
    expect((await postEvent(`${base}/webhook/event`, event, { encryptKey })).status).toBe(200);
    return event.event.message.message_id;
  }

  it('shows a chat set in Feishu, saves an edit as a new version by devtools, and the next message uses it', async () => {
    // The bot joins the group: its name comes with the event.
    const added = buildBotMembershipEvent({
      fake: feishu,
      token,
      kind: 'added',
      chatId: CHAT,
      chatName: 'Release team',
    });
    expect((await postEvent(`${base}/webhook/event`, added, { encryptKey })).status).toBe(200);
    const asked = await mention('/config persona Speak like a pirate.');
    await feishu.waitFor(() => feishu.repliesTo(asked, { fromBot: true }).length > 0, { timeoutMs: STEP_TIMEOUT_MS });

    const { context, page, errors, status } = await openPage(browser, `${base}/devtools`);
    expect(status).toBe(200);
    await page.locator('.tab[data-tab="chats"]').click();
    const row = page.locator(`[data-testid="chat-row"][data-chat-id="${CHAT}"]`);
    await row.waitFor({ timeout: STEP_TIMEOUT_MS });
    // Who changed it, by name.
    expect(await row.textContent()).toContain('Wang Fang');
    await row.click();
    const persona = page.getByTestId('chat-persona');
    await persona.waitFor({ timeout: STEP_TIMEOUT_MS });
    expect(await persona.inputValue()).toBe('Speak like a pirate.');
    // The form is headed by the group's name, its id beside it.
    expect(await page.locator('#chat-detail h3').textContent()).toBe(`Release team ${CHAT}`);

    await page.getByTestId('chat-model').selectOption('gpt-alt');
    await page.locator('[data-testid="chat-tools"] input[value="readDocument"]').uncheck();
    await page.getByTestId('chat-save').click();
    await page.locator('[data-testid="chat-history"] li').nth(1).waitFor({ timeout: STEP_TIMEOUT_MS });
    expect(await page.getByTestId('chat-history').textContent()).toContain('changed model, tools');

    const [newest] = await bot.store.chatSettingsHistory(CHAT, 1);
    expect(newest).toMatchObject({
      version: 2,
      changedBy: 'devtools',
      settings: { persona: 'Speak like a pirate.', model: 'gpt-alt', toolsOff: ['readDocument'] },
    });

    openai.script('gpt-alt', { text: 'Arr, ready.' });
    await mention('ready?');
    await feishu.waitFor(() => openai.requestsFor('gpt-alt').length > 0, { timeoutMs: STEP_TIMEOUT_MS });
    const request = openai.requestsFor('gpt-alt')[0];
    expect(JSON.stringify(request?.messages[0])).toContain('Speak like a pirate.');
    const tools = (request?.tools ?? []).map((each) => (each as { function?: { name?: string } }).function?.name);
    expect(tools).not.toContain('readDocument');
    expect(errors).toEqual([]);
    await context.close();
  });
});

describe.skipIf(!requireChromium())('devtools Chats tab with two Feishu apps', { timeout: 90_000 }, () => {
  const BETA_KEY = 'beta-encrypt-key-for-the-chats-tab';
  let browser: Browser;
  let feishu: FakeFeishu;
  let openai: FakeOpenAI;
  let bot: RunningBot;
  let base: string;

  beforeAll(async () => {
    feishu = await startFakeFeishu({ otherApps: [{ botName: 'Beta' }] });
    openai = await startFakeOpenAI();
    const [alpha, beta] = feishu.apps;
    const file = writeAppsFile([
      { id: 'alpha', appId: alpha?.appId, appSecret: alpha?.appSecret, encryptKey },
      { id: 'beta', appId: beta?.appId, appSecret: beta?.appSecret, encryptKey: BETA_KEY },
    ]);
    ({ bot, base } = await startDevtoolsBot({
      openai,
      feishu,
      env: {
        FEISHU_APP_ID: undefined,
        FEISHU_APP_SECRET: undefined,
        FEISHU_ENCRYPT_KEY: undefined,
        FEISHU_VERIFICATION_TOKEN: undefined,
        FEISHU_APPS_FILE: file,
      },
    }));
    browser = await launchChromium();
    feishu.seedUser(OWNER);
    feishu.seedChat({ chatId: CHAT, name: 'Release team', ownerOpenId: OWNER.openId });
  });

  afterAll(async () => {
    await browser?.close();
    await bot?.stop();
    await openai?.close();
    await feishu?.close();
  });

  it('shows the second bot’s chat settings only when that app is picked', async () => {
    const beta = feishu.apps[1];
    if (beta === undefined) throw new Error('the fake serves two apps');
    const event = buildMessageEvent({
      fake: feishu,
      appId: beta.appId,
      chatType: 'group',
      chatId: CHAT,
      senderOpenId: OWNER.openId,
      text: '/config persona Speak like Beta.',
      mentions: [{ openId: beta.botOpenId, name: beta.botName }],
    });
    expect((await postEvent(`${base}/webhook/beta/event`, event, { encryptKey: BETA_KEY })).status).toBe(200);
    const asked = event.event.message.message_id;
    await feishu.waitFor(() => feishu.repliesTo(asked, { fromBot: true }).length > 0, { timeoutMs: STEP_TIMEOUT_MS });

    const context = await browser.newContext({ viewport: { width: 1440, height: 900 } });
    const page = await context.newPage();
    const errors: string[] = [];
    page.on('pageerror', (error) => errors.push(error.message));
    expect((await page.goto(`${base}/devtools`))?.status()).toBe(200);
    await page.locator('.tab[data-tab="chats"]').click();
    const picker = page.getByTestId('chats-app');
    await picker.waitFor({ timeout: STEP_TIMEOUT_MS });
    expect(await picker.inputValue()).toBe('alpha');
    const row = page.locator(`[data-testid="chat-row"][data-chat-id="${CHAT}"]`);
    expect(await row.count()).toBe(0);

    await picker.selectOption('beta');
    await row.waitFor({ timeout: STEP_TIMEOUT_MS });
    await row.click();
    const persona = page.getByTestId('chat-persona');
    await persona.waitFor({ timeout: STEP_TIMEOUT_MS });
    expect(await persona.inputValue()).toBe('Speak like Beta.');
    expect(errors).toEqual([]);
    await context.close();
  });
});

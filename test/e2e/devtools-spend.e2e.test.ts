/**
 * The devtools Spend tab in real headless Chromium against the running bot: people ask in a
 * Feishu group through signed webhook events, the fake provider reports known usage priced by the
 * operator's price file, and the operator sees today's spend per chat (by the group's name), per
 * person (by display name), per model and per app, to the cent — and nobody else sees it.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningBot } from '../../lib/bot.js';
import type { StampedBotEvent } from '../../lib/observe/bot-event.js';
import { buildBotMembershipEvent, postEvent } from '../fakes/event-sender.js';
import { type FakeFeishu, startFakeFeishu } from '../fakes/fake-feishu.js';
import { type FakeOpenAI, startFakeOpenAI } from '../fakes/fake-openai.js';
import { askInChat } from '../support/ask-in-chat.js';
import { launchChromium, openPage } from '../support/chromium.js';
import {
  DEVTOOLS_BOT_ENCRYPT_KEY as encryptKey,
  startDevtoolsBot,
  DEVTOOLS_BOT_VERIFICATION_TOKEN as token,
} from '../support/devtools-bot.js';
import { requireChromium } from '../support/requirements.js';

const STEP_TIMEOUT_MS = 20_000;
const WANG = { openId: 'ou_wangfang00000000000000000000001', name: 'Wang Fang' };
const LI = { openId: 'ou_lilei0000000000000000000000002', name: 'Li Lei' };
const CHAT = 'oc_devtools_spend_tab';
const DEVTOOLS_TOKEN = 'spend-devtools-token-0123456789abcdef';
// $2.50 per million input tokens and $10 per million output.
const PRICES = { 'gpt-test': { inputPerMillion: 2.5, outputPerMillion: 10 } };

describe.skipIf(!requireChromium())('devtools Spend tab in headless Chromium', { timeout: 90_000 }, () => {
  let browser: Browser;
  let feishu: FakeFeishu;
  let openai: FakeOpenAI;
  let bot: RunningBot;
  let base: string;
  let directory: string;
  const events: StampedBotEvent[] = [];

  beforeAll(async () => {
    directory = mkdtempSync(join(tmpdir(), 'devtools-spend-'));
    const pricesFile = join(directory, 'prices.json');
    writeFileSync(pricesFile, JSON.stringify(PRICES));
    feishu = await startFakeFeishu();
    openai = await startFakeOpenAI();
    ({ bot, base } = await startDevtoolsBot({
      openai,
      feishu,
      env: { MODEL_PRICES_FILE: pricesFile, BUDGET_TIME_ZONE: 'Asia/Shanghai', DEVTOOLS_TOKEN },
    }));
    bot.bus.subscribe((event) => events.push(event));
    browser = await launchChromium();
    feishu.seedUser(WANG);
    feishu.seedUser(LI);
    feishu.seedChat({ chatId: CHAT, name: 'Release team', ownerOpenId: WANG.openId });
  });

  afterAll(async () => {
    await browser?.close();
    await bot?.stop();
    await openai?.close();
    await feishu?.close();
    rmSync(directory, { recursive: true, force: true });
  });

  it('shows who spent what today, per chat, person, model and app, to the cent', async () => {
    // The bot joins the group: its name comes with the event.
    const added = buildBotMembershipEvent({
      fake: feishu,
      token,
      kind: 'added',
      chatId: CHAT,
      chatName: 'Release team',
    });
    expect((await postEvent(`${base}/webhook/event`, added, { encryptKey })).status).toBe(200);

    const webhookUrl = `${base}/webhook/event`;
    const ask = (who: { openId: string }, text: string) =>
      askInChat({ feishu, webhookUrl, events, encryptKey, token, chatId: CHAT, senderOpenId: who.openId, text });
    // Wang: 200 000 in ($0.50) + 100 000 out ($1.00) = $1.50; Li: 20 000 in ($0.05) + 3 000 out ($0.03) = $0.08.
    openai.script('gpt-test', { text: 'Friday.', usage: { prompt_tokens: 200_000, completion_tokens: 100_000 } });
    expect((await ask(WANG, 'when is the release?')).shown).toContain('Friday.');
    openai.script('gpt-test', { text: 'Ten.', usage: { prompt_tokens: 20_000, completion_tokens: 3_000 } });
    expect((await ask(LI, 'how many tickets are open?')).shown).toContain('Ten.');
    expect(JSON.stringify(openai.requestsFor('gpt-test').at(-1)?.messages)).toContain('how many tickets are open?');
    // The spend is recorded after each answer; wait until both are in.
    await expect
      .poll(async () => {
        const response = await fetch(`${base}/devtools/api/spend`);
        return ((await response.json()) as { days: Array<{ micros: number }> }).days[0]?.micros;
      })
      .toBe(1_580_000);

    // Token-protected like the rest of devtools: a request through a proxy has no loopback pass.
    const outside = await fetch(`${base}/devtools/api/spend`, { headers: { 'x-forwarded-for': '203.0.113.9' } });
    expect(outside.status).toBe(401);
    const withToken = await fetch(`${base}/devtools/api/spend`, {
      headers: { 'x-forwarded-for': '203.0.113.9', authorization: `Bearer ${DEVTOOLS_TOKEN}` },
    });
    expect(withToken.status).toBe(200);

    const { context, page, errors, status } = await openPage(browser, `${base}/devtools`);
    expect(status).toBe(200);
    await page.locator('.tab[data-tab="spend"]').click();
    const today = page.getByTestId('spend-day').first();
    await today.waitFor({ timeout: STEP_TIMEOUT_MS });
    expect(await today.textContent()).toContain('$1.58');
    expect(await page.getByTestId('spend-day').count()).toBe(7);

    const app = page.locator('[data-testid="spend-app"][data-app="default"]');
    await app.waitFor({ timeout: STEP_TIMEOUT_MS });
    const chat = page.locator(`[data-testid="spend-chats-row"][data-id="${CHAT}"]`);
    expect(await chat.textContent()).toContain('Release team');
    expect(await chat.textContent()).toContain('$1.58');
    const people = page.getByTestId('spend-people-row');
    expect(await people.nth(0).textContent()).toContain('Wang Fang');
    expect(await people.nth(0).textContent()).toContain('$1.50');
    expect(await people.nth(1).textContent()).toContain('Li Lei');
    expect(await people.nth(1).textContent()).toContain('$0.08');
    expect(await page.locator('[data-testid="spend-models-row"][data-id="gpt-test"]').textContent()).toContain('$1.58');

    // An earlier day: nothing spent.
    await page.getByTestId('spend-day').nth(1).click();
    await page.getByText('Nothing spent on').waitFor({ timeout: STEP_TIMEOUT_MS });
    expect(errors).toEqual([]);
    await context.close();
  });
});

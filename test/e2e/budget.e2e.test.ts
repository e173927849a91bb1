import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type RunningBot, startBot } from '../../lib/bot.js';
import { loadConfig } from '../../lib/config.js';
import { silentLogger } from '../../lib/log.js';
import type { StampedBotEvent } from '../../lib/observe/bot-event.js';
import { type FakeFeishu, startFakeFeishu } from '../fakes/fake-feishu.js';
import { type FakeOpenAI, startFakeOpenAI } from '../fakes/fake-openai.js';
import { askInChat, sayInChat } from '../support/ask-in-chat.js';
import { parsePrometheusText, sampleValue } from '../support/prometheus-text.js';

/**
 * Spend and daily budgets as a team sees them: questions through signed webhook events, the
 * model's usage figures from the fake provider priced by the operator's price file, the cost per
 * chat, person and model in /metrics to the cent, and a question past a budget answered with a
 * notice saying when it resets — without a model call. A chat's owner or admin sets the chat's
 * own budget with `/config`, within the operator's ceiling.
 */

const encryptKey = 'budget-encrypt-key';
const token = 'budget-verification-token';
// $2.50 per million input tokens and $10 per million output: 200 000 in + 150 000 out = $2.00.
const PRICES = { 'gpt-test': { inputPerMillion: 2.5, outputPerMillion: 10 } };
const USAGE = { prompt_tokens: 200_000, completion_tokens: 150_000 };

describe('daily budgets and spend, end to end', () => {
  let feishu: FakeFeishu;
  let openai: FakeOpenAI;
  let bot: RunningBot;
  let directory: string;
  const events: StampedBotEvent[] = [];

  beforeAll(async () => {
    directory = mkdtempSync(join(tmpdir(), 'budget-e2e-'));
    const pricesFile = join(directory, 'prices.json');
    writeFileSync(pricesFile, JSON.stringify(PRICES));
    feishu = await startFakeFeishu();
    openai = await startFakeOpenAI();
    const config = loadConfig({
      NODE_ENV: 'test',
      PORT: '0',
      HOST: '127.0.0.1',
      LOG_LEVEL: 'silent',
      ...feishu.env(),
      FEISHU_ENCRYPT_KEY: encryptKey,
      FEISHU_VERIFICATION_TOKEN: token,
      OPENAI_BASE_URL: openai.baseURL,
      OPENAI_API_KEY: openai.apiKey,
      MODEL: 'gpt-test',
      STORE_URL: `sqlite:${join(directory, 'bot.db')}`,
      ENABLE_DEVTOOLS: 'false',
      MODEL_PRICES_FILE: pricesFile,
      DAILY_BUDGET_USD_PER_CHAT: '2',
      DAILY_BUDGET_USD_PER_USER: '3',
      BUDGET_TIME_ZONE: 'Asia/Shanghai',
    });
    bot = await startBot(config, { log: silentLogger(), dispatcher: { pollIntervalMs: 50 } });
    bot.bus.subscribe((event) => events.push(event));
  });

  afterAll(async () => {
    await bot?.stop();
    await openai?.close();
    await feishu?.close();
    rmSync(directory, { recursive: true, force: true });
  });

  async function ask(chatId: string, senderOpenId: string, text: string): Promise<string> {
    const webhookUrl = `http://127.0.0.1:${bot.port}/webhook/event`;
    return (await askInChat({ feishu, webhookUrl, events, encryptKey, token, chatId, senderOpenId, text })).shown;
  }

  async function metrics() {
    const response = await fetch(`http://127.0.0.1:${bot.port}/metrics`);
    return parsePrometheusText(await response.text());
  }

  it('prices each answer by the price file, and refuses the chat once its budget is spent', async () => {
    openai.script('gpt-test', { text: 'The release is on Friday.', usage: USAGE });
    expect(await ask('oc_budget_a', 'ou_alice', 'when is the release?')).toContain('The release is on Friday.');

    // Recording the spend follows the answer; /metrics shows it to the cent once it is in.
    await expect
      .poll(async () =>
        sampleValue(await metrics(), 'feishu_bot_cost_usd_total', { app: 'default', model: 'gpt-test' }),
      )
      .toBe(2);
    const families = await metrics();
    expect(sampleValue(families, 'feishu_bot_chat_cost_usd_total', { chat: 'oc_budget_a' })).toBe(2);
    expect(sampleValue(families, 'feishu_bot_user_cost_usd_total', { user: 'ou_alice' })).toBe(2);
    expect(sampleValue(families, 'feishu_bot_model_tokens_total', { model: 'gpt-test', direction: 'input' })).toBe(
      200_000,
    );

    const requestsBefore = openai.requestsFor('gpt-test').length;
    const notice = await ask('oc_budget_a', 'ou_bob', 'and what about the one after?');
    expect(notice).toContain("This chat has used today's budget for questions to me ($2.00)");
    expect(notice).toMatch(
      /resets at 00:00 Asia\/Shanghai \(in \d+ h \d+ min\)|resets at 00:00 Asia\/Shanghai \(in \d+ min\)/,
    );
    expect(openai.requestsFor('gpt-test')).toHaveLength(requestsBefore);
    expect(
      sampleValue(await metrics(), 'feishu_bot_messages_ignored_total', { reason: 'chat over daily budget' }),
    ).toBe(1);
  });

  it('refuses a person over their own budget in any chat, while others there are answered', async () => {
    openai.script('gpt-test', { text: 'Second answer for Alice.', usage: USAGE });
    expect(await ask('oc_budget_b', 'ou_alice', 'a question in another chat')).toContain('Second answer for Alice.');
    await expect
      .poll(async () => sampleValue(await metrics(), 'feishu_bot_user_cost_usd_total', { user: 'ou_alice' }))
      .toBe(4);

    const requestsBefore = openai.requestsFor('gpt-test').length;
    const notice = await ask('oc_budget_c', 'ou_alice', 'one more?');
    expect(notice).toContain("You have used today's budget for questions to me ($3.00)");
    expect(openai.requestsFor('gpt-test')).toHaveLength(requestsBefore);

    openai.script('gpt-test', { text: 'Carol is answered.', usage: { prompt_tokens: 10, completion_tokens: 5 } });
    expect(await ask('oc_budget_c', 'ou_carol', 'and me?')).toContain('Carol is answered.');
  });

  it("lets the chat's admins (by Feishu's chat API) lower its budget with /config, and refuses at the lowered one", async () => {
    const chatId = 'oc_budget_team';
    const owner = 'ou_budget_owner';
    const member = 'ou_budget_member';
    feishu.seedChat({ chatId, name: 'Budget team', ownerOpenId: owner });

    const webhookUrl = `http://127.0.0.1:${bot.port}/webhook/event`;
    const say = (senderOpenId: string, text: string) =>
      sayInChat({ feishu, webhookUrl, encryptKey, token, chatId, senderOpenId, text });

    const requestsBefore = openai.requestsFor('gpt-test').length;
    expect(await say(member, '/config chat-budget 0.50')).toContain('Only the group owner or a group admin');
    // The operator set no ceiling above the configured $2: the owner may lower it, not raise it.
    expect(await say(owner, '/config chat-budget 5')).toContain('chat-budget can be at most $2.00 a day');
    expect(await say(owner, '/config chat-budget $0.50')).toContain('chat-budget: $0.50 a day — at most $2.00');
    expect(await bot.store.chatSettingsHistory(chatId, 10)).toMatchObject([
      { version: 1, changedBy: owner, change: 'chat-budget = $0.50' },
    ]);
    expect(openai.requestsFor('gpt-test')).toHaveLength(requestsBefore);

    // 100 000 input tokens ($0.25) and 30 000 output ($0.30): $0.55, past the chat's $0.50.
    openai.script('gpt-test', {
      text: 'Deploys are on Tuesdays.',
      usage: { prompt_tokens: 100_000, completion_tokens: 30_000 },
    });
    expect(await ask(chatId, member, 'when do we deploy?')).toContain('Deploys are on Tuesdays.');
    expect(JSON.stringify(openai.requestsFor('gpt-test').at(-1)?.messages)).toContain('when do we deploy?');
    await expect
      .poll(async () => sampleValue(await metrics(), 'feishu_bot_chat_cost_usd_total', { chat: chatId }))
      .toBe(0.55);

    const refusedBefore =
      sampleValue(await metrics(), 'feishu_bot_messages_ignored_total', { reason: 'chat over daily budget' }) ?? 0;
    const notice = await ask(chatId, member, 'and the next release?');
    expect(notice).toContain("This chat has used today's budget for questions to me ($0.50)");
    expect(notice).toContain('resets at 00:00 Asia/Shanghai');
    expect(openai.requestsFor('gpt-test')).toHaveLength(requestsBefore + 1);
    expect(
      sampleValue(await metrics(), 'feishu_bot_messages_ignored_total', { reason: 'chat over daily budget' }),
    ).toBe(refusedBefore + 1);

    // Past the budget commands still run (they call no model): the owner raises it back to $1.
    expect(await say(owner, '/config chat-budget 1')).toContain('chat-budget: $1.00 a day');
    openai.script('gpt-test', {
      text: 'The next release is in May.',
      usage: { prompt_tokens: 10, completion_tokens: 5 },
    });
    expect(await ask(chatId, member, 'and the next release?')).toContain('The next release is in May.');
  });
});

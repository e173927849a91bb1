import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { askInChat, sayInChat } from '../support/ask-in-chat.js';
import { useE2eService } from '../support/e2e-service.js';
import { parsePrometheusText, sampleValue } from '../support/prometheus-text.js';

/**
 * Spend and daily budgets as a team sees them: questions through signed webhook events, the
 * model's usage figures from the fake provider priced by the operator's price file, the cost per
 * chat, person and model in /metrics to the cent, and a question past a budget answered with a
 * notice saying when it resets — without a model call. A chat's owner or admin sets the chat's
 * own budget with `/config`, within the operator's ceiling.
 */

// $2.50 per million input tokens and $10 per million output: 200 000 in + 150 000 out = $2.00.
const PRICES = { 'gpt-test': { inputPerMillion: 2.5, outputPerMillion: 10 } };
const USAGE = { prompt_tokens: 200_000, completion_tokens: 150_000 };

describe('daily budgets and spend, end to end', () => {
  let directory: string;
  let pricesFile: string;

  beforeAll(() => {
    directory = mkdtempSync(join(tmpdir(), 'budget-e2e-'));
    pricesFile = join(directory, 'prices.json');
    writeFileSync(pricesFile, JSON.stringify(PRICES));
  });

  afterAll(() => {
    rmSync(directory, { recursive: true, force: true });
  });

  const service = useE2eService({
    env: () => ({
      STORE_URL: `sqlite:${join(directory, 'bot.db')}`,
      MODEL_PRICES_FILE: pricesFile,
      DAILY_BUDGET_USD_PER_CHAT: '2',
      DAILY_BUDGET_USD_PER_USER: '3',
      BUDGET_TIME_ZONE: 'Asia/Shanghai',
    }),
  });

  async function ask(chatId: string, senderOpenId: string, text: string): Promise<string> {
    return (await askInChat({ ...service, chatId, senderOpenId, text })).shown;
  }

  async function metrics() {
    const response = await fetch(`${service.base}/metrics`);
    return parsePrometheusText(await response.text());
  }

  it('prices each answer by the price file, and refuses the chat once its budget is spent', async () => {
    service.openai.script('gpt-test', { text: 'The release is on Friday.', usage: USAGE });
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

    const requestsBefore = service.openai.requestsFor('gpt-test').length;
    const notice = await ask('oc_budget_a', 'ou_bob', 'and what about the one after?');
    expect(notice).toContain("This chat has used today's budget for questions to me ($2.00)");
    expect(notice).toMatch(
      /resets at 00:00 Asia\/Shanghai \(in \d+ h \d+ min\)|resets at 00:00 Asia\/Shanghai \(in \d+ min\)/,
    );
    expect(service.openai.requestsFor('gpt-test')).toHaveLength(requestsBefore);
    expect(
      sampleValue(await metrics(), 'feishu_bot_messages_ignored_total', { reason: 'chat over daily budget' }),
    ).toBe(1);
  });

  it('refuses a person over their own budget in any chat, while others there are answered', async () => {
    service.openai.script('gpt-test', { text: 'Second answer for Alice.', usage: USAGE });
    expect(await ask('oc_budget_b', 'ou_alice', 'a question in another chat')).toContain('Second answer for Alice.');
    await expect
      .poll(async () => sampleValue(await metrics(), 'feishu_bot_user_cost_usd_total', { user: 'ou_alice' }))
      .toBe(4);

    const requestsBefore = service.openai.requestsFor('gpt-test').length;
    const notice = await ask('oc_budget_c', 'ou_alice', 'one more?');
    expect(notice).toContain("You have used today's budget for questions to me ($3.00)");
    expect(service.openai.requestsFor('gpt-test')).toHaveLength(requestsBefore);

    service.openai.script('gpt-test', {
      text: 'Carol is answered.',
      usage: { prompt_tokens: 10, completion_tokens: 5 },
    });
    expect(await ask('oc_budget_c', 'ou_carol', 'and me?')).toContain('Carol is answered.');
  });

  it("lets the chat's admins (by Feishu's chat API) lower its budget with /config, and refuses at the lowered one", async () => {
    const { feishu, openai, bot } = service;
    const chatId = 'oc_budget_team';
    const owner = 'ou_budget_owner';
    const member = 'ou_budget_member';
    feishu.seedChat({ chatId, name: 'Budget team', ownerOpenId: owner });
    const say = (senderOpenId: string, text: string) => sayInChat({ ...service, chatId, senderOpenId, text });

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

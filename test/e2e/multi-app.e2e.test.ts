import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeEach, describe, expect, it } from 'vitest';
import { buildMessageEvent, type FeishuMessageReceiveEvent, postEvent } from '../fakes/event-sender.js';
import type { FakeApp, FakeMessage } from '../fakes/fake-feishu.js';
import { useE2eService } from '../support/e2e-service.js';
import { parsePrometheusText, sampleValue } from '../support/prometheus-text.js';

/**
 * Two bots served by one process: alpha and beta are two apps of one tenant, each with its own
 * webhook path and encrypt key, in the same group. Everything goes through the running service,
 * the real lark SDK against the fake Feishu (which tells the apps' tokens apart) and the real AI
 * SDK provider against the fake OpenAI.
 */

const ALPHA_KEY = 'alpha-encrypt-key';
const BETA_KEY = 'beta-encrypt-key';
const GROUP = 'oc_two_bots_group';
const ASKER = 'ou_asker000000000000000000000001';

const service = useE2eService({
  feishu: { otherApps: [{ botName: 'Beta' }] },
  env: ({ feishu }) => {
    const [alpha, beta] = feishu.apps;
    const file = join(mkdtempSync(join(tmpdir(), 'multi-app-')), 'apps.json');
    writeFileSync(
      file,
      JSON.stringify([
        { id: 'alpha', appId: alpha?.appId, appSecret: alpha?.appSecret, encryptKey: ALPHA_KEY },
        { id: 'beta', appId: beta?.appId, appSecret: beta?.appSecret, encryptKey: BETA_KEY, persona: 'You are Beta.' },
      ]),
    );
    return {
      FEISHU_APP_ID: undefined,
      FEISHU_APP_SECRET: undefined,
      FEISHU_ENCRYPT_KEY: undefined,
      FEISHU_VERIFICATION_TOKEN: undefined,
      FEISHU_APPS_FILE: file,
    };
  },
});

function apps(): { alpha: FakeApp; beta: FakeApp } {
  const [alpha, beta] = service.feishu.apps;
  if (alpha === undefined || beta === undefined) throw new Error('the fake serves two apps');
  return { alpha, beta };
}

const eventUrl = (app: string) => `${service.base}/webhook/${app}/event`;

/** The same message as Feishu delivers it to another app: its own event id and app id. */
function deliveredTo(event: FeishuMessageReceiveEvent, app: FakeApp): FeishuMessageReceiveEvent {
  return { ...event, header: { ...event.header, event_id: `${event.header.event_id}-2`, app_id: app.appId } };
}

/** A group message from ASKER mentioning `mentioned`, posted to both apps' webhooks as Feishu would. */
async function askBoth(text: string, mentioned: FakeApp[]): Promise<string> {
  const { alpha, beta } = apps();
  const event = buildMessageEvent({
    fake: service.feishu,
    appId: alpha.appId,
    chatId: GROUP,
    senderOpenId: ASKER,
    text,
    mentions: mentioned.map((app) => ({ openId: app.botOpenId, name: app.botName })),
  });
  expect((await postEvent(eventUrl('alpha'), event, { encryptKey: ALPHA_KEY })).status).toBe(200);
  expect((await postEvent(eventUrl('beta'), deliveredTo(event, beta), { encryptKey: BETA_KEY })).status).toBe(200);
  return event.event.message.message_id;
}

/** The bot replies to `messageId` once every named job finished; fails when one finished otherwise than done. */
async function repliesWhenFinished(messageId: string, jobIds: string[]): Promise<FakeMessage[]> {
  await service.feishu.waitFor(
    () =>
      jobIds.every((jobId) => service.events.some((event) => event.type === 'job.finished' && event.traceId === jobId)),
    { description: `jobs ${jobIds.join(', ')} to finish` },
  );
  for (const jobId of jobIds) {
    const outcomes = service.events.flatMap((event) =>
      event.type === 'job.finished' && event.traceId === jobId ? [event.outcome] : [],
    );
    expect(outcomes, jobId).toEqual(['done']);
  }
  return service.feishu.repliesTo(messageId, { fromBot: true });
}

/** Which app's tenant token sent each reply (the fake records it per call). */
function senderAppOf(reply: FakeMessage): string | undefined {
  return service.feishu
    .callsTo('im.message.reply')
    .find((call) => call.status === 200 && (call.body as { uuid?: string } | undefined)?.uuid === reply.uuid)?.app;
}

describe('several Feishu apps in one process', () => {
  beforeEach(() => service.reset());

  it('both mentioned: each bot answers once, with its own token, its own persona and its own memory', async () => {
    const { alpha, beta } = apps();
    const messageId = await askBoth('what is the plan?', [alpha, beta]);
    const replies = await repliesWhenFinished(messageId, [
      `app:alpha:message:${messageId}`,
      `app:beta:message:${messageId}`,
    ]);
    expect(replies).toHaveLength(2);
    expect(replies.map(senderAppOf).sort()).toEqual([alpha.appId, beta.appId].sort());
    // Each reply was written by its own app, and the other app's token touched neither card.
    expect(replies.map((reply) => reply.sender.id).sort()).toEqual([alpha.appId, beta.appId].sort());
    for (const reply of replies) expect(service.feishu.visibleText(reply.messageId)).toContain('what is the plan?');
    const requests = service.openai.requestsFor('gpt-test');
    expect(requests).toHaveLength(2);
    const systems = requests.map((request) => JSON.stringify(request.messages[0]));
    expect(systems.filter((system) => system.includes('You are Beta.'))).toHaveLength(1);
    // One conversation memory per bot in the same group.
    for (const app of ['alpha', 'beta']) {
      const history = await service.bot.store.readHistory(`app:${app}:chat:${GROUP}`, 10);
      expect(history.length, app).toBeGreaterThan(0);
    }
    expect(await service.bot.store.readHistory(`chat:${GROUP}`, 10)).toHaveLength(0);
  });

  it('one mentioned: only that bot answers, the other stays silent', async () => {
    const { alpha } = apps();
    const messageId = await askBoth('alpha only, please', [alpha]);
    const replies = await repliesWhenFinished(messageId, [
      `app:alpha:message:${messageId}`,
      `app:beta:message:${messageId}`,
    ]);
    expect(replies).toHaveLength(1);
    expect(senderAppOf(replies[0] as FakeMessage)).toBe(alpha.appId);
    expect(service.openai.requestsFor('gpt-test')).toHaveLength(1);
  });

  it('a bot’s answer delivered to the other bot is never answered: two bots never talk to each other', async () => {
    const { alpha, beta } = apps();
    const messageId = await askBoth('hello alpha', [alpha]);
    const [answer] = await repliesWhenFinished(messageId, [`app:alpha:message:${messageId}`]);
    if (answer === undefined) throw new Error('alpha answered');
    // Alpha's reply comes back to beta as a group message from a bot, mentioning beta.
    const echo = buildMessageEvent({
      appId: beta.appId,
      chatId: GROUP,
      senderOpenId: alpha.botOpenId,
      senderType: 'bot',
      messageId: answer.messageId,
      text: 'echo: hello alpha',
      mentions: [{ openId: beta.botOpenId, name: beta.botName }],
    });
    expect((await postEvent(eventUrl('beta'), echo, { encryptKey: BETA_KEY })).status).toBe(200);
    await service.feishu.waitFor(
      () =>
        service.events.some(
          (event) => event.type === 'message.bot-skipped' && event.traceId.includes(answer.messageId),
        ),
      { description: 'the bot message skipped' },
    );
    expect(service.feishu.repliesTo(answer.messageId, { fromBot: true })).toHaveLength(0);
    expect(service.openai.requestsFor('gpt-test')).toHaveLength(1);
  });

  it('refuses an event signed with one app’s key on the other app’s path', async () => {
    const { alpha } = apps();
    const event = buildMessageEvent({ fake: service.feishu, appId: alpha.appId, chatId: GROUP, text: 'forged' });
    expect((await postEvent(eventUrl('beta'), event, { encryptKey: ALPHA_KEY })).status).toBe(401);
    expect((await postEvent(`${service.base}/webhook/gamma/event`, event, { encryptKey: ALPHA_KEY })).status).toBe(404);
    // With two apps in the file and no default one, the single-app path names none of them.
    expect((await postEvent(`${service.base}/webhook/event`, event, { encryptKey: ALPHA_KEY })).status).toBe(404);
  });

  it('/health has a row per app and /metrics labels the Feishu series by app', async () => {
    const { alpha, beta } = apps();
    const messageId = await askBoth('health check', [beta]);
    await repliesWhenFinished(messageId, [`app:alpha:message:${messageId}`, `app:beta:message:${messageId}`]);
    // A forged request on alpha's path is counted as alpha's.
    const forged = buildMessageEvent({ fake: service.feishu, appId: beta.appId, chatId: GROUP, text: 'forged' });
    expect((await postEvent(eventUrl('alpha'), forged, { encryptKey: BETA_KEY })).status).toBe(401);

    const health = (await (await fetch(`${service.base}/health`)).json()) as {
      feishu: { webhook: string; apps: Record<string, Record<string, unknown>> };
    };
    const rows = health.feishu.apps;
    expect(Object.keys(rows)).toEqual(['alpha', 'beta']);
    expect(rows.alpha).toMatchObject({
      appId: alpha.appId,
      webhook: 'signed',
      path: '/webhook/alpha/event',
      longConnection: { state: 'off' },
      bot: { openId: alpha.botOpenId },
    });
    expect(rows.beta).toMatchObject({ appId: beta.appId, webhook: 'signed', bot: { openId: beta.botOpenId } });
    expect(health.feishu.webhook).toBe('signed');
    // No secret of either app reaches /health.
    const body = JSON.stringify(health);
    for (const secret of [alpha.appSecret, beta.appSecret, ALPHA_KEY, BETA_KEY]) expect(body).not.toContain(secret);

    const metrics = parsePrometheusText(await (await fetch(`${service.base}/metrics`)).text());
    const received = (app: string) =>
      sampleValue(metrics, 'feishu_bot_events_received_total', { source: 'webhook', app });
    expect(received('alpha')).toBeGreaterThanOrEqual(1);
    expect(received('beta')).toBeGreaterThanOrEqual(1);
    expect(
      sampleValue(metrics, 'feishu_bot_events_rejected_total', {
        status: '401',
        reason: 'SIGNATURE_INVALID',
        app: 'alpha',
      }),
    ).toBeGreaterThanOrEqual(1);
    expect(
      sampleValue(metrics, 'feishu_bot_jobs_finished_total', { outcome: 'done', app: 'beta' }),
    ).toBeGreaterThanOrEqual(1);
    expect(sampleValue(metrics, 'feishu_bot_model_tokens_total', { app: 'beta', direction: 'input' })).toBeGreaterThan(
      0,
    );
  });
});

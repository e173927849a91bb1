import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { buildMessageEvent, type FeishuMessageReceiveEvent, postEvent } from '../fakes/event-sender.js';
import type { FakeApp, FakeMessage } from '../fakes/fake-feishu.js';
import { type FakeLongConnection, startFakeLongConnection } from '../fakes/fake-long-connection.js';
import { writeAppsFile } from '../support/apps-file.js';
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
const NOTIFY_TOKEN = 'n0tify-t0ken-for-the-multi-app-test-0123';

/** The schedules' clock runs ahead by this much, so a reminder comes due without waiting. */
let offsetMs = 0;

const service = useE2eService({
  feishu: { otherApps: [{ botName: 'Beta' }] },
  start: { schedules: { now: () => Date.now() + offsetMs, pollMs: 50 } },
  env: ({ feishu }) => {
    const [alpha, beta] = feishu.apps;
    const file = writeAppsFile([
      { id: 'alpha', appId: alpha?.appId, appSecret: alpha?.appSecret, encryptKey: ALPHA_KEY },
      { id: 'beta', appId: beta?.appId, appSecret: beta?.appSecret, encryptKey: BETA_KEY, persona: 'You are Beta.' },
    ]);
    return {
      FEISHU_APP_ID: undefined,
      FEISHU_APP_SECRET: undefined,
      FEISHU_ENCRYPT_KEY: undefined,
      FEISHU_VERIFICATION_TOKEN: undefined,
      FEISHU_APPS_FILE: file,
      NOTIFY_TOKEN,
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

  it('POST /api/notify naming an app is posted by that bot, with its token; an unknown app is refused', async () => {
    const { beta } = apps();
    const send = (body: unknown, key: string) =>
      fetch(`${service.base}/api/notify`, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          authorization: `Bearer ${NOTIFY_TOKEN}`,
          'idempotency-key': key,
        },
        body: JSON.stringify(body),
      });
    const unknown = await send({ chatId: GROUP, text: 'nobody posts this', app: 'gamma' }, 'notify-unknown');
    expect(unknown.status).toBe(400);
    expect(await unknown.json()).toMatchObject({ error: 'unknown_app' });
    const accepted = await send({ chatId: GROUP, text: 'Deploy 2.0 is live.', app: 'beta' }, 'notify-beta');
    expect(accepted.status).toBe(202);
    // The job is beta's: its /metrics series and its trace name the bot that posted.
    const { id } = (await accepted.json()) as { id: string };
    expect(id).toMatch(/^app:beta:notify-/);
    const posted = await service.feishu.waitFor(
      () =>
        service.feishu
          .messages({ chatId: GROUP, fromBot: true })
          .find((message) => service.feishu.visibleText(message.messageId).includes('Deploy 2.0 is live.')),
      { description: 'the notification posted into the group' },
    );
    expect(posted.sender.id).toBe(beta.appId);
    const creates = service.feishu.callsTo('im.message.create').filter((call) => call.status === 200);
    expect(creates.map((call) => call.app)).toEqual([beta.appId]);
    const notices = service.feishu
      .messages({ chatId: GROUP, fromBot: true })
      .filter((message) => service.feishu.visibleText(message.messageId).includes('Deploy 2.0 is live.'));
    expect(notices).toHaveLength(1);
  });

  it('a reminder set with one bot is posted by that bot, with its token', async () => {
    const { beta } = apps();
    const messageId = await askBoth('/remind in 30m ship the release', [beta]);
    const [confirmation] = await repliesWhenFinished(messageId, [
      `app:alpha:message:${messageId}`,
      `app:beta:message:${messageId}`,
    ]);
    expect(service.feishu.visibleText(confirmation?.messageId ?? '')).toContain('Reminder set');
    offsetMs += 31 * 60_000;
    const posted = await service.feishu.waitFor(
      () =>
        service.feishu
          .messages({ chatId: GROUP, fromBot: true })
          .find(
            (message) =>
              message.parentId === undefined &&
              service.feishu.visibleText(message.messageId).includes('ship the release'),
          ),
      { description: 'the reminder posted into the group' },
    );
    expect(posted.sender.id).toBe(beta.appId);
    const creates = service.feishu.callsTo('im.message.create').filter((call) => call.status === 200);
    expect(creates.map((call) => call.app)).toEqual([beta.appId]);
    // The run's job is beta's: its /metrics series and its trace name the bot that posted.
    const finishedRun = await service.feishu.waitFor(
      () =>
        service.events.flatMap((event) =>
          event.type === 'job.finished' && event.traceId.includes('schedule-') ? [event.traceId] : [],
        )[0],
      { description: 'the scheduled run to finish' },
    );
    expect(finishedRun).toMatch(/^app:beta:schedule-/);
  });
});

describe('several Feishu apps over long connections', () => {
  let gateway: FakeLongConnection;
  afterAll(async () => {
    await gateway?.close();
  });
  const socketService = useE2eService({
    feishu: { otherApps: [{ botName: 'Beta' }] },
    env: async ({ feishu }) => {
      // One domain serves the gateway and the Open API, as on Feishu.
      gateway = await startFakeLongConnection({ apiUrl: feishu.url });
      const [alpha, beta] = feishu.apps;
      const file = writeAppsFile([
        { id: 'alpha', appId: alpha?.appId, appSecret: alpha?.appSecret, eventMode: 'websocket' },
        { id: 'beta', appId: beta?.appId, appSecret: beta?.appSecret, eventMode: 'websocket' },
      ]);
      return {
        FEISHU_APP_ID: undefined,
        FEISHU_APP_SECRET: undefined,
        FEISHU_ENCRYPT_KEY: undefined,
        FEISHU_VERIFICATION_TOKEN: undefined,
        FEISHU_DOMAIN: gateway.url,
        FEISHU_APPS_FILE: file,
      };
    },
  });
  beforeAll(async () => {
    await Promise.all([...socketService.bot.feishuApps.values()].map((app) => app.connection?.ready));
  });

  it('each app has its own connection; an event on beta’s is answered by beta alone, with its token', async () => {
    const [alpha, beta] = socketService.feishu.apps;
    if (alpha === undefined || beta === undefined) throw new Error('the fake serves two apps');
    expect(gateway.connectionsOf(alpha.appId)).toBe(1);
    expect(gateway.connectionsOf(beta.appId)).toBe(1);
    const event = buildMessageEvent({
      fake: socketService.feishu,
      appId: beta.appId,
      chatId: GROUP,
      senderOpenId: ASKER,
      text: 'over the socket',
      mentions: [{ openId: beta.botOpenId, name: beta.botName }],
    });
    expect(await gateway.sendEvent(event, { appId: beta.appId })).toEqual({ code: 200 });
    const messageId = event.event.message.message_id;
    await socketService.feishu.waitFor(
      () =>
        socketService.events.some(
          (each) => each.type === 'job.finished' && each.traceId === `app:beta:message:${messageId}`,
        ),
      { description: 'beta’s job to finish' },
    );
    const replies = socketService.feishu.repliesTo(messageId, { fromBot: true });
    expect(replies.map((reply) => reply.sender.id)).toEqual([beta.appId]);
    const replyCalls = socketService.feishu.callsTo('im.message.reply').filter((call) => call.status === 200);
    expect(replyCalls.map((call) => call.app)).toEqual([beta.appId]);
    const health = (await (await fetch(`${socketService.base}/health`)).json()) as {
      feishu: { apps: Record<string, { longConnection: { state: string } }> };
    };
    expect(health.feishu.apps.alpha?.longConnection.state).toBe('connected');
    expect(health.feishu.apps.beta?.longConnection.state).toBe('connected');
  });
});

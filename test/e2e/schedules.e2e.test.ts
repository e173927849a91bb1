import { beforeEach, describe, expect, it } from 'vitest';
import { buildMessageEvent, postEvent } from '../fakes/event-sender.js';
import type { FakeMessage } from '../fakes/fake-feishu.js';
import { waitForClosedAnswer } from '../support/ask-in-chat.js';
import { useE2eService } from '../support/e2e-service.js';

/**
 * Schedules and notifications as people and other systems use them, every part real: signed
 * events into the running service, the real lark SDK against the fake Feishu, the real AI SDK
 * against the fake OpenAI, SQLite. Only the schedules' clock is moved, so "in 30 minutes" and
 * "next Monday" arrive without waiting.
 */

const NOTIFY_TOKEN = 'n0tify-t0ken-for-the-e2e-test-0123456789';
const MINUTE = 60_000;

describe('schedules and notifications, end to end', () => {
  let offsetMs = 0;
  let chatNumber = 0;
  let chatId = '';

  const service = useE2eService({
    env: { MODEL_FIRST_TOKEN_TIMEOUT_MS: '5000', SCHEDULE_TIME_ZONE: 'Asia/Shanghai', NOTIFY_TOKEN },
    start: { schedules: { now: () => Date.now() + offsetMs, pollMs: 50 } },
  });

  beforeEach(() => {
    service.openai.reset();
    service.feishu.clearCalls();
    chatNumber += 1;
    chatId = `oc_schedules_${chatNumber}`;
  });

  /** A person @mentions the bot in the group (in a topic, when given) with `text`; returns their message id. */
  async function say(text: string, topic?: { rootId: string; threadId: string }): Promise<string> {
    const event = buildMessageEvent({
      fake: service.feishu,
      chatType: 'group',
      chatId,
      mentionBot: true,
      text,
      token: service.token,
      ...(topic === undefined ? {} : { rootId: topic.rootId, threadId: topic.threadId }),
    });
    const response = await postEvent(service.webhookUrl, event, { encryptKey: service.encryptKey });
    expect(response.status).toBe(200);
    return event.event.message.message_id;
  }

  /** The closed card the bot replied to `messageId` with, as the user sees it. */
  async function replyText(messageId: string): Promise<string> {
    return waitForClosedAnswer({ ...service, messageId });
  }

  /** Messages the bot posted into the chat on its own (not replies), closed. */
  function ownPosts(): FakeMessage[] {
    return service.feishu
      .messages({ chatId, fromBot: true })
      .filter(
        (message) =>
          message.parentId === undefined && service.feishu.cardForMessage(message.messageId)?.streaming === false,
      );
  }

  async function waitForOwnPosts(count: number): Promise<FakeMessage[]> {
    await service.feishu.waitFor(() => ownPosts().length >= count, {
      timeoutMs: 20_000,
      description: `${count} card(s) the bot posted into ${chatId}`,
    });
    return ownPosts();
  }

  it('/remind: the confirmation answers at once, /schedules lists it, and the reminder card appears when it is due', async () => {
    const confirmation = await replyText(await say('/remind in 30m Stand-up in the big room'));
    expect(confirmation).toContain('Reminder set');
    expect(confirmation).toContain('Stand-up in the big room');
    const id = /\/schedules cancel ([0-9a-f]{8})/.exec(confirmation)?.[1];
    expect(id).toBeDefined();

    const list = await replyText(await say('/schedules'));
    expect(list).toContain(`${id}`);
    expect(list).toContain('Asia/Shanghai');

    // Not yet due: nothing of its own in the chat.
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(ownPosts()).toEqual([]);

    offsetMs += 31 * MINUTE;
    const [reminder, ...others] = await waitForOwnPosts(1);
    expect(service.feishu.visibleText(reminder?.messageId ?? '')).toContain('Reminder');
    expect(service.feishu.visibleText(reminder?.messageId ?? '')).toContain('Stand-up in the big room');
    // A reminder is the text itself: no model call was made for it, and it is posted once.
    expect(service.openai.requests).toHaveLength(0);
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(others).toEqual([]);
    expect(ownPosts()).toHaveLength(1);
    expect(await replyText(await say('/schedules'))).toContain('No schedules in this chat');
  });

  it('a reminder set in a topic appears in that topic', async () => {
    const threadId = `omt_topic_${chatNumber}`;
    const root = service.feishu.seedMessage({ chatId, threadId, text: 'Release 2.0 topic' });
    const topic = { rootId: root.messageId, threadId };
    expect(await replyText(await say('/remind in 5m check the canary', topic))).toContain('Reminder set');
    offsetMs += 6 * MINUTE;
    await service.feishu.waitFor(
      () =>
        service.feishu
          .repliesTo(root.messageId, { fromBot: true })
          .some(
            (reply) =>
              reply.parentId === root.messageId &&
              service.feishu.visibleText(reply.messageId).includes('check the canary'),
          ),
      { timeoutMs: 20_000, description: 'the reminder in the topic' },
    );
    const reminder = service.feishu
      .repliesTo(root.messageId, { fromBot: true })
      .find((reply) => service.feishu.visibleText(reply.messageId).includes('check the canary'));
    expect(reminder?.threadId).toBe(threadId);
    expect(ownPosts()).toEqual([]);
  });

  it('a cancelled reminder never appears', async () => {
    const confirmation = await replyText(await say('/remind in 10m Water the plants'));
    const id = /\/schedules cancel ([0-9a-f]{8})/.exec(confirmation)?.[1] ?? '';
    expect(await replyText(await say(`/schedules cancel ${id}`))).toContain(`Cancelled schedule \`${id}\``);
    offsetMs += 11 * MINUTE;
    await new Promise((resolve) => setTimeout(resolve, 500));
    expect(ownPosts()).toEqual([]);
  });

  it('natural language: the manager schedules a weekly run, which later answers in the chat through the model', async () => {
    service.openai.script(
      'gpt-test',
      {
        toolCalls: [
          {
            name: 'scheduleTask',
            arguments: { action: 'run', text: "Summarize this chat's week", cron: '0 10 * * 1' },
          },
        ],
      },
      { text: 'Done: every Monday at 10:00 I will summarize this chat’s week.' },
      { text: 'This week: the release went out on Wednesday.' },
    );
    const answer = await replyText(await say("every Monday 10:00 summarize this chat's week"));
    expect(answer).toContain('every Monday at 10:00');
    // The tool's result reached the model: the schedule exists, with its next time in Shanghai.
    const toolResult = JSON.stringify(service.openai.requests[1]?.body ?? {});
    expect(toolResult).toMatch(
      /Scheduled \(id [0-9a-f]{8}: run, cron \\"0 10 \* \* 1\\", next \d{4}-\d{2}-\d{2} 10:00 \(Asia\/Shanghai\)/,
    );

    // Move to just past the next Monday 10:00 in Shanghai.
    const now = Date.now() + offsetMs;
    const nextMonday = nextMondayTenShanghai(now);
    offsetMs += nextMonday - now + 1_000;
    const [post] = await waitForOwnPosts(1);
    expect(service.feishu.visibleText(post?.messageId ?? '')).toContain(
      'This week: the release went out on Wednesday.',
    );
    const runRequest = JSON.stringify(service.openai.requests[2]?.body ?? {});
    expect(runRequest).toContain("Summarize this chat's week");
  });

  it('POST /api/notify: a bad token is refused, the message is posted once, a replayed key is answered without a second post', async () => {
    const send = (headers: Record<string, string>, body: unknown) =>
      fetch(`${service.base}/api/notify`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...headers },
        body: JSON.stringify(body),
      });
    const body = { chatId, text: 'Deploy 1.4.2 finished: all checks green.' };
    const refused = await send(
      { authorization: 'Bearer wrong-token-wrong-token-wrong-token', 'idempotency-key': 'k1' },
      body,
    );
    expect(refused.status).toBe(401);
    const first = await send({ authorization: `Bearer ${NOTIFY_TOKEN}`, 'idempotency-key': 'deploy-1.4.2' }, body);
    expect(first.status).toBe(202);
    const firstBody = await first.json();
    const [post] = await waitForOwnPosts(1);
    expect(service.feishu.visibleText(post?.messageId ?? '')).toContain('Deploy 1.4.2 finished: all checks green.');

    const replay = await send({ authorization: `Bearer ${NOTIFY_TOKEN}`, 'idempotency-key': 'deploy-1.4.2' }, body);
    expect(replay.status).toBe(202);
    expect(replay.headers.get('idempotent-replayed')).toBe('true');
    expect(await replay.json()).toEqual(firstBody);
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(service.feishu.messages({ chatId, fromBot: true })).toHaveLength(1);
  });

  it('POST /api/notify with action run: the manager answers the request into a card in the chat, with the chat’s persona', async () => {
    await service.bot.chats.settings.change(
      chatId,
      { name: 'persona', value: 'Sign every answer with OPS-DESK.' },
      'ou_owner',
    );
    service.openai.script('gpt-test', { text: 'Incident summary: the queue drained at 10:42.' });
    const response = await fetch(`${service.base}/api/notify`, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        authorization: `Bearer ${NOTIFY_TOKEN}`,
        'idempotency-key': `run-${chatNumber}`,
      },
      body: JSON.stringify({ chatId, action: 'run', text: 'Summarize incident 77 for the team' }),
    });
    expect(response.status).toBe(202);
    const [post] = await waitForOwnPosts(1);
    expect(service.feishu.visibleText(post?.messageId ?? '')).toContain(
      'Incident summary: the queue drained at 10:42.',
    );
    const request = JSON.stringify(service.openai.requests[0]?.body ?? {});
    expect(request).toContain('Summarize incident 77 for the team');
    expect(request).toContain('Sign every answer with OPS-DESK.');
  });
});

/** The next Monday 10:00 in Asia/Shanghai (UTC+8, no daylight saving) after `now`. */
function nextMondayTenShanghai(now: number): number {
  const shanghai = new Date(now + 8 * 3_600_000);
  const candidate =
    Date.UTC(shanghai.getUTCFullYear(), shanghai.getUTCMonth(), shanghai.getUTCDate(), 10) - 8 * 3_600_000;
  const day = shanghai.getUTCDay();
  let days = (1 - day + 7) % 7;
  if (days === 0 && candidate <= now) days = 7;
  return candidate + days * 86_400_000;
}

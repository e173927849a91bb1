import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { RunningBot } from '../../lib/bot.js';
import { buildMessageEvent, postEvent } from '../fakes/event-sender.js';
import { approvalButton, waitForApprovalCard, waitForReplyText } from '../support/approval-card.js';
import { lastToolResult } from '../support/ask-in-chat.js';
import { pressCard } from '../support/card-press.js';
import { type E2eService, MANY_QUICK_ASKS, startE2eService } from '../support/e2e-service.js';

/**
 * Write tools as a team meets them: the model wants to create a task, the run pauses with an
 * approval card naming the exact change, and the task exists only after the asker presses
 * Approve (through a signed card callback); Deny sends the model a refusal and changes nothing;
 * "Always allow in this chat" lets the next one through without asking; someone else's press is
 * refused; a decision survives a restart of the bot; and an unanswered request expires.
 */

const CHAT = 'oc_approvals_group';
const ASKER = 'ou_asker000000000000000000000000ap';
const STRANGER = 'ou_stranger0000000000000000000000ap';

describe('approvals for write tools, end to end', () => {
  let service: E2eService;
  /** The bot now running: a restart replaces it. */
  let bot: RunningBot | undefined;
  let directory: string;
  let thread = 0;

  beforeEach(async () => {
    directory = mkdtempSync(join(tmpdir(), 'approvals-e2e-'));
    service = await startE2eService({
      env: {
        ...MANY_QUICK_ASKS,
        STORE_URL: `sqlite:${join(directory, 'bot.db')}`,
        MANAGER_TOOLS: 'currentTime,createTask',
      },
    });
    bot = service.bot;
  });

  afterEach(async () => {
    await service?.stop();
    rmSync(directory, { recursive: true, force: true });
  });

  /** The model asks to create the task, then reports what the tool answered. */
  function scriptCreateTask(summary: string): void {
    service.openai.script(
      'gpt-test',
      { toolCalls: [{ name: 'createTask', arguments: { summary, due: '2026-12-18T18:00:00+08:00' } }] },
      (request) => ({ text: `Result: ${lastToolResult(request).slice(0, 200)}` }),
    );
  }

  async function ask(text: string): Promise<string> {
    const threadId = `omt_approvals_${++thread}`;
    const root = service.feishu.seedMessage({ chatId: CHAT, threadId, text: 'thread root' });
    const event = buildMessageEvent({
      fake: service.feishu,
      chatId: CHAT,
      mentionBot: true,
      senderOpenId: ASKER,
      text,
      token: service.token,
      rootId: root.messageId,
      threadId,
    });
    expect(
      (await postEvent(`http://127.0.0.1:${bot?.port}/webhook/event`, event, { encryptKey: service.encryptKey }))
        .status,
    ).toBe(200);
    return event.event.message.message_id;
  }

  const approvalCard = (messageId: string) => waitForApprovalCard(service.feishu, messageId);
  const buttonValue = approvalButton;

  async function press(cardId: string, value: Record<string, unknown>, operator = ASKER) {
    const { status, toast } = await pressCard(`http://127.0.0.1:${bot?.port}/webhook/card`, {
      fake: service.feishu,
      replyId: cardId,
      value,
      encryptKey: service.encryptKey,
      token: service.token,
      chatId: CHAT,
      operator,
    });
    expect(status).toBe(200);
    return toast;
  }

  const answerText = (messageId: string, containing: string) => waitForReplyText(service.feishu, messageId, containing);

  it('creates the task only after the asker approves the exact change; a stranger cannot decide', async () => {
    scriptCreateTask('Ship the release notes');
    const question = await ask('remind the team: create a task to ship the release notes');
    const card = await approvalCard(question);
    expect(card.content).toContain('Create a task');
    expect(card.content).toContain('Ship the release notes');
    expect(card.content).toContain('2026-12-18T18:00:00+08:00');
    expect(await answerText(question, 'Waiting for your approval')).toBeTruthy();
    expect(service.feishu.createdTasks()).toEqual([]);
    expect(service.events.some((event) => event.type === 'approval.requested')).toBe(true);

    const approve = buttonValue(card.content, 'approval-approve');
    expect(await press(card.messageId, approve, STRANGER)).toMatchObject({
      content: 'Only the person who asked (or a chat admin) can use these buttons.',
    });
    expect(await press(card.messageId, approve)).toMatchObject({ content: 'Approved: going ahead.' });

    const after = await answerText(question, 'Result: Created the task');
    expect(after).toContain('Ship the release notes');
    const tasks = service.feishu.createdTasks();
    expect(tasks).toHaveLength(1);
    expect(tasks[0]).toMatchObject({
      summary: 'Ship the release notes',
      assignee: ASKER,
      due: Date.parse('2026-12-18T10:00:00Z'),
    });
    // The card shows the decision and keeps no button to press again.
    await service.feishu.waitFor(() => service.feishu.message(card.messageId)?.content.includes('Approved'), {
      description: 'the decided card',
    });
    expect(service.feishu.message(card.messageId)?.content).not.toContain('approval-approve');
    expect(await press(card.messageId, approve)).toMatchObject({ content: 'Already decided.' });
    expect(service.feishu.createdTasks()).toHaveLength(1);
    expect(service.events.find((event) => event.type === 'approval.decided')).toMatchObject({
      decision: 'approved',
      by: ASKER,
    });
  });

  it('a Chinese question gets the change, its labels, the toasts and the answer footer in Chinese', async () => {
    scriptCreateTask('发布说明');
    const question = await ask('帮我创建一个任务：发布说明');
    const card = await approvalCard(question);
    for (const words of [
      '需要你的批准',
      '创建任务',
      '飞书任务',
      '标题',
      '发布说明',
      '截止时间',
      '负责人',
      '提问的人',
    ]) {
      expect(card.content).toContain(words);
    }
    expect(card.content).not.toContain('Create a task');
    expect(card.content).not.toContain('Assignees');
    expect(await press(card.messageId, buttonValue(card.content, 'approval-approve'))).toMatchObject({
      content: '已批准：继续执行。',
    });
    // The footer (written when the card closes) beside the model: tokens and seconds in Chinese.
    await answerText(question, 'Result: Created the task');
    const after = await service.feishu.waitFor(
      () =>
        service.feishu
          .repliesTo(question, { fromBot: true })
          .map((reply) => service.feishu.visibleText(reply.messageId))
          .find((text) => text.includes('Result: Created the task') && text.includes('个 token')),
      { description: 'the closed answer with its footer' },
    );
    expect(after).toMatch(/gpt-test · \d+ 个 token · \d+\.\d 秒/);
    expect(after).not.toMatch(/\d+ tokens/);
    // The steps panel too.
    expect(after).toContain('使用了 `createTask`');
    expect(after).not.toContain('Used `createTask`');
  });

  it('Deny tells the model and changes nothing; Always allow lets the next one through without a card', async () => {
    scriptCreateTask('Book the venue');
    const first = await ask('create a task to book the venue');
    const card = await approvalCard(first);
    expect(await press(card.messageId, buttonValue(card.content, 'approval-deny'))).toMatchObject({
      content: 'Denied: nothing will be changed.',
    });
    const denied = await answerText(first, 'Result:');
    expect(denied.toLowerCase()).toContain('denied');
    expect(service.feishu.createdTasks()).toEqual([]);

    scriptCreateTask('Order the badges');
    const second = await ask('create a task to order the badges');
    const secondCard = await approvalCard(second);
    await press(secondCard.messageId, buttonValue(secondCard.content, 'approval-always'));
    await answerText(second, 'Result: Created the task');

    scriptCreateTask('Print the agenda');
    const third = await ask('and one to print the agenda');
    await answerText(third, 'Result: Created the task');
    expect(
      service.feishu.repliesTo(third, { fromBot: true }).some((reply) => reply.content.includes('approval-approve')),
    ).toBe(false);
    expect(service.feishu.createdTasks().map((task) => task.summary)).toEqual(['Order the badges', 'Print the agenda']);
  });

  it('a decision made after a restart continues the paused run; an unanswered request expires', async () => {
    scriptCreateTask('Renew the certificate');
    const question = await ask('create a task to renew the certificate');
    const card = await approvalCard(question);
    await bot?.stop();
    bot = await service.startAnotherBot();
    await press(card.messageId, buttonValue(card.content, 'approval-approve'));
    await answerText(question, 'Result: Created the task');
    expect(service.feishu.createdTasks().map((task) => task.summary)).toEqual(['Renew the certificate']);

    await bot?.stop();
    bot = await service.startAnotherBot({ env: { APPROVAL_TIMEOUT_MINUTES: '1' } });
    scriptCreateTask('Never decided');
    const unanswered = await ask('create a task nobody approves');
    const pending = await approvalCard(unanswered);
    const approveLater = buttonValue(pending.content, 'approval-approve');
    await service.feishu.waitFor(
      () =>
        service.events.some(
          (event) =>
            event.type === 'approval.requested' &&
            event.traceId !== undefined &&
            service.events.filter((e) => e.type === 'approval.requested').length >= 2,
        ),
      { description: 'the second approval request recorded' },
    );
    // Expiry is swept on a timer; run the sweep a minute later, as the timer would.
    expect(await bot.expireApprovals?.(Date.now() + 61_000)).toBe(1);
    await service.feishu.waitFor(() => service.feishu.message(pending.messageId)?.content.includes('Expired'), {
      description: 'the expired card',
    });
    expect(await press(pending.messageId, approveLater)).toMatchObject({
      content: 'Already decided.',
    });
    expect(service.feishu.createdTasks().map((task) => task.summary)).toEqual(['Renew the certificate']);
  });
});

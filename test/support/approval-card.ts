import { expect } from 'vitest';
import type { FakeFeishu } from '../fakes/fake-feishu.js';

/**
 * The approval card the bot sends under a question once a write tool asks, as the fake Feishu
 * holds it; waits up to `timeoutMs` for it.
 *
 * @example
 * const card = await waitForApprovalCard(feishu, questionId);
 * await pressCard(url, { fake: feishu, replyId: card.messageId, value: approvalButton(card.content, 'approval-approve'), ... });
 */
export function waitForApprovalCard(feishu: FakeFeishu, messageId: string, { timeoutMs = 20_000 } = {}) {
  return feishu.waitFor(
    () =>
      feishu
        .repliesTo(messageId, { fromBot: true })
        .find((reply) => reply.msgType === 'interactive' && reply.content.includes('approval-approve')),
    { timeoutMs, description: 'the approval card' },
  );
}

/** The callback value of an approval card's button (`approval-approve`, `approval-always`, `approval-deny`). */
export function approvalButton(content: string, action: string): Record<string, unknown> {
  const card = JSON.parse(content) as { body: { elements: Array<Record<string, unknown>> } };
  const button = card.body.elements.find((element) => element.element_id === action);
  const behaviors = button?.behaviors as Array<{ value: Record<string, unknown> }> | undefined;
  expect(behaviors?.[0]?.value).toBeDefined();
  return behaviors?.[0]?.value as Record<string, unknown>;
}

/** The text the user sees of a bot reply under `messageId` that contains `containing`, once there is one. */
export function waitForReplyText(
  feishu: FakeFeishu,
  messageId: string,
  containing: string,
  { timeoutMs = 20_000 } = {},
): Promise<string> {
  return feishu.waitFor(
    () =>
      feishu
        .repliesTo(messageId, { fromBot: true })
        .map((reply) => feishu.visibleText(reply.messageId))
        .find((text) => text.includes(containing)),
    { timeoutMs, description: `an answer with "${containing}"` },
  );
}

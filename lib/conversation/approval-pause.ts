import type { ToolApprovalGate } from '../agents/tools/tool-runtime.js';
import { type BotTexts, textsFor } from '../i18n/bot-texts.js';
import type { ApprovalService, PausedRun } from './approvals.js';

/**
 * The approval gate of one answer: write tools ask first, on Feishu only (the playground has no
 * buttons to press). A continuation's own calls must still "need approval" when the SDK asks
 * again for them, even when the decision was "always allow".
 *
 * @example
 * const gate = answerApprovalGate(approvals, { chatId, local: chatType === 'local', resume });
 */
export function answerApprovalGate(
  approvals: ApprovalService | undefined,
  { chatId, local, resume }: { chatId: string; local: boolean; resume?: PausedRun | undefined },
): ToolApprovalGate | undefined {
  const chatGate = approvals !== undefined && !local ? approvals.gate(chatId) : undefined;
  if (chatGate === undefined) return undefined;
  const decided = new Set(resume?.pending.map((call) => call.toolCallId));
  return {
    alwaysAllowed: async (tool, callId) => !decided.has(callId) && (await chatGate.alwaysAllowed(tool, callId)),
  };
}

/**
 * Pauses a run with an approval card; the note the answer ends with says whether the card went out.
 *
 * @example
 * const note = await pauseForApproval(approvals, { run: traceId, lane, inbound, chatId, ... });
 * await sink.finish(appendNotices(shown, [note]), summary);
 */
export async function pauseForApproval(
  approvals: ApprovalService,
  { say = textsFor('en'), ...paused }: Parameters<ApprovalService['pause']>[0] & { say?: BotTexts },
): Promise<string> {
  const asked = await approvals.pause(paused);
  return asked ? say.approvalWaiting : say.approvalUnsent;
}

/** How a continuation's answer is remembered: what the person decided, then the answer. */
export function decisionNote(paused: PausedRun): string {
  const tools = paused.pending.map((call) => call.toolName).join(', ');
  return paused.decision === 'denied' ? `the person denied ${tools}` : `the person approved ${tools}`;
}

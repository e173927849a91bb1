import type { ModelMessage } from 'ai';
import type { PendingToolApproval } from '../agents/run-agent.js';
import { approvalTexts } from '../agents/tools/approval-texts.js';
import type { ApprovalSummary } from '../agents/tools/tool-definition.js';
import type { ToolApprovalGate } from '../agents/tools/tool-runtime.js';
import { callFeishu } from '../feishu/call-feishu.js';
import type { FeishuClient } from '../feishu/feishu-client.js';
import { textsFor } from '../i18n/bot-texts.js';
import type { Language } from '../i18n/language.js';
import { appScoped } from '../inbox/app-scope.js';
import type { InboundEvent } from '../inbox/inbound-event.js';
import type { Logger } from '../log.js';
import type { EventBus } from '../observe/event-bus.js';
import type { NewJob, Store } from '../store/store.js';
import { sleep } from '../util/sleep.js';
import { APPROVAL_ACTIONS, type ApprovalDecision, approvalCard } from './approval-card.js';
import type { CardActionHandler, CardPressAnswer } from './card-actions.js';

/** The job kind that continues a run once its approval is decided. */
export const APPROVAL_JOB_KIND = 'approval';

/** A run paused until the person decides on the changes its write tools asked to make. */
export interface PausedRun {
  /** The paused run's id (its inbox job and trace id); the card's buttons carry it. */
  run: string;
  lane: string;
  /** The question's stored event, so the continuation answers it like the first run did. */
  inbound: InboundEvent;
  chatId: string;
  asker: string;
  /** The question the card replies to. */
  messageId: string;
  replyInThread: boolean;
  /** The conversation as the model saw it, ending with its tool calls (binary parts dropped). */
  conversation: ModelMessage[];
  pending: PendingToolApproval[];
  changes: ApprovalSummary[];
  createdAt: number;
  expiresAt: number;
  cardMessageId?: string;
  decision?: ApprovalDecision;
  decidedBy?: string;
  decidedAt?: number;
  /** The language of the card and its toasts (the question's); absent: English. */
  language?: Language;
}

/** The continuation job's payload: the question's event plus which paused run it continues. */
export type ApprovalJobPayload = InboundEvent & { approvalRun: string };

export interface ApprovalService {
  /** Whether a write tool may act in this chat without asking ("Always allow in this chat"). */
  gate(chatId: string): ToolApprovalGate;
  /** Stores the paused run and sends the approval card; false when the card could not be sent. */
  pause(paused: Omit<PausedRun, 'createdAt' | 'expiresAt' | 'changes'>): Promise<boolean>;
  load(run: string): Promise<PausedRun | undefined>;
  /** The conversation to continue with: the stored one plus the decision for each waiting tool call. */
  continuation(paused: PausedRun): ModelMessage[];
  /** Shows the decision on the approval card (no buttons left); patching twice is harmless. */
  closeCard(paused: PausedRun): Promise<void>;
  /** The card's buttons, by control action. */
  cardHandlers: Readonly<Record<string, CardActionHandler>>;
  /** Closes runs nobody decided on in time: their cards say so and nothing changes. */
  expireOverdue(now?: number): Promise<number>;
}

export interface ApprovalServiceOptions {
  store: Store;
  feishuClient: FeishuClient;
  /** The app (bot) whose approvals these are. */
  appId?: string | undefined;
  /** The change a tool call would make, from the tool's own `approval.describe`. */
  describe(tool: string, input: unknown, language: Language): ApprovalSummary | undefined;
  /** Wakes the dispatcher for the continuation job. */
  onEnqueued: (job: NewJob) => void;
  bus: EventBus;
  log: Logger;
  /** How long a decision may take (APPROVAL_TIMEOUT_MINUTES). */
  timeoutMs?: number;
  /** Paused runs kept in the store at most (oldest forgotten first). */
  maxPaused?: number;
  now?: () => number;
}

const PAUSED_RUNS = 'approval-runs';
const ALWAYS_ALLOWED = 'approval-always';

/** Image and file bytes do not go into the store; the model saw them already and the decision is what matters now. */
function storable(messages: readonly ModelMessage[]): ModelMessage[] {
  return messages.map((message) => {
    if (message.role !== 'user' || typeof message.content === 'string') return message;
    return {
      ...message,
      content: message.content.map((part) =>
        part.type === 'text' ? part : { type: 'text' as const, text: `[${part.type} shown earlier]` },
      ),
    };
  });
}

/**
 * Approvals for write tools, durable across restarts and instances: a paused run is a store
 * record, the card's buttons reach any instance through the card router, the decision is claimed
 * once, and the continuation is an inbox job in the conversation's lane (so it keeps its order).
 * "Always allow in this chat" is a per-chat, per-tool record the gate reads. A run nobody decides
 * on expires with a closed card and nothing changed.
 *
 * @example
 * const approvals = createApprovalService({ store, feishuClient, describe, onEnqueued, bus, log });
 * createCardActionRouter({ handlers: { stop, ...approvals.cardHandlers }, ... });
 */
export function createApprovalService({
  store,
  appId,
  feishuClient,
  describe,
  onEnqueued,
  bus,
  log,
  timeoutMs = 60 * 60_000,
  maxPaused = 5_000,
  now = Date.now,
}: ApprovalServiceOptions): ApprovalService {
  // Each app keeps its own: a card is patched and an expiry closed with the client that sent it.
  const PAUSED = appScoped(appId, PAUSED_RUNS);
  const ALWAYS = appScoped(appId, ALWAYS_ALLOWED);
  const timeoutMinutes = Math.round(timeoutMs / 60_000);

  async function load(run: string): Promise<PausedRun | undefined> {
    return ((await store.getRecord(PAUSED, run)) as PausedRun | null) ?? undefined;
  }

  async function patchCard(given: PausedRun): Promise<void> {
    let paused = given;
    // Decided within moments of the card being sent: its message id may not be stored yet.
    for (let attempt = 0; paused.cardMessageId === undefined && attempt < 10; attempt++) {
      await sleep(200);
      const stored = await load(given.run);
      if (stored?.cardMessageId !== undefined) paused = { ...given, cardMessageId: stored.cardMessageId };
    }
    if (paused.cardMessageId === undefined) return;
    const content = approvalCard({
      run: paused.run,
      asker: paused.asker,
      changes: paused.changes,
      timeoutMinutes,
      ...(paused.decision === undefined ? {} : { decided: paused.decision }),
      ...(paused.decidedBy === undefined ? {} : { decidedBy: paused.decidedBy }),
      language: paused.language,
    });
    const messageId = paused.cardMessageId;
    await callFeishu(
      bus,
      'im.v1.message.patch',
      () => feishuClient.im.v1.message.patch({ path: { message_id: messageId }, data: { content } }),
      { client: feishuClient, timeoutMs: 10_000 },
    );
  }

  /** Records the decision once (the first press or the expiry wins); undefined when already decided. */
  async function decide(
    run: string,
    decision: ApprovalDecision,
    by: string | undefined,
  ): Promise<PausedRun | undefined> {
    const paused = await load(run);
    if (paused === undefined || paused.decision !== undefined) return undefined;
    if (!(await store.claimKey(`approval-decided:${run}`, timeoutMs * 2, now()))) return undefined;
    const decided: PausedRun = {
      ...paused,
      decision,
      decidedAt: now(),
      ...(by === undefined ? {} : { decidedBy: by }),
    };
    await store.putRecord(PAUSED, run, decided, maxPaused);
    bus.emit({
      type: 'approval.decided',
      traceId: run,
      decision,
      tools: paused.pending.map((call) => call.toolName),
      ...(by === undefined ? {} : { by }),
    });
    return decided;
  }

  function pressHandler(decision: 'approved' | 'always' | 'denied'): CardActionHandler {
    return async (control, press): Promise<CardPressAnswer> => {
      const paused = await load(control.run);
      const say = textsFor(control.language ?? paused?.language ?? 'en').approval;
      if (paused === undefined) return { toast: { kind: 'warning', text: say.gone } };
      if (paused.decision !== undefined) return { toast: { kind: 'info', text: say.alreadyDecided } };
      if (paused.expiresAt <= now()) {
        await expire(paused);
        return { toast: { kind: 'warning', text: say.expired } };
      }
      const decided = await decide(control.run, decision, press.operatorId);
      if (decided === undefined) return { toast: { kind: 'info', text: say.alreadyDecided } };
      if (decision === 'always') {
        for (const call of decided.pending) {
          await store.putRecord(
            ALWAYS,
            `${decided.chatId}:${call.toolName}`,
            { by: press.operatorId, at: now() },
            100_000,
          );
        }
      }
      const job: NewJob = {
        id: `${decided.run}:approval`,
        lane: decided.lane,
        kind: APPROVAL_JOB_KIND,
        payload: { ...decided.inbound, approvalRun: decided.run } satisfies ApprovalJobPayload,
      };
      if (await store.enqueue(job, now())) onEnqueued(job);
      return {
        toast:
          decision === 'denied'
            ? { kind: 'info', text: say.deniedToast }
            : { kind: 'success', text: say.approvedToast },
      };
    };
  }

  async function expire(paused: PausedRun): Promise<boolean> {
    const decided = await decide(paused.run, 'expired', undefined);
    if (decided === undefined) return false;
    await patchCard(decided).catch((error: unknown) =>
      log.warn({ err: error, run: paused.run }, 'could not close an expired approval card'),
    );
    return true;
  }

  return {
    gate(chatId) {
      return { alwaysAllowed: async (tool) => (await store.getRecord(ALWAYS, `${chatId}:${tool}`)) !== null };
    },
    async pause(given) {
      const changes = given.pending.map(
        (call) =>
          describe(call.toolName, call.input, given.language ?? 'en') ?? {
            action: approvalTexts(given.language ?? 'en').run(call.toolName),
            target: 'Feishu',
            fields: [{ label: approvalTexts(given.language ?? 'en').labels.input, value: JSON.stringify(call.input) }],
          },
      );
      const paused: PausedRun = {
        ...given,
        conversation: storable(given.conversation),
        changes,
        createdAt: now(),
        expiresAt: now() + timeoutMs,
      };
      await store.putRecord(PAUSED, paused.run, paused, maxPaused);
      try {
        const body = await callFeishu(
          bus,
          'im.v1.message.reply',
          () =>
            feishuClient.im.v1.message.reply({
              path: { message_id: paused.messageId },
              data: {
                msg_type: 'interactive',
                content: approvalCard({
                  run: paused.run,
                  asker: paused.asker,
                  changes,
                  timeoutMinutes,
                  language: paused.language,
                }),
                uuid: `approval-${paused.run}`.slice(0, 50),
                reply_in_thread: paused.replyInThread,
              },
            }),
          { client: feishuClient, timeoutMs: 10_000 },
        );
        const cardMessageId = body.data?.message_id;
        if (cardMessageId !== undefined) {
          // Keep a decision made in the meantime: only the card's id is added.
          const latest = (await load(paused.run)) ?? paused;
          await store.putRecord(PAUSED, paused.run, { ...latest, cardMessageId }, maxPaused);
        }
        bus.emit({
          type: 'approval.requested',
          traceId: paused.run,
          tools: paused.pending.map((call) => call.toolName),
          expiresAt: paused.expiresAt,
        });
        return true;
      } catch (error) {
        log.warn({ err: error, run: paused.run }, 'could not send the approval card');
        return false;
      }
    },
    load,
    closeCard: patchCard,
    continuation(paused) {
      const approved = paused.decision === 'approved' || paused.decision === 'always';
      return [
        ...paused.conversation,
        {
          role: 'tool',
          content: paused.pending.map((call) => ({
            type: 'tool-approval-response' as const,
            approvalId: call.approvalId,
            approved,
            ...(approved ? {} : { reason: 'The person denied this change.' }),
          })),
        },
      ];
    },
    cardHandlers: {
      [APPROVAL_ACTIONS.approve]: pressHandler('approved'),
      [APPROVAL_ACTIONS.always]: pressHandler('always'),
      [APPROVAL_ACTIONS.deny]: pressHandler('denied'),
    },
    async expireOverdue(at = now()) {
      let expired = 0;
      for (const record of await store.listRecords(PAUSED, 200)) {
        const paused = record as PausedRun | null;
        if (paused === null || paused.decision !== undefined || paused.expiresAt > at) continue;
        if (await expire(paused)) expired++;
      }
      return expired;
    },
  };
}

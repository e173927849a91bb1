import type { ManagerAgent } from '../agents/manager-agent.js';
import { type ConversationMemory, createConversationMemory } from '../agents/memory.js';
import type { Config } from '../config.js';
import type { BudgetGuard } from '../cost/budget-guard.js';
import type { ChatAdmins } from '../feishu/chat-admins.js';
import type { FeishuClient } from '../feishu/feishu-client.js';
import type { MessageOriginCheck, OriginCheck } from '../feishu/message-origin.js';
import { botSender, type NormalisedMessage, type NormaliseResult } from '../feishu/normalise-message.js';
import { textsFor } from '../i18n/bot-texts.js';
import type { JobContext, JobHandler } from '../inbox/job-handler.js';
import type { Logger } from '../log.js';
import type { EventBus } from '../observe/event-bus.js';
import type { ScheduleService } from '../schedules/schedule-service.js';
import type { Store } from '../store/store.js';
import { errorMessage } from '../util/error-message.js';
import { createAnswerStep } from './answer-step.js';
import { createApprovalContinuation } from './approval-continuation.js';
import { APPROVAL_JOB_KIND, type ApprovalService } from './approvals.js';
import type { ChatSettings } from './chat-settings.js';
import { createCommandStep } from './command-step.js';
import { isStopRequest } from './commands.js';
import { createOriginConfirmation } from './confirm-origin.js';
import { addressedToBot, decide } from './decide.js';
import { JobAbortedError } from './job-aborted.js';
import { type BotOpenId, readMessageJob, startReply } from './message-job.js';
import { createConversationPolicy, createRateLimits, type PolicyVerdict } from './policy.js';
import { createLanguageOf } from './reply-language.js';
import type { ReplySinkFor } from './reply-sink.js';
import type { TurnResolver } from './resolve-turn.js';
import { createRoomBackground, type GroupContext } from './room-background.js';
import type { RunStops } from './run-stops.js';
import { createTurnMemory } from './turn-memory.js';
import { createUserNameLookup } from './user-name-lookup.js';

// Other modules and tests import these from here.
export { STOPPED_MEMORY_MARK, STOPPED_NOTICE } from './answer-texts.js';
export { JobAbortedError } from './job-aborted.js';

export interface MessageHandlerOptions {
  /** Allowlists, rate limits and the input length limit. */
  policy: Config['policy'];
  /** Forgets a person's own Feishu authorization (`/logout`); absent when per-person authorization is off. */
  forgetUserAuthorization?: ((userId: string) => Promise<boolean>) | undefined;
  /**
   * Write tools ask before acting: a run that wants to change something pauses with an approval
   * card and continues as an 'approval' job (register this handler for that kind too). Without
   * it, write tools that need approval are not offered.
   */
  approvals?: ApprovalService | undefined;
  /** Daily budgets per chat and user (checked with the policy). */
  budget?: BudgetGuard | undefined;
  /** How much history (in tokens) goes with each question. */
  memoryTokenBudget: Config['model']['memoryTokenBudget'];
  /** The app's id: Feishu history messages sent by it are the bot's own turns when a thread is seeded. */
  appId?: string | undefined;
  store: Store;
  bus: EventBus;
  log: Logger;
  /** Lets memory seed a thread from Feishu (and the summarizer read history, via the manager). */
  feishuClient?: FeishuClient | undefined;
  botOpenId?: BotOpenId | undefined;
  replySinkFor: ReplySinkFor;
  managerAgent: ManagerAgent;
  /** `/remind` and `/schedules`; absent: those commands say schedules are not available. */
  schedules?: ScheduleService | undefined;
  /**
   * Looks up a person's display name (e.g. Feishu contact API) for the instructions and the
   * "author: text" of group turns. Optional; bounded by `userNameTimeoutMs`, failures ignored.
   */
  resolveUserName?: (openId: string) => Promise<string | undefined>;
  userNameTimeoutMs?: number;
  /** Default: built from the store, `memoryTokenBudget` and the bot's ids. */
  memory?: ConversationMemory;
  /**
   * Resolves the message's parts in the job (images, files, voice, quote, forwarded bundle).
   * Without one, the model gets the plain text and the manager reads a quoted message itself.
   */
  turns?: TurnResolver | undefined;
  /** Which model sees images: MODEL itself, or VISION_MODEL for turns with images. */
  vision?: { primarySeesImages: boolean; visionModel?: string | undefined };
  /**
   * Stop requests (the Stop button, a typed "stop"). With it every answer offers Stop and ends
   * as "Stopped" with the text so far when asked to; without it answers cannot be stopped.
   */
  runStops?: RunStops;
  /**
   * The group's recent discussion the bot was not mentioned in ("reads the room"), and which
   * mode a chat uses. Without it group answers see only their own conversation.
   */
  groupContext?: GroupContext;
  /**
   * Confirms a Feishu message with Feishu before its answer or command reads anything on its
   * behalf (memory, the quoted message, tools); a message Feishu does not confirm gets no reply
   * and a `security.event`. Without it (tests of other parts) the event's claims are trusted.
   */
  originCheck?: MessageOriginCheck | undefined;
  /** Per-chat settings (persona, model, tools…) read for every answer, and `/config`. */
  chatSettings?: ChatSettings | undefined;
  /** Who may change a group's settings (Feishu's chat API). */
  chatAdmins?: ChatAdmins | undefined;
  now?: () => number;
}

/** `decide` answers and runs commands only for readable messages addressed to the bot. */
function readable(message: NormaliseResult): NormalisedMessage {
  if (message.kind !== 'message') throw new Error('an unreadable message cannot be answered');
  return message;
}

/**
 * The conversation step, as the dispatcher's handler for 'answer' and 'approval' jobs: read the
 * message, check the policy, let `decide` choose (ignore, notice, refuse, command, answer), then
 * hand it to the step that acts on it. The steps live beside this file:
 *
 * - `confirm-origin.ts`: a Feishu message is confirmed with Feishu before a command or answer.
 * - `command-step.ts`: slash commands and the `/config` settings card.
 * - `answer-step.ts`: memory, attachments, the room's background, the manager, Stop, and the
 *   reply sink (`sink.start()` first, `finish` or `fail` last); `approval-pause.ts` and
 *   `approval-continuation.ts`: a run that waits for approval and goes on after the decision.
 * - `turn-memory.ts`: the turn is written to memory after the reply closed, keyed by message id.
 * - `room-background.ts`: ignored group messages are kept for the room's background.
 *
 * When `job.signal` aborts (shutdown) the handler throws JobAbortedError so the dispatcher hands
 * the job back; other failures are reported as an 'error' event and rethrown.
 *
 * @example
 * const answer = createMessageHandler({ policy: config.policy, memoryTokenBudget: config.model.memoryTokenBudget,
 *   store, bus, log, feishuClient, botOpenId, replySinkFor, managerAgent });
 * createDispatcher({ ..., handlers: { answer, notice: createNoticeHandler({ ... }) } });
 */
export function createMessageHandler({
  policy: policySettings,
  approvals,
  forgetUserAuthorization,
  budget,
  memoryTokenBudget,
  appId,
  store,
  bus,
  log,
  feishuClient,
  botOpenId,
  replySinkFor,
  managerAgent,
  schedules,
  resolveUserName,
  userNameTimeoutMs = 1_000,
  runStops,
  turns,
  vision = { primarySeesImages: true },
  memory = createConversationMemory({
    store,
    tokenBudget: memoryTokenBudget,
    bus,
    log,
    botIds: [typeof botOpenId === 'string' ? botOpenId : undefined, appId].filter(
      (id): id is string => id !== undefined,
    ),
    ...(feishuClient === undefined ? {} : { feishuClient }),
    ...(resolveUserName === undefined ? {} : { resolveUserName }),
  }),
  groupContext,
  originCheck,
  chatSettings,
  chatAdmins,
  now = Date.now,
}: MessageHandlerOptions): JobHandler {
  const policy = createConversationPolicy({ policy: policySettings, store, budget });
  const rateLimits = createRateLimits({ policy: policySettings, store });
  const lookUpUserName = createUserNameLookup({ resolveUserName, timeoutMs: userNameTimeoutMs, log });
  const origins = createOriginConfirmation({ originCheck, bus, log });
  const languageOf = createLanguageOf({ chatSettings, log });
  const room = createRoomBackground({ groupContext, log, now });
  const command = createCommandStep({
    memory,
    managerAgent,
    replySinkFor,
    bus,
    log,
    feishuClient,
    forgetUserAuthorization,
    schedules,
    chatSettings,
    chatAdmins,
    resolveUserName,
  });
  const answer = createAnswerStep({
    languageOf,
    store,
    bus,
    log,
    replySinkFor,
    managerAgent,
    memory,
    turnMemory: createTurnMemory({ memory, log, now }),
    lookUpUserName,
    room,
    approvals,
    schedules,
    turns,
    vision,
    runStops,
    chatSettings,
    now,
  });
  const continueAfterDecision = createApprovalContinuation({ approvals, log, answer });

  const handle = async (job: JobContext): Promise<void> => {
    const { signal } = job;
    const traceId = job.job.id;
    if (signal.aborted) throw new JobAbortedError(signal.reason);
    const read = await readMessageJob(job, botOpenId);
    const { message, inbound } = read;
    if (job.job.kind === APPROVAL_JOB_KIND) return continueAfterDecision(read);

    let verdict: PolicyVerdict | undefined;
    let origin: Promise<OriginCheck> | undefined;
    if (addressedToBot(message)) {
      // Asked now, awaited only before an answer or command: it overlaps the lookups below.
      origin = origins.ask(read, message);
      // Cached by the resolver: the answer below asks again without a second lookup.
      const userName = await lookUpUserName(message.sender.openId);
      bus.emit({
        type: 'message.received',
        traceId,
        chatId: message.chatId,
        chatType: inbound.source === 'devtools' ? 'local' : message.chatType,
        userId: message.sender.openId,
        ...(userName === undefined ? {} : { userName }),
        text: message.text.length > 200 ? `${message.text.slice(0, 199)}…` : message.text,
      });
      // A typed stop is not a question: it does not count against the rate limits (see decide).
      verdict = isStopRequest(message.text)
        ? undefined
        : await policy.evaluate({
            appId: inbound.appId,
            chatId: message.chatId,
            userId: message.sender.openId,
            text: message.text,
            source: inbound.source,
            // A retried job (attempts > 1) or a handed-back one (its reply already started) was
            // admitted before; counting it again could refuse a question whose card is half-written.
            alreadyAdmitted: job.job.attempts > 1 || job.job.checkpoint != null,
            language: await languageOf(message),
          });
    }

    const decision = decide({ message, verdict });
    switch (decision.action) {
      case 'ignore': {
        bus.emit({ type: 'message.ignored', traceId, reason: decision.reason });
        const bot = message.sender === undefined ? undefined : botSender(message.sender);
        if (bot !== undefined) bus.emit({ type: 'message.bot-skipped', traceId, sender: bot });
        await room.keep(message, traceId);
        return;
      }
      case 'notice': {
        if (decision.reason !== undefined) bus.emit({ type: 'message.ignored', traceId, reason: decision.reason });
        // "I cannot read this" counts against the same limits as an answer (a greeting already
        // did, through the policy): a flood of images must not become a flood of notices.
        const limited =
          decision.kind === 'unsupported-type' && job.job.attempts === 1 && message.chatId !== undefined
            ? await rateLimits.check({
                appId: read.inbound.appId,
                chatId: message.chatId,
                userId: message.sender?.openId ?? '',
                language: await languageOf(message),
              })
            : undefined;
        if (limited?.action === 'ignore') {
          bus.emit({ type: 'message.ignored', traceId, reason: limited.reason });
          return;
        }
        const language = await languageOf(message);
        const sink = await startReply(read, replySinkFor, { language });
        await sink.finish(limited?.action === 'reply' ? limited.text : textsFor(language).notices[decision.kind]);
        return;
      }
      case 'refuse': {
        const sink = await startReply(read, replySinkFor, { language: await languageOf(message) });
        bus.emit({ type: 'message.ignored', traceId, reason: decision.reason });
        await sink.finish(decision.text);
        return;
      }
      case 'command':
      case 'answer': {
        const confirmed = await origins.confirmed(read, readable(message), origin);
        if (confirmed === undefined) return;
        return decision.action === 'command'
          ? command(confirmed, readable(confirmed.message), decision.command)
          : answer(confirmed, readable(confirmed.message));
      }
    }
  };

  return async (job) => {
    try {
      await handle(job);
    } catch (error) {
      // Model failures were reported by the agent call; this is the rest (store, reply sink).
      if (!job.signal.aborted) {
        bus.emit({
          type: 'error',
          traceId: job.job.id,
          category: 'OTHER',
          message: errorMessage(error).split('\n', 1)[0] ?? '',
          where: 'conversation',
        });
      }
      throw error;
    }
  };
}

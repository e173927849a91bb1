import type { ConversationContext } from '../agents/conversation-context.js';
import type { ManagerAgent } from '../agents/manager-agent.js';
import { type ConversationMemory, createConversationMemory } from '../agents/memory.js';
import { appendNotices } from '../agents/tools/tool-notices.js';
import type { ToolApprovalGate } from '../agents/tools/tool-runtime.js';
import type { Config } from '../config.js';
import type { BudgetGuard } from '../cost/budget-guard.js';
import { callFeishu } from '../feishu/call-feishu.js';
import type { ChatAdmins } from '../feishu/chat-admins.js';
import type { FeishuClient } from '../feishu/feishu-client.js';
import type { MessageOriginCheck, OriginCheck } from '../feishu/message-origin.js';
import { botSender, type NormalisedMessage, type NormaliseResult } from '../feishu/normalise-message.js';
import { conversationKey } from '../inbox/conversation-key.js';
import type { JobContext, JobHandler } from '../inbox/job-handler.js';
import type { Logger } from '../log.js';
import type { EventBus } from '../observe/event-bus.js';
import { proactiveTargetOf } from '../schedules/proactive-job.js';
import { runScheduleCommand } from '../schedules/schedule-commands.js';
import type { ScheduleService } from '../schedules/schedule-service.js';
import type { HistoryMessage, Store } from '../store/store.js';
import { errorMessage } from '../util/error-message.js';
import { withTimeout } from '../util/with-timeout.js';
import { recordAnsweredBy } from './answer-feedback.js';
import { APPROVAL_JOB_KIND, type ApprovalJobPayload, type ApprovalService, type PausedRun } from './approvals.js';
import { answerSettingsOf, type ChatSettings } from './chat-settings.js';
import { type CommandName, isStopRequest, runCommand } from './commands.js';
import { parseConfigRequest, runConfigCommand } from './config-command.js';
import { addressedToBot, decide, type NoticeKind } from './decide.js';
import { type BotOpenId, type MessageJob, readMessageJob, startReply } from './message-job.js';
import { createConversationPolicy, createRateLimits, type PolicyVerdict } from './policy.js';
import type { ReplySink, ReplySinkFor } from './reply-sink.js';
import type { ResolvedTurn, TurnResolver } from './resolve-turn.js';
import { formatRoom, type GroupContextMode, type RoomContext } from './room-context.js';
import { trackRunSteps } from './run-steps.js';
import type { RunStops, RunWatch } from './run-stops.js';
import { settingsCard } from './settings-card.js';

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
  groupContext?: { room: RoomContext; mode(chatId: string): GroupContextMode | Promise<GroupContextMode> };
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

/** Thrown out of a slow phase before the model (memory seeding, attachments) when the asker stopped the run. */
class RunStoppedError extends Error {
  readonly code = 'RUN_STOPPED';
  constructor() {
    super('run stopped by the asker');
    this.name = 'RunStoppedError';
  }
  static isInstance(error: unknown): error is RunStoppedError {
    return error instanceof Error && (error as { code?: unknown }).code === 'RUN_STOPPED';
  }
}

/** `work`, or a RunStoppedError as soon as the run is stopped (the work is left to finish unheard). */
function untilStopped<T>(watch: RunWatch | undefined, work: Promise<T>): Promise<T> {
  if (watch === undefined) return work;
  const { signal } = watch;
  if (signal.aborted) {
    work.catch(() => {});
    return Promise.reject(new RunStoppedError());
  }
  return new Promise<T>((resolve, reject) => {
    const onStop = () => reject(new RunStoppedError());
    signal.addEventListener('abort', onStop, { once: true });
    work.then(
      (value) => {
        signal.removeEventListener('abort', onStop);
        resolve(value);
      },
      (error: unknown) => {
        signal.removeEventListener('abort', onStop);
        reject(error);
      },
    );
  });
}

/** Thrown to hand a job back when its signal aborted (shutdown, lease lost). */
export class JobAbortedError extends Error {
  readonly code = 'JOB_ABORTED';
  constructor(reason: unknown) {
    super(`job stopped: ${String(reason)}`);
    this.name = 'AbortError';
  }
}

const APPROVAL_WAITING_NOTE = 'Waiting for your approval: see the card below.';
const APPROVAL_UNSENT_NOTE = 'I wanted to make a change but could not ask for approval, so nothing was changed.';

function decisionNote(paused: PausedRun): string {
  const tools = paused.pending.map((call) => call.toolName).join(', ');
  return paused.decision === 'denied' ? `the person denied ${tools}` : `the person approved ${tools}`;
}

const INTERRUPTED_NOTICE = 'I was interrupted by a restart and will pick this up again in a moment.';
/** What a stopped answer's card ends with, after the text so far. */
export const STOPPED_NOTICE = '⏹ Stopped';
/** How a stopped answer is remembered, so the next turn knows it was cut short. */
export const STOPPED_MEMORY_MARK = '[stopped by the user before the answer was complete]';
const NOTICES: Record<NoticeKind, string> = {
  'unsupported-type':
    'I cannot read this kind of message. Send your question as text, a picture, a file or a voice message.',
  greeting: 'Hi! Ask me anything, or send /help to see what I can do.',
};

/** `decide` answers and runs commands only for readable messages addressed to the bot. */
function readable(message: NormaliseResult): NormalisedMessage {
  if (message.kind !== 'message') throw new Error('an unreadable message cannot be answered');
  return message;
}

function summaryLine(answer: {
  model: string | undefined;
  inputTokens: number;
  outputTokens: number;
  latencyMs: number;
}) {
  const parts = [
    answer.model,
    `${answer.inputTokens + answer.outputTokens} tokens`,
    `${(answer.latencyMs / 1000).toFixed(1)} s`,
  ];
  return parts.filter((part) => part !== undefined).join(' · ');
}

/**
 * The conversation step, as the dispatcher's handler for 'answer' jobs: read the message, let
 * `decide` choose (ignore, notice, refuse, command, answer), then act on it; an answer runs the
 * manager with memory and streams into the reply sink.
 *
 * - `sink.start()` comes before anything slow (memory seeding, the model), so a "thinking" state
 *   shows within a second.
 * - Every delta goes to `sink.update(fullText)`; the end is `sink.finish(text, summary)` or, on a
 *   model failure, `sink.fail(whatWasSaid, shortHonestNotice)`.
 * - The user turn and the answer are appended to memory only after the reply is closed. Turns
 *   carry the Feishu message id, so a re-run of the same job neither duplicates them nor sees
 *   its own earlier answer.
 * - When `context.signal` aborts (shutdown): the model stops, the sink closes with a notice
 *   (not on 'lease-lost': another worker owns the reply then), and the handler throws so the
 *   dispatcher hands the job back.
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
      origin = askOrigin(read, message);
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
            chatId: message.chatId,
            userId: message.sender.openId,
            text: message.text,
            source: inbound.source,
            // A retried job (attempts > 1) or a handed-back one (its reply already started) was
            // admitted before; counting it again could refuse a question whose card is half-written.
            alreadyAdmitted: job.job.attempts > 1 || job.job.checkpoint != null,
          });
    }

    const decision = decide({ message, verdict });
    switch (decision.action) {
      case 'ignore': {
        bus.emit({ type: 'message.ignored', traceId, reason: decision.reason });
        const bot = message.sender === undefined ? undefined : botSender(message.sender);
        if (bot !== undefined) bus.emit({ type: 'message.bot-skipped', traceId, sender: bot });
        await keepForRoom(message, traceId);
        return;
      }
      case 'notice': {
        if (decision.reason !== undefined) bus.emit({ type: 'message.ignored', traceId, reason: decision.reason });
        // "I cannot read this" counts against the same limits as an answer (a greeting already
        // did, through the policy): a flood of images must not become a flood of notices.
        const limited =
          decision.kind === 'unsupported-type' && job.job.attempts === 1 && message.chatId !== undefined
            ? await rateLimits.check({ chatId: message.chatId, userId: message.sender?.openId ?? '' })
            : undefined;
        if (limited?.action === 'ignore') {
          bus.emit({ type: 'message.ignored', traceId, reason: limited.reason });
          return;
        }
        const sink = await startReply(read, replySinkFor);
        await sink.finish(limited?.action === 'reply' ? limited.text : NOTICES[decision.kind]);
        return;
      }
      case 'refuse': {
        const sink = await startReply(read, replySinkFor);
        bus.emit({ type: 'message.ignored', traceId, reason: decision.reason });
        await sink.finish(decision.text);
        return;
      }
      case 'command':
      case 'answer': {
        const confirmed = await confirmedOrigin(read, readable(message), origin);
        if (confirmed === undefined) return;
        return decision.action === 'command'
          ? command(confirmed, readable(confirmed.message), decision.command)
          : answer(confirmed, readable(confirmed.message));
      }
    }
  };

  /** Feishu's record of the message, for messages from Feishu when an origin check is wired. */
  function askOrigin(read: MessageJob, message: NormalisedMessage): Promise<OriginCheck> | undefined {
    if (originCheck === undefined || read.inbound.source === 'devtools') return undefined;
    const asked = originCheck.confirm({
      messageId: message.messageId,
      chatId: message.chatId,
      senderOpenId: message.sender.openId,
    });
    // Not awaited when the decision is to ignore or refuse; a failure then matters to nobody.
    asked.catch(() => undefined);
    return asked;
  }

  /**
   * The job with Feishu's chat, sender and thread in place of the event's claims, or undefined
   * when Feishu does not confirm the message (reported, no reply). A lookup that failed throws,
   * so the job is retried.
   */
  async function confirmedOrigin(
    read: MessageJob,
    message: NormalisedMessage,
    origin: Promise<OriginCheck> | undefined,
  ): Promise<MessageJob | undefined> {
    if (origin === undefined) return read;
    const check = await origin;
    const traceId = read.job.job.id;
    if (!check.ok) {
      bus.emit({ type: 'security.event', traceId, kind: 'message-origin', reason: check.reason });
      log.warn(
        { traceId, messageId: message.messageId, reason: check.reason, detail: check.detail },
        'event refused: Feishu does not confirm its message in the chat and sender it names; no reply',
      );
      return undefined;
    }
    const { rootId: _root, parentId: _parent, threadId: _thread, ...rest } = message;
    const { chatId, senderOpenId, rootId, parentId, threadId } = check.origin;
    const confirmed: NormalisedMessage = {
      ...rest,
      chatId,
      sender: { ...message.sender, openId: senderOpenId },
      ...(rootId ? { rootId } : {}),
      ...(parentId ? { parentId } : {}),
      ...(threadId ? { threadId } : {}),
    };
    return { ...read, message: confirmed };
  }

  async function command(read: MessageJob, message: NormalisedMessage, name: CommandName): Promise<void> {
    if (name === 'config' && (await replyWithSettingsCard(read, message))) return;
    const sink = await startReply(read, replySinkFor);
    const key = conversationKey(message);
    const feishuChat = read.inbound.source !== 'devtools';
    const text = await runCommand(name, {
      clearMemory: () => memory.clear(key),
      specialists: managerAgent.specialists,
      inThread: Boolean(message.threadId || message.rootId),
      ...(forgetUserAuthorization === undefined
        ? {}
        : { forgetUserAuthorization: () => forgetUserAuthorization(message.sender.openId) }),
      args: message.text.trim().replace(/^\S+\s*/, ''),
      ...(schedules === undefined || !feishuChat
        ? {}
        : {
            schedules: async (command, args) =>
              runScheduleCommand(command, args, {
                service: schedules,
                target: proactiveTargetOf(message),
                userId: message.sender.openId,
                language: (await chatSettings?.effective(message.chatId))?.language,
              }),
          }),
      ...(chatSettings === undefined
        ? {}
        : {
            config: () =>
              runConfigCommand({
                text: message.text,
                chatId: message.chatId,
                chatType: read.inbound.source === 'devtools' ? 'local' : message.chatType,
                userId: message.sender.openId,
                settings: chatSettings,
                admins: chatAdmins,
                resolveUserName,
              }),
          }),
    });
    log.info({ traceId: read.job.job.id, command: name, key }, 'command');
    await sink.finish(text);
  }

  /**
   * `/config` on its own in Feishu answers with the settings card (buttons for each choice);
   * false when it does not apply (the playground, another `/config` form, no Feishu client).
   */
  async function replyWithSettingsCard(read: MessageJob, message: NormalisedMessage): Promise<boolean> {
    if (chatSettings === undefined || feishuClient === undefined || read.inbound.source === 'devtools') return false;
    if (parseConfigRequest(message.text).action !== 'show') return false;
    const content = settingsCard({
      chatId: message.chatId,
      chatType: message.chatType,
      asker: message.sender.openId,
      effective: await chatSettings.effective(message.chatId),
      settings: chatSettings,
    });
    await callFeishu(
      bus,
      'im.v1.message.reply',
      () =>
        feishuClient.im.v1.message.reply({
          path: { message_id: message.messageId },
          data: {
            msg_type: 'interactive',
            content,
            uuid: read.job.idempotencyKey('settings-card'),
            reply_in_thread: Boolean(message.threadId),
          },
        }),
      { client: feishuClient, timeoutMs: 10_000 },
    );
    return true;
  }

  /** In `stored` mode, a group message not addressed to the bot is kept for when it is. */
  async function keepForRoom(message: NormaliseResult, traceId: string): Promise<void> {
    if (groupContext === undefined || message.kind !== 'message' || message.chatType !== 'group') return;
    if (message.mentionsBot || botSender(message.sender) !== undefined || message.text === '') return;
    try {
      if ((await groupContext.mode(message.chatId)) !== 'stored') return;
      await groupContext.room.remember(message, {
        messageId: message.messageId,
        senderId: message.sender.openId,
        text: message.text,
        at: message.createTime || now(),
      });
    } catch (error) {
      log.warn({ traceId, err: error }, 'could not keep a group message for later context');
    }
  }

  /** The group's recent discussion before this message, as text for the model; '' when none. */
  async function roomBackground(
    message: NormalisedMessage,
    history: readonly HistoryMessage[],
    traceId: string,
    chosen: GroupContextMode | undefined,
  ): Promise<string> {
    if (groupContext === undefined || message.chatType !== 'group') return '';
    const mode =
      chosen ??
      (await Promise.resolve(groupContext.mode(message.chatId)).catch((error: unknown) => {
        log.warn({ traceId, err: error }, 'group context setting not readable: answering without it');
        return 'off' as const;
      }));
    const known = new Set(history.map((turn) => turn.messageId).filter((id): id is string => id !== undefined));
    const room = await groupContext.room.read({
      where: message,
      mode,
      currentMessageId: message.messageId,
      currentTime: message.createTime,
      known,
      traceId,
    });
    return room.length === 0 ? '' : formatRoom(room);
  }

  /** Runs the manager with the conversation's memory and streams its answer into the reply. */
  /** An 'approval' job: the person decided on a paused run's changes; the run goes on from there. */
  async function continueAfterDecision(read: MessageJob): Promise<void> {
    const run = (read.job.job.payload as Partial<ApprovalJobPayload>).approvalRun;
    const paused = run === undefined ? undefined : await approvals?.load(run);
    if (approvals === undefined || paused === undefined || paused.decision === undefined) {
      log.warn({ traceId: read.job.job.id, run }, 'approval job without a decided paused run: nothing to continue');
      return;
    }
    await approvals.closeCard(paused).catch((error: unknown) => {
      log.warn({ traceId: read.job.job.id, err: error }, 'could not show the decision on the approval card');
    });
    if (paused.decision === 'expired' || read.message.kind !== 'message') return;
    await answer(read, read.message, paused);
  }

  async function answer(read: MessageJob, message: NormalisedMessage, resume?: PausedRun): Promise<void> {
    const { job } = read;
    // Before anything slow (memory seeding, the model), so a "thinking" state shows at once.
    const sink = await startReply(read, replySinkFor, { stoppable: runStops !== undefined });
    const traceId = job.job.id;
    const watch = await runStops?.watch(traceId, { lane: job.job.lane, asker: message.sender.openId });
    try {
      await answerInto(read, message, sink, watch, resume);
    } catch (error) {
      if (!RunStoppedError.isInstance(error) || job.signal.aborted) throw error;
      // Stopped before the model even started (memory seeding, attachments): nothing was said.
      await sink.fail('', STOPPED_NOTICE);
      bus.emit({ type: 'run.stopped', traceId, via: watch?.stoppedVia() ?? 'button', length: 0 });
      if (resume === undefined)
        await remember(conversationKey(message), message, undefined, STOPPED_MEMORY_MARK, traceId);
      await turns?.release(job.job.id);
    } finally {
      await watch?.close();
    }
  }

  async function answerInto(
    read: MessageJob,
    message: NormalisedMessage,
    sink: ReplySink,
    watch: RunWatch | undefined,
    resume?: PausedRun,
  ): Promise<void> {
    const { job, inbound } = read;
    const { signal } = job;
    const traceId = job.job.id;
    const chatType = inbound.source === 'devtools' ? 'local' : message.chatType;
    const key = conversationKey(message);
    let history =
      resume !== undefined
        ? []
        : await untilStopped(
            watch,
            memory.load({
              key,
              ...(message.threadId && chatType !== 'local' ? { threadId: message.threadId } : {}),
              currentMessageId: message.messageId,
              traceId,
            }),
          );
    // A re-run of this job after a crash: forget what the earlier attempt stored for this message.
    const earlier = history.findIndex((turn) => turn.messageId === message.messageId);
    // A continuation adds the answer after the decision; the question is in memory already.
    const alreadyStored = earlier >= 0 || resume !== undefined;
    if (alreadyStored) history = history.slice(0, earlier);

    // Read for every answer, so a change made with /config applies from the next message.
    const settings = chatSettings === undefined ? undefined : await chatSettings.effective(message.chatId);
    const userName = await lookUpUserName(message.sender.openId);
    const context: ConversationContext = {
      traceId,
      chatId: message.chatId,
      chatType,
      messageId: message.messageId,
      userId: message.sender.openId,
      ...(userName === undefined ? {} : { userName }),
      ...(message.threadId ? { threadId: message.threadId } : {}),
      ...(message.rootId ? { rootId: message.rootId } : {}),
      ...(message.parentId ? { parentId: message.parentId } : {}),
      ...(settings === undefined
        ? {}
        : { disabledTools: settings.toolsOff, userReadsInGroup: settings.userReadsInGroup }),
      // "Tomorrow 9:00" means the chat's tomorrow: the schedule tools read times in this zone.
      ...(schedules === undefined ? {} : { timeZone: await schedules.timeZoneOf(message.chatId) }),
    };
    const interrupted = async (said: string): Promise<never> => {
      if (signal.reason !== 'lease-lost') {
        await sink.fail(said, INTERRUPTED_NOTICE).catch((error: unknown) => {
          log.warn({ traceId, err: error }, 'could not close the reply after an interruption');
        });
      }
      throw new JobAbortedError(signal.reason);
    };

    // Downloading, extracting and transcribing happen here, in the job, never before the ack.
    const canSeeImages = vision.primarySeesImages || vision.visionModel !== undefined;
    let turn: ResolvedTurn | undefined;
    const resolveStarted = now();
    try {
      if (resume === undefined)
        turn =
          turns === undefined
            ? undefined
            : await untilStopped(watch, turns.resolve(message, { jobId: job.job.id, traceId, signal, canSeeImages }));
    } catch (error) {
      if (signal.aborted) await interrupted('');
      throw error;
    }
    const preferredModel =
      turn !== undefined && turn.images > 0 && !vision.primarySeesImages ? vision.visionModel : undefined;
    if (turn !== undefined) {
      bus.emit({
        type: 'turn.resolved',
        traceId,
        parts: turn.summary.join('\n'),
        partCount: turn.summary.length,
        images: turn.images,
        ...(preferredModel === undefined ? {} : { model: preferredModel }),
        notices: turn.notices.join('\n'),
        elapsedMs: now() - resolveStarted,
      });
    }
    // What memory keeps of the user's turn: text, documents' text (bounded), images by key.
    const asked = turn?.memoryText || message.text;
    if (turn !== undefined && !turn.readable) {
      // Nothing the model could read (a corrupt file alone, a sticker): say why, do not guess.
      const notices = turn.notices.length > 0 ? turn.notices : ['I could not read anything in this message.'];
      await sink.finish(appendNotices('', notices));
      if (!alreadyStored) await remember(key, message, userName, '', traceId, asked);
      await turns?.release(job.job.id);
      return;
    }

    const background =
      chatType === 'local' || resume !== undefined
        ? ''
        : await untilStopped(watch, roomBackground(message, history, traceId, settings?.groupContext));
    // Write tools ask first, on Feishu only (the playground has no buttons to press).
    const chatGate = approvals !== undefined && chatType !== 'local' ? approvals.gate(message.chatId) : undefined;
    // The SDK asks again for the calls a continuation carries decisions for: they must still
    // "need approval" then, even when the decision was "always allow".
    const decided = new Set(resume?.pending.map((call) => call.toolCallId));
    const gate: ToolApprovalGate | undefined =
      chatGate === undefined
        ? undefined
        : {
            alwaysAllowed: async (tool, callId) => !decided.has(callId) && (await chatGate.alwaysAllowed(tool, callId)),
          };
    const steps =
      sink.progress === undefined
        ? undefined
        : trackRunSteps({ bus, traceId, onProgress: (progress) => sink.progress?.(progress) });
    let answer: Awaited<ReturnType<ManagerAgent['answer']>>;
    try {
      answer = await managerAgent.answer({
        context,
        history,
        input: message.text,
        ...(turn === undefined ? {} : { content: turn.content, quoted: turn.quoted ?? null }),
        ...(preferredModel === undefined ? {} : { preferredModel }),
        background,
        ...(settings === undefined ? {} : { chat: answerSettingsOf(settings) }),
        // A stop ends the model call and any running tool, like a drain does, but the job is done.
        signal: watch === undefined ? signal : AbortSignal.any([signal, watch.signal]),
        onText: (text) => {
          steps?.textArrived();
          sink.update(text);
        },
        ...(gate === undefined ? {} : { approvals: gate }),
        ...(resume === undefined || approvals === undefined ? {} : { continuation: approvals.continuation(resume) }),
      });
    } finally {
      // The panel is summed up and folded with the answer, whatever its outcome.
      const final = steps?.finish();
      if (final !== undefined) sink.progress?.(final);
    }

    const stoppedVia = watch?.stoppedVia();
    if (stoppedVia !== undefined && !signal.aborted) {
      await sink.fail(answer.text, STOPPED_NOTICE);
      bus.emit({ type: 'run.stopped', traceId, via: stoppedVia, length: answer.text.length });
      if (alreadyStored) return;
      const partial = answer.text.trim() === '' ? STOPPED_MEMORY_MARK : `${answer.text}\n\n${STOPPED_MEMORY_MARK}`;
      await remember(key, message, userName, partial, traceId, asked);
      await turns?.release(job.job.id);
      return;
    }

    if (answer.outcome === 'aborted' || signal.aborted) await interrupted(answer.text);

    const shown = appendNotices(answer.text, turn?.notices ?? []);
    const waiting = answer.pendingApprovals ?? [];
    if (answer.outcome === 'success' && waiting.length > 0 && answer.conversation !== undefined && approvals) {
      const asked = await approvals.pause({
        run: traceId,
        lane: job.job.lane,
        inbound,
        chatId: message.chatId,
        asker: message.sender.openId,
        messageId: message.messageId,
        replyInThread: Boolean(message.threadId),
        conversation: answer.conversation,
        pending: waiting,
      });
      const note = asked ? APPROVAL_WAITING_NOTE : APPROVAL_UNSENT_NOTE;
      await sink.finish(appendNotices(shown, [note]), summaryLine(answer));
      const said = `${answer.text}\n\n(${note})`.trim();
      if (!alreadyStored) await remember(key, message, userName, said, traceId, turn?.memoryText || message.text);
      else if (resume !== undefined) await rememberAnswer(key, said, traceId);
      await turns?.release(job.job.id);
      return;
    }
    if (answer.outcome === 'success') {
      // Before the card shows its feedback buttons, so a quick press finds what answered.
      await recordAnsweredBy(store, traceId, {
        agent: 'manager',
        model: answer.model ?? 'unknown',
        latencyMs: answer.latencyMs,
      }).catch((error: unknown) => log.warn({ traceId, err: error }, 'could not record what answered'));
      await sink.finish(shown, summaryLine(answer));
    } else await sink.fail(shown, answer.notice ?? 'Something went wrong. Please try again.');

    if (!alreadyStored) await remember(key, message, userName, answer.text, traceId, asked);
    else if (resume !== undefined) await rememberAnswer(key, `(${decisionNote(resume)}) ${answer.text}`, traceId);
    await turns?.release(job.job.id);
  }

  /** The answer a continuation gave after the person's decision (the question is stored already). */
  async function rememberAnswer(key: string, text: string, traceId: string): Promise<void> {
    if (text.trim() === '') return;
    try {
      await memory.append(key, [{ role: 'assistant', content: text, at: now() }]);
    } catch (error) {
      log.error({ traceId, key, err: error }, 'could not store the answer after an approval');
    }
  }

  /** Appends the question and the answer (when it said anything) to the conversation's memory. */
  async function remember(
    key: string,
    message: NormalisedMessage,
    userName: string | undefined,
    answerText: string,
    traceId: string,
    asked: string = message.text,
  ): Promise<void> {
    const stored: HistoryMessage[] = [
      {
        role: 'user',
        content: asked,
        at: message.createTime || now(),
        author: userName ?? message.sender.openId,
        messageId: message.messageId,
      },
    ];
    if (answerText.trim() !== '') stored.push({ role: 'assistant', content: answerText, at: now() });
    try {
      await memory.append(key, stored);
    } catch (error) {
      // The user has the answer; re-running the job for memory would answer twice.
      log.error({ traceId, key, err: error }, 'could not store the conversation turn');
    }
  }

  /** A display name, or undefined when there is no resolver, it fails or it is too slow. */
  async function lookUpUserName(openId: string): Promise<string | undefined> {
    if (resolveUserName === undefined || openId === '') return undefined;
    try {
      const name = await withTimeout(
        resolveUserName(openId),
        userNameTimeoutMs,
        () => new Error(`user name lookup took over ${userNameTimeoutMs} ms`),
      );
      return typeof name === 'string' && name.trim() !== '' ? name.trim().slice(0, 100) : undefined;
    } catch (error) {
      log.debug({ err: error }, 'user name lookup failed');
      return undefined;
    }
  }

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

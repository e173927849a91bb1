import { userMessageFor } from '../agents/classify-model-error.js';
import type { ConversationContext } from '../agents/conversation-context.js';
import type { ManagerAgent } from '../agents/manager-agent.js';
import type { ConversationMemory } from '../agents/memory.js';
import { appendNotices } from '../agents/tools/tool-notices.js';
import type { NormalisedMessage } from '../feishu/normalise-message.js';
import { textsFor } from '../i18n/bot-texts.js';
import type { Language } from '../i18n/language.js';
import { conversationKey } from '../inbox/conversation-key.js';
import type { Logger } from '../log.js';
import type { EventBus } from '../observe/event-bus.js';
import type { ScheduleService } from '../schedules/schedule-service.js';
import type { Store } from '../store/store.js';
import { recordAnsweredBy } from './answer-feedback.js';
import { STOPPED_MEMORY_MARK, summaryLine } from './answer-texts.js';
import { answerApprovalGate, decisionNote, pauseForApproval } from './approval-pause.js';
import type { ApprovalService, PausedRun } from './approvals.js';
import { answerSettingsOf, type ChatSettings } from './chat-settings.js';
import { JobAbortedError } from './job-aborted.js';
import { type MessageJob, startReply } from './message-job.js';
import type { LanguageOf } from './reply-language.js';
import type { ReplySink, ReplySinkFor } from './reply-sink.js';
import type { ResolvedTurn, TurnResolver } from './resolve-turn.js';
import type { RoomBackground } from './room-background.js';
import { trackRunSteps } from './run-steps.js';
import { RunStoppedError, untilStopped } from './run-stopped.js';
import type { RunStops, RunWatch } from './run-stops.js';
import type { TurnMemory } from './turn-memory.js';
import type { UserNameLookup } from './user-name-lookup.js';

/** Answers one confirmed message (or continues a paused run when `resume` is given). */
export type AnswerStep = (read: MessageJob, message: NormalisedMessage, resume?: PausedRun) => Promise<void>;

export interface AnswerStepOptions {
  store: Store;
  bus: EventBus;
  log: Logger;
  replySinkFor: ReplySinkFor;
  managerAgent: ManagerAgent;
  memory: Pick<ConversationMemory, 'load'>;
  turnMemory: TurnMemory;
  lookUpUserName: UserNameLookup;
  room: RoomBackground;
  approvals?: ApprovalService | undefined;
  schedules?: ScheduleService | undefined;
  turns?: TurnResolver | undefined;
  vision: { primarySeesImages: boolean; visionModel?: string | undefined };
  runStops?: RunStops | undefined;
  chatSettings?: ChatSettings | undefined;
  /** The language of the bot's own texts (notices, buttons) for a message; absent: English. */
  languageOf?: LanguageOf | undefined;
  now?: () => number;
}

/**
 * The answer step: runs the manager with the conversation's memory, the message's attachments
 * and the room's background, and streams its answer into the reply.
 *
 * - `sink.start()` comes before anything slow (memory seeding, the model), so a "thinking" state
 *   shows within a second.
 * - A Stop (button or typed) ends the card as "Stopped" with the text so far; memory keeps the
 *   partial answer with a mark.
 * - A run whose write tools want approval pauses with an approval card; `resume` continues it.
 * - The user turn and the answer are appended to memory only after the reply is closed, keyed by
 *   the message id, so a re-run neither duplicates them nor sees its own earlier answer.
 * - A shutdown closes the sink with a notice (not on 'lease-lost') and throws JobAbortedError.
 *
 * @example
 * const answer = createAnswerStep({ store, bus, log, replySinkFor, managerAgent, memory, turnMemory,
 *   lookUpUserName, room, vision: { primarySeesImages: true } });
 * await answer(read, message);
 */
export function createAnswerStep({
  store,
  bus,
  log,
  replySinkFor,
  managerAgent,
  memory,
  turnMemory: { remember, rememberAnswer },
  lookUpUserName,
  room,
  approvals,
  schedules,
  turns,
  vision,
  runStops,
  chatSettings,
  languageOf = async () => 'en',
  now = Date.now,
}: AnswerStepOptions): AnswerStep {
  async function answerInto(
    read: MessageJob,
    message: NormalisedMessage,
    sink: ReplySink,
    watch: RunWatch | undefined,
    language: Language,
    resume?: PausedRun,
  ): Promise<void> {
    const { job, inbound } = read;
    const say = textsFor(language);
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
      ...(message.appId === undefined ? {} : { appId: message.appId }),
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
      language,
      // "Tomorrow 9:00" means the chat's tomorrow: the schedule tools read times in this zone.
      ...(schedules === undefined ? {} : { timeZone: await schedules.timeZoneOf(message.chatId) }),
    };
    const interrupted = async (said: string): Promise<never> => {
      if (signal.reason !== 'lease-lost') {
        await sink.fail(said, say.interrupted).catch((error: unknown) => {
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
            : await untilStopped(
                watch,
                turns.resolve(message, { jobId: job.job.id, traceId, signal, canSeeImages, language }),
              );
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
      const notices = turn.notices.length > 0 ? turn.notices : [say.unreadable];
      await sink.finish(appendNotices('', notices));
      if (!alreadyStored) await remember(key, message, userName, '', traceId, asked);
      await turns?.release(job.job.id);
      return;
    }

    const background =
      chatType === 'local' || resume !== undefined
        ? ''
        : await untilStopped(watch, room.read(message, history, traceId, settings?.groupContext));
    const gate = answerApprovalGate(approvals, { chatId: message.chatId, local: chatType === 'local', resume });
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
      await sink.fail(answer.text, say.stopped);
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
      const note = await pauseForApproval(approvals, {
        run: traceId,
        lane: job.job.lane,
        inbound,
        chatId: message.chatId,
        asker: message.sender.openId,
        messageId: message.messageId,
        replyInThread: Boolean(message.threadId),
        conversation: answer.conversation,
        pending: waiting,
        language,
        say,
      });
      await sink.finish(appendNotices(shown, [note]), summaryLine(answer, language));
      const said = `${answer.text}\n\n(${note})`.trim();
      if (!alreadyStored) await remember(key, message, userName, said, traceId, asked);
      else if (resume !== undefined) await rememberAnswer(key, said, traceId);
      await turns?.release(job.job.id);
      return;
    }
    if (answer.outcome === 'success') {
      // Before the card shows its feedback buttons, so a quick press finds what answered.
      await recordAnsweredBy(store, traceId, {
        agent: answer.answeredBy,
        model: answer.answeredByModel ?? 'unknown',
        latencyMs: answer.latencyMs,
      }).catch((error: unknown) => log.warn({ traceId, err: error }, 'could not record what answered'));
      await sink.finish(shown, summaryLine(answer, language));
    } else
      await sink.fail(
        shown,
        answer.errorCategory === undefined
          ? (answer.notice ?? say.failed)
          : userMessageFor(answer.errorCategory, language),
      );

    if (!alreadyStored) await remember(key, message, userName, answer.text, traceId, asked);
    else if (resume !== undefined) await rememberAnswer(key, `(${decisionNote(resume)}) ${answer.text}`, traceId);
    await turns?.release(job.job.id);
  }

  return async (read, message, resume) => {
    const { job } = read;
    // Before anything slow (memory seeding, the model), so a "thinking" state shows at once.
    const language = await languageOf(message);
    const say = textsFor(language);
    const sink = await startReply(read, replySinkFor, { stoppable: runStops !== undefined, language });
    const traceId = job.job.id;
    const watch = await runStops?.watch(traceId, { lane: job.job.lane, asker: message.sender.openId });
    try {
      await answerInto(read, message, sink, watch, language, resume);
    } catch (error) {
      if (!RunStoppedError.isInstance(error) || job.signal.aborted) throw error;
      // Stopped before the model even started (memory seeding, attachments): nothing was said.
      await sink.fail('', say.stopped);
      bus.emit({ type: 'run.stopped', traceId, via: watch?.stoppedVia() ?? 'button', length: 0 });
      if (resume === undefined)
        await remember(conversationKey(message), message, undefined, STOPPED_MEMORY_MARK, traceId);
      await turns?.release(job.job.id);
    } finally {
      await watch?.close();
    }
  };
}

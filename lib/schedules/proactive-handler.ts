import type { ConversationContext } from '../agents/conversation-context.js';
import type { ManagerAgent } from '../agents/manager-agent.js';
import { answerSettingsOf, type ChatSettings } from '../conversation/chat-settings.js';
import { JobAbortedError } from '../conversation/job-aborted.js';
import type { ReplySink } from '../conversation/reply-sink.js';
import type { BudgetGuard } from '../cost/budget-guard.js';
import type { FeishuClient } from '../feishu/feishu-client.js';
import { createReplySinkForJob, REPLY_CHECKPOINT_KEY } from '../feishu/reply/reply-for-job.js';
import { textsFor } from '../i18n/bot-texts.js';
import { conversationKey } from '../inbox/conversation-key.js';
import type { JobContext, JobHandler } from '../inbox/job-handler.js';
import type { Logger } from '../log.js';
import type { EventBus } from '../observe/event-bus.js';
import type { HistoryMessage, Store } from '../store/store.js';
import { type ProactivePayload, proactivePayload } from './proactive-job.js';
import { languageFor, type TextLanguage } from './schedule-language.js';
import { type ScheduleTexts, scheduleTexts } from './schedule-texts.js';
import { formatInZone } from './schedule-time.js';

export interface ProactiveHandlerOptions {
  feishuClient: FeishuClient;
  bus: EventBus;
  log: Logger;
  /** Answers `run` requests; without it (no model) a `run` posts a notice instead. */
  managerAgent?: ManagerAgent | undefined;
  /** The chat's settings (persona, language, model, tools and specialists off) hold for a run too. */
  chatSettings?: ChatSettings | undefined;
  /** Daily budgets: a run past the chat's (or its requester's) budget posts the notice instead. */
  budget?: BudgetGuard | undefined;
  /** The chat's memory gets a run's request and answer, so people can follow up on it. */
  store?: Store | undefined;
  maxHistoryMessages?: number;
  cardUpdatesPerSecond?: number;
  now?: () => number;
}

/** Thrown when a proactive job's payload is not one (written by another build, or damaged). */
export class ProactivePayloadError extends Error {
  readonly code = 'NOT_A_PROACTIVE_JOB';
  constructor(message: string) {
    super(message);
    this.name = 'ProactivePayloadError';
  }
}

/**
 * The handler of `proactive` jobs: what a due schedule or a notification posts into a chat. A
 * reminder and a message are posted as a card with the text; a run asks the manager agent and
 * streams its answer into a card like any answer (same card, tools, model chain). The card is a
 * new message in the chat (or in the topic it was set up in), and is bound to the job like any
 * reply: a resumed attempt continues it, a retry cannot post a second one.
 *
 * @example
 * handlers.proactive = createProactiveHandler({ feishuClient, bus, log, managerAgent, store });
 */
/**
 * What a `proactive` job that was given up on (dead letter) leaves in the chat: a card it had
 * started is closed with a short notice instead of streaming forever; nothing is posted when no
 * card was started.
 *
 * @example
 * onDeadLetter: (job, error) => (job.job.kind === PROACTIVE_JOB_KIND ? proactiveDeadLetter(job) : messageDeadLetter(job, error)),
 */
export function createProactiveDeadLetter(
  options: Pick<ProactiveHandlerOptions, 'feishuClient' | 'bus' | 'log' | 'cardUpdatesPerSecond' | 'chatSettings'>,
): (job: JobContext) => Promise<void> {
  return async (job) => {
    const { checkpoint } = job.job;
    if (typeof checkpoint !== 'object' || checkpoint === null || !(REPLY_CHECKPOINT_KEY in checkpoint)) return;
    const parsed = proactivePayload.safeParse(job.job.payload);
    if (!parsed.success) return;
    const language = languageFor(
      options.chatSettings === undefined
        ? undefined
        : (await options.chatSettings.effective(parsed.data.target.chatId)).language,
      parsed.data.text,
    );
    const sink = proactiveSink(options, job, parsed.data, language);
    await sink.start();
    await sink.fail('', scheduleTexts(language).givenUp);
  };
}

/** A new card in the target chat (or a reply in its topic), bound to the job like any reply. */
function proactiveSink(
  {
    feishuClient,
    bus,
    log,
    cardUpdatesPerSecond,
  }: Pick<ProactiveHandlerOptions, 'feishuClient' | 'bus' | 'log' | 'cardUpdatesPerSecond'>,
  job: JobContext,
  payload: ProactivePayload,
  language: TextLanguage,
): ReplySink {
  const { chatId, rootMessageId } = payload.target;
  return createReplySinkForJob({
    // The card's own words (thinking, steps, the watchdog's notice) in the chat's language.
    ...(language === 'en' ? {} : { thinkingText: textsFor(language).thinking, language }),
    context: job,
    message: { chatId, messageId: rootMessageId, replyInThread: rootMessageId !== undefined },
    client: feishuClient,
    bus,
    log,
    ...(cardUpdatesPerSecond === undefined ? {} : { updatesPerSecond: cardUpdatesPerSecond }),
  });
}

export function createProactiveHandler({
  feishuClient,
  bus,
  log,
  managerAgent,
  chatSettings,
  budget,
  store,
  maxHistoryMessages = 200,
  cardUpdatesPerSecond,
  now = Date.now,
}: ProactiveHandlerOptions): JobHandler {
  const sinkFor = (job: JobContext, payload: ProactivePayload, language: TextLanguage) =>
    proactiveSink({ feishuClient, bus, log, cardUpdatesPerSecond }, job, payload, language);

  async function run(
    job: JobContext,
    payload: ProactivePayload,
    sink: ReplySink,
    say: ScheduleTexts,
    language: TextLanguage,
  ): Promise<void> {
    const { signal } = job;
    const { appId, chatId, chatType, threadId, rootMessageId } = payload.target;
    const refusal = await budget?.check({ chatId, userId: payload.requestedBy ?? '' }, undefined, language);
    if (refusal !== undefined) {
      bus.emit({ type: 'message.ignored', traceId: job.job.id, reason: refusal.reason });
      await sink.finish(refusal.text);
      return;
    }
    if (managerAgent === undefined) {
      await sink.finish(say.noAgent);
      return;
    }
    const settings = chatSettings === undefined ? undefined : await chatSettings.effective(chatId);
    const context: ConversationContext = {
      traceId: job.job.id,
      ...(appId === undefined ? {} : { appId }),
      chatId,
      chatType,
      ...(settings === undefined
        ? {}
        : { disabledTools: settings.toolsOff, userReadsInGroup: settings.userReadsInGroup }),
      ...(threadId === undefined ? {} : { threadId }),
      ...(rootMessageId === undefined ? {} : { rootId: rootMessageId }),
      ...(payload.requestedBy === undefined ? {} : { userId: payload.requestedBy }),
      ...(payload.timeZone === undefined ? {} : { timeZone: payload.timeZone }),
    };
    const answer = await managerAgent.answer({
      context,
      history: [],
      input: payload.text,
      ...(settings === undefined ? {} : { chat: answerSettingsOf(settings) }),
      signal,
      onText: (text) => sink.update(text),
    });
    if (answer.outcome === 'aborted' || signal.aborted) {
      if (signal.reason !== 'lease-lost') {
        await sink.fail(answer.text, say.interrupted).catch((error: unknown) => {
          log.warn({ traceId: job.job.id, err: error }, 'could not close the reply after an interruption');
        });
      }
      throw new JobAbortedError(signal.reason);
    }
    if (answer.outcome === 'success') await sink.finish(answer.text);
    else await sink.fail(answer.text, answer.notice ?? say.failed);
    if (store === undefined || answer.text.trim() === '') return;
    const at = now();
    const turns: HistoryMessage[] = [
      {
        role: 'user',
        content: `(scheduled) ${payload.text}`,
        at,
        ...(payload.requestedBy ? { author: payload.requestedBy } : {}),
      },
      { role: 'assistant', content: answer.text, at },
    ];
    try {
      await store.appendHistory(
        conversationKey({ appId, chatId, threadId, rootId: rootMessageId }),
        turns,
        maxHistoryMessages,
      );
    } catch (error) {
      // The chat has the answer; running the job again for memory would post it twice.
      log.warn({ traceId: job.job.id, err: error }, 'could not store the scheduled run in memory');
    }
  }

  return async (job) => {
    if (job.signal.aborted) throw new JobAbortedError(job.signal.reason);
    const parsed = proactivePayload.safeParse(job.job.payload);
    if (!parsed.success) throw new ProactivePayloadError(`job ${job.job.id}: payload is not a proactive job`);
    const payload = parsed.data;
    bus.emit({
      type: 'message.received',
      traceId: job.job.id,
      chatId: payload.target.chatId,
      chatType: payload.target.chatType,
      userId: payload.requestedBy ?? payload.origin,
      text: `[${payload.origin} ${payload.action}] ${payload.text.slice(0, 180)}`,
    });
    const setting =
      chatSettings === undefined ? undefined : (await chatSettings.effective(payload.target.chatId)).language;
    const language = languageFor(setting, payload.text);
    const sink = sinkFor(job, payload, language);
    await sink.start();
    const say = scheduleTexts(language);
    if (payload.missed !== undefined) {
      const due = payload.dueAt === undefined ? '?' : formatInZone(payload.dueAt, payload.timeZone ?? 'UTC');
      await sink.finish(say.missedNote(payload.action, due, Math.round(payload.missed.lateMs / 60_000), payload.text));
      return;
    }
    if (payload.action === 'run') return run(job, payload, sink, say, language);
    await sink.finish(payload.action === 'remind' ? say.reminderCard(payload.text) : payload.text);
  };
}

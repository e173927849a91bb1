import type { Config } from '../config.js';
import { botSender, ignoreReason } from '../feishu/normalise-message.js';
import { REPLY_CHECKPOINT_KEY } from '../feishu/reply/reply-for-job.js';
import { textsFor } from '../i18n/bot-texts.js';
import { pickLanguage } from '../i18n/language.js';
import type { JobContext, JobHandler } from '../inbox/job-handler.js';
import type { Logger } from '../log.js';
import type { EventBus } from '../observe/event-bus.js';
import type { Store } from '../store/store.js';
import { type BotOpenId, readMessageJob, startReply } from './message-job.js';
import { createAllowlists, createRateLimits } from './policy.js';
import type { LanguageOf } from './reply-language.js';
import type { ReplySinkFor } from './reply-sink.js';

const messageLanguage: LanguageOf = async ({ text = '' }) => pickLanguage('auto', text);

export interface NoticeHandlerOptions {
  bus: EventBus;
  log: Logger;
  botOpenId?: BotOpenId;
  replySinkFor: ReplySinkFor;
  /**
   * Allowlists and, with a `store`, the per-user and per-chat rate limits apply to the busy
   * notice as to an answer: a flooding chat gets its one rate-limit reply, not a notice per message.
   */
  policy?: Pick<
    Config['policy'],
    'allowedChatIds' | 'allowedUserIds' | 'userMessagesPerMinute' | 'chatMessagesPerMinute'
  >;
  /** Where the rate-limit counters live (the answers' counters: one budget per user and chat). */
  store?: Store;
  /** A fixed text instead of the catalog's busy notice. */
  text?: string;
  /** The language of the notice; default: the message's own (see `pickLanguage`). */
  languageOf?: LanguageOf;
}

/**
 * Handler for busy-notice jobs: the inbox enqueues one instead of an answer when the backlog is
 * full. It replies with a short "busy" message to messages the bot would have answered.
 *
 * @example
 * createDispatcher({ ..., handlers: { [BUSY_NOTICE_KIND]: createNoticeHandler({ bus, log, botOpenId, replySinkFor }) } });
 */
export function createNoticeHandler({
  bus,
  log,
  botOpenId,
  replySinkFor,
  policy,
  store,
  text,
  languageOf = messageLanguage,
}: NoticeHandlerOptions): JobHandler {
  const allowlists = policy === undefined ? undefined : createAllowlists(policy);
  const rateLimits = policy === undefined || store === undefined ? undefined : createRateLimits({ policy, store });
  return async (job) => {
    const traceId = job.job.id;
    const read = await readMessageJob(job, botOpenId);
    const { message } = read;
    if (message.kind === 'unsupported') return;
    const reason = ignoreReason(message);
    if (reason !== undefined) {
      bus.emit({ type: 'message.ignored', traceId, reason });
      const bot = botSender(message.sender);
      if (bot !== undefined) bus.emit({ type: 'message.bot-skipped', traceId, sender: bot });
      return;
    }
    const refused = allowlists?.check({
      chatId: message.chatId,
      userId: message.sender.openId,
      source: read.inbound.source,
    });
    if (refused) {
      bus.emit({ type: 'message.ignored', traceId, reason: 'not allowed' });
      return;
    }
    // Counted once: a retried notice job was counted by its first attempt.
    const limited =
      job.job.attempts > 1 || read.inbound.source === 'devtools'
        ? undefined
        : await rateLimits?.check({
            appId: read.inbound.appId,
            chatId: message.chatId,
            userId: message.sender.openId,
            language: await languageOf(message),
          });
    if (limited?.action === 'ignore') {
      bus.emit({ type: 'message.ignored', traceId, reason: limited.reason });
      return;
    }
    const language = await languageOf(message);
    const sink = await startReply(read, replySinkFor, { language });
    if (limited?.action === 'reply') {
      bus.emit({ type: 'message.ignored', traceId, reason: limited.reason });
      await sink.finish(limited.text);
      return;
    }
    await sink.finish(text ?? textsFor(language).busy);
    log.info({ traceId, chatId: message.chatId }, 'answered with a busy notice');
  };
}

export interface DeadLetterReplyOptions {
  botOpenId?: BotOpenId;
  replySinkFor: ReplySinkFor;
  /** A fixed text instead of the catalog's notice. */
  text?: string;
  /** The language of the notice; default: the message's own. */
  languageOf?: LanguageOf;
}

/**
 * The dispatcher's `onDeadLetter` for message jobs: a job that will not be tried again (its
 * holders kept dying, or every attempt failed) may have left a card streaming half an answer.
 * When the job checkpoint shows a reply was started, its cards are closed with a short notice.
 * A job that never started a reply gets nothing: it may be a message the bot must not answer.
 *
 * @example
 * createDispatcher({ ..., onDeadLetter: createDeadLetterReply({ botOpenId, replySinkFor }) });
 */
export function createDeadLetterReply({
  botOpenId,
  replySinkFor,
  text,
  languageOf = messageLanguage,
}: DeadLetterReplyOptions): (job: JobContext) => Promise<void> {
  return async (job) => {
    const { checkpoint } = job.job;
    if (typeof checkpoint !== 'object' || checkpoint === null || !(REPLY_CHECKPOINT_KEY in checkpoint)) return;
    const read = await readMessageJob(job, botOpenId);
    if (read.message.kind === 'unsupported') return;
    const language = await languageOf(read.message);
    const sink = await startReply(read, replySinkFor, { language });
    await sink.fail('', text ?? textsFor(language).givenUp);
  };
}

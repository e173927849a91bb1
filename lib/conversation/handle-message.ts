import type { ConversationContext } from '../agents/conversation-context.js';
import type { ManagerAgent } from '../agents/manager-agent.js';
import { type ConversationMemory, createConversationMemory } from '../agents/memory.js';
import type { Config } from '../config.js';
import type { FeishuClient } from '../feishu/feishu-client.js';
import { ignoreReason, type NormalisedMessage, normaliseMessage } from '../feishu/normalise-message.js';
import { REPLY_CHECKPOINT_KEY } from '../feishu/reply/reply-for-job.js';
import { conversationKey } from '../inbox/conversation-key.js';
import type { InboundEvent } from '../inbox/inbound-event.js';
import type { JobContext, JobHandler } from '../inbox/job-handler.js';
import type { Logger } from '../log.js';
import type { EventSource } from '../observe/bot-event.js';
import type { EventBus } from '../observe/event-bus.js';
import type { HistoryMessage, Store } from '../store/store.js';
import { parseCommand, runCommand } from './commands.js';
import { type ConversationPolicy, createAllowlists, createConversationPolicy } from './policy.js';
import type { ReplySink } from './reply-sink.js';

/** Everything a ReplySink factory needs to answer one message (Feishu card, text, devtools). */
export interface ReplyContext {
  /** The inbox job id; groups the reply's events with the rest of the message's. */
  traceId: string;
  source: EventSource;
  /** The user's message the answer replies to. */
  messageId: string;
  chatId: string;
  chatType: 'p2p' | 'group';
  threadId?: string;
  rootId?: string;
  /** Reply inside the thread: true when the message is in a topic thread. */
  replyInThread: boolean;
  /** The job: idempotencyKey(part), saveCheckpoint, job.checkpoint, job.attempts, signal. */
  job: JobContext;
}

export interface MessageHandlerOptions {
  config: Config;
  store: Store;
  bus: EventBus;
  log: Logger;
  /** Lets memory seed a thread from Feishu (and the summarizer read history, via the manager). */
  feishuClient?: FeishuClient;
  /** The bot's open_id (mentions are compared to it); a function when it is resolved later. */
  botOpenId?: string | (() => string | undefined | Promise<string | undefined>);
  replySinkFor: (context: ReplyContext) => ReplySink;
  managerAgent: ManagerAgent;
  /**
   * Looks up a person's display name (e.g. Feishu contact API) for the instructions and the
   * "author: text" of group turns. Optional; bounded by `userNameTimeoutMs`, failures ignored.
   */
  resolveUserName?: (openId: string) => Promise<string | undefined>;
  userNameTimeoutMs?: number;
  /** Defaults: built from config + store. */
  memory?: ConversationMemory;
  policy?: ConversationPolicy;
  now?: () => number;
}

/** Thrown to hand a job back when its signal aborted (shutdown, lease lost). */
export class JobAbortedError extends Error {
  readonly code = 'JOB_ABORTED';
  constructor(reason: unknown) {
    super(`job stopped: ${String(reason)}`);
    this.name = 'AbortError';
  }
}

const INTERRUPTED_NOTICE = 'I was interrupted by a restart and will pick this up again in a moment.';
const UNSUPPORTED_NOTICE = 'I can only read text messages for now. Please send your question as text.';
const BUSY_NOTICE = "I'm handling a lot of messages right now. Please try again in a minute.";
const DEAD_LETTER_NOTICE = 'Sorry, I could not finish this answer. Please ask again.';

function readInbound(payload: unknown): InboundEvent {
  if (typeof payload !== 'object' || payload === null || !('event' in payload)) {
    throw new Error('job payload is not an InboundEvent');
  }
  return payload as InboundEvent;
}

async function resolveBotOpenId(botOpenId: MessageHandlerOptions['botOpenId']): Promise<string | undefined> {
  return typeof botOpenId === 'function' ? await botOpenId() : botOpenId;
}

function replyContext(message: NormalisedMessage, inbound: InboundEvent, job: JobContext): ReplyContext {
  return {
    traceId: job.job.id,
    source: inbound.source,
    messageId: message.messageId,
    chatId: message.chatId,
    chatType: message.chatType,
    ...(message.threadId ? { threadId: message.threadId } : {}),
    ...(message.rootId ? { rootId: message.rootId } : {}),
    replyInThread: message.threadId !== undefined && message.threadId !== '',
    job,
  };
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
 * The conversation step, as the dispatcher's handler for 'answer' jobs: normalise the message,
 * decide whether to answer (mention, policy, commands), then run the manager with memory and
 * stream into the reply sink.
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
 * const answer = createMessageHandler({ config, store, bus, log, feishuClient, botOpenId,
 *   replySinkFor: (reply) => createStreamingCardReply({ ... }), managerAgent });
 * createDispatcher({ ..., handlers: { answer, notice: createNoticeHandler({ ... }) } });
 */
export function createMessageHandler({
  config,
  store,
  bus,
  log,
  feishuClient,
  botOpenId,
  replySinkFor,
  managerAgent,
  resolveUserName,
  userNameTimeoutMs = 1_000,
  memory = createDefaultMemory({ config, store, bus, log, feishuClient, botOpenId }),
  policy = createConversationPolicy({ policy: config.policy, store }),
  now = Date.now,
}: MessageHandlerOptions): JobHandler {
  const handle = async (job: JobContext): Promise<void> => {
    const { signal } = job;
    const traceId = job.job.id;
    if (signal.aborted) throw new JobAbortedError(signal.reason);
    const inbound = readInbound(job.job.payload);
    const normalised = normaliseMessage(inbound.event, { botOpenId: await resolveBotOpenId(botOpenId) });

    if (normalised.kind === 'unsupported') {
      bus.emit({ type: 'message.ignored', traceId, reason: `unsupported: ${normalised.detail}` });
      // In a direct chat the person is clearly talking to us: say why nothing else happens.
      if (
        normalised.reason === 'MESSAGE_TYPE_UNSUPPORTED' &&
        normalised.chatType === 'p2p' &&
        normalised.messageId &&
        normalised.chatId &&
        normalised.sender?.type !== 'app'
      ) {
        const sink = replySinkFor({
          traceId,
          source: inbound.source,
          messageId: normalised.messageId,
          chatId: normalised.chatId,
          chatType: 'p2p',
          replyInThread: false,
          job,
        });
        await sink.start();
        await sink.finish(UNSUPPORTED_NOTICE);
      }
      return;
    }

    const reason = ignoreReason(normalised);
    if (reason !== undefined) {
      bus.emit({ type: 'message.ignored', traceId, reason });
      return;
    }

    const message = normalised;
    const chatType = inbound.source === 'devtools' ? 'local' : message.chatType;
    bus.emit({
      type: 'message.received',
      traceId,
      chatId: message.chatId,
      chatType,
      userId: message.sender.openId,
      text: message.text.length > 200 ? `${message.text.slice(0, 199)}…` : message.text,
    });

    const verdict = await policy.evaluate({
      chatId: message.chatId,
      userId: message.sender.openId,
      text: message.text,
      source: inbound.source,
      // A retried job (attempts > 1) or a handed-back one (its reply already started) was
      // admitted before; counting it again could refuse a question whose card is half-written.
      alreadyAdmitted: job.job.attempts > 1 || job.job.checkpoint != null,
    });
    if (verdict.action === 'ignore') {
      bus.emit({ type: 'message.ignored', traceId, reason: verdict.reason });
      return;
    }

    const sink = replySinkFor(replyContext(message, inbound, job));
    await sink.start();
    if (verdict.action === 'reply') {
      bus.emit({ type: 'message.ignored', traceId, reason: verdict.reason });
      await sink.finish(verdict.text);
      return;
    }

    const key = conversationKey(message);
    const command = parseCommand(message.text);
    if (command !== undefined) {
      const text = await runCommand(command, {
        clearMemory: () => memory.clear(key),
        specialists: managerAgent.specialists,
        inThread: Boolean(message.threadId || message.rootId),
      });
      log.info({ traceId, command, key }, 'command');
      await sink.finish(text);
      return;
    }

    if (message.text.trim() === '') {
      await sink.finish('Hi! Ask me anything, or send /help to see what I can do.');
      return;
    }

    let history = await memory.load({
      key,
      ...(message.threadId && chatType !== 'local' ? { threadId: message.threadId } : {}),
      currentMessageId: message.messageId,
      traceId,
    });
    // A re-run of this job after a crash: forget what the earlier attempt stored for this message.
    const earlier = history.findIndex((turn) => turn.messageId === message.messageId);
    const alreadyStored = earlier >= 0;
    if (alreadyStored) history = history.slice(0, earlier);

    const userName = await lookUpUserName(resolveUserName, message.sender.openId, userNameTimeoutMs, log);
    const context: ConversationContext = {
      traceId,
      chatId: message.chatId,
      chatType,
      messageId: message.messageId,
      userId: message.sender.openId,
      ...(userName === undefined ? {} : { userName }),
      ...(message.threadId ? { threadId: message.threadId } : {}),
      ...(message.rootId ? { rootId: message.rootId } : {}),
    };
    const answer = await managerAgent.answer({
      context,
      history,
      input: message.text,
      signal,
      onText: (text) => sink.update(text),
    });

    if (answer.outcome === 'aborted' || signal.aborted) {
      if (signal.reason !== 'lease-lost') {
        await sink.fail(answer.text, INTERRUPTED_NOTICE).catch((error: unknown) => {
          log.warn({ traceId, err: error }, 'could not close the reply after an interruption');
        });
      }
      throw new JobAbortedError(signal.reason);
    }

    if (answer.outcome === 'success') await sink.finish(answer.text, summaryLine(answer));
    else await sink.fail(answer.text, answer.notice ?? 'Something went wrong. Please try again.');

    if (!alreadyStored) {
      const turns: HistoryMessage[] = [
        {
          role: 'user',
          content: message.text,
          at: message.createTime || now(),
          author: userName ?? message.sender.openId,
          messageId: message.messageId,
        },
      ];
      if (answer.text.trim() !== '') turns.push({ role: 'assistant', content: answer.text, at: now() });
      try {
        await memory.append(key, turns);
      } catch (error) {
        // The user has the answer; re-running the job for memory would answer twice.
        log.error({ traceId, key, err: error }, 'could not store the conversation turn');
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
          message: error instanceof Error ? (error.message.split('\n', 1)[0] ?? '') : String(error),
          where: 'conversation',
        });
      }
      throw error;
    }
  };
}

async function lookUpUserName(
  resolve: MessageHandlerOptions['resolveUserName'],
  openId: string,
  timeoutMs: number,
  log: Logger,
): Promise<string | undefined> {
  if (resolve === undefined || openId === '') return undefined;
  let timer: NodeJS.Timeout | undefined;
  try {
    const name = await Promise.race([
      resolve(openId),
      new Promise<undefined>((done) => {
        timer = setTimeout(() => done(undefined), timeoutMs);
      }),
    ]);
    return typeof name === 'string' && name.trim() !== '' ? name.trim().slice(0, 100) : undefined;
  } catch (error) {
    log.debug({ err: error }, 'user name lookup failed');
    return undefined;
  } finally {
    clearTimeout(timer);
  }
}

function createDefaultMemory({
  config,
  store,
  bus,
  log,
  feishuClient,
  botOpenId,
}: Pick<MessageHandlerOptions, 'config' | 'store' | 'bus' | 'log' | 'feishuClient' | 'botOpenId'>) {
  const botIds = [typeof botOpenId === 'string' ? botOpenId : undefined, config.feishu.appId].filter(
    (id): id is string => id !== undefined,
  );
  return createConversationMemory({
    store,
    tokenBudget: config.model.memoryTokenBudget,
    bus,
    log,
    botIds,
    ...(feishuClient === undefined ? {} : { feishuClient }),
  });
}

export interface NoticeHandlerOptions {
  bus: EventBus;
  log: Logger;
  botOpenId?: MessageHandlerOptions['botOpenId'];
  replySinkFor: (context: ReplyContext) => ReplySink;
  /** Allowlists apply to the busy notice too (rate limits do not: it is itself the overload answer). */
  policy?: Config['policy'];
  text?: string;
}

/**
 * Handler for 'notice' jobs: the inbox enqueues one instead of an answer when the backlog is
 * full. It replies with a short "busy" message to messages the bot would have answered.
 */
export function createNoticeHandler({
  bus,
  log,
  botOpenId,
  replySinkFor,
  policy,
  text = BUSY_NOTICE,
}: NoticeHandlerOptions): JobHandler {
  const allowlists = policy === undefined ? undefined : createAllowlists(policy);
  return async (job) => {
    const traceId = job.job.id;
    const inbound = readInbound(job.job.payload);
    const normalised = normaliseMessage(inbound.event, { botOpenId: await resolveBotOpenId(botOpenId) });
    if (normalised.kind === 'unsupported') return;
    const reason = ignoreReason(normalised);
    if (reason !== undefined) {
      bus.emit({ type: 'message.ignored', traceId, reason });
      return;
    }
    const refused = allowlists?.check({
      chatId: normalised.chatId,
      userId: normalised.sender.openId,
      source: inbound.source,
    });
    if (refused) {
      bus.emit({ type: 'message.ignored', traceId, reason: 'not allowed' });
      return;
    }
    const sink = replySinkFor(replyContext(normalised, inbound, job));
    await sink.start();
    await sink.finish(text);
    log.info({ traceId, chatId: normalised.chatId }, 'answered with a busy notice');
  };
}

export interface DeadLetterReplyOptions {
  botOpenId?: MessageHandlerOptions['botOpenId'];
  replySinkFor: (context: ReplyContext) => ReplySink;
  text?: string;
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
  text = DEAD_LETTER_NOTICE,
}: DeadLetterReplyOptions): (job: JobContext) => Promise<void> {
  return async (job) => {
    const { checkpoint } = job.job;
    if (typeof checkpoint !== 'object' || checkpoint === null || !(REPLY_CHECKPOINT_KEY in checkpoint)) return;
    const inbound = readInbound(job.job.payload);
    const normalised = normaliseMessage(inbound.event, { botOpenId: await resolveBotOpenId(botOpenId) });
    if (normalised.kind === 'unsupported') return;
    const sink = replySinkFor(replyContext(normalised, inbound, job));
    await sink.start();
    await sink.fail('', text);
  };
}

import { BOT_SENDER_TYPES } from '../feishu/normalise-message.js';
import type { Logger } from '../log.js';
import type { EventBus } from '../observe/event-bus.js';
import { createSampledLog } from '../observe/sampled-log.js';
import type { NewJob, Store } from '../store/store.js';
import { errorMessage } from '../util/error-message.js';
import { appScoped } from './app-scope.js';
import { conversationKey } from './conversation-key.js';
import { createFloodGuard } from './flood-guard.js';
import type { AcceptResult, InboundEvent, InboxReceiver } from './inbound-event.js';

export const MESSAGE_EVENT_TYPE = 'im.message.receive_v1';
/** The job kind enqueued instead of an answer when the backlog is full: a short "busy" reply. */
export const BUSY_NOTICE_KIND = 'notice';

export interface InboxOptions {
  store: Store;
  bus: EventBus;
  log: Logger;
  /** How long event and message ids are remembered; Feishu re-delivers for hours, so ≥ 12 h. */
  dedupeTtlMs: number;
  /** Pending jobs beyond which a new message gets a polite "busy" notice instead of an answer job. */
  maxBacklog: number;
  /**
   * Pending jobs (answers and notices) beyond which a message is acknowledged and dropped, not
   * stored at all: what bounds the disk when a flood outruns the agents. Default 2 × maxBacklog.
   */
  maxStoredBacklog?: number;
  /**
   * Per-chat and per-sender caps on stored messages per minute (createFloodGuard): beyond them a
   * message is acknowledged and dropped, so one flooding chat cannot fill the backlog and push
   * every other chat onto notices. Off when absent; the devtools playground is never capped.
   */
  floodCaps?: { perChat: number; perUser: number };
  /** Called after a job is durably enqueued (the dispatcher's `wake(kind)`). Must not throw or block. */
  onEnqueued?: (job: NewJob) => void;
  /** How long a backlog count is reused, so the ack path does not count jobs on every event. */
  backlogCacheMs?: number;
  /** Event types that become jobs, and their job kind. Everything else is acknowledged and ignored. */
  jobKinds?: Readonly<Record<string, string>>;
  /**
   * How often dedupe claims that could not be released during a store outage are retried (see
   * `accept`). Default 1 000 ms: well before Feishu's first re-delivery (about 15 s).
   */
  releaseRetryMs?: number;
  /** Most such claims remembered; beyond it the oldest is given up (it then lives until its TTL). */
  maxUnreleased?: number;
  now?: () => number;
}

export interface Inbox extends InboxReceiver {}

type JsonObject = Record<string, unknown>;

function isObject(value: unknown): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function text(value: unknown): string | undefined {
  return typeof value === 'string' && value.length > 0 ? value : undefined;
}

interface MessageKeys {
  messageId: string;
  chatId: string;
  lane: string;
  /** The sender's open_id, when the event names one. */
  senderId: string | undefined;
  /** `bot` or `app` when a bot sent it (never answered, never noticed). */
  botSender: 'bot' | 'app' | undefined;
}

function messageKeys({ event, message: neutral, appId }: InboundEvent): MessageKeys | undefined {
  if (neutral !== undefined) {
    const { messageId, chatId, sender } = neutral;
    const botSender = BOT_SENDER_TYPES.has(sender.type) ? (sender.type as 'bot' | 'app') : undefined;
    return {
      messageId,
      chatId,
      lane: conversationKey({ ...neutral, appId }),
      senderId: text(sender.openId),
      botSender,
    };
  }
  if (!isObject(event) || !isObject(event.message)) return undefined;
  const message = event.message;
  const messageId = text(message.message_id);
  const chatId = text(message.chat_id);
  if (messageId === undefined || chatId === undefined) return undefined;
  const senderType = isObject(event.sender) ? text(event.sender.sender_type) : undefined;
  const senderIds = isObject(event.sender) && isObject(event.sender.sender_id) ? event.sender.sender_id : {};
  return {
    messageId,
    chatId,
    senderId: text(senderIds.open_id),
    lane: conversationKey({ appId, chatId, threadId: text(message.thread_id), rootId: text(message.root_id) }),
    botSender: senderType !== undefined && BOT_SENDER_TYPES.has(senderType) ? (senderType as 'bot' | 'app') : undefined,
  };
}

/**
 * The one door every Feishu event comes through (webhook, long connection, devtools playground).
 * `accept` de-duplicates a message on its message id (Feishu re-delivers an event, and sometimes
 * delivers one message under two event ids: both name the message) and any other event on its
 * event id, persists a job, and only then reports 'accepted' so the transport acks: one atomic
 * `store.admit` (the job whose id is the message id; for other events, claim the event id and
 * enqueue). It never waits on the model: answering is the dispatcher's job.
 *
 * @example
 * const inbox = createInbox({ store, bus, log, dedupeTtlMs: 24 * 3_600_000, maxBacklog: 500,
 *   onEnqueued: (job) => dispatcher.wake(job.kind) });
 * const result = await inbox.accept(inboundEvent); // 'accepted' | 'duplicate' | 'ignored' | 'unavailable'
 */
export function createInbox({
  store,
  bus,
  log,
  dedupeTtlMs,
  maxBacklog,
  maxStoredBacklog = 2 * maxBacklog,
  floodCaps,
  onEnqueued,
  backlogCacheMs = 1_000,
  jobKinds = { [MESSAGE_EVENT_TYPE]: 'answer' },
  releaseRetryMs = 1_000,
  maxUnreleased = 10_000,
  now = Date.now,
}: InboxOptions): Inbox {
  if (dedupeTtlMs < 12 * 3_600_000) {
    log.warn({ dedupeTtlMs }, 'dedupe TTL under 12 h: Feishu re-deliveries may be answered twice');
  }
  // A replay flood or a chatty bot must not become a flood of log lines.
  const logDrop = createSampledLog({ log, now });
  const logBusy = createSampledLog({ log, now });
  const floodGuard = floodCaps === undefined ? undefined : createFloodGuard(floodCaps);
  let backlog: { pending: number; at: number } | undefined;
  let backlogRefresh: Promise<number> | undefined;

  /** Pending jobs, counted at most once per backlogCacheMs; concurrent callers share one count. */
  async function pendingJobs(): Promise<number> {
    const at = now();
    if (backlog !== undefined && at - backlog.at < backlogCacheMs) return backlog.pending;
    backlogRefresh ??= store
      .countJobs()
      .then((counts) => {
        backlog = { pending: counts.pending, at: now() };
        return counts.pending;
      })
      .finally(() => {
        backlogRefresh = undefined;
      });
    return backlogRefresh;
  }

  /**
   * Dedupe claims of failed accepts that the store was too far gone to release. Until they are
   * released, Feishu's re-delivery of the event (after our 503) would be dropped as a duplicate
   * and the message lost, so they are retried on a timer and before the next accept claims.
   */
  const unreleased = new Set<string>();
  let releaseTimer: NodeJS.Timeout | undefined;
  let flushing: Promise<void> | undefined;

  function scheduleRelease(): void {
    if (releaseTimer !== undefined || unreleased.size === 0) return;
    releaseTimer = setTimeout(() => {
      releaseTimer = undefined;
      void flushUnreleased().finally(scheduleRelease);
    }, releaseRetryMs);
    releaseTimer.unref();
  }

  /** Releases remembered claims, oldest first; stops at the first failure (the store is still down). */
  function flushUnreleased(): Promise<void> {
    flushing ??= (async () => {
      for (const key of [...unreleased]) {
        try {
          await store.releaseKey(key);
          unreleased.delete(key);
        } catch {
          return;
        }
      }
      log.info('dedupe claims of failed accepts released after the store came back');
    })().finally(() => {
      flushing = undefined;
    });
    return flushing;
  }

  async function release(keys: readonly string[]): Promise<void> {
    for (const key of keys) {
      try {
        await store.releaseKey(key);
      } catch (error) {
        if (unreleased.size >= maxUnreleased) {
          const oldest = unreleased.values().next().value as string;
          unreleased.delete(oldest);
          // That claim then lives until its TTL: a re-delivery inside it is dropped as a duplicate.
          log.error({ key: oldest }, 'too many unreleased dedupe claims: giving one up');
        }
        unreleased.add(key);
        log.warn({ err: error, key }, 'could not release a dedupe claim after a failed accept; will retry');
      }
    }
    scheduleRelease();
  }

  return {
    async accept(inbound: InboundEvent): Promise<AcceptResult> {
      const kind = jobKinds[inbound.eventType];
      const keys = inbound.eventType === MESSAGE_EVENT_TYPE ? messageKeys(inbound) : undefined;
      // Per app: a group message reaches every bot in the group under one message id.
      const jobId = appScoped(inbound.appId, keys ? `message:${keys.messageId}` : `event:${inbound.eventId}`);
      bus.emit({
        type: 'event.received',
        traceId: jobId,
        source: inbound.source,
        eventType: inbound.eventType,
        eventId: inbound.eventId,
      });
      if (inbound.eventType === MESSAGE_EVENT_TYPE && keys === undefined) {
        log.warn({ eventId: inbound.eventId }, 'message event without message_id or chat_id ignored');
        return { status: 'ignored', reason: 'malformed message event' };
      }
      // Older than its dedupe keys live: housekeeping may have purged them, so a replay (or a
      // very late re-delivery) would be answered again. Acknowledged and dropped, in every mode.
      if (now() - inbound.createdAt > dedupeTtlMs) {
        bus.emit({ type: 'event.dropped', traceId: jobId, source: inbound.source, reason: 'stale' });
        logDrop('stale', { eventId: inbound.eventId, createdAt: inbound.createdAt }, 'stale event dropped');
        return { status: 'ignored', reason: 'stale: created before the dedupe window' };
      }
      // Bots are never answered nor noticed (two bots would answer each other forever), so their
      // messages are not even stored; our own open_id is recognised later, by the conversation.
      if (keys?.botSender !== undefined) {
        bus.emit({ type: 'message.bot-skipped', traceId: jobId, sender: keys.botSender });
        return { status: 'ignored', reason: 'sender is a bot' };
      }

      const eventKey = appScoped(inbound.appId, `event:${inbound.eventId}`);
      // A message claims no dedupe key at all: its job id (the message id) is the key, which the
      // store keeps unique for at least the dedupe TTL (JOB_RETENTION_HOURS ≥ DEDUPE_TTL_HOURS,
      // and older events are dropped above), and every delivery of one event names the same
      // message. Each claim is two more B-tree pages in every commit of the ack path. Only
      // events that are not messages are deduplicated on their event id.
      const keysToClaim = keys === undefined ? [eventKey] : [];
      // Keys we may hold if the store call throws: a reply lost with the connection may hide a
      // claim that landed. Releasing them is safe because the job id is a key too: the redelivery
      // then finds its job and is a duplicate.
      let attempted: readonly string[] = [];
      let uncountFlood = (): void => {};
      /** Acknowledged and not stored: counted on the bus (metrics), logged sampled. */
      const drop = (
        reason: 'flood' | 'backlog-full',
        fields: Record<string, unknown>,
        message: string,
      ): AcceptResult => {
        bus.emit({ type: 'event.dropped', traceId: jobId, source: inbound.source, reason });
        logDrop(reason, { eventId: inbound.eventId, ...fields }, message);
        return { status: 'ignored', reason: message };
      };
      const duplicate = (key: 'event_id' | 'message_id'): AcceptResult => {
        bus.emit({ type: 'event.duplicate', traceId: jobId, source: inbound.source, key });
        return { status: 'duplicate', key };
      };
      try {
        if (unreleased.size > 0) await flushUnreleased();
        if (kind === undefined) {
          // Acknowledged once, never worked on: only the event id is remembered.
          attempted = keysToClaim;
          if (!(await store.claimKey(eventKey, dedupeTtlMs, now()))) return duplicate('event_id');
          return { status: 'ignored', reason: `no work for ${inbound.eventType}` };
        }
        const lane = keys?.lane ?? eventKey;
        const floodAt = now();
        const guarded = keys !== undefined && floodGuard !== undefined && inbound.source !== 'devtools';
        // Each app counts its own deliveries: one group message reaches every bot in the group.
        const floodChat = keys === undefined ? '' : appScoped(inbound.appId, keys.chatId);
        const floodUser = keys?.senderId === undefined ? undefined : appScoped(inbound.appId, keys.senderId);
        const flood = guarded ? floodGuard.admit(floodChat, floodUser, floodAt) : 'ok';
        /** A message that ends up stored nowhere (a duplicate, a failed write) does not count. */
        uncountFlood = () => {
          if (guarded) floodGuard.release(floodChat, floodUser, floodAt);
        };
        if (flood !== 'ok') {
          // Past what the rate limits would ever answer: storing it would only fill the disk.
          return drop('flood', { chatId: keys?.chatId, cap: flood }, `a ${flood} past its flood cap: event dropped`);
        }
        const pending = await pendingJobs();
        if (pending >= maxStoredBacklog) {
          uncountFlood();
          return drop('backlog-full', { pending, maxStoredBacklog }, 'backlog past its hard cap: event dropped');
        }
        // Only a message gets the busy reply instead: any other event (a person who left, the bot
        // joining a group) is kept as its own job, or it would be lost.
        const busy = pending >= maxBacklog && keys !== undefined;
        const job: NewJob = busy
          ? // Its own lane, so the notice is not stuck behind the backlog it is about. Same id as the
            // answer it replaces: one trace per message, and a late redelivery stays a duplicate.
            { id: jobId, lane: `notice:${lane}`, kind: BUSY_NOTICE_KIND, payload: inbound }
          : { id: jobId, lane, kind, payload: inbound };
        attempted = keysToClaim;
        const admission = await store.admit({ keys: keysToClaim, ttlMs: dedupeTtlMs, job }, now());
        if (admission.status !== 'enqueued') {
          // 'exists': this message is already a job (another event id for it, or a lapsed or released claim).
          uncountFlood();
          return duplicate(admission.status === 'duplicate' ? 'event_id' : 'message_id');
        }
        if (backlog !== undefined) backlog.pending += 1;
        if (busy) {
          bus.emit({ type: 'job.busy', traceId: jobId, jobId: job.id, backlog: pending });
          logBusy('backlog-full', { jobId: job.id, pending, maxBacklog }, 'backlog full: answering with a busy notice');
        }
        bus.emit({ type: 'job.queued', traceId: jobId, jobId: job.id, lane: job.lane, kind: job.kind });
        try {
          onEnqueued?.(job);
        } catch (error) {
          log.error({ err: error }, 'onEnqueued callback failed');
        }
        return { status: 'accepted', jobId: job.id };
      } catch (error) {
        log.error({ err: error, eventId: inbound.eventId, jobId }, 'inbox could not persist an event');
        uncountFlood();
        await release(attempted);
        return { status: 'unavailable', reason: errorMessage(error) };
      }
    },
  } satisfies InboxReceiver;
}

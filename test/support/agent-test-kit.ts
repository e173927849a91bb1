import type { ReplySink } from '../../lib/conversation/reply-sink.js';
import { idempotencyKey } from '../../lib/inbox/idempotency-key.js';
import type { InboundEvent } from '../../lib/inbox/inbound-event.js';
import type { JobContext } from '../../lib/inbox/job-handler.js';
import type { Job } from '../../lib/store/store.js';

/**
 * Helpers for agent/conversation tests: a ReplySink that records what the user would see, and
 * builders for Feishu message events and job contexts.
 */

export interface RecordingReplySink extends ReplySink {
  readonly calls: string[];
  readonly updates: string[];
  started: boolean;
  /** The text the reply ended with (finish or fail), undefined while open. */
  finalText: string | undefined;
  summary: string | undefined;
  notice: string | undefined;
  outcome: 'open' | 'finished' | 'failed';
  /** Resolves when finish or fail was called. */
  closed: Promise<void>;
}

export function createRecordingReplySink(): RecordingReplySink {
  let resolveClosed: () => void = () => {};
  const closed = new Promise<void>((resolve) => {
    resolveClosed = resolve;
  });
  const sink: RecordingReplySink = {
    calls: [],
    updates: [],
    started: false,
    finalText: undefined,
    summary: undefined,
    notice: undefined,
    outcome: 'open',
    closed,
    async start() {
      sink.calls.push('start');
      sink.started = true;
    },
    update(fullText) {
      if (sink.outcome !== 'open') throw new Error('update after the reply was closed');
      sink.calls.push('update');
      sink.updates.push(fullText);
    },
    async finish(finalText, summary) {
      if (sink.outcome !== 'open') throw new Error('reply closed twice');
      sink.calls.push('finish');
      sink.outcome = 'finished';
      sink.finalText = finalText;
      sink.summary = summary;
      resolveClosed();
    },
    async fail(partialText, notice) {
      if (sink.outcome !== 'open') throw new Error('reply closed twice');
      sink.calls.push('fail');
      sink.outcome = 'failed';
      sink.finalText = partialText;
      sink.notice = notice;
      resolveClosed();
    },
  };
  return sink;
}

export const BOT_OPEN_ID = 'ou_bot_000000000000000000000000000';

let counter = 0;

export interface MessageEventOptions {
  text: string;
  chatId?: string;
  chatType?: 'p2p' | 'group';
  userId?: string;
  senderType?: 'user' | 'bot' | 'app';
  messageId?: string;
  threadId?: string;
  rootId?: string;
  /** Mention the bot (groups need it). Default: true in groups. */
  mentionBot?: boolean;
  botOpenId?: string;
  messageType?: string;
  createTime?: number;
  source?: InboundEvent['source'];
}

/** An `im.message.receive_v1` event as the inbox stores it. */
export function messageEvent(options: MessageEventOptions): InboundEvent {
  counter += 1;
  const {
    text,
    chatId = 'oc_group_1',
    chatType = 'group',
    userId = 'ou_user_1',
    senderType = 'user',
    messageId = `om_test_${counter}_${Date.now()}`,
    threadId,
    rootId,
    mentionBot = chatType === 'group',
    botOpenId = BOT_OPEN_ID,
    messageType = 'text',
    createTime = Date.now(),
    source = 'webhook',
  } = options;
  const content = mentionBot ? `@_user_1 ${text}` : text;
  return {
    source,
    eventId: `ev_${counter}`,
    eventType: 'im.message.receive_v1',
    createdAt: createTime,
    receivedAt: createTime,
    event: {
      sender: { sender_id: { open_id: userId }, sender_type: senderType, tenant_key: 't' },
      message: {
        message_id: messageId,
        chat_id: chatId,
        chat_type: chatType,
        message_type: messageType,
        content: messageType === 'text' ? JSON.stringify({ text: content }) : JSON.stringify({ image_key: 'img_1' }),
        create_time: String(createTime),
        ...(threadId ? { thread_id: threadId } : {}),
        ...(rootId ? { root_id: rootId } : {}),
        mentions: mentionBot ? [{ key: '@_user_1', id: { open_id: botOpenId }, name: 'Bot', tenant_key: 't' }] : [],
      },
    },
  };
}

/** A JobContext for one attempt of an 'answer' job carrying `event`. */
export function jobContext(
  event: InboundEvent,
  { signal = new AbortController().signal, id = `job-${event.eventId}`, attempts = 1 } = {},
): JobContext & { checkpoints: unknown[] } {
  const now = Date.now();
  const job: Job = {
    id,
    lane: 'lane',
    kind: 'answer',
    payload: event,
    status: 'leased',
    attempts,
    owner: 'test',
    leaseUntil: now + 60_000,
    availableAt: now,
    checkpoint: null,
    lastError: null,
    createdAt: now,
    updatedAt: now,
  };
  const checkpoints: unknown[] = [];
  return {
    job,
    signal,
    checkpoints,
    async saveCheckpoint(checkpoint) {
      checkpoints.push(checkpoint);
    },
    idempotencyKey: (part) => idempotencyKey(id, part),
  };
}

import type { EventBus } from '../observe/event-bus.js';
import { callFeishu, FeishuApiError } from './call-feishu.js';
import type { FeishuClient } from './feishu-client.js';

/** What an event claims about the message it carries. */
export interface ClaimedOrigin {
  messageId: string;
  chatId: string;
  /** The sender's open_id as the event names it. */
  senderOpenId: string;
}

/** Where Feishu says the message is, and who sent it: used instead of the event's claims from then on. */
export interface ConfirmedOrigin {
  chatId: string;
  senderOpenId: string;
  rootId?: string;
  parentId?: string;
  threadId?: string;
}

export type OriginMismatch = 'MESSAGE_UNKNOWN' | 'CHAT_MISMATCH' | 'SENDER_MISMATCH';

export type OriginCheck = { ok: true; origin: ConfirmedOrigin } | { ok: false; reason: OriginMismatch; detail: string };

/** Confirms an event's message with Feishu before anything reads data on its behalf. */
export interface MessageOriginCheck {
  confirm(claimed: ClaimedOrigin): Promise<OriginCheck>;
}

export interface MessageOriginCheckOptions {
  client: FeishuClient;
  bus: EventBus;
  /** Answers remembered (one per message); the oldest is forgotten first. */
  maxEntries?: number;
  timeoutMs?: number;
}

function text(value: unknown): string | undefined {
  return typeof value === 'string' && value.length > 0 ? value : undefined;
}

/**
 * Asks Feishu (`im.v1.message.get`) whether the message an event names exists in the chat the
 * event claims, from the sender it claims. An event that only carries the verification token
 * can be forged to name a victim group's `chat_id` with a `message_id` from the attacker's own
 * chat; Feishu's own record of the message cannot. Answers are cached per message, so a retried
 * job asks once. A definite "no such message" (a business error code) is a mismatch; a timeout,
 * rate limit or outage throws, so the job is retried rather than refused.
 *
 * @example
 * const check = await origins.confirm({ messageId, chatId, senderOpenId });
 * if (!check.ok) return refuse(check.reason); // no reply, a security event
 * const { chatId } = check.origin; // Feishu's answer from now on
 */
export function createMessageOriginCheck({
  client,
  bus,
  maxEntries = 2_000,
  timeoutMs = 5_000,
}: MessageOriginCheckOptions): MessageOriginCheck {
  /** Feishu's record of each message (or why there is none), compared with each claim anew. */
  const records = new Map<string, Promise<ConfirmedOrigin | OriginCheck>>();

  async function lookUp(messageId: string): Promise<ConfirmedOrigin | OriginCheck> {
    let body: Awaited<ReturnType<FeishuClient['im']['v1']['message']['get']>>;
    try {
      body = await callFeishu(
        bus,
        'im.v1.message.get',
        () => client.im.v1.message.get({ path: { message_id: messageId } }),
        { client, timeoutMs },
      );
    } catch (error) {
      if (FeishuApiError.isInstance(error) && !error.transient && error.code !== undefined) {
        return {
          ok: false,
          reason: 'MESSAGE_UNKNOWN',
          detail: `Feishu does not know the message (code ${error.code})`,
        };
      }
      throw error;
    }
    const item = body.data?.items?.find((candidate) => candidate.message_id === messageId);
    if (item === undefined || item.deleted === true) {
      return { ok: false, reason: 'MESSAGE_UNKNOWN', detail: 'Feishu returned no such message' };
    }
    const rootId = text(item.root_id);
    const parentId = text(item.parent_id);
    const threadId = text(item.thread_id);
    return {
      chatId: text(item.chat_id) ?? '',
      // Users are named by open_id; a bot sender (app_id) never matches a person an event names.
      senderOpenId: item.sender?.id_type === 'open_id' ? (text(item.sender.id) ?? '') : '',
      ...(rootId ? { rootId } : {}),
      ...(parentId ? { parentId } : {}),
      ...(threadId ? { threadId } : {}),
    };
  }

  function compare(claimed: ClaimedOrigin, record: ConfirmedOrigin | OriginCheck): OriginCheck {
    if ('ok' in record) return record;
    if (record.chatId !== claimed.chatId) {
      return { ok: false, reason: 'CHAT_MISMATCH', detail: 'the message is not in the chat the event names' };
    }
    if (record.senderOpenId !== claimed.senderOpenId) {
      return { ok: false, reason: 'SENDER_MISMATCH', detail: 'the message was not sent by the user the event names' };
    }
    return { ok: true, origin: record };
  }

  return {
    async confirm(claimed) {
      let record = records.get(claimed.messageId);
      if (record === undefined) {
        record = lookUp(claimed.messageId);
        records.set(claimed.messageId, record);
        // Only definite answers stay: a failed lookup is asked again by the retried job.
        record.catch(() => records.delete(claimed.messageId));
        while (records.size > maxEntries) records.delete(records.keys().next().value as string);
      }
      return compare(claimed, await record);
    },
  };
}

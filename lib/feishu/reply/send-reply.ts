import type { Logger } from '../../log.js';
import type { EventBus } from '../../observe/event-bus.js';
import type { Sleep } from '../../util/sleep.js';
import { callFeishu, FeishuApiError } from '../call-feishu.js';
import type { FeishuClient } from '../feishu-client.js';
import type { ReplyTarget } from './reply-options.js';
import { type RetryPolicy, withRetries } from './retry-policy.js';

/** The reply target is gone (recalled or unknown): post into the chat instead. */
const TARGET_GONE_CODES: ReadonlySet<number> = new Set([230011, 231003]);

export interface SendReplyOptions {
  client: FeishuClient;
  bus: EventBus;
  log: Logger;
  target: ReplyTarget;
  msgType: 'text' | 'post' | 'interactive';
  /** The message `content` JSON string. */
  content: string;
  /** Feishu `uuid`: the same key never creates a second message (Feishu keeps it about an hour). */
  uuid: string;
  /** uuid for the chat fallback when the target message was recalled. */
  chatUuid: string;
  timeoutMs: number;
  retry: RetryPolicy;
  sleep: Sleep;
}

/**
 * Replies to the user's message (in its thread when asked), retrying transient failures with
 * the same `uuid` so a retry after a lost answer cannot post twice. When the user's message was
 * recalled, or the target names no message, the answer goes to the chat instead. Returns the new
 * message id.
 */
export async function sendReply({
  client,
  bus,
  log,
  target,
  msgType,
  content,
  uuid,
  chatUuid,
  timeoutMs,
  retry,
  sleep,
}: SendReplyOptions): Promise<string> {
  const postToChat = async (chatUuid: string) => {
    const body = await withRetries(
      () =>
        callFeishu(
          bus,
          'im.v1.message.create',
          () =>
            client.im.v1.message.create({
              params: { receive_id_type: 'chat_id' },
              data: { receive_id: target.chatId, msg_type: msgType, content, uuid: chatUuid },
            }),
          { client, timeoutMs },
        ),
      { policy: retry, sleep },
    );
    return requireMessageId(body?.data?.message_id, 'im.v1.message.create');
  };
  const { messageId } = target;
  if (messageId === undefined) return postToChat(uuid);
  try {
    const body = await withRetries(
      () =>
        callFeishu(
          bus,
          'im.v1.message.reply',
          () =>
            client.im.v1.message.reply({
              path: { message_id: messageId },
              data: { msg_type: msgType, content, uuid, reply_in_thread: target.replyInThread },
            }),
          { client, timeoutMs },
        ),
      { policy: retry, sleep },
    );
    return requireMessageId(body?.data?.message_id, 'im.v1.message.reply');
  } catch (error) {
    if (!(FeishuApiError.isInstance(error) && error.code !== undefined && TARGET_GONE_CODES.has(error.code))) {
      throw error;
    }
    log.warn({ code: error.code, messageId }, 'reply target is gone; posting to the chat instead');
    return postToChat(chatUuid);
  }
}

function requireMessageId(messageId: string | undefined, api: string): string {
  if (!messageId) throw new FeishuApiError({ api, message: `${api} answered without a message_id` });
  return messageId;
}

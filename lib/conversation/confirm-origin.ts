import type { MessageOriginCheck, OriginCheck } from '../feishu/message-origin.js';
import type { NormalisedMessage } from '../feishu/normalise-message.js';
import type { Logger } from '../log.js';
import type { EventBus } from '../observe/event-bus.js';
import type { MessageJob } from './message-job.js';

/** Asks Feishu early and, before an answer or command, swaps the event's claims for Feishu's record. */
export interface OriginConfirmation {
  /** Feishu's record of the message, for messages from Feishu when an origin check is wired. */
  ask(read: MessageJob, message: NormalisedMessage): Promise<OriginCheck> | undefined;
  /**
   * The job with Feishu's chat, sender and thread in place of the event's claims, or undefined
   * when Feishu does not confirm the message (reported, no reply). A lookup that failed throws,
   * so the job is retried.
   */
  confirmed(
    read: MessageJob,
    message: NormalisedMessage,
    origin: Promise<OriginCheck> | undefined,
  ): Promise<MessageJob | undefined>;
}

/**
 * The message-origin step: a Feishu message is confirmed with Feishu before its answer or command
 * reads anything on its behalf. Without `originCheck` (and for the playground) the event's claims
 * are trusted.
 *
 * @example
 * const origins = createOriginConfirmation({ originCheck, bus, log });
 * const origin = origins.ask(read, message); // overlaps the lookups that follow
 * const confirmed = await origins.confirmed(read, message, origin);
 * if (confirmed === undefined) return; // not confirmed: no reply
 */
export function createOriginConfirmation({
  originCheck,
  bus,
  log,
}: {
  originCheck?: MessageOriginCheck | undefined;
  bus: EventBus;
  log: Logger;
}): OriginConfirmation {
  return {
    ask(read, message) {
      if (originCheck === undefined || read.inbound.source === 'devtools') return undefined;
      const asked = originCheck.confirm({
        messageId: message.messageId,
        chatId: message.chatId,
        senderOpenId: message.sender.openId,
      });
      // Not awaited when the decision is to ignore or refuse; a failure then matters to nobody.
      asked.catch(() => undefined);
      return asked;
    },
    async confirmed(read, message, origin) {
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
    },
  };
}

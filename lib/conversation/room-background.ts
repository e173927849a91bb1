import type { NormalisedMessage, NormaliseResult } from '../feishu/normalise-message.js';
import { botSender } from '../feishu/normalise-message.js';
import type { Logger } from '../log.js';
import type { HistoryMessage } from '../store/store.js';
import { formatRoom, type GroupContextMode, type RoomContext } from './room-context.js';

/** The group's room and which mode a chat uses (`MessageHandlerOptions.groupContext`). */
export interface GroupContext {
  room: RoomContext;
  mode(chatId: string): GroupContextMode | Promise<GroupContextMode>;
}

/** Keeps group messages not addressed to the bot and reads them back as an answer's background. */
export interface RoomBackground {
  /** In `stored` mode, a group message not addressed to the bot is kept for when it is. */
  keep(message: NormaliseResult, traceId: string): Promise<void>;
  /** The group's recent discussion before this message, as text for the model; '' when none. */
  read(
    message: NormalisedMessage,
    history: readonly HistoryMessage[],
    traceId: string,
    chosen: GroupContextMode | undefined,
  ): Promise<string>;
}

/**
 * The bot "reads the room": the background of a group answer. Without `groupContext` nothing is
 * kept and the background is always ''.
 *
 * @example
 * const room = createRoomBackground({ groupContext, log });
 * await room.keep(message, traceId); // an ignored group message
 * const background = await room.read(message, history, traceId, settings?.groupContext);
 */
export function createRoomBackground({
  groupContext,
  log,
  now = Date.now,
}: {
  groupContext?: GroupContext | undefined;
  log: Logger;
  now?: () => number;
}): RoomBackground {
  return {
    async keep(message, traceId) {
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
    },
    async read(message, history, traceId, chosen) {
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
    },
  };
}

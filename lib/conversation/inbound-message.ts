/**
 * The platform-neutral message the conversation layer and the agents see: who, where, the text,
 * and the ordered parts. The Feishu edge (lib/feishu/normalise-message.ts) builds it from an
 * event; the devtools playground builds it directly.
 */
import type { MessagePart } from './message-parts.js';

export type ChatType = 'p2p' | 'group';

/** Who sent a message: Feishu's sender type, and `self` when its open_id is the bot's own. */
export interface MessageSender {
  openId: string;
  /** `user`, or a bot: `bot` (the receive event's schema) or `app` (the message-list API's). */
  type: string;
  /** Sent by this bot (its own message echoed back), whatever `type` says. */
  self?: true;
}

export interface MessageMention {
  /** Placeholder in the text, e.g. `@_user_1`. */
  key: string;
  openId: string | undefined;
  name: string;
}

export interface NormalisedMessage {
  kind: 'message';
  /** The app (bot) it came in through, when not the default one: part of its conversation key. */
  appId?: string;
  messageId: string;
  chatId: string;
  chatType: ChatType;
  rootId?: string;
  threadId?: string;
  parentId?: string;
  sender: MessageSender;
  /** Plain text; mentions as `@Name`, the bot's own mention removed; `[image]` where a picture was. */
  text: string;
  /**
   * What was sent, in order: text, images, files, voice, the quoted message, a forwarded bundle.
   * The text parts hold the same words as `text`, with code blocks fenced.
   */
  parts: MessagePart[];
  mentions: MessageMention[];
  mentionsBot: boolean;
  /** Epoch ms. */
  createTime: number;
  messageType: string;
}

import type { Language } from '../i18n/language.js';

/**
 * Where and for whom an agent is answering. Built by the conversation step from the normalised
 * message; agents put it in their instructions and tools use it (e.g. which chat to read).
 */
export interface ConversationContext {
  /** Groups the BotEvents of one inbound message (the inbox job id). */
  traceId: string;
  /** The app (bot) answering, when not the default one (several apps in one process). */
  appId?: string;
  chatId: string;
  /** 'local' is the devtools playground. */
  chatType: 'p2p' | 'group' | 'local';
  /** Topic thread id (omt_…), when the message is in one. */
  threadId?: string;
  rootId?: string;
  messageId?: string;
  /** The message this one replies to (quotes), when it is a reply. */
  parentId?: string;
  /** open_id of the person asking. */
  userId?: string;
  /** Their display name, when known. */
  userName?: string;
  /** Tools this chat's admins turned off: no agent of this answer is offered them. */
  disabledTools?: readonly string[];
  /**
   * Whether answers built from the asking user's own Feishu authorization may be posted here
   * (this group's setting); unset: the deployment's USER_AUTH_IN_GROUPS.
   */
  userReadsInGroup?: boolean;
  /** IANA time zone for "today" in the instructions; default Asia/Shanghai (Feishu's home). */
  timeZone?: string;
  /** The language of what the bot writes itself for this message (e.g. the Authorize card). */
  language?: Language;
}

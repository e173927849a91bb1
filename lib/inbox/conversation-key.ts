import { appScoped } from './app-scope.js';

/**
 * Where a Feishu message belongs: its chat, or a thread inside the chat. Jobs of one lane run one
 * at a time in arrival order, so two quick messages in one conversation are answered in order
 * while other conversations proceed in parallel.
 */

export interface MessageLocation {
  /** The app (bot) the message came in through; absent or `default`: the FEISHU_APP_ID app. */
  appId?: string | undefined;
  chatId: string;
  /** Topic threads carry `thread_id`. */
  threadId?: string | undefined;
  /** Replies in a thread carry the thread's first message as `root_id`. */
  rootId?: string | undefined;
}

/**
 * @example
 * conversationKey({ chatId: 'oc_1' });                    // 'chat:oc_1'
 * conversationKey({ chatId: 'oc_1', rootId: 'om_root' }); // 'chat:oc_1:thread:om_root'
 * conversationKey({ appId: 'alpha', chatId: 'oc_1' });     // 'app:alpha:chat:oc_1'
 */
export function conversationKey({ appId, chatId, threadId, rootId }: MessageLocation): string {
  const thread = threadId || rootId;
  return appScoped(appId, thread ? `chat:${chatId}:thread:${thread}` : `chat:${chatId}`);
}

import { z } from 'zod';
import { namesFor } from '../../feishu/user-names.js';
import { listMessages } from './feishu-history.js';
import { defineTool } from './tool-definition.js';
import { itemsNote } from './tool-result.js';

/**
 * `readChatHistory`: the recent messages of the current thread (or chat), oldest first, as a
 * transcript. Bounded: at most 200 messages and 4 pages of the Feishu API per call; when the
 * transcript is too long the newest part is kept (a summary of recent talk matters most).
 */
export const readChatHistoryTool = defineTool({
  name: 'readChatHistory',
  description:
    'Read the recent messages of the current Feishu conversation (this thread if there is one, else the chat), oldest first.',
  inputSchema: z.object({
    limit: z.number().int().min(1).max(200).default(50).describe('How many of the newest messages to read'),
    scope: z
      .enum(['thread', 'chat'])
      .default('thread')
      .describe('"thread": only this thread when in one; "chat": the whole chat'),
  }),
  scopes: ['im:message:readonly', 'im:message.group_msg'],
  access: 'read',
  identity: 'tenant',
  execute: async ({ limit, scope }, { conversation, feishu, limits, userName }) => {
    if (feishu === undefined || conversation.chatType === 'local') {
      return 'Chat history is not available here (no Feishu connection for this conversation).';
    }
    const inThread = scope === 'thread' && conversation.threadId !== undefined;
    const container = inThread
      ? { type: 'thread' as const, id: conversation.threadId as string }
      : { type: 'chat' as const, id: conversation.chatId };
    const messages = await listMessages({
      call: feishu.call,
      client: feishu.client,
      container,
      order: 'desc',
      maxMessages: limit,
      maxPages: Math.min(4, Math.ceil(limit / 50)),
    });
    if (messages.length === 0) return 'No messages found.';
    const names = await namesFor(
      messages.filter((message) => message.senderType !== 'app').map((message) => message.senderId),
      userName,
    );
    const lines = messages.map(
      (message) =>
        `[${new Date(message.createTime).toISOString().slice(0, 16).replace('T', ' ')}] ${message.senderType === 'app' ? 'bot' : (names.get(message.senderId) ?? message.senderId)}: ${message.text}`,
    );
    let transcript = lines.join('\n');
    // Keep the newest part when it is too long: a summary of recent talk matters most.
    if (transcript.length > limits.maxChars) {
      const kept = transcript.slice(-limits.maxChars + 200);
      const from = kept.indexOf('\n') + 1;
      const shown = kept.slice(from);
      transcript = `${itemsNote(shown.split('\n').length, lines.length, 'newest lines', 'older messages were left out')}\n${shown}`;
    }
    return transcript;
  },
});

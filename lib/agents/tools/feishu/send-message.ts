import { z } from 'zod';
import { approvalTexts } from '../approval-texts.js';
import { defineTool } from '../tool-definition.js';
import { ToolError } from '../tool-error.js';
import { changeKey } from './idempotency-key.js';
import { readResponse } from './response.js';

/**
 * `sendMessage`: posts a text message as the bot into another chat the bot is in, once the
 * person approved the chat and the exact text. Feishu's `uuid` makes a re-run post it once.
 */
export const sendMessageTool = defineTool({
  name: 'sendMessage',
  description:
    'Send a text message as the bot to another Feishu chat (by its chat id, oc_…) the bot is a member of. The person is asked to approve the chat and the exact text first.',
  inputSchema: z.object({
    chatId: z
      .string()
      .regex(/^oc_\w+$/)
      .describe('The target chat id (oc_…)'),
    text: z.string().trim().min(1).max(4000).describe('The message text'),
  }),
  scopes: ['im:message:send_as_bot'],
  access: 'write',
  identity: 'tenant',
  approval: {
    describe: ({ chatId, text }, language) => {
      const say = approvalTexts(language);
      return {
        action: say.sendMessage.action,
        target: say.sendMessage.target(chatId),
        fields: [{ label: say.labels.text, value: text }],
      };
    },
  },
  execute: async (message, { feishu, conversation }) => {
    if (feishu === undefined) throw new ToolError('OTHER', 'no Feishu connection');
    const body = await feishu.call('im.v1.message.create', (options) =>
      feishu.client.im.v1.message.create(
        {
          params: { receive_id_type: 'chat_id' },
          data: {
            receive_id: message.chatId,
            msg_type: 'text',
            content: JSON.stringify({ text: message.text }),
            uuid: changeKey(conversation.traceId, 'sendMessage', message),
          },
        },
        options,
      ),
    );
    const sent = readResponse(z.looseObject({ message_id: z.string() }), body?.data, 'im.v1.message.create');
    return `Sent the message to ${message.chatId} (message id ${sent.message_id}).`;
  },
});

import type { ManagerAgent } from '../agents/manager-agent.js';
import type { ConversationMemory } from '../agents/memory.js';
import { callFeishu } from '../feishu/call-feishu.js';
import type { ChatAdmins } from '../feishu/chat-admins.js';
import type { FeishuClient } from '../feishu/feishu-client.js';
import type { NormalisedMessage } from '../feishu/normalise-message.js';
import { pickLanguage } from '../i18n/language.js';
import { conversationKey } from '../inbox/conversation-key.js';
import type { Logger } from '../log.js';
import type { EventBus } from '../observe/event-bus.js';
import { proactiveTargetOf } from '../schedules/proactive-job.js';
import { runScheduleCommand } from '../schedules/schedule-commands.js';
import type { ScheduleService } from '../schedules/schedule-service.js';
import type { ChatSettings } from './chat-settings.js';
import { type CommandName, runCommand } from './commands.js';
import { parseConfigRequest, runConfigCommand } from './config-command.js';
import { type MessageJob, startReply } from './message-job.js';
import type { ReplySinkFor } from './reply-sink.js';
import { settingsCard } from './settings-card.js';

/** Runs one slash command for a confirmed message and replies with its text (or the settings card). */
export type CommandStep = (read: MessageJob, message: NormalisedMessage, name: CommandName) => Promise<void>;

/**
 * The command step: wires each command to what it acts on (memory, specialists, authorization,
 * schedules, chat settings) and replies. `/config` on its own in Feishu answers with the settings
 * card instead of text.
 *
 * @example
 * const command = createCommandStep({ memory, managerAgent, replySinkFor, bus, log, chatSettings });
 * await command(read, message, 'clear');
 */
export function createCommandStep({
  memory,
  managerAgent,
  replySinkFor,
  bus,
  log,
  feishuClient,
  forgetUserAuthorization,
  schedules,
  chatSettings,
  chatAdmins,
  resolveUserName,
}: {
  memory: Pick<ConversationMemory, 'clear'>;
  managerAgent: Pick<ManagerAgent, 'specialists'>;
  replySinkFor: ReplySinkFor;
  bus: EventBus;
  log: Logger;
  feishuClient?: FeishuClient | undefined;
  forgetUserAuthorization?: ((userId: string) => Promise<boolean>) | undefined;
  schedules?: ScheduleService | undefined;
  chatSettings?: ChatSettings | undefined;
  chatAdmins?: ChatAdmins | undefined;
  resolveUserName?: ((openId: string) => Promise<string | undefined>) | undefined;
}): CommandStep {
  /**
   * `/config` on its own in Feishu answers with the settings card (buttons for each choice);
   * false when it does not apply (the playground, another `/config` form, no Feishu client).
   */
  async function replyWithSettingsCard(read: MessageJob, message: NormalisedMessage): Promise<boolean> {
    if (chatSettings === undefined || feishuClient === undefined || read.inbound.source === 'devtools') return false;
    if (parseConfigRequest(message.text).action !== 'show') return false;
    const content = settingsCard({
      chatId: message.chatId,
      chatType: message.chatType,
      asker: message.sender.openId,
      effective: await chatSettings.effective(message.chatId),
      settings: chatSettings,
    });
    await callFeishu(
      bus,
      'im.v1.message.reply',
      () =>
        feishuClient.im.v1.message.reply({
          path: { message_id: message.messageId },
          data: {
            msg_type: 'interactive',
            content,
            uuid: read.job.idempotencyKey('settings-card'),
            reply_in_thread: Boolean(message.threadId),
          },
        }),
      { client: feishuClient, timeoutMs: 10_000 },
    );
    return true;
  }

  return async (read, message, name) => {
    if (name === 'config' && (await replyWithSettingsCard(read, message))) return;
    const chatLanguage = (await chatSettings?.effective(message.chatId))?.language;
    const language = pickLanguage(chatLanguage, message.text);
    const sink = await startReply(read, replySinkFor, { language });
    const key = conversationKey(message);
    const feishuChat = read.inbound.source !== 'devtools';
    const text = await runCommand(name, {
      clearMemory: () => memory.clear(key),
      specialists: managerAgent.specialists,
      inThread: Boolean(message.threadId || message.rootId),
      language,
      ...(forgetUserAuthorization === undefined
        ? {}
        : { forgetUserAuthorization: () => forgetUserAuthorization(message.sender.openId) }),
      args: message.text.trim().replace(/^\S+\s*/, ''),
      ...(schedules === undefined || !feishuChat
        ? {}
        : {
            schedules: async (command, args) =>
              runScheduleCommand(command, args, {
                service: schedules,
                target: proactiveTargetOf(message),
                userId: message.sender.openId,
                language: chatLanguage,
              }),
          }),
      ...(chatSettings === undefined
        ? {}
        : {
            config: () =>
              runConfigCommand({
                text: message.text,
                chatId: message.chatId,
                chatType: read.inbound.source === 'devtools' ? 'local' : message.chatType,
                userId: message.sender.openId,
                settings: chatSettings,
                admins: chatAdmins,
                resolveUserName,
                language,
              }),
          }),
    });
    log.info({ traceId: read.job.job.id, command: name, key }, 'command');
    await sink.finish(text);
  };
}

import type { ChatAdmins } from '../feishu/chat-admins.js';
import type { ChatType } from '../feishu/normalise-message.js';
import { namesFor } from '../feishu/user-names.js';
import { errorMessage } from '../util/error-message.js';
import {
  CHAT_SETTING_NAMES,
  type ChatSettingChange,
  type ChatSettingName,
  type ChatSettings,
  ChatSettingsError,
  type EffectiveChatSettings,
} from './chat-settings.js';

/** What a `/config` message asks for. */
export type ConfigRequest =
  | { action: 'show' }
  | { action: 'history' }
  | { action: 'help' }
  | { action: 'change'; change: ChatSettingChange }
  | { action: 'invalid'; reason: string };

const ON = new Set(['on', 'true', 'yes', '1', '开', '开启']);
const OFF = new Set(['off', 'false', 'no', '0', '关', '关闭']);

function onOff(word: string | undefined): boolean | undefined {
  const lower = word?.toLowerCase();
  if (lower === undefined) return undefined;
  if (ON.has(lower)) return true;
  if (OFF.has(lower)) return false;
  return undefined;
}

/**
 * Reads the words after `/config`.
 *
 * @example
 * parseConfigRequest('/config model gpt-4o'); // { action: 'change', change: { name: 'model', value: 'gpt-4o' } }
 * parseConfigRequest('/config tools webSearch off');
 * parseConfigRequest('/config persona You are our release assistant.');
 */
export function parseConfigRequest(text: string): ConfigRequest {
  const rest = text
    .trim()
    .replace(/^[/／]config\b/i, '')
    .trim();
  if (rest === '' || rest.toLowerCase() === 'show') return { action: 'show' };
  const [first = '', ...words] = rest.split(/\s+/);
  const name = first.toLowerCase();
  const value = rest.slice(first.length).trim();
  switch (name) {
    case 'history':
      return { action: 'history' };
    case 'help':
      return { action: 'help' };
    case 'persona':
    case 'prompt':
      return value === ''
        ? {
            action: 'invalid',
            reason: 'Write the persona after the word, e.g. `/config persona You are our release assistant.`',
          }
        : { action: 'change', change: { name: 'persona', value } };
    case 'language':
    case 'lang': {
      const language = value.toLowerCase();
      if (language === 'auto' || language === 'zh' || language === 'en') {
        return { action: 'change', change: { name: 'language', value: language } };
      }
      return { action: 'invalid', reason: 'Language is `auto`, `zh` or `en`.' };
    }
    case 'model':
      return value === ''
        ? { action: 'invalid', reason: 'Name the model, e.g. `/config model gpt-4o`.' }
        : { action: 'change', change: { name: 'model', value } };
    case 'tool':
    case 'tools':
    case 'specialist':
    case 'specialists': {
      const [item, state] = words;
      const on = onOff(state);
      if (item === undefined || on === undefined) {
        return { action: 'invalid', reason: `Write \`/config ${name} <name> on\` or \`off\`.` };
      }
      return { action: 'change', change: { name: name.startsWith('tool') ? 'tools' : 'specialists', item, on } };
    }
    case 'context': {
      const mode = value.toLowerCase();
      if (mode === 'on' || mode === 'on-demand')
        return { action: 'change', change: { name: 'context', value: 'on-demand' } };
      if (mode === 'stored' || mode === 'off') return { action: 'change', change: { name: 'context', value: mode } };
      return { action: 'invalid', reason: 'Group context is `on-demand`, `stored` or `off`.' };
    }
    case 'user-reads': {
      const on = onOff(words[0]);
      return on === undefined
        ? { action: 'invalid', reason: 'Write `/config user-reads on` or `off`.' }
        : { action: 'change', change: { name: 'user-reads', value: on } };
    }
    case 'reset': {
      const setting = value.toLowerCase();
      if (setting === '' || setting === 'all') return { action: 'change', change: { name: 'reset', setting: 'all' } };
      const known = CHAT_SETTING_NAMES.find((candidate) => candidate === setting);
      return known === undefined
        ? { action: 'invalid', reason: `Reset one of: ${CHAT_SETTING_NAMES.join(', ')}, or all.` }
        : { action: 'change', change: { name: 'reset', setting: known } };
    }
    default:
      return { action: 'invalid', reason: `Unknown setting "${first}". Send \`/config help\` for the list.` };
  }
}

/** The settings in effect as a short Markdown list, with what is locked and what may be chosen. */
export function describeSettings(settings: EffectiveChatSettings, chat: ChatSettings): string {
  const { policy } = chat;
  const lock = (name: ChatSettingName) => (policy.locked.includes(name) ? ' 🔒' : '');
  const on = (off: readonly string[], all: readonly string[]) =>
    all.length === 0 ? 'none' : all.map((item) => `${item} ${off.includes(item) ? 'off' : 'on'}`).join(', ');
  return [
    `**Settings of this chat** (version ${settings.version})`,
    `- persona${lock('persona')}: ${settings.persona ?? '(default)'}`,
    `- language${lock('language')}: ${settings.language}`,
    `- model${lock('model')}: ${settings.model ?? '(default)'}${policy.allowedModels.length > 0 ? ` — allowed: ${policy.allowedModels.join(', ')}` : ''}`,
    `- tools${lock('tools')}: ${on(settings.toolsOff, policy.tools)}`,
    `- specialists${lock('specialists')}: ${on(settings.specialistsOff, policy.specialists)}`,
    `- context${lock('context')}: ${settings.groupContext}`,
    `- user-reads${lock('user-reads')}: ${settings.userReadsInGroup ? 'on' : 'off'}`,
    '',
    'Owners and admins change them with `/config <setting> <value>`; `/config help` lists them.',
  ].join('\n');
}

export const CONFIG_HELP = [
  '**Chat settings** (group owners and admins; anyone may look)',
  '- `/config`: the settings in effect',
  '- `/config persona <text>`: how I should behave here (a system prompt for this chat)',
  '- `/config language auto|zh|en`: the language I answer in',
  '- `/config model <name>`: one of the allowed models',
  '- `/config tools <name> on|off`, `/config specialists <name> on|off`',
  '- `/config context on-demand|stored|off`: whether I read the recent discussion when mentioned',
  '- `/config user-reads on|off`: whether answers from your own Feishu authorization may be posted here',
  '- `/config reset <setting>|all`, `/config history`',
].join('\n');

export interface ConfigCommandContext {
  text: string;
  chatId: string;
  chatType: ChatType | 'local';
  userId: string;
  settings: ChatSettings;
  /** Without it (no Feishu) nobody may change a group's settings. */
  admins: ChatAdmins | undefined;
  /** Display names for the authors of changes in `/config history`. */
  resolveUserName?: ((openId: string) => Promise<string | undefined>) | undefined;
}

/**
 * Runs `/config`: anyone may read the settings; a change needs the chat's owner or an admin as
 * Feishu's chat API says (in a direct chat, the person themselves). Returns the reply text.
 *
 * @example
 * const reply = await runConfigCommand({ text: '/config model gpt-4o', chatId, chatType: 'group', userId, settings, admins });
 */
export async function runConfigCommand({
  text,
  chatId,
  chatType,
  userId,
  settings,
  admins,
  resolveUserName,
}: ConfigCommandContext): Promise<string> {
  const request = parseConfigRequest(text);
  switch (request.action) {
    case 'help':
      return CONFIG_HELP;
    case 'invalid':
      return request.reason;
    case 'show':
      return describeSettings(await settings.effective(chatId), settings);
    case 'history': {
      const versions = await settings.history(chatId, 10);
      if (versions.length === 0) return 'No changes yet: this chat uses the default settings.';
      const names = await namesFor(
        versions.map((version) => version.changedBy),
        resolveUserName,
      );
      return [
        '**Recent changes** (newest first)',
        ...versions.map(
          (version) =>
            `- v${version.version} ${new Date(version.at).toISOString().slice(0, 16).replace('T', ' ')} UTC — ${version.change} (by ${names.get(version.changedBy) ?? version.changedBy})`,
        ),
      ].join('\n');
    }
    case 'change': {
      if (chatType === 'group') {
        let allowed: boolean;
        try {
          allowed = admins !== undefined && (await admins.isAdmin(chatId, userId));
        } catch (error) {
          return `I could not check who administers this group with Feishu, so nothing was changed (${errorMessage(error).slice(0, 200)}).`;
        }
        if (!allowed)
          return 'Only the group owner or a group admin can change my settings here. Send `/config` to see them.';
      }
      try {
        const now = await settings.change(chatId, request.change, userId);
        return `Saved. It applies from the next message.\n\n${describeSettings(now, settings)}`;
      } catch (error) {
        if (ChatSettingsError.isInstance(error)) return `Not changed: ${error.message}`;
        throw error;
      }
    }
  }
}

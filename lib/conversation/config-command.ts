import { formatUsd, parseUsdCents } from '../cost/usd-amount.js';
import type { ChatAdmins } from '../feishu/chat-admins.js';
import type { ChatType } from '../feishu/normalise-message.js';
import { namesFor } from '../feishu/user-names.js';
import { textsFor } from '../i18n/bot-texts.js';
import { type Language, pickLanguage } from '../i18n/language.js';
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
export function parseConfigRequest(text: string, language: Language = 'en'): ConfigRequest {
  const say = textsFor(language).config.invalid;
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
            reason: say.persona,
          }
        : { action: 'change', change: { name: 'persona', value } };
    case 'language':
    case 'lang': {
      const language = value.toLowerCase();
      if (language === 'auto' || language === 'zh' || language === 'en') {
        return { action: 'change', change: { name: 'language', value: language } };
      }
      return { action: 'invalid', reason: say.language };
    }
    case 'model':
      return value === ''
        ? { action: 'invalid', reason: say.model }
        : { action: 'change', change: { name: 'model', value } };
    case 'tool':
    case 'tools':
    case 'specialist':
    case 'specialists': {
      const [item, state] = words;
      const on = onOff(state);
      if (item === undefined || on === undefined) {
        return { action: 'invalid', reason: say.toggle(name) };
      }
      return { action: 'change', change: { name: name.startsWith('tool') ? 'tools' : 'specialists', item, on } };
    }
    case 'context': {
      const mode = value.toLowerCase();
      if (mode === 'on' || mode === 'on-demand')
        return { action: 'change', change: { name: 'context', value: 'on-demand' } };
      if (mode === 'stored' || mode === 'off') return { action: 'change', change: { name: 'context', value: mode } };
      return { action: 'invalid', reason: say.context };
    }
    case 'user-reads': {
      const on = onOff(words[0]);
      return on === undefined
        ? { action: 'invalid', reason: say.userReads }
        : { action: 'change', change: { name: 'user-reads', value: on } };
    }
    case 'chat-budget':
    case 'user-budget': {
      const word = value.toLowerCase();
      const cents = word === 'none' || word === 'off' || word === '无' ? 0 : parseUsdCents(value);
      return cents === undefined
        ? { action: 'invalid', reason: say.budget(name) }
        : { action: 'change', change: { name, cents } };
    }
    case 'reset': {
      const setting = value.toLowerCase();
      if (setting === '' || setting === 'all') return { action: 'change', change: { name: 'reset', setting: 'all' } };
      const known = CHAT_SETTING_NAMES.find((candidate) => candidate === setting);
      return known === undefined
        ? { action: 'invalid', reason: say.reset(CHAT_SETTING_NAMES.join(', ')) }
        : { action: 'change', change: { name: 'reset', setting: known } };
    }
    default:
      return { action: 'invalid', reason: say.unknown(first) };
  }
}

/** The settings in effect as a short Markdown list, with what is locked and what may be chosen. */
export function describeSettings(
  settings: EffectiveChatSettings,
  chat: ChatSettings,
  language: Language = 'en',
): string {
  const { policy } = chat;
  const say = textsFor(language).config;
  const lock = (name: ChatSettingName) => (policy.locked.includes(name) ? ' 🔒' : '');
  const budget = (micros: number, ceiling: number) =>
    `${micros > 0 ? say.perDay(formatUsd(micros)) : say.noBudget}${ceiling > 0 ? ` — ${say.atMost(formatUsd(ceiling))}` : ''}`;
  const on = (off: readonly string[], all: readonly string[]) =>
    all.length === 0 ? say.none : all.map((item) => `${item} ${off.includes(item) ? 'off' : 'on'}`).join(', ');
  return [
    say.heading(settings.version),
    `- persona${lock('persona')}: ${settings.persona ?? say.unset}`,
    `- language${lock('language')}: ${settings.language}`,
    `- model${lock('model')}: ${settings.model ?? say.unset}${policy.allowedModels.length > 0 ? ` — ${say.allowed}: ${policy.allowedModels.join(', ')}` : ''}`,
    `- tools${lock('tools')}: ${on(settings.toolsOff, policy.tools)}`,
    `- specialists${lock('specialists')}: ${on(settings.specialistsOff, policy.specialists)}`,
    `- context${lock('context')}: ${settings.groupContext}`,
    `- user-reads${lock('user-reads')}: ${settings.userReadsInGroup ? 'on' : 'off'}`,
    `- chat-budget${lock('chat-budget')}: ${budget(settings.dailyBudget.chatMicros, policy.budgetCeiling.chatMicros)}`,
    `- user-budget${lock('user-budget')}: ${budget(settings.dailyBudget.userMicros, policy.budgetCeiling.userMicros)}`,
    '',
    say.footer,
  ].join('\n');
}

export const CONFIG_HELP = textsFor('en').config.help.join('\n');

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
  /** The language of the reply's own words; absent: English. */
  language?: Language | undefined;
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
  language = 'en',
}: ConfigCommandContext): Promise<string> {
  const request = parseConfigRequest(text, language);
  const say = textsFor(language).config;
  switch (request.action) {
    case 'help':
      return say.help.join('\n');
    case 'invalid':
      return request.reason;
    case 'show':
      return describeSettings(await settings.effective(chatId), settings, language);
    case 'history': {
      const versions = await settings.history(chatId, 10);
      if (versions.length === 0) return say.noChanges;
      const names = await namesFor(
        versions.map((version) => version.changedBy),
        resolveUserName,
      );
      return [
        say.historyHeading,
        ...versions.map((version) =>
          say.historyLine(
            version.version,
            new Date(version.at).toISOString().slice(0, 16).replace('T', ' '),
            version.change,
            names.get(version.changedBy) ?? version.changedBy,
          ),
        ),
      ].join('\n');
    }
    case 'change': {
      if (chatType === 'group') {
        let allowed: boolean;
        try {
          allowed = admins !== undefined && (await admins.isAdmin(chatId, userId));
        } catch (error) {
          return say.adminCheckFailed(errorMessage(error).slice(0, 200));
        }
        if (!allowed) return say.notAdmin;
      }
      try {
        const now = await settings.change(chatId, request.change, userId);
        // A language change answers in the language it chose.
        const after = request.change.name === 'language' ? pickLanguage(now.language, text) : language;
        return `${textsFor(after).config.saved}\n\n${describeSettings(now, settings, after)}`;
      } catch (error) {
        if (ChatSettingsError.isInstance(error)) return say.notChanged(error.textIn(language));
        throw error;
      }
    }
  }
}

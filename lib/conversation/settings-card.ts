import { callFeishu } from '../feishu/call-feishu.js';
import type { ChatAdmins } from '../feishu/chat-admins.js';
import type { FeishuClient } from '../feishu/feishu-client.js';
import { textsFor } from '../i18n/bot-texts.js';
import { type Language, pickLanguage } from '../i18n/language.js';
import type { Logger } from '../log.js';
import type { EventBus } from '../observe/event-bus.js';
import { type CardActionHandler, controlValue } from './card-actions.js';
import type { ChatSettingChange, ChatSettings, EffectiveChatSettings } from './chat-settings.js';
import { ChatSettingsError } from './chat-settings.js';
import { describeSettings } from './config-command.js';

/** The card-actions router key of every settings button. */
export const SETTINGS_ACTION = 'chat-settings';
/** Tool and specialist toggles shown at most (the rest stay reachable with `/config`). */
const MAX_TOGGLES = 12;

type Button = Record<string, unknown>;

function button(index: number, text: string, primary: boolean, value: Record<string, string>): Button {
  return {
    tag: 'button',
    // Feishu: at most 20 characters, a letter first.
    element_id: `set_${index}`,
    text: { tag: 'plain_text', content: text },
    type: primary ? 'primary' : 'default',
    size: 'small',
    behaviors: [{ type: 'callback', value }],
  };
}

/**
 * The settings card `/config` answers with in Feishu: the settings in effect and a button for
 * each choice (language, model, group context, user reads, each tool and specialist on or off).
 * The persona stays a text command (`/config persona …`). Locked settings have no buttons.
 *
 * @example
 * settingsCard({ chatId: 'oc_1', chatType: 'group', asker: 'ou_a', effective, settings });
 */
export function settingsCard({
  chatId,
  chatType,
  asker,
  effective,
  settings,
  note,
  language = pickLanguage(effective.language, ''),
}: {
  chatId: string;
  chatType: 'p2p' | 'group';
  asker: string;
  effective: EffectiveChatSettings;
  settings: ChatSettings;
  /** A line above the settings, e.g. what the last press changed. */
  note?: string;
  /** Default: the chat's language (`auto`: English, as nobody's message is at hand). */
  language?: Language;
}): string {
  const say = textsFor(language).settingsCard;
  const { policy } = settings;
  const open = (name: Parameters<typeof policy.locked.includes>[0]) => !policy.locked.includes(name);
  let index = 0;
  const value = (setting: string, to: string) => ({
    ...controlValue({ action: SETTINGS_ACTION, run: `settings:${chatId}`, asker, language }),
    chat: chatId,
    group: chatType === 'group' ? '1' : '0',
    setting,
    to,
  });
  const row = (label: string, buttons: Button[]): Button[] =>
    buttons.length === 0 ? [] : [{ tag: 'markdown', content: `**${label}**` }, ...buttons];
  const elements: Button[] = [
    ...(note === undefined ? [] : [{ tag: 'markdown', content: note }]),
    { tag: 'markdown', content: describeSettings(effective, settings, language) },
    ...row(
      say.language,
      open('language')
        ? (['auto', 'zh', 'en'] as const).map((language) =>
            button(index++, language, effective.language === language, value('language', language)),
          )
        : [],
    ),
    ...row(
      say.model,
      open('model')
        ? policy.allowedModels.map((model) => button(index++, model, effective.model === model, value('model', model)))
        : [],
    ),
    ...row(
      say.context,
      open('context')
        ? (['on-demand', 'stored', 'off'] as const).map((mode) =>
            button(index++, mode, effective.groupContext === mode, value('context', mode)),
          )
        : [],
    ),
    ...row(
      say.userReads,
      open('user-reads')
        ? [
            button(index++, 'on', effective.userReadsInGroup, value('user-reads', 'on')),
            button(index++, 'off', !effective.userReadsInGroup, value('user-reads', 'off')),
          ]
        : [],
    ),
    ...row(
      say.tools,
      open('tools')
        ? policy.tools.slice(0, MAX_TOGGLES).map((tool) => {
            const on = !effective.toolsOff.includes(tool);
            return button(index++, `${tool}: ${on ? 'on' : 'off'}`, on, value('tools', `${tool}:${on ? 'off' : 'on'}`));
          })
        : [],
    ),
    ...row(
      say.specialists,
      open('specialists')
        ? policy.specialists.slice(0, MAX_TOGGLES).map((specialist) => {
            const on = !effective.specialistsOff.includes(specialist);
            return button(
              index++,
              `${specialist}: ${on ? 'on' : 'off'}`,
              on,
              value('specialists', `${specialist}:${on ? 'off' : 'on'}`),
            );
          })
        : [],
    ),
  ];
  return JSON.stringify({
    schema: '2.0',
    header: { title: { tag: 'plain_text', content: say.title }, template: 'blue' },
    body: { elements },
  });
}

/** The change a settings button stands for; undefined for a value no card of ours carries. */
export function changeOfButton(setting: unknown, to: unknown): ChatSettingChange | undefined {
  if (typeof setting !== 'string' || typeof to !== 'string') return undefined;
  switch (setting) {
    case 'language':
      return to === 'auto' || to === 'zh' || to === 'en' ? { name: 'language', value: to } : undefined;
    case 'model':
      return to === '' ? undefined : { name: 'model', value: to };
    case 'context':
      return to === 'on-demand' || to === 'stored' || to === 'off' ? { name: 'context', value: to } : undefined;
    case 'user-reads':
      return to === 'on' || to === 'off' ? { name: 'user-reads', value: to === 'on' } : undefined;
    case 'tools':
    case 'specialists': {
      const [item, state] = to.split(':');
      if (!item || (state !== 'on' && state !== 'off')) return undefined;
      return { name: setting, item, on: state === 'on' };
    }
    default:
      return undefined;
  }
}

/**
 * Presses on the settings card: only the group's owner or an admin (Feishu's chat API, as for
 * `/config`) changes anything; the change is saved as the next version and the card is redrawn
 * with the settings now in effect.
 *
 * @example
 * createCardActionRouter({ handlers: { [SETTINGS_ACTION]: settingsButtonHandler({ settings, admins, feishuClient, bus, log }) }, … });
 */
export function settingsButtonHandler({
  settings,
  admins,
  feishuClient,
  bus,
  log,
}: {
  settings: ChatSettings;
  admins: ChatAdmins | undefined;
  feishuClient: FeishuClient;
  bus: EventBus;
  log: Logger;
}): CardActionHandler {
  return async (control, press) => {
    const chatId = typeof press.value.chat === 'string' ? press.value.chat : undefined;
    const change = changeOfButton(press.value.setting, press.value.to);
    const texts = textsFor(control.language ?? 'en');
    if (chatId === undefined || change === undefined || (press.chatId !== undefined && press.chatId !== chatId)) {
      return { toast: { kind: 'warning', text: texts.toasts.unknownButton } };
    }
    const group = press.value.group === '1';
    if (group) {
      const admin = await (admins?.isAdmin(chatId, press.operatorId) ?? Promise.resolve(false)).catch(() => false);
      if (!admin) return { toast: { kind: 'warning', text: texts.settingsCard.onlyAdmins } };
    } else if (press.operatorId !== control.asker) {
      return { toast: { kind: 'warning', text: texts.settingsCard.onlyThePerson } };
    }
    let effective: EffectiveChatSettings;
    try {
      effective = await settings.change(chatId, change, press.operatorId);
    } catch (error) {
      if (ChatSettingsError.isInstance(error)) {
        return { toast: { kind: 'warning', text: error.textIn(control.language ?? 'en') } };
      }
      throw error;
    }
    // A language press redraws the card in the language it chose.
    const after = change.name === 'language' ? pickLanguage(effective.language, '') : (control.language ?? 'en');
    const messageId = press.messageId;
    if (messageId !== undefined) {
      const content = settingsCard({
        chatId,
        chatType: group ? 'group' : 'p2p',
        asker: control.asker,
        effective,
        settings,
        note: textsFor(after).config.saved,
        language: after,
      });
      // Redrawn after the answer: the press must be answered within Feishu's 3 s.
      void callFeishu(
        bus,
        'im.v1.message.patch',
        () => feishuClient.im.v1.message.patch({ path: { message_id: messageId }, data: { content } }),
        { client: feishuClient, timeoutMs: 10_000 },
      ).catch((error: unknown) => log.warn({ err: error, chatId }, 'could not redraw the settings card'));
    }
    return { toast: { kind: 'success', text: textsFor(after).settingsCard.savedToast } };
  };
}

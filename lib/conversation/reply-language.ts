import { type Language, pickLanguage } from '../i18n/language.js';
import type { Logger } from '../log.js';
import type { ChatSettings } from './chat-settings.js';

/** The language the bot writes its own texts in for one message. */
export type LanguageOf = (message: { chatId?: string | undefined; text?: string }) => Promise<Language>;

/**
 * The chat's language setting (read for every message, so `/config language` applies from the
 * next one), or for `auto` the language the person wrote in. Settings that cannot be read fall
 * back to the message's language: a store hiccup must not cost the answer.
 *
 * @example
 * const languageOf = createLanguageOf({ chatSettings, log });
 * textsFor(await languageOf(message)).notices.greeting;
 */
export function createLanguageOf({
  chatSettings,
  log,
}: {
  chatSettings?: ChatSettings | undefined;
  log: Logger;
}): LanguageOf {
  return async ({ chatId, text = '' }) => {
    if (chatSettings === undefined || !chatId) return pickLanguage('auto', text);
    try {
      return pickLanguage((await chatSettings.effective(chatId)).language, text);
    } catch (error) {
      log.debug({ err: error, chatId }, 'could not read the chat language; using the message language');
      return pickLanguage('auto', text);
    }
  };
}

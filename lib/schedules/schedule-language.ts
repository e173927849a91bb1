import type { ChatLanguage } from '../conversation/chat-settings.js';

/** The language the bot writes a schedule's texts in. */
export type TextLanguage = 'zh' | 'en';

const HAN = /[\u3400-\u9fff\uf900-\ufaff]/;

/**
 * The chat's language when its admins set one; otherwise (`auto`, or no settings) the language of
 * what the person wrote: Chinese when it holds Chinese characters, else English.
 *
 * @example
 * languageFor('auto', '明天 9:00 交周报'); // 'zh'
 * languageFor('en', '明天 9:00 交周报'); // 'en'
 */
export function languageFor(setting: ChatLanguage | undefined, sample: string): TextLanguage {
  if (setting === 'zh' || setting === 'en') return setting;
  return HAN.test(sample) ? 'zh' : 'en';
}

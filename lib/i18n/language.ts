/** The languages the bot writes its own texts in (notices, card labels, buttons, toasts). */
export type Language = 'zh' | 'en';

/** A chat's language setting: a fixed language, or `auto` (the language the person wrote in). */
export type LanguageSetting = 'auto' | Language;

const HAN = /[\u3400-\u9fff\uf900-\ufaff]/;

/**
 * The chat's language when its admins set one; otherwise (`auto`, or no settings) the language of
 * what the person wrote: Chinese when it holds Chinese characters, else English (so English stays
 * the default for anything that is not Chinese).
 *
 * @example
 * pickLanguage('auto', '明天 9:00 交周报'); // 'zh'
 * pickLanguage('en', '明天 9:00 交周报'); // 'en'
 * pickLanguage(undefined, 'hello'); // 'en'
 */
export function pickLanguage(setting: LanguageSetting | undefined, sample: string): Language {
  if (setting === 'zh' || setting === 'en') return setting;
  return HAN.test(sample) ? 'zh' : 'en';
}

/** Reads a language carried in a button value or a stored record; anything else is English. */
export function readLanguage(value: unknown): Language {
  return value === 'zh' ? 'zh' : 'en';
}

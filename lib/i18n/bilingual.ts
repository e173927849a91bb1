import type { Language } from './language.js';

/**
 * One set of texts in every language the bot writes. Both entries must satisfy the same
 * interface, so a key missing (or mistyped) in one language is a compile error, not an English
 * fallback at run time.
 */
export type Bilingual<T> = { readonly [L in Language]: T };

/**
 * The picker of a bilingual catalog: `texts(language)` returns that language's entries.
 *
 * @example
 * const texts = bilingual<{ hello: string }>({ en: { hello: 'Hi' }, zh: { hello: '你好' } });
 * texts('zh').hello; // '你好'
 */
export function bilingual<T>(catalog: Bilingual<T>): (language: Language) => T {
  return (language) => catalog[language];
}

import { type Language, pickLanguage } from '../i18n/language.js';

/** The language the bot writes a schedule's texts in. */
export type TextLanguage = Language;

/** The chat's language, or the person's when the chat leaves it to them (see `pickLanguage`). */
export const languageFor = pickLanguage;

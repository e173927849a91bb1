import { describe, expect, it } from 'vitest';
import { scheduleTexts } from '../schedules/schedule-texts.js';
import { bilingual } from './bilingual.js';
import { type BotTexts, textsFor } from './bot-texts.js';
import { pickLanguage, readLanguage } from './language.js';

/** Every string leaf of a catalog entry, by its path. */
function leaves(value: unknown, path = ''): Map<string, string> {
  const found = new Map<string, string>();
  if (typeof value === 'string') found.set(path, value);
  // A text that takes arguments is checked as it reads with some.
  else if (typeof value === 'function') found.set(path, String(value(7, 120, '00:00', 'UTC', 1, 5)));
  else if (typeof value === 'object' && value !== null)
    for (const [key, inner] of Object.entries(value))
      for (const [p, v] of leaves(inner, `${path}.${key}`)) found.set(p, v);
  return found;
}

describe('pickLanguage', () => {
  it('follows a fixed chat language whatever the message is written in', () => {
    expect(pickLanguage('en', '帮我总结一下')).toBe('en');
    expect(pickLanguage('zh', 'summarize this')).toBe('zh');
  });

  it('reads the message for auto or no setting: Chinese characters make it Chinese, anything else English', () => {
    expect(pickLanguage('auto', '帮我总结一下 the doc')).toBe('zh');
    expect(pickLanguage(undefined, '周报')).toBe('zh');
    expect(pickLanguage('auto', 'summarize the doc')).toBe('en');
    expect(pickLanguage('auto', 'こんにちは')).toBe('en'); // kana only: not Chinese
    expect(pickLanguage('auto', '')).toBe('en');
  });

  it('reads a carried language strictly: only zh is Chinese', () => {
    expect(readLanguage('zh')).toBe('zh');
    expect(readLanguage('en')).toBe('en');
    expect(readLanguage('fr')).toBe('en');
    expect(readLanguage(undefined)).toBe('en');
  });
});

describe('textsFor', () => {
  it('has every text in both languages, each non-empty, and the Chinese ones actually in Chinese', () => {
    const en = leaves(textsFor('en'));
    const zh = leaves(textsFor('zh'));
    expect([...zh.keys()].sort()).toEqual([...en.keys()].sort());
    expect(en.size).toBeGreaterThan(10);
    for (const [path, text] of zh) {
      expect(text.trim() === '', path).toBe((en.get(path) ?? '').trim() === '');
      // Emoji-only labels (the feedback buttons) are the same in both languages.
      if (/[a-z]{3}/.test(en.get(path) ?? '')) expect(pickLanguage('auto', text), path).toBe('zh');
    }
    for (const [path, text] of en) expect(pickLanguage('auto', text), path).toBe('en');
    expect(textsFor('zh').limits.overBudget('user', '$0.50', '00:00', 'UTC', 2, 30)).toBe(
      '你今天向我提问的预算（$0.50）已用完，将于 UTC 时间 00:00 重置（2 小时 30 分钟后）。',
    );
  });

  it('keeps the English texts the bot has always written', () => {
    expect(textsFor('en').stopped).toBe('⏹ Stopped');
    expect(textsFor('zh').stopped).toBe('⏹ 已停止');
    expect(textsFor('zh').notices.greeting).toContain('/help');
  });

  it('refuses at compile time a catalog that lacks a language or a key', () => {
    // @ts-expect-error: the Chinese entry is missing.
    bilingual<{ hello: string }>({ en: { hello: 'Hi' } });
    // @ts-expect-error: the Chinese entry lacks a key.
    bilingual<Pick<BotTexts, 'stopped' | 'failed'>>({ en: { stopped: 'x', failed: 'y' }, zh: { stopped: 'x' } });
    expect(bilingual({ en: { hello: 'Hi' }, zh: { hello: '你好' } })('zh').hello).toBe('你好');
  });

  it('uses the same pattern for the schedules catalog', () => {
    expect(scheduleTexts('zh').givenUp).not.toBe(scheduleTexts('en').givenUp);
    expect(pickLanguage('auto', scheduleTexts('zh').usage)).toBe('zh');
  });
});

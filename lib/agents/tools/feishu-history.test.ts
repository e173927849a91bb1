import { describe, expect, it } from 'vitest';
import { historyItemText } from './feishu-history.js';

describe('historyItemText', () => {
  it('reads text messages and resolves mention placeholders', () => {
    expect(
      historyItemText('text', JSON.stringify({ text: '@_user_1 please review' }), [{ key: '@_user_1', name: 'Ann' }]),
    ).toBe('@Ann please review');
  });

  it('reads post messages paragraph by paragraph, with the title', () => {
    const post = {
      title: 'Release',
      content: [
        [
          { tag: 'text', text: 'Ship on ' },
          { tag: 'text', text: 'Friday' },
        ],
        [{ tag: 'a', text: 'notes', href: 'https://example.com' }],
      ],
    };
    expect(historyItemText('post', JSON.stringify(post))).toBe('Release\nShip on Friday\nnotes');
    expect(historyItemText('post', JSON.stringify({ zh_cn: post }))).toBe('Release\nShip on Friday\nnotes');
  });

  it('collects the text of cards (the bot’s own answers)', () => {
    const card = { title: 'Answer', elements: [[{ tag: 'text', text: 'The budget is 5k.' }]] };
    expect(historyItemText('interactive', JSON.stringify(card))).toContain('The budget is 5k.');
  });

  it('tags other message types and survives bad JSON', () => {
    expect(historyItemText('image', JSON.stringify({ image_key: 'img_1' }))).toBe('[image]');
    expect(historyItemText('text', '{not json')).toBe('{not json');
    expect(historyItemText('text', undefined)).toBe('');
  });

  it('bounds very long messages', () => {
    expect(historyItemText('text', JSON.stringify({ text: 'x'.repeat(10_000) })).length).toBeLessThanOrEqual(4_001);
  });
});

import { describe, expect, it } from 'vitest';
import { boundText, itemsNote, takeItems } from './tool-result.js';

describe('tool result bounds', () => {
  it('leaves short text alone and cuts long text at a line with a note inside the bound', () => {
    expect(boundText('short', 100)).toEqual({ text: 'short', truncated: false });
    const long = Array.from({ length: 200 }, (_, index) => `line ${index}`).join('\n');
    const { text, truncated } = boundText(long, 500);
    expect(truncated).toBe(true);
    expect(text.length).toBeLessThanOrEqual(500);
    expect(text).toMatch(/line \d+\n\n\[truncated: showing about 500 of \d+ characters/);
  });

  it('never ends on half a surrogate pair', () => {
    const { text } = boundText('😀'.repeat(500), 300);
    expect(text).not.toMatch(/[\uD800-\uDBFF]\n/);
  });

  it('takes at most the item bound and says so', () => {
    expect(takeItems([1, 2, 3], 2)).toEqual({ kept: [1, 2], truncated: true });
    expect(itemsNote(2, 3, 'rows', 'ask for more')).toBe('[truncated: showing 2 rows of 3; ask for more]');
    expect(itemsNote(2, undefined, 'rows')).toBe('[truncated: showing 2 rows (more exist)]');
  });
});

import { describe, expect, it } from 'vitest';
import { buildCardJson } from './card-json.js';
import { CARD_LIMITS, cardLimitProblem, countCardElements } from './card-limits.js';

describe('cardLimitProblem', () => {
  it('accepts an ordinary answer card', () => {
    const cardJson = buildCardJson({
      body: {
        text: 'Hello',
        footer: 'gpt · 1 s',
        controls: [{ id: 'stop', label: 'Stop', value: { action: 'stop' } }],
        steps: { content: '✓ Used `x`', title: '1 step', expanded: true },
      },
      streaming: true,
      summary: 'Hello',
    });
    expect(cardLimitProblem(cardJson)).toBeUndefined();
    // Panel, its title, its list, the answer, the footer, the button and its label.
    expect(countCardElements(JSON.parse(cardJson).body)).toBe(7);
  });

  it('names the size limit for a card over 30 KB, counting UTF-8 bytes', () => {
    // 11 000 CJK characters are 33 000 bytes, though only 11 000 UTF-16 units.
    const cardJson = buildCardJson({ body: { text: '字'.repeat(11_000) }, streaming: false, summary: '' });
    expect(cardJson.length).toBeLessThan(CARD_LIMITS.maxBytes);
    expect(cardLimitProblem(cardJson)).toMatchObject({ limit: 'bytes', max: 30 * 1024 });
  });

  it('names the element limit for a card with more than 200 components and elements', () => {
    const elements = (count: number) =>
      JSON.stringify({
        schema: '2.0',
        body: { elements: Array.from({ length: count }, () => ({ tag: 'markdown', content: 'x' })) },
      });
    expect(cardLimitProblem(elements(200))).toBeUndefined();
    expect(cardLimitProblem(elements(201))).toEqual({ limit: 'elements', actual: 201, max: 200 });
  });
});

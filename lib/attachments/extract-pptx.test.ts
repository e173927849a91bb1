import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { AttachmentError } from './attachment-error.js';
import { extractPptx } from './extract-pptx.js';

const deck = readFileSync(new URL('../../test/fixtures/attachments/deck.pptx', import.meta.url));

describe('extractPptx', () => {
  it('reads slides in presentation order with their text, tables and speaker notes', () => {
    const { unit, sections, totalUnits } = extractPptx(deck, { name: 'deck.pptx', maxChars: 10_000 });
    expect(unit).toBe('slide');
    expect(totalUnits).toBe(3);
    expect(sections.map((section) => section.heading)).toEqual(['## Slide 1', '## Slide 2', '## Slide 3']);
    expect(sections[0]!.text).toBe(
      'Roadmap review\nSearch ships in April\nMobile app beta in May\n\nSpeaker notes: Remind everyone that the beta list closes on Friday.',
    );
    expect(sections[1]!.text).toContain('| Team | Budget |\n| --- | --- |\n| Search | 120 000 |\n| Mobile | 95 000 |');
    expect(sections[2]!.text).toContain('下一步：招聘两名工程师');
  });

  it('stops parsing slides past the budget but counts them', () => {
    const { sections, totalUnits } = extractPptx(deck, { name: 'deck.pptx', maxChars: 10 });
    expect(sections).toHaveLength(1);
    expect(totalUnits).toBe(3);
  });

  it('calls a zip without a presentation corrupt', () => {
    let error: unknown;
    try {
      extractPptx(deck.subarray(0, 500), { name: 'cut.pptx', maxChars: 100 });
    } catch (caught) {
      error = caught;
    }
    expect(AttachmentError.isInstance(error) && error.code).toBe('ATTACHMENT_CORRUPT');
  });
});

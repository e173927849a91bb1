import { describe, expect, it } from 'vitest';
import { fitToBudget } from './text-budget.js';

const pages = (count: number, length: number) =>
  Array.from({ length: count }, (_, index) => ({
    heading: `## Page ${index + 1}`,
    text: `${'word '.repeat(length / 5 - 1)}end`,
  }));

describe('fitToBudget', () => {
  it('keeps everything that fits, with no note', () => {
    const fitted = fitToBudget({ unit: 'page', sections: pages(3, 100), totalUnits: 3 }, 10_000);
    expect(fitted).toMatchObject({ truncated: false, includedUnits: 3, totalUnits: 3 });
    expect(fitted.text).not.toContain('not included');
  });

  it('counts pages that were never read in the note', () => {
    // The extractor stopped after 2 of 40 pages; both fit.
    const fitted = fitToBudget({ unit: 'page', sections: pages(2, 100), totalUnits: 40 }, 10_000);
    expect(fitted.text.endsWith('… 38 more pages not included (2 of 40 shown).')).toBe(true);
  });

  it('cuts the page that overflows at a line boundary and says how much of it is missing', () => {
    const lines = Array.from({ length: 300 }, (_, index) => `line ${index + 1}`).join('\n');
    const fitted = fitToBudget(
      {
        unit: 'page',
        sections: [
          { heading: '## Page 1', text: lines },
          { heading: '## Page 2', text: lines },
        ],
        totalUnits: 2,
      },
      1_000,
    );
    expect(fitted.keptChars).toBeLessThanOrEqual(1_000);
    expect(fitted.text).toContain('line 50\n');
    expect(fitted.text).toMatch(/… the rest of this page \(\d+ more lines\) not included\./);
    expect(fitted.text).toContain('… 1 more page not included (1 of 2 shown).');
    expect(fitted.includedUnits).toBe(1);
  });

  it('cuts a one-part document by characters and gives the share left out', () => {
    const text = 'paragraph\n'.repeat(1_000);
    const fitted = fitToBudget({ unit: 'document', sections: [{ text }], totalUnits: 1 }, 2_500);
    expect(fitted.truncated).toBe(true);
    expect(fitted.text).toMatch(/… 7,5\d\d more characters not included \(75 % of the document\)\.$/);
  });
});

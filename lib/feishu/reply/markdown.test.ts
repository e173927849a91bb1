import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  cardBytes,
  createCardPlanner,
  planCardSegments,
  previewSummary,
  renderCardMarkdown,
  renderSegment,
} from './markdown.js';

const table = (columns: number, label = 'v') =>
  [
    `| ${Array.from({ length: columns }, (_, index) => `h${index}`).join(' | ')} |`,
    `| ${Array.from({ length: columns }, () => '---').join(' | ')} |`,
    `| ${Array.from({ length: columns }, (_, index) => `${label}${index}`).join(' | ')} |`,
  ].join('\n');

describe('renderCardMarkdown', () => {
  it('keeps ordinary markdown exactly as written', () => {
    const text = [
      '# Title',
      '',
      'Some **bold**, *italic*, ~~struck~~ and `inline <code>` with a [link](https://example.com).',
      '',
      '- one',
      '- two',
      '  1. nested',
      '',
      '> a quote',
      '',
      '```ts',
      'const html = "<div>" + a < b;',
      '```',
      '',
      table(3),
      '',
      '中文段落，emoji 🎉',
    ].join('\n');
    expect(renderCardMarkdown(text)).toBe(text);
  });

  it('escapes HTML-like tags Feishu would interpret (an @all mention) outside code only', () => {
    expect(renderCardMarkdown('ping <at id=all></at> now')).toBe('ping &#60;at id=all>&#60;/at> now');
    expect(renderCardMarkdown("<font color='red'>x</font>")).toBe("&#60;font color='red'>x&#60;/font>");
    expect(renderCardMarkdown('use `<at id=all>` literally')).toBe('use `<at id=all>` literally');
    expect(renderCardMarkdown('```\n<at id=all></at>\n```')).toBe('```\n<at id=all></at>\n```');
    // Comparisons are not tags.
    expect(renderCardMarkdown('a < b and 3 <5')).toBe('a < b and 3 <5');
  });

  it('turns remote images (a card needs an uploaded img_key) into links', () => {
    expect(renderCardMarkdown('see ![chart](https://example.com/c.png) here')).toBe(
      'see [chart](https://example.com/c.png) here',
    );
    expect(renderCardMarkdown('![](http://example.com/x.png)')).toBe('http://example.com/x.png');
    expect(renderCardMarkdown('![key](img_v2_abc)')).toBe('![key](img_v2_abc)');
  });

  it('keeps tables within Feishu limits and turns the rest into code blocks', () => {
    const five = [1, 2, 3, 4, 5].map((index) => table(2, `t${index}-`)).join('\n\n');
    const rendered = renderCardMarkdown(five, { maxTables: 4 });
    expect(rendered.startsWith(table(2, 't1-'))).toBe(true);
    expect(rendered.endsWith(`\`\`\`\n${table(2, 't5-')}\n\`\`\``)).toBe(true);
    expect(rendered.match(/```/g)).toHaveLength(2);

    const wide = table(12);
    expect(renderCardMarkdown(wide, { maxTableColumns: 10 })).toBe(`\`\`\`\n${wide}\n\`\`\``);
    // A table inside a code block is just code.
    expect(renderCardMarkdown(`\`\`\`\n${wide}\n\`\`\``)).toBe(`\`\`\`\n${wide}\n\`\`\``);
  });

  it('does not mistake a heading underline or a lone pipe for a table', () => {
    expect(renderCardMarkdown('Title\n---\ntext')).toBe('Title\n---\ntext');
    expect(renderCardMarkdown('a | b\nnot a delimiter')).toBe('a | b\nnot a delimiter');
  });

  it('starts a piece that was cut inside a code block with its fence', () => {
    expect(renderCardMarkdown('line 2\n```\nafter', { openFence: '```python' })).toBe('```python\nline 2\n```\nafter');
  });
});

describe('planCardSegments', () => {
  const paragraph = (index: number) => `Paragraph ${index} ${'words '.repeat(30)}`.trim();

  it('keeps a short answer in one card', () => {
    const segments = planCardSegments('short', { maxBytes: 1000 });
    expect(segments).toEqual([{ start: 0, end: 5, endsInFence: false }]);
  });

  it('cuts a long answer at paragraph boundaries, every card within budget, texts concatenating exactly', () => {
    const text = Array.from({ length: 40 }, (_, index) => paragraph(index)).join('\n\n');
    const segments = planCardSegments(text, { maxBytes: 2000 });
    expect(segments.length).toBeGreaterThan(3);
    expect(segments.map((segment) => text.slice(segment.start, segment.end)).join('')).toBe(text);
    for (const [index, segment] of segments.entries()) {
      expect(cardBytes(renderSegment(text, segment))).toBeLessThanOrEqual(2000);
      if (index < segments.length - 1) expect(text.slice(segment.start, segment.end).endsWith('\n\n')).toBe(true);
    }
  });

  it('avoids cutting inside a code block when a boundary outside exists', () => {
    const code = `\`\`\`js\n${Array.from({ length: 20 }, (_, index) => `const v${index} = ${index};`).join('\n')}\n\`\`\``;
    const text = [paragraph(1), paragraph(2), code, paragraph(3)].join('\n\n');
    const segments = planCardSegments(text, { maxBytes: 800 });
    for (const segment of segments) {
      expect(segment.endsInFence).toBe(false);
      expect(segment.openFence).toBeUndefined();
    }
  });

  it('closes and reopens the fence when one code block is larger than a card', () => {
    const code = `\`\`\`python\n${Array.from({ length: 200 }, (_, index) => `print(${index})`).join('\n')}\n\`\`\``;
    const text = `Intro\n\n${code}\n\nOutro`;
    const segments = planCardSegments(text, { maxBytes: 1000 });
    expect(segments.length).toBeGreaterThan(2);
    expect(segments.map((segment) => text.slice(segment.start, segment.end)).join('')).toBe(text);
    for (const segment of segments) {
      const rendered = renderSegment(text, segment);
      expect(cardBytes(rendered)).toBeLessThanOrEqual(1000);
      expect((rendered.match(/^```/gm) ?? []).length % 2).toBe(0);
    }
    expect(segments.some((segment) => segment.openFence === '```python')).toBe(true);
  });

  it('cuts a text without any line break at a character boundary, never inside a surrogate pair', () => {
    const text = '🎉'.repeat(3000);
    const segments = planCardSegments(text, { maxBytes: 1000 });
    expect(segments.map((segment) => text.slice(segment.start, segment.end)).join('')).toBe(text);
    for (const segment of segments) {
      expect(text.slice(segment.start, segment.end)).toMatch(/^(🎉)+$/u);
      expect(cardBytes(renderSegment(text, segment))).toBeLessThanOrEqual(1000);
    }
  });

  it('property: pieces cover the text in order, fit the budget, and earlier cuts stay put as the text grows', () => {
    const chunk = fc.oneof(
      fc.constantFrom('\n', '\n\n', '```\n', '```ts\n', '| a | b |\n| --- | --- |\n| 1 | 2 |\n', '<at id=all>', '🎉'),
      fc.string({ minLength: 1, maxLength: 80 }),
    );
    fc.assert(
      fc.property(fc.array(chunk, { minLength: 1, maxLength: 120 }), fc.integer({ min: 1, max: 99 }), (parts, cut) => {
        const text = parts.join('');
        const maxBytes = 600;
        const segments = planCardSegments(text, { maxBytes });
        let position = 0;
        for (const segment of segments) {
          expect(segment.start).toBe(position);
          expect(segment.end).toBeGreaterThan(segment.start - (text.length === 0 ? 1 : 0));
          expect(cardBytes(renderSegment(text, segment))).toBeLessThanOrEqual(maxBytes);
          position = segment.end;
        }
        expect(position).toBe(text.length);
        // Stability: the cards already full for a prefix keep their cut points.
        const prefix = text.slice(0, Math.floor((text.length * cut) / 100));
        const earlier = planCardSegments(prefix, { maxBytes });
        for (const segment of earlier.slice(0, -1)) {
          expect(segments).toContainEqual(segment);
        }
      }),
      { numRuns: 150 },
    );
  });

  it('createCardPlanner: a growing text plans like planCardSegments; a changed prefix is planned afresh', () => {
    const text = Array.from({ length: 60 }, (_, index) =>
      index % 7 === 3 ? `\`\`\`\n${'code line\n'.repeat(40)}\`\`\`` : paragraph(index),
    ).join('\n\n');
    const planner = createCardPlanner({ maxBytes: 1500 });
    for (let length = 100; length < text.length; length += 333) {
      const prefix = text.slice(0, length);
      expect(planner.plan(prefix)).toEqual(planCardSegments(prefix, { maxBytes: 1500 }));
    }
    expect(planner.plan(text)).toEqual(planCardSegments(text, { maxBytes: 1500 }));
    const rewritten = `Different start.\n\n${text.slice(500)}`;
    expect(planner.plan(rewritten)).toEqual(planCardSegments(rewritten, { maxBytes: 1500 }));
  });

  it('rejects a budget too small to hold anything', () => {
    expect(() => planCardSegments('x', { maxBytes: 10 })).toThrow(RangeError);
  });
});

describe('previewSummary', () => {
  it('makes a one-line plain preview', () => {
    expect(previewSummary('# Title\n\nSome **bold** [link](https://x.y) text')).toBe('Title Some bold link text');
    expect(previewSummary('a'.repeat(100), 10)).toBe(`${'a'.repeat(9)}…`);
    expect(previewSummary('```ts\ncode()\n```')).toBe('code()');
  });
});

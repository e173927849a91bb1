import { describe, expect, it } from 'vitest';
import { type DocxBlock, docxToMarkdown } from './docx-markdown.js';

const run = (content: string, style: Record<string, unknown> = {}) => ({
  elements: [{ text_run: { content, text_element_style: style } }],
});

describe('docxToMarkdown', () => {
  it('renders headings, styled text, nested lists, quotes, dividers and code', () => {
    const blocks: DocxBlock[] = [
      { block_id: 'doc', block_type: 1, children: ['h', 'p', 'b', 'q', 'd', 'c'], page: run('Title') },
      { block_id: 'h', block_type: 4, parent_id: 'doc', heading2: run('Section') },
      {
        block_id: 'p',
        block_type: 2,
        parent_id: 'doc',
        text: {
          elements: [
            { text_run: { content: 'bold', text_element_style: { bold: true } } },
            { text_run: { content: ' and ' } },
            { text_run: { content: 'link', text_element_style: { link: { url: 'https%3A%2F%2Fexample.com%2Fa' } } } },
            { mention_user: { user_id: 'ou_1' } },
          ],
        },
      },
      { block_id: 'b', block_type: 12, parent_id: 'doc', children: ['b2'], bullet: run('outer') },
      { block_id: 'b2', block_type: 13, parent_id: 'b', ordered: run('inner') },
      { block_id: 'q', block_type: 15, parent_id: 'doc', quote: run('quoted') },
      { block_id: 'd', block_type: 22, parent_id: 'doc', divider: {} },
      { block_id: 'c', block_type: 14, parent_id: 'doc', code: { ...run('let x = 1'), style: { language: 63 } } },
    ];
    const { title, markdown } = docxToMarkdown(blocks, {
      documentId: 'doc',
      userName: (id) => (id === 'ou_1' ? 'Ann' : undefined),
    });
    expect(title).toBe('Title');
    expect(markdown).toBe(
      '## Section\n\n**bold** and [link](https://example.com/a)@Ann\n\n- outer\n  1. inner\n\n> quoted\n\n---\n\n```typescript\nlet x = 1\n```\n',
    );
  });

  it('renders a table from its cells and escapes Markdown in text', () => {
    const blocks: DocxBlock[] = [
      { block_id: 'doc', block_type: 1, children: ['t', 'p'], page: run('T') },
      {
        block_id: 't',
        block_type: 31,
        parent_id: 'doc',
        children: ['c1', 'c2', 'c3', 'c4'],
        table: { cells: ['c1', 'c2', 'c3', 'c4'], property: { row_size: 2, column_size: 2 } },
      },
      ...['c1', 'c2', 'c3', 'c4'].flatMap((id, index): DocxBlock[] => [
        { block_id: id, block_type: 32, parent_id: 't', children: [`${id}t`], table_cell: {} },
        { block_id: `${id}t`, block_type: 2, parent_id: id, text: run(['a', 'b', '1|2', '*'][index]!) },
      ]),
      { block_id: 'p', block_type: 2, parent_id: 'doc', text: run('# not a heading') },
    ];
    const { markdown } = docxToMarkdown(blocks, { documentId: 'doc' });
    expect(markdown).toContain('| a | b |\n| - | - |\n| 1\\|2 | \\* |');
    expect(markdown).toContain('\\# not a heading');
  });

  it('survives garbage: unknown block types, missing children, cycles', () => {
    const blocks: DocxBlock[] = [
      { block_id: 'doc', block_type: 1, children: ['x', 'missing', 'loop'], page: run('G') },
      { block_id: 'x', block_type: 999, parent_id: 'doc', weird: run('odd') },
      { block_id: 'loop', block_type: 2, parent_id: 'doc', children: ['loop'], text: run('once') },
    ];
    expect(docxToMarkdown(blocks, { documentId: 'doc' }).markdown).toBe('once\n');
  });
});

import { describe, expect, it } from 'vitest';
import { fixture } from '../../test/support/attachment-fixtures.js';
import { AttachmentError } from './attachment-error.js';
import { extractCsv, extractXlsx } from './extract-sheet.js';
import { decodeText } from './extract-text.js';
import { cellText, renderTable } from './markdown-table.js';

describe('extractXlsx', () => {
  it('renders every sheet as a Markdown table with dates as dates and blank rows dropped', async () => {
    const { unit, sections, totalUnits } = await extractXlsx(fixture('budget.xlsx'), {
      name: 'budget.xlsx',
      maxChars: 10_000,
    });
    expect(unit).toBe('sheet');
    expect(totalUnits).toBe(2);
    expect(sections[0]).toEqual({
      heading: '## Sheet "Q1" (3 rows × 3 columns)',
      text: [
        '| Region | Revenue | Closed on |',
        '| --- | --- | --- |',
        '| North | 1200.5 | 2024-03-31 |',
        '| South | 980 | 2024-03-29 |',
        '| 华东 | 1530 | 2024-03-30 |',
      ].join('\n'),
    });
    expect(sections[1]!.heading).toBe('## Sheet "Headcount" (2 rows × 2 columns)');
    expect(sections[1]!.text).toContain('| Mobile | 9 |');
  });

  it('calls a damaged workbook corrupt', async () => {
    const bytes = fixture('budget.xlsx');
    const error = await extractXlsx(bytes.subarray(0, 2_000), { name: 'b.xlsx', maxChars: 1_000 }).catch(
      (caught: unknown) => caught,
    );
    expect(AttachmentError.isInstance(error) && error.code).toBe('ATTACHMENT_CORRUPT');
  });
});

describe('extractCsv', () => {
  it('handles quoted commas, doubled quotes and ragged rows, from UTF-8 and GB18030 alike', () => {
    const expected = [
      '| name | city | note |',
      '| --- | --- | --- |',
      '| Zhang, San | 上海 | likes "tea" |',
      '| Ana | Lisbon |  |',
    ].join('\n');
    expect(extractCsv(decodeText(fixture('contacts.csv')), { name: 'c.csv', maxChars: 1_000 }).sections[0]!.text).toBe(
      expected,
    );
    expect(
      extractCsv(decodeText(fixture('contacts-gbk.csv'), 'gb18030'), { name: 'c.csv', maxChars: 1_000 }).sections[0]!
        .text,
    ).toBe(expected);
  });

  it('stops at the budget and says how many rows were left out', () => {
    const csv = ['id,value', ...Array.from({ length: 1_000 }, (_, index) => `${index},${'v'.repeat(20)}`)].join('\n');
    const text = extractCsv(csv, { name: 'big.csv', maxChars: 2_000 }).sections[0]!.text;
    expect(text.length).toBeLessThanOrEqual(2_000);
    expect(text).toMatch(/… 9\d\d more rows of this sheet not included\.$/);
  });

  it('reads a tab-separated file with its delimiter', () => {
    expect(extractCsv('a\tb\n1\t2\n', { name: 't.tsv', maxChars: 100, delimiter: '\t' }).sections[0]!.text).toBe(
      '| a | b |\n| --- | --- |\n| 1 | 2 |',
    );
  });
});

describe('renderTable', () => {
  it('escapes pipes, flattens line breaks, trims empty trailing columns', () => {
    expect(cellText('a|b\nc')).toBe('a\\|b c');
    expect(cellText(new Date('2024-03-31T10:15:00Z'))).toBe('2024-03-31 10:15');
    expect(
      renderTable(
        [
          ['x', null, ''],
          [1, null, null],
        ],
        { maxChars: 100 },
      ).text,
    ).toBe('| x |\n| --- |\n| 1 |');
    expect(renderTable([[null], []], { maxChars: 100 })).toEqual({ text: '(empty)', rowsShown: 0, totalRows: 0 });
  });
});

import { z } from 'zod';
import { markdownTable } from '../markdown.js';
import { defineTool } from '../tool-definition.js';
import { ToolError } from '../tool-error.js';
import { documentRef, getWikiNode } from './document-ref.js';
import { readResponse, tokenText } from './response.js';

/** Columns shown at most: wider tables become unreadable to people and models alike. */
const MAX_COLUMNS = 30;
const A1_RANGE = /^([A-Z]{1,3})(\d+)(?::([A-Z]{1,3})(\d+))?$/i;

const sheetList = z.object({
  sheets: z
    .array(
      z.looseObject({
        sheet_id: z.string(),
        title: z.string().optional(),
        grid_properties: z
          .looseObject({ row_count: z.number().optional(), column_count: z.number().optional() })
          .optional(),
      }),
    )
    .default([]),
});

const valueRange = z.object({
  valueRange: z.looseObject({
    range: z.string().optional(),
    values: z.array(z.array(z.unknown()).nullable()).nullable().default([]),
  }),
});

/** `A` → 1, `AA` → 27. */
function columnNumber(letters: string): number {
  return [...letters.toUpperCase()].reduce((total, letter) => total * 26 + letter.charCodeAt(0) - 64, 0);
}

/** 1 → `A`, 27 → `AA`. */
export function columnLetters(column: number): string {
  let letters = '';
  for (let rest = column; rest > 0; rest = Math.floor((rest - 1) / 26)) {
    letters = String.fromCharCode(65 + ((rest - 1) % 26)) + letters;
  }
  return letters;
}

/** A cell as Feishu renders it (text, number, link or mention segments) to plain text. */
function cellText(value: unknown): string {
  if (value === null || value === undefined) return '';
  if (typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean') return String(value);
  if (Array.isArray(value)) return value.map(cellText).join('');
  if (typeof value === 'object') {
    const record = value as Record<string, unknown>;
    if (typeof record.text === 'string') return record.text;
    if (typeof record.link === 'string') return record.link;
    if (typeof record.name === 'string') return record.name;
  }
  return '';
}

/**
 * `readSheet`: a range of a spreadsheet as a Markdown table (first row as header), at most
 * `maxItems` rows and 30 columns, with a note when the sheet holds more.
 */
export const readSheetTool = defineTool({
  name: 'readSheet',
  description:
    'Read a range of a Feishu spreadsheet as a table. Takes a spreadsheet link (…/sheets/…), a wiki link to one, or a token; optionally the sheet (its title or id) and an A1 range such as A1:F50. Without a range it reads from the top.',
  inputSchema: z.object({
    spreadsheet: tokenText.describe('The spreadsheet link or token'),
    sheet: z
      .string()
      .trim()
      .min(1)
      .max(100)
      .optional()
      .describe('Sheet title or id; default the one in the link, else the first'),
    range: z.string().trim().max(20).optional().describe('A1 range such as A1:F50'),
  }),
  scopes: ['sheets:spreadsheet:readonly'],
  access: 'read',
  identity: 'tenant',
  execute: async ({ spreadsheet, sheet, range }, { feishu, limits }) => {
    if (feishu === undefined) throw new ToolError('OTHER', 'no Feishu connection');
    const ref = documentRef(spreadsheet, 'spreadsheet');
    let token = ref.token;
    if (ref.kind === 'wiki') {
      const node = await getWikiNode(feishu, ref.token);
      if (node.obj_type !== 'sheet' || node.obj_token === undefined) {
        throw new ToolError('BAD_INPUT', `that wiki page is a ${node.obj_type}, not a spreadsheet`);
      }
      token = node.obj_token;
    } else if (ref.kind !== 'sheet' && ref.kind !== 'token') {
      throw new ToolError('BAD_INPUT', `that is a ${ref.kind} link, not a spreadsheet`);
    }
    const listed = await feishu.call('sheets.v3.spreadsheetSheet.query', (options) =>
      feishu.client.sheets.v3.spreadsheetSheet.query({ path: { spreadsheet_token: token } }, options),
    );
    const sheets = readResponse(sheetList, listed?.data, 'sheets.v3.spreadsheetSheet.query').sheets;
    const wanted = sheet ?? ref.sheetId;
    const target =
      wanted === undefined
        ? sheets[0]
        : sheets.find((candidate) => candidate.sheet_id === wanted || candidate.title === wanted);
    if (target === undefined) {
      const names = sheets.map((candidate) => candidate.title ?? candidate.sheet_id).join(', ');
      throw new ToolError('NOT_FOUND', `no sheet "${wanted ?? ''}" in that spreadsheet (it has: ${names || 'none'})`);
    }
    const rowCount = target.grid_properties?.row_count;
    const columnCount = target.grid_properties?.column_count;

    // The rows asked for, clipped to the row bound (one more for the header) and 30 columns.
    const match = range === undefined ? undefined : A1_RANGE.exec(range.replace(/^.*!/, ''));
    if (range !== undefined && match === null)
      throw new ToolError('BAD_INPUT', `"${range}" is not an A1 range like A1:F50`);
    const firstColumn = match ? columnNumber(match[1]!) : 1;
    const firstRow = match ? Number(match[2]) : 1;
    const askedLastColumn = match?.[3] ? columnNumber(match[3]) : Math.max(firstColumn, columnCount ?? 26);
    const askedLastRow = match?.[4] ? Number(match[4]) : Math.max(firstRow, rowCount ?? firstRow + limits.maxItems);
    const lastColumn = Math.min(askedLastColumn, firstColumn + MAX_COLUMNS - 1);
    const lastRow = Math.min(askedLastRow, firstRow + limits.maxItems);
    const a1 = `${target.sheet_id}!${columnLetters(firstColumn)}${firstRow}:${columnLetters(lastColumn)}${lastRow}`;

    const body = await feishu.call('sheets.v2.spreadsheet.values.get', (options) =>
      feishu.client.request<{ code?: number; msg?: string; data?: unknown }>(
        {
          method: 'GET',
          url: `/open-apis/sheets/v2/spreadsheets/${encodeURIComponent(token)}/values/${encodeURIComponent(a1)}`,
          params: { valueRenderOption: 'ToString', dateTimeRenderOption: 'FormattedString' },
        },
        options,
      ),
    );
    const values = readResponse(valueRange, body?.data, 'sheets.v2.spreadsheet.values.get').valueRange.values ?? [];
    const rows = values.map((row) => (row ?? []).map(cellText));
    while (rows.length > 0 && rows.at(-1)!.every((cell) => cell === '')) rows.pop();
    const title = `Sheet "${target.title ?? target.sheet_id}", ${a1.replace(/^[^!]*!/, '')}`;
    if (rows.length === 0) return `${title}: no values.`;
    const notes: string[] = [];
    if (askedLastRow > lastRow) {
      const end = rowCount === undefined ? askedLastRow : Math.min(askedLastRow, rowCount);
      notes.push(
        `[truncated: showing rows ${firstRow}–${firstRow + rows.length - 1} of ${firstRow}–${end}; ask for a range such as ${columnLetters(firstColumn)}${lastRow + 1}:${columnLetters(lastColumn)}${lastRow + limits.maxItems} for more]`,
      );
    }
    if (askedLastColumn > lastColumn) {
      notes.push(
        `[truncated: showing columns ${columnLetters(firstColumn)}–${columnLetters(lastColumn)} of ${columnLetters(firstColumn)}–${columnLetters(askedLastColumn)}]`,
      );
    }
    const table = markdownTable(rows[0]!, rows.slice(1), { before: title });
    return [table.trimEnd(), ...notes].join('\n');
  },
});

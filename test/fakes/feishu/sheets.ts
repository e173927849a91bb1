import { defineFeishuArea, type FakeFeishu } from './core.js';
import { fail, ok } from './reply.js';
import { hex } from './util.js';

/**
 * Spreadsheets: `GET /open-apis/sheets/v3/spreadsheets/:spreadsheet_token/sheets/query` (the
 * sheets, with `grid_properties`, as the SDK's `sheets.v3.spreadsheetSheet.query`) and the v2
 * range read `GET /open-apis/sheets/v2/spreadsheets/:spreadsheetToken/values/:range`
 * (`data.valueRange.values`, documented but without an SDK method). A range must name a sheet id
 * (`<sheetId>!A1:C10`); reading over 5 000 000 cells answers 90221 as documented ("too large").
 */

declare module './core.js' {
  interface FeishuApis {
    'sheets.spreadsheetSheet.query': true;
    'sheets.values.get': true;
  }
  interface FakeFeishu {
    /** Stores a spreadsheet; returns its token. Rows may be generated (a huge sheet) by `rowCount` + `row`. */
    seedSpreadsheet(spreadsheet: SeedSpreadsheet): string;
  }
}

export interface SeedSheet {
  sheetId?: string;
  title: string;
  rows?: unknown[][];
  /** With `row`: a generated sheet of this many rows (values computed on read, nothing stored). */
  rowCount?: number;
  row?: (index: number) => unknown[];
  columnCount?: number;
}

export interface SeedSpreadsheet {
  token?: string;
  sheets: SeedSheet[];
}

export const SHEETS_CODES = {
  /** Documented: WrongRange. */
  sheetsWrongRange: 90202,
  /** Documented: SpreadSheet not found. */
  sheetsNotFound: 90214,
  /** Documented: sheetId not found. */
  sheetsSheetNotFound: 90215,
  /** Documented: the response would be too large. */
  sheetsTooLarge: 90221,
} as const;

const MAX_CELLS = 5_000_000;

interface Sheet {
  sheetId: string;
  title: string;
  rowCount: number;
  columnCount: number;
  rowAt(index: number): unknown[];
}

function columnNumber(letters: string): number {
  return [...letters.toUpperCase()].reduce((total, letter) => total * 26 + letter.charCodeAt(0) - 64, 0);
}

export const sheetsArea = defineFeishuArea({
  name: 'sheets',
  codes: SHEETS_CODES,
  install(core): Pick<FakeFeishu, 'seedSpreadsheet'> {
    const spreadsheets = new Map<string, Sheet[]>();
    core.onReset(() => spreadsheets.clear());

    core.route({
      api: 'sheets.spreadsheetSheet.query',
      method: 'GET',
      path: '/open-apis/sheets/v3/spreadsheets/:spreadsheet_token/sheets/query',
      handle({ params }) {
        const sheets = spreadsheets.get(params.spreadsheet_token ?? '');
        if (sheets === undefined) return fail(SHEETS_CODES.sheetsNotFound, 'spreadsheet not found');
        return ok({
          sheets: sheets.map((sheet, index) => ({
            sheet_id: sheet.sheetId,
            title: sheet.title,
            index,
            hidden: false,
            grid_properties: {
              frozen_row_count: 0,
              frozen_column_count: 0,
              row_count: sheet.rowCount,
              column_count: sheet.columnCount,
            },
            resource_type: 'sheet',
          })),
        });
      },
    });
    core.route({
      api: 'sheets.values.get',
      method: 'GET',
      path: '/open-apis/sheets/v2/spreadsheets/:spreadsheet_token/values/:range',
      handle({ params }) {
        const sheets = spreadsheets.get(params.spreadsheet_token ?? '');
        if (sheets === undefined) return fail(SHEETS_CODES.sheetsNotFound, 'spreadsheet not found');
        const match = /^([^!]+)!([A-Z]+)(\d+):([A-Z]+)(\d+)$/i.exec(params.range ?? '');
        if (match === null) return fail(SHEETS_CODES.sheetsWrongRange, 'wrong range');
        const sheet = sheets.find((candidate) => candidate.sheetId === match[1]);
        if (sheet === undefined) return fail(SHEETS_CODES.sheetsSheetNotFound, 'sheetId not found');
        const [firstColumn, firstRow, lastColumn, lastRow] = [
          columnNumber(match[2]!),
          Number(match[3]),
          columnNumber(match[4]!),
          Number(match[5]),
        ];
        if (lastRow < firstRow || lastColumn < firstColumn) return fail(SHEETS_CODES.sheetsWrongRange, 'wrong range');
        if ((lastRow - firstRow + 1) * (lastColumn - firstColumn + 1) > MAX_CELLS) {
          return fail(SHEETS_CODES.sheetsTooLarge, 'too large response');
        }
        const values: unknown[][] = [];
        for (let row = firstRow; row <= Math.min(lastRow, sheet.rowCount); row++) {
          const cells = sheet.rowAt(row - 1);
          values.push(
            Array.from(
              { length: lastColumn - firstColumn + 1 },
              (_, offset) => cells[firstColumn - 1 + offset] ?? null,
            ),
          );
        }
        return ok({
          revision: 1,
          spreadsheetToken: params.spreadsheet_token,
          valueRange: { majorDimension: 'ROWS', range: params.range, revision: 1, values },
        });
      },
    });
    return {
      seedSpreadsheet(seed) {
        const token = seed.token ?? `Shtcn${hex(10)}`;
        spreadsheets.set(
          token,
          seed.sheets.map((sheet) => {
            const rows = sheet.rows ?? [];
            return {
              sheetId: sheet.sheetId ?? hex(3),
              title: sheet.title,
              rowCount: sheet.rowCount ?? Math.max(rows.length, 200),
              columnCount: sheet.columnCount ?? Math.max(20, ...rows.map((row) => row.length)),
              rowAt: (index) => (sheet.row ? sheet.row(index) : (rows[index] ?? [])),
            };
          }),
        );
        return token;
      },
    };
  },
});

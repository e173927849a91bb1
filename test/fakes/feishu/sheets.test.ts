import { describe, expect, it } from 'vitest';
import { FEISHU_CODES } from '../fake-feishu.js';
import { sdkFailure, useFakeFeishuPerTest } from './sdk-harness.js';

describe('fake Feishu sheets with the real lark SDK client', () => {
  const feishu = useFakeFeishuPerTest();

  it('lists sheets and reads a v2 range (client.request: the SDK has no method for it)', async () => {
    const { fake, client } = feishu();
    const token = fake.seedSpreadsheet({
      sheets: [
        {
          sheetId: 's0',
          title: 'Data',
          rows: [
            ['a', 'b'],
            [1, 2],
          ],
        },
      ],
    });
    const sheets = await client.sheets.v3.spreadsheetSheet.query({ path: { spreadsheet_token: token } });
    expect(sheets.data?.sheets?.[0]).toMatchObject({ sheet_id: 's0', title: 'Data' });
    const read = await client.request<{ data: { valueRange: { values: unknown[][] } } }>({
      method: 'GET',
      url: `/open-apis/sheets/v2/spreadsheets/${token}/values/${encodeURIComponent('s0!A1:C2')}`,
    });
    expect(read.data.valueRange.values).toEqual([
      ['a', 'b', null],
      [1, 2, null],
    ]);
    const wrong = await sdkFailure(
      client.request({
        method: 'GET',
        url: `/open-apis/sheets/v2/spreadsheets/${token}/values/${encodeURIComponent('s0!B1:A9')}`,
      }),
    );
    expect(wrong.code).toBe(FEISHU_CODES.sheetsWrongRange);
  });
});

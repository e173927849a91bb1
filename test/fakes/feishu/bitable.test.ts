import { describe, expect, it } from 'vitest';
import { FEISHU_CODES } from '../fake-feishu.js';
import { sdkFailure, useFakeFeishuPerTest } from './sdk-harness.js';

describe('fake Feishu bitable with the real lark SDK client', () => {
  const feishu = useFakeFeishuPerTest();

  it('lists tables and fields and searches records with an or-filter and pages', async () => {
    const { fake, client } = feishu();
    const app = fake.seedBase({
      tables: [
        {
          tableId: 'tbl1',
          name: 'Tasks',
          fields: [
            { name: 'Title', type: 1 },
            { name: 'Done', type: 7 },
          ],
          records: [
            { Title: 'a', Done: true },
            { Title: 'b', Done: false },
            { Title: 'c', Done: true },
          ],
        },
      ],
    });
    const tables = await client.bitable.v1.appTable.list({ path: { app_token: app } });
    expect(tables.data?.items?.[0]).toMatchObject({ table_id: 'tbl1', name: 'Tasks' });
    const fields = await client.bitable.v1.appTableField.list({ path: { app_token: app, table_id: 'tbl1' } });
    expect(fields.data?.items?.map((field) => field.field_name)).toEqual(['Title', 'Done']);
    const found = await client.bitable.v1.appTableRecord.search({
      path: { app_token: app, table_id: 'tbl1' },
      params: { page_size: 1 },
      data: {
        filter: {
          conjunction: 'or',
          conditions: [
            { field_name: 'Title', operator: 'is', value: ['a'] },
            { field_name: 'Title', operator: 'is', value: ['c'] },
          ],
        },
      },
    });
    expect(found.data).toMatchObject({ total: 2, has_more: true });
    expect(found.data?.items?.[0]?.fields.Title).toBe('a');
    const missing = await sdkFailure(client.bitable.v1.appTable.list({ path: { app_token: 'nope' } }));
    expect(missing.code).toBe(FEISHU_CODES.baseNotFound);
  });
});

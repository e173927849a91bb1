import { z } from 'zod';
import { approvalTexts } from '../approval-texts.js';
import { defineTool } from '../tool-definition.js';
import { ToolError } from '../tool-error.js';
import { baseRef } from './base-ref.js';
import { changeKey } from './idempotency-key.js';
import { readResponse } from './response.js';

const fieldValue = z.union([z.string().max(5000), z.number(), z.boolean(), z.array(z.string().max(500)).max(50)]);
const fields = z
  .record(z.string().min(1).max(100), fieldValue)
  .refine((value) => Object.keys(value).length > 0 && Object.keys(value).length <= 50, {
    message: '1 to 50 fields',
  })
  .describe('Field values by field name, e.g. {"Customer": "ACME", "Amount": 1200}');
const where = {
  base: z.string().trim().min(5).max(500).describe('The base link (or its app token)'),
  table: z.string().trim().max(64).optional().describe('Table id (tbl…); default: the one in the link'),
};
const saved = z.object({ record: z.looseObject({ record_id: z.string() }) });

function fieldLines(values: Record<string, unknown>): Array<{ label: string; value: string }> {
  return Object.entries(values).map(([label, value]) => ({
    label,
    value: Array.isArray(value) ? value.join(', ') : String(value),
  }));
}

async function tableOf(feishu: Parameters<typeof baseRef>[0], base: string, table: string | undefined) {
  const ref = await baseRef(feishu, base);
  const tableId = table ?? ref.tableId;
  if (tableId === undefined) throw new ToolError('BAD_INPUT', 'name the table (tbl…) or use a link that includes it');
  return { appToken: ref.appToken, tableId };
}

/** `addBaseRecord`: a new row in a base table, once the person approved every field value. */
export const addBaseRecordTool = defineTool({
  name: 'addBaseRecord',
  description:
    'Add a record (row) to a Feishu base (bitable) table: field values by field name. The person is asked to approve first.',
  inputSchema: z.object({ ...where, fields }),
  scopes: ['bitable:app'],
  access: 'write',
  identity: 'tenant',
  approval: {
    describe: ({ base, table, fields: values }, language) => {
      const say = approvalTexts(language);
      return {
        action: say.addBaseRecord.action,
        target: table === undefined ? base : say.baseTable(base, table),
        fields: fieldLines(values),
      };
    },
  },
  execute: async ({ base, table, fields: values }, { feishu, conversation }) => {
    if (feishu === undefined) throw new ToolError('OTHER', 'no Feishu connection');
    const { appToken, tableId } = await tableOf(feishu, base, table);
    const body = await feishu.call('bitable.v1.appTableRecord.create', (options) =>
      feishu.client.bitable.v1.appTableRecord.create(
        {
          path: { app_token: appToken, table_id: tableId },
          params: { client_token: changeKey(conversation.traceId, 'addBaseRecord', { base, table, values }) },
          data: { fields: values },
        },
        options,
      ),
    );
    const { record } = readResponse(saved, body?.data, 'bitable.v1.appTableRecord.create');
    return `Added record ${record.record_id} to table ${tableId}.`;
  },
});

/** `updateBaseRecord`: changes the named fields of one row, once the person approved the new values. */
export const updateBaseRecordTool = defineTool({
  name: 'updateBaseRecord',
  description:
    'Change fields of one record (row) in a Feishu base (bitable) table, by its record id (rec…). The person is asked to approve first.',
  inputSchema: z.object({
    ...where,
    record: z
      .string()
      .regex(/^rec\w+$/)
      .describe('The record id (rec…)'),
    fields,
  }),
  scopes: ['bitable:app'],
  access: 'write',
  identity: 'tenant',
  approval: {
    describe: ({ base, table, record, fields: values }, language) => {
      const say = approvalTexts(language);
      return {
        action: say.updateBaseRecord.action,
        target: say.updateBaseRecord.record(table === undefined ? base : say.baseTable(base, table), record),
        fields: fieldLines(values),
      };
    },
  },
  // Writing the same values again is harmless, so a re-run needs no key.
  execute: async ({ base, table, record, fields: values }, { feishu }) => {
    if (feishu === undefined) throw new ToolError('OTHER', 'no Feishu connection');
    const { appToken, tableId } = await tableOf(feishu, base, table);
    const body = await feishu.call('bitable.v1.appTableRecord.update', (options) =>
      feishu.client.bitable.v1.appTableRecord.update(
        { path: { app_token: appToken, table_id: tableId, record_id: record }, data: { fields: values } },
        options,
      ),
    );
    readResponse(saved, body?.data, 'bitable.v1.appTableRecord.update');
    return `Updated ${Object.keys(values).join(', ')} of record ${record} in table ${tableId}.`;
  },
});

import { z } from 'zod';
import { defineTool } from '../tool-definition.js';
import { ToolError } from '../tool-error.js';
import { itemsNote } from '../tool-result.js';
import { baseRef, FIELD_TYPES } from './base-ref.js';
import { readResponse, tokenText } from './response.js';

/** Tables whose fields are listed at most (one request each). */
const MAX_TABLES_WITH_FIELDS = 10;

const tablePage = z.object({
  items: z.array(z.looseObject({ table_id: z.string(), name: z.string().optional() })).default([]),
  has_more: z.boolean().optional(),
  total: z.number().optional(),
});
const fieldPage = z.object({
  items: z.array(z.looseObject({ field_name: z.string(), type: z.number() })).default([]),
  has_more: z.boolean().optional(),
});

/** `listBaseTables`: the tables of a base (bitable) and each table's fields with their types. */
export const listBaseTablesTool = defineTool({
  name: 'listBaseTables',
  description:
    'List the tables of a Feishu base (bitable) and the fields (columns) of each with their types. Takes a base link (…/base/…), a wiki link to one, or its app token. Use it before searchBaseRecords.',
  inputSchema: z.object({ base: tokenText.describe('The base link or app token') }),
  scopes: ['bitable:app:readonly'],
  access: 'read',
  identity: 'tenant',
  execute: async ({ base }, { feishu, limits }) => {
    if (feishu === undefined) throw new ToolError('OTHER', 'no Feishu connection');
    const { appToken } = await baseRef(feishu, base);
    const body = await feishu.call('bitable.v1.appTable.list', (options) =>
      feishu.client.bitable.v1.appTable.list({ path: { app_token: appToken }, params: { page_size: 100 } }, options),
    );
    const tables = readResponse(tablePage, body?.data, 'bitable.v1.appTable.list');
    if (tables.items.length === 0) return 'The base has no tables.';
    const lines: string[] = [`Base ${appToken}: ${tables.total ?? tables.items.length} tables`];
    for (const [index, table] of tables.items.slice(0, limits.maxItems).entries()) {
      lines.push('', `## ${table.name ?? table.table_id} (table id ${table.table_id})`);
      if (index >= MAX_TABLES_WITH_FIELDS) {
        lines.push('(fields not listed: ask for this table by id)');
        continue;
      }
      const fieldsBody = await feishu.call('bitable.v1.appTableField.list', (options) =>
        feishu.client.bitable.v1.appTableField.list(
          { path: { app_token: appToken, table_id: table.table_id }, params: { page_size: 100 } },
          options,
        ),
      );
      const fields = readResponse(fieldPage, fieldsBody?.data, 'bitable.v1.appTableField.list');
      lines.push(
        ...fields.items.map((field) => `- ${field.field_name} (${FIELD_TYPES[field.type] ?? `type ${field.type}`})`),
      );
      if (fields.has_more === true) lines.push(itemsNote(fields.items.length, undefined, 'fields'));
    }
    if (tables.items.length > limits.maxItems || tables.has_more === true) {
      lines.push('', itemsNote(Math.min(tables.items.length, limits.maxItems), tables.total, 'tables'));
    }
    return lines.join('\n');
  },
});

import { z } from 'zod';
import { markdownTable } from '../markdown.js';
import { defineTool } from '../tool-definition.js';
import { ToolError } from '../tool-error.js';
import { itemsNote } from '../tool-result.js';
import { baseRef, fieldText } from './base-ref.js';
import { readResponse, tokenText } from './response.js';

const OPERATORS = [
  'is',
  'isNot',
  'contains',
  'doesNotContain',
  'isEmpty',
  'isNotEmpty',
  'isGreater',
  'isGreaterEqual',
  'isLess',
  'isLessEqual',
] as const;

const recordPage = z.object({
  items: z
    .array(z.looseObject({ record_id: z.string().optional(), fields: z.record(z.string(), z.unknown()).default({}) }))
    .nullable()
    .default([]),
  has_more: z.boolean().optional(),
  page_token: z.string().optional(),
  total: z.number().optional(),
});

/**
 * `searchBaseRecords`: records of one base table matching field conditions
 * (`bitable.v1.appTableRecord.search`), as a table of the chosen fields.
 */
export const searchBaseRecordsTool = defineTool({
  name: 'searchBaseRecords',
  description:
    'Search the records (rows) of one table of a Feishu base, optionally filtered by field conditions (e.g. Status is Done, Amount isGreater 100) and limited to some fields. Call listBaseTables first for table ids and field names.',
  inputSchema: z.object({
    base: tokenText.describe('The base link or app token'),
    table: z.string().trim().min(1).max(64).optional().describe('Table id (tbl…); default the one in the link'),
    conditions: z
      .array(
        z.object({
          field: z.string().min(1).max(100),
          operator: z.enum(OPERATORS),
          value: z.array(z.string().max(500)).max(10).optional().describe('Not needed for isEmpty / isNotEmpty'),
        }),
      )
      .max(10)
      .optional(),
    match: z.enum(['and', 'or']).default('and').describe('Whether all or any conditions must hold'),
    fields: z.array(z.string().min(1).max(100)).max(30).optional().describe('Field names to show; default all'),
    limit: z.number().int().min(1).max(500).optional().describe('Records at most'),
  }),
  scopes: ['bitable:app:readonly'],
  access: 'read',
  identity: 'tenant',
  execute: async ({ base, table, conditions, match, fields, limit }, { feishu, limits }) => {
    if (feishu === undefined) throw new ToolError('OTHER', 'no Feishu connection');
    const ref = await baseRef(feishu, base);
    const tableId = table ?? ref.tableId;
    if (tableId === undefined) throw new ToolError('BAD_INPUT', 'which table? Give its id (listBaseTables lists them)');
    const wanted = Math.min(limit ?? limits.maxItems, limits.maxItems);
    const filter =
      conditions === undefined || conditions.length === 0
        ? undefined
        : {
            conjunction: match,
            conditions: conditions.map((condition) => ({
              field_name: condition.field,
              operator: condition.operator,
              ...(condition.value === undefined ? {} : { value: condition.value }),
            })),
          };
    const records: Array<{ fields: Record<string, unknown> }> = [];
    let pageToken: string | undefined;
    let more = false;
    let total: number | undefined;
    do {
      const body = await feishu.call('bitable.v1.appTableRecord.search', (options) =>
        feishu.client.bitable.v1.appTableRecord.search(
          {
            path: { app_token: ref.appToken, table_id: tableId },
            params: { page_size: Math.min(500, wanted), ...(pageToken ? { page_token: pageToken } : {}) },
            data: { ...(fields ? { field_names: fields } : {}), ...(filter ? { filter } : {}) },
          },
          options,
        ),
      );
      const data = readResponse(recordPage, body?.data, 'bitable.v1.appTableRecord.search');
      records.push(...(data.items ?? []));
      total = data.total ?? total;
      more = data.has_more === true && Boolean(data.page_token);
      pageToken = data.page_token;
    } while (more && records.length < wanted);
    if (records.length === 0) return 'No records match.';
    const kept = records.slice(0, wanted);
    const columns = fields ?? [...new Set(kept.flatMap((record) => Object.keys(record.fields)))].slice(0, 30);
    const rows = kept.map((record) => columns.map((column) => fieldText(record.fields[column])));
    const shown = markdownTable(columns, rows, { before: `${kept.length} record(s) of table ${tableId}` });
    const truncated = more || records.length > kept.length || (total !== undefined && total > kept.length);
    return truncated
      ? `${shown}\n${itemsNote(kept.length, total, 'records', 'narrow the conditions or ask for the next ones')}`
      : shown;
  },
});

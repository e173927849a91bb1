import { defineFeishuArea, type FakeFeishu } from './core.js';
import { page } from './paging.js';
import { fail, ok, type Reply } from './reply.js';
import { hex, isRecord } from './util.js';

/**
 * Bases (bitable): `GET …/apps/:app_token/tables`, `GET …/tables/:table_id/fields` and
 * `POST …/tables/:table_id/records/search` with `field_names`, `filter` (`conjunction`,
 * `conditions[{ field_name, operator, value[] }]`), page_size ≤ 500, shaped as the SDK's
 * `bitable.v1.appTable.list`, `appTableField.list` and `appTableRecord.search` types.
 */

declare module './core.js' {
  interface FeishuApis {
    'bitable.appTable.list': true;
    'bitable.appTableField.list': true;
    'bitable.appTableRecord.search': true;
    'bitable.appTableRecord.create': true;
    'bitable.appTableRecord.update': true;
  }
  interface FakeFeishu {
    /** Stores a base; returns its app token. */
    seedBase(base: SeedBase): string;
    /** A table's records as they are now (fields by name). */
    baseRecords(appToken: string, tableId: string): Array<{ recordId: string; fields: Record<string, unknown> }>;
  }
}

export interface SeedBase {
  appToken?: string;
  tables: Array<{
    tableId?: string;
    name: string;
    /** Field names and Feishu field type ids (1 text, 2 number, 3 single select, 5 date…). */
    fields: Array<{ name: string; type: number }>;
    records: Array<Record<string, unknown>>;
  }>;
}

export const BITABLE_CODES = {
  /** Documented: the base (app token) does not exist. */
  baseNotFound: 1254040,
  /** Documented: the table does not exist. */
  baseTableNotFound: 1254041,
  /** Documented: a field name in the request does not exist. */
  baseFieldNotFound: 1254045,
  /** Documented: the record does not exist. */
  baseRecordNotFound: 1254043,
} as const;

interface Table {
  tableId: string;
  name: string;
  fields: Array<{ fieldId: string; name: string; type: number }>;
  records: Array<{ recordId: string; fields: Record<string, unknown> }>;
}

function text(value: unknown): string {
  if (Array.isArray(value)) return value.map(text).join(',');
  if (isRecord(value)) return text(value.text ?? value.name ?? '');
  return value === null || value === undefined ? '' : String(value);
}

function matches(value: unknown, operator: string, wanted: string[]): boolean {
  const actual = text(value);
  const first = wanted[0] ?? '';
  switch (operator) {
    case 'is':
      return actual === first;
    case 'isNot':
      return actual !== first;
    case 'contains':
      return wanted.some((item) => actual.includes(item));
    case 'doesNotContain':
      return !wanted.some((item) => actual.includes(item));
    case 'isEmpty':
      return actual === '';
    case 'isNotEmpty':
      return actual !== '';
    case 'isGreater':
      return Number(actual) > Number(first);
    case 'isGreaterEqual':
      return Number(actual) >= Number(first);
    case 'isLess':
      return Number(actual) < Number(first);
    case 'isLessEqual':
      return Number(actual) <= Number(first);
    default:
      return false;
  }
}

export const bitableArea = defineFeishuArea({
  name: 'bitable',
  codes: BITABLE_CODES,
  install(core): Pick<FakeFeishu, 'seedBase' | 'baseRecords'> {
    const bases = new Map<string, Table[]>();
    const clientTokens = new Map<string, string>();
    core.onReset(() => {
      bases.clear();
      clientTokens.clear();
    });
    const tableOf = (appToken: string | undefined, tableId: string | undefined) => {
      const tables = bases.get(appToken ?? '');
      if (tables === undefined) return fail(BITABLE_CODES.baseNotFound, 'NOTEXIST');
      const table = tables.find((candidate) => candidate.tableId === tableId);
      return table ?? fail(BITABLE_CODES.baseTableNotFound, 'TableIdNotFound');
    };
    /** Field values by name, refusing names the table lacks (documented 1254045). */
    const checkFields = (table: Table, fields: unknown): { fields: Record<string, unknown> } | { refused: Reply } => {
      if (!isRecord(fields)) return { refused: fail(BITABLE_CODES.baseFieldNotFound, 'fields is required') };
      const unknown = Object.keys(fields).find((name) => !table.fields.some((field) => field.name === name));
      return unknown === undefined
        ? { fields }
        : { refused: fail(BITABLE_CODES.baseFieldNotFound, `FieldNameNotFound: ${unknown}`) };
    };

    // POST …/records (create; `client_token` makes a repeat return the first record) and
    // PUT …/records/:record_id (update: the given fields replace theirs), as the SDK's
    // bitable.v1.appTableRecord.create / update send and read them.
    core.route({
      api: 'bitable.appTableRecord.create',
      method: 'POST',
      path: '/open-apis/bitable/v1/apps/:app_token/tables/:table_id/records',
      handle({ params, query, body }) {
        const table = tableOf(params.app_token, params.table_id);
        if ('status' in table) return table;
        const checked = checkFields(table, body.fields);
        if ('refused' in checked) return checked.refused;
        const { fields } = checked;
        const token = query.client_token;
        const earlier = token === undefined ? undefined : clientTokens.get(token);
        const existing = table.records.find((record) => record.recordId === earlier);
        if (existing !== undefined) return ok({ record: { record_id: existing.recordId, fields: existing.fields } });
        const record = { recordId: `rec${hex(10)}`, fields: { ...fields } };
        table.records.push(record);
        if (token !== undefined) clientTokens.set(token, record.recordId);
        return ok({ record: { record_id: record.recordId, fields: record.fields } });
      },
    });
    core.route({
      api: 'bitable.appTableRecord.update',
      method: 'PUT',
      path: '/open-apis/bitable/v1/apps/:app_token/tables/:table_id/records/:record_id',
      handle({ params, body }) {
        const table = tableOf(params.app_token, params.table_id);
        if ('status' in table) return table;
        const record = table.records.find((candidate) => candidate.recordId === params.record_id);
        if (record === undefined) return fail(BITABLE_CODES.baseRecordNotFound, 'RecordIdNotFound');
        const checked = checkFields(table, body.fields);
        if ('refused' in checked) return checked.refused;
        Object.assign(record.fields, checked.fields);
        return ok({ record: { record_id: record.recordId, fields: record.fields } });
      },
    });

    core.route({
      api: 'bitable.appTable.list',
      method: 'GET',
      path: '/open-apis/bitable/v1/apps/:app_token/tables',
      handle({ params, query }) {
        const tables = bases.get(params.app_token ?? '');
        if (tables === undefined) return fail(BITABLE_CODES.baseNotFound, 'NOTEXIST');
        const { items, has_more, page_token } = page(tables, query, 100);
        return ok({
          items: items.map((table) => ({ table_id: table.tableId, revision: 1, name: table.name })),
          has_more,
          total: tables.length,
          ...(page_token ? { page_token } : {}),
        });
      },
    });
    core.route({
      api: 'bitable.appTableField.list',
      method: 'GET',
      path: '/open-apis/bitable/v1/apps/:app_token/tables/:table_id/fields',
      handle({ params, query }) {
        const table = tableOf(params.app_token, params.table_id);
        if ('status' in table) return table;
        const { items, has_more, page_token } = page(table.fields, query, 100);
        return ok({
          items: items.map((field) => ({
            field_id: field.fieldId,
            field_name: field.name,
            type: field.type,
            property: null,
          })),
          has_more,
          total: table.fields.length,
          ...(page_token ? { page_token } : {}),
        });
      },
    });
    core.route({
      api: 'bitable.appTableRecord.search',
      method: 'POST',
      path: '/open-apis/bitable/v1/apps/:app_token/tables/:table_id/records/search',
      handle({ params, query, body }) {
        const table = tableOf(params.app_token, params.table_id);
        if ('status' in table) return table;
        const known = new Set(table.fields.map((field) => field.name));
        const fieldNames = Array.isArray(body.field_names) ? (body.field_names as string[]) : undefined;
        const filter = isRecord(body.filter) ? body.filter : undefined;
        const conditions = Array.isArray(filter?.conditions)
          ? (filter.conditions as Array<Record<string, unknown>>)
          : [];
        for (const name of [...(fieldNames ?? []), ...conditions.map((condition) => String(condition.field_name))]) {
          if (!known.has(name)) return fail(BITABLE_CODES.baseFieldNotFound, `FieldNameNotFound: ${name}`);
        }
        const test = (record: { fields: Record<string, unknown> }) =>
          conditions.map((condition) =>
            matches(
              record.fields[String(condition.field_name)],
              String(condition.operator),
              Array.isArray(condition.value) ? condition.value.map(String) : [],
            ),
          );
        const hits = table.records.filter((record) => {
          const results = test(record);
          if (results.length === 0) return true;
          return filter?.conjunction === 'or' ? results.some(Boolean) : results.every(Boolean);
        });
        const { items, has_more, page_token } = page(hits, query, 500);
        return ok({
          items: items.map((record) => ({
            record_id: record.recordId,
            fields: fieldNames
              ? Object.fromEntries(
                  fieldNames.filter((name) => name in record.fields).map((name) => [name, record.fields[name]]),
                )
              : record.fields,
          })),
          has_more,
          total: hits.length,
          ...(page_token ? { page_token } : {}),
        });
      },
    });
    return {
      baseRecords(appToken, tableId) {
        const table = tableOf(appToken, tableId);
        return 'status' in table ? [] : table.records.map((record) => ({ ...record, fields: { ...record.fields } }));
      },
      seedBase(seed) {
        const appToken = seed.appToken ?? `Bascn${hex(10)}`;
        bases.set(
          appToken,
          seed.tables.map((table) => ({
            tableId: table.tableId ?? `tbl${hex(8)}`,
            name: table.name,
            fields: table.fields.map((field) => ({ ...field, fieldId: `fld${hex(5)}` })),
            records: table.records.map((fields) => ({ recordId: `rec${hex(6)}`, fields })),
          })),
        );
        return appToken;
      },
    };
  },
});

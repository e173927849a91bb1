import type { FeishuAccess } from '../tool-definition.js';
import { ToolError } from '../tool-error.js';
import { documentRef, getWikiNode } from './document-ref.js';

/** The app token of a base (bitable) from a base link, a wiki link to one, or a token; and the table in the link. */
export async function baseRef(feishu: FeishuAccess, text: string): Promise<{ appToken: string; tableId?: string }> {
  const ref = documentRef(text, 'base');
  if (ref.kind === 'wiki') {
    const node = await getWikiNode(feishu, ref.token);
    if (node.obj_type !== 'bitable' || node.obj_token === undefined) {
      throw new ToolError('BAD_INPUT', `that wiki page is a ${node.obj_type}, not a base`);
    }
    return { appToken: node.obj_token };
  }
  if (ref.kind !== 'base' && ref.kind !== 'token')
    throw new ToolError('BAD_INPUT', `that is a ${ref.kind} link, not a base`);
  return { appToken: ref.token, ...(ref.tableId ? { tableId: ref.tableId } : {}) };
}

/** Field type ids of bases, by name (Feishu's field type documentation). */
export const FIELD_TYPES: Readonly<Record<number, string>> = {
  1: 'text',
  2: 'number',
  3: 'single select',
  4: 'multi select',
  5: 'date',
  7: 'checkbox',
  11: 'person',
  13: 'phone',
  15: 'link',
  17: 'attachment',
  18: 'one-way link',
  19: 'lookup',
  20: 'formula',
  21: 'two-way link',
  22: 'location',
  23: 'group',
  1001: 'created time',
  1002: 'modified time',
  1003: 'created by',
  1004: 'modified by',
  1005: 'auto number',
};

/** A record's field value (text, number, options, people, links, attachments…) as plain text. */
export function fieldText(value: unknown): string {
  if (value === null || value === undefined) return '';
  if (typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean') return String(value);
  if (Array.isArray(value))
    return value
      .map(fieldText)
      .filter((text) => text !== '')
      .join(', ');
  if (typeof value === 'object') {
    const record = value as Record<string, unknown>;
    for (const key of ['text', 'name', 'full_address', 'link', 'value']) {
      if (record[key] !== undefined) return fieldText(record[key]);
    }
  }
  return '';
}

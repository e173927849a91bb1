import { describe, expect, it } from 'vitest';
import { mcpApprovalSummary, mcpToolName } from './mcp-tools.js';

describe('MCP tools', () => {
  it('names a tool mcp + server + tool in camel case', () => {
    expect(mcpToolName('files', 'read_file')).toBe('mcpFilesReadFile');
  });

  it('an approval names the server and tool and lists every argument, strings as they are, others as JSON', () => {
    expect(
      mcpApprovalSummary('orders', 'update_order', { orderId: 'A-1', quantity: 3, tags: ['rush'], note: null }),
    ).toEqual({
      action: 'Run orders.update_order',
      target: 'MCP server "orders"',
      fields: [
        { label: 'orderId', value: 'A-1' },
        { label: 'quantity', value: '3' },
        { label: 'tags', value: '["rush"]' },
        { label: 'note', value: 'null' },
      ],
    });
    expect(mcpApprovalSummary('orders', 'ping', {}).fields).toEqual([]);
  });

  it('bounds the card: values cut to 500 characters, names to 60, at most 20 arguments with the rest counted', () => {
    const many = Object.fromEntries(Array.from({ length: 25 }, (_, index) => [`arg${index}`, `value ${index}`]));
    const summary = mcpApprovalSummary('orders', 'bulk', { ...many, arg0: 'x'.repeat(2_000), ['k'.repeat(200)]: 1 });
    expect(summary.fields).toHaveLength(21);
    expect(summary.fields[0]?.value).toHaveLength(500);
    expect(summary.fields[0]?.value.endsWith('…')).toBe(true);
    expect(summary.fields.at(-1)).toEqual({ label: '…', value: '6 more arguments not shown' });
    const long = mcpApprovalSummary('orders', 'bulk', { ['k'.repeat(200)]: 1 });
    expect(long.fields[0]?.label).toHaveLength(60);
  });
});

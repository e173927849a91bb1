import { z } from 'zod';
import { ToolError } from '../tool-error.js';

/**
 * The part of a Feishu answer a tool reads, checked against `schema`: an answer that does not
 * have the documented shape (an HTML error page, a changed field) becomes a BAD_RESPONSE tool
 * error the model can report, instead of a TypeError deep inside the tool.
 *
 * @example
 * const data = readResponse(z.object({ items: z.array(item).default([]) }), body.data, 'wiki.v2.spaceNode.list');
 */
export function readResponse<Schema extends z.ZodType>(schema: Schema, value: unknown, api: string): z.output<Schema> {
  const parsed = schema.safeParse(value);
  if (parsed.success) return parsed.data;
  const issue = parsed.error.issues[0];
  const where = issue === undefined ? '' : ` (${issue.path.join('.') || 'top level'}: ${issue.message})`;
  throw new ToolError('BAD_RESPONSE', `${api} answered in an unexpected shape${where}`);
}

/** A Feishu timestamp (seconds or milliseconds, number or string) as ISO-8601 in UTC, or ''. */
export function isoTime(value: unknown): string {
  const number = typeof value === 'number' ? value : typeof value === 'string' ? Number(value) : Number.NaN;
  if (!Number.isFinite(number) || number <= 0) return '';
  const ms = number < 1e12 ? number * 1000 : number;
  return new Date(ms).toISOString().replace('.000Z', 'Z');
}

/** A time a model passes ("2025-03-04T09:00:00+08:00", "2025-03-04") as epoch ms, or a BAD_INPUT error. */
export function parseTime(value: string, name: string): number {
  const ms = Date.parse(value);
  if (Number.isNaN(ms)) throw new ToolError('BAD_INPUT', `${name} "${value}" is not a date or time (use ISO 8601)`);
  return ms;
}

/** A date-time with its offset, as write tools take it (the change must name its moment exactly). */
export const isoDateTime = z
  .string()
  .trim()
  .refine((value) => /\d{4}-\d{2}-\d{2}T\d{2}:\d{2}/.test(value) && !Number.isNaN(Date.parse(value)), {
    message: 'an ISO 8601 date-time with its offset, e.g. 2026-12-08T15:00:00+08:00',
  });

/** Text a model may pass where a Feishu id or token goes. */
export const tokenText = z.string().trim().min(1).max(500);

import type { Context } from 'hono';
import type { EventFilter } from './event-filter.js';
import { TRACE_STATUSES, type TraceStatus } from './trace-reducer.js';

/**
 * The filters of GET /events, /traces and /stream from the query string (`type=a,b`, `agent`,
 * `tool`, `chat`, `status`, `feedback` (traces: up, down, any), `trace`, `q`); a message instead
 * when `status` or `feedback` is not one of its values.
 *
 * @example
 * const filter = readFilter(c);
 * if (typeof filter === 'string') return c.json({ error: 'invalid_query', message: filter }, 400);
 */
const FEEDBACK_FILTERS = ['up', 'down', 'any'] as const;
type FeedbackFilter = (typeof FEEDBACK_FILTERS)[number];

export function readFilter(c: Context): (EventFilter & { status?: TraceStatus; feedback?: FeedbackFilter }) | string {
  const status = c.req.query('status') || undefined;
  if (status !== undefined && !TRACE_STATUSES.includes(status as TraceStatus)) {
    return `status must be one of ${TRACE_STATUSES.join(', ')}`;
  }
  const feedback = c.req.query('feedback') || undefined;
  if (feedback !== undefined && !FEEDBACK_FILTERS.includes(feedback as FeedbackFilter)) {
    return `feedback must be one of ${FEEDBACK_FILTERS.join(', ')}`;
  }
  const types = (c.req.query('type') ?? '')
    .split(',')
    .map((type) => type.trim())
    .filter((type) => type.length > 0);
  return {
    types: types.length > 0 ? types : undefined,
    agent: c.req.query('agent') || undefined,
    tool: c.req.query('tool') || undefined,
    chat: c.req.query('chat') || undefined,
    status: status as TraceStatus | undefined,
    feedback: feedback as FeedbackFilter | undefined,
    traceId: c.req.query('trace') || undefined,
    text: c.req.query('q') || undefined,
  };
}

/** A whole number from a query value or header; undefined when absent or not a safe integer. */
export function readInteger(value: string | undefined): number | undefined {
  if (value === undefined || value === '') return undefined;
  const number = Number(value);
  return Number.isSafeInteger(number) ? number : undefined;
}

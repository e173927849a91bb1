/** Rows a list answers when the caller names no limit. */
export const DEFAULT_PAGE_LIMIT = 100;
/** Most rows one list answers, whatever the caller asks for. */
export const MAX_PAGE_LIMIT = 1_000;

/**
 * A caller's page size made safe: missing, non-finite or below 1 becomes `fallback`, fractions
 * round down, anything above `max` becomes `max`.
 *
 * @example
 * pageLimit(Number(c.req.query('limit'))); // 100 for NaN, 1 000 for 50 000
 */
export function pageLimit(value: number | undefined, fallback = DEFAULT_PAGE_LIMIT, max = MAX_PAGE_LIMIT): number {
  if (value === undefined || !Number.isFinite(value) || value < 1) return fallback;
  return Math.min(Math.floor(value), max);
}

/**
 * Feishu's page_token pagination over a list the fake holds: the token is the next offset,
 * opaque to clients. `page_size` is clamped to [1, max] as Feishu does.
 *
 * @example
 * const { items, has_more, page_token } = page(blocks, query, 500);
 */
export function page<T>(
  items: readonly T[],
  { page_size, page_token }: { page_size?: unknown; page_token?: unknown },
  max: number,
  fallback = 20,
): { items: T[]; has_more: boolean; page_token?: string } {
  const size = Math.min(max, Math.max(1, Number(page_size) || fallback));
  const offset = typeof page_token === 'string' && /^\d+$/.test(page_token) ? Number(page_token) : 0;
  const slice = items.slice(offset, offset + size);
  const next = offset + slice.length;
  return next < items.length
    ? { items: slice, has_more: true, page_token: String(next) }
    : { items: slice, has_more: false };
}

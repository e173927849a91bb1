import { randomBytes } from 'node:crypto';

/** Bound of every history the fake keeps per entity (content versions, sequences, tokens, violations). */
export const HISTORY_LIMIT = 1_000;

export function hex(bytes: number): string {
  return randomBytes(bytes).toString('hex');
}

export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

export function parseJson(text: string): { ok: true; value: unknown } | { ok: false } {
  try {
    return { ok: true, value: JSON.parse(text) };
  } catch {
    return { ok: false };
  }
}

export function byteLength(text: string): number {
  return Buffer.byteLength(text, 'utf8');
}

/** Appends and drops the oldest entries beyond `limit`. */
export function pushBounded<T>(list: T[], item: T, limit: number): void {
  list.push(item);
  if (list.length > limit) list.splice(0, list.length - limit);
}

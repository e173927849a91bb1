/**
 * A value as text for a log field, an event or an error message: a string as it is, anything
 * else as JSON (so an object says what it holds instead of `[object Object]`), and `String()`
 * where JSON has no answer (undefined, a function, a cycle, a BigInt).
 *
 * @example
 * toText({ code: 99991663 }); // '{"code":99991663}'
 */
export function toText(value: unknown): string {
  if (typeof value === 'string') return value;
  try {
    return JSON.stringify(value) ?? String(value);
  } catch {
    return String(value);
  }
}

/**
 * Bounds on what a tool hands back to the model. Every result is text; whatever is cut says so
 * in a note the model can read (and pass on), never silently.
 */

/** The note a shortened list ends with, e.g. "[truncated: showing 100 of 2 400 rows …]". */
export function itemsNote(shown: number, total: number | undefined, noun: string, hint?: string): string {
  const of = total === undefined ? 'more exist' : `of ${total}`;
  return `[truncated: showing ${shown} ${noun} ${total === undefined ? `(${of})` : of}${hint ? `; ${hint}` : ''}]`;
}

/**
 * The first `maxItems` of `items`, and whether any were left out.
 *
 * @example
 * const { kept, truncated } = takeItems(rows, 100);
 */
export function takeItems<T>(items: readonly T[], maxItems: number): { kept: T[]; truncated: boolean } {
  return { kept: items.slice(0, Math.max(0, maxItems)), truncated: items.length > maxItems };
}

/**
 * `text` within `maxChars`, cut at a line break where one is near the end, with a note saying
 * how much was left out. The note counts toward the bound.
 *
 * @example
 * boundText(markdown, 20_000); // '…\n\n[truncated: showing 19 850 of 84 113 characters; ask for a part]'
 */
export function boundText(text: string, maxChars: number): { text: string; truncated: boolean } {
  if (text.length <= maxChars) return { text, truncated: false };
  const note = `\n\n[truncated: showing about ${maxChars} of ${text.length} characters; ask for a smaller part (a range, a section, fewer items) to see the rest]`;
  const room = Math.max(0, maxChars - note.length);
  let cut = text.slice(0, room);
  const lastBreak = cut.lastIndexOf('\n');
  if (lastBreak > room * 0.8) cut = cut.slice(0, lastBreak);
  // Do not end on half a surrogate pair: the model would see a broken character.
  if (/[\uD800-\uDBFF]$/.test(cut)) cut = cut.slice(0, -1);
  return { text: `${cut}${note}`, truncated: true };
}

import type { DetectedType } from './detect-type.js';
import type { ExtractedSections } from './text-budget.js';

/** Decodes text bytes with the encoding `detectType` found; a BOM is dropped, bad bytes become U+FFFD. */
export function decodeText(bytes: Uint8Array, encoding: DetectedType['encoding'] = 'utf-8'): string {
  return new TextDecoder(encoding).decode(bytes);
}

/** A fence longer than any run of backticks inside `text`, so the code can never close it early. */
function fenceFor(text: string): string {
  const longest = Math.max(0, ...[...text.matchAll(/`+/g)].map((match) => match[0].length));
  return '`'.repeat(Math.max(3, longest + 1));
}

/**
 * Plain text, Markdown, JSON and source code: prose and Markdown as they are, JSON and code in a
 * fence tagged with their language so the model reads them as code.
 *
 * @example
 * extractPlainText(bytes, await detectType(bytes, 'main.py')).sections[0].text // "```python\n…\n```"
 */
export function extractPlainText(
  bytes: Uint8Array,
  type: Pick<DetectedType, 'encoding' | 'language'>,
): ExtractedSections {
  const text = decodeText(bytes, type.encoding).replace(/\r\n?/g, '\n').trimEnd();
  if (type.language === undefined || type.language === 'markdown') {
    return { unit: 'document', sections: [{ text }], totalUnits: 1 };
  }
  const fence = fenceFor(text);
  return { unit: 'document', sections: [{ text: `${fence}${type.language}\n${text}\n${fence}` }], totalUnits: 1 };
}

/** The unit a document is counted in, for the note about what was left out. */
export type DocumentUnit = 'page' | 'sheet' | 'slide' | 'document';

export interface DocumentSection {
  /** Markdown heading line for the section, e.g. `## Page 3`; none for a one-part document. */
  heading?: string;
  text: string;
}

/** What an extractor read, before the budget cut. */
export interface ExtractedSections {
  unit: DocumentUnit;
  /** In order. May stop before `totalUnits` when the extractor already read past the budget. */
  sections: DocumentSection[];
  /** How many units the document has (pages, sheets, slides; 1 for a document). */
  totalUnits: number;
}

export interface BudgetedText {
  /** Markdown-ish text for the model, ending with a note when anything was left out. */
  text: string;
  /** Characters of document text kept (notes excluded). */
  keptChars: number;
  /** Units shown in full or in part. */
  includedUnits: number;
  totalUnits: number;
  truncated: boolean;
}

const plural = (count: number, unit: string) => `${count.toLocaleString('en')} ${unit}${count === 1 ? '' : 's'}`;

/** Cuts `text` to at most `limit` characters at the last line break (or space) before it. */
function cutAtBoundary(text: string, limit: number): string {
  if (text.length <= limit) return text;
  const head = text.slice(0, limit);
  const lineBreak = head.lastIndexOf('\n');
  if (lineBreak >= limit * 0.5) return head.slice(0, lineBreak);
  const space = head.lastIndexOf(' ');
  return space >= limit * 0.8 ? head.slice(0, space) : head;
}

function countLines(text: string): number {
  if (text === '') return 0;
  let lines = 1;
  for (let index = text.indexOf('\n'); index !== -1; index = text.indexOf('\n', index + 1)) lines += 1;
  return lines;
}

/**
 * Keeps whole sections while they fit `maxChars`, cuts the first one that does not at a line
 * boundary, and says plainly what was left out ("… 38 more pages not included"), so the model
 * never mistakes part of a document for all of it.
 *
 * @example
 * fitToBudget({ unit: 'page', totalUnits: 40, sections }, 40_000).text
 * // "## Page 1\n…\n\n… 38 more pages not included (2 of 40 shown)."
 */
export function fitToBudget({ unit, sections, totalUnits }: ExtractedSections, maxChars: number): BudgetedText {
  const parts: string[] = [];
  let kept = 0;
  let included = 0;
  let cutNote: string | undefined;
  for (const section of sections) {
    const heading = section.heading === undefined ? '' : `${section.heading}\n\n`;
    const room = maxChars - kept - heading.length;
    if (section.text.length <= room) {
      parts.push(`${heading}${section.text}`);
      kept += heading.length + section.text.length;
      included += 1;
      continue;
    }
    // A section that would get only a sliver is left out whole, unless nothing was shown yet.
    if (room > Math.min(500, maxChars / 4) || included === 0) {
      const shown = cutAtBoundary(section.text, Math.max(0, room));
      parts.push(`${heading}${shown}`);
      kept += heading.length + shown.length;
      included += 1;
      const rest = section.text.slice(shown.length);
      cutNote =
        unit === 'document'
          ? `… ${plural(rest.length, 'more character')} not included (${Math.round((100 * rest.length) / section.text.length)} % of the document).`
          : `… the rest of this ${unit} (${plural(countLines(rest.replace(/^\n+/, '')), 'more line')}) not included.`;
    }
    break;
  }
  const omitted = totalUnits - included;
  const notes: string[] = [];
  if (cutNote !== undefined) notes.push(cutNote);
  if (unit !== 'document' && omitted > 0) {
    notes.push(`… ${plural(omitted, `more ${unit}`)} not included (${included} of ${totalUnits} shown).`);
  }
  const text = [parts.join('\n\n'), ...notes].filter((part) => part !== '').join('\n\n');
  return { text, keptChars: kept, includedUnits: included, totalUnits, truncated: notes.length > 0 };
}

export type TableCell = string | number | boolean | Date | null | undefined;

/** One cell as table text: dates as ISO (date only at midnight), pipes escaped, line breaks flattened. */
export function cellText(value: TableCell): string {
  if (value === null || value === undefined) return '';
  if (value instanceof Date) {
    if (Number.isNaN(value.getTime())) return '';
    const iso = value.toISOString();
    return iso.endsWith('T00:00:00.000Z') ? iso.slice(0, 10) : iso.slice(0, 16).replace('T', ' ');
  }
  return String(value)
    .replace(/\r?\n|\r/g, ' ')
    .replace(/\|/g, '\\|')
    .trim();
}

export interface RenderedTable {
  text: string;
  /** Data rows rendered (the header row not counted). */
  rowsShown: number;
  /** Data rows in the table. */
  totalRows: number;
}

/**
 * Rows as a GitHub Markdown table, the first non-empty row as its header (spreadsheets almost
 * always have one). Empty rows and trailing empty columns are dropped. Stops adding rows once the
 * text would pass `maxChars`, and says how many rows it left out.
 *
 * @example
 * renderTable([['Region', 'Revenue'], ['North', 1200.5]], { maxChars: 10_000 }).text
 * // "| Region | Revenue |\n| --- | --- |\n| North | 1200.5 |"
 */
export function renderTable(
  rows: readonly (readonly TableCell[])[],
  { maxChars }: { maxChars: number },
): RenderedTable {
  const cells = rows.map((row) => row.map(cellText)).filter((row) => row.some((cell) => cell !== ''));
  const width = Math.max(0, ...cells.map((row) => row.findLastIndex((cell) => cell !== '') + 1));
  if (cells.length === 0 || width === 0) return { text: '(empty)', rowsShown: 0, totalRows: 0 };
  const line = (row: readonly string[]) =>
    `| ${Array.from({ length: width }, (_, column) => row[column] ?? '').join(' | ')} |`;
  const [header, ...body] = cells as [string[], ...string[][]];
  const lines = [line(header), `|${' --- |'.repeat(width)}`];
  let length = lines[0]!.length + lines[1]!.length + 1;
  let shown = 0;
  for (const row of body) {
    const next = line(row);
    if (length + next.length + 1 > maxChars && shown > 0) break;
    lines.push(next);
    length += next.length + 1;
    shown += 1;
  }
  const omitted = body.length - shown;
  if (omitted > 0)
    lines.push('', `… ${omitted.toLocaleString('en')} more row${omitted === 1 ? '' : 's'} of this sheet not included.`);
  return { text: lines.join('\n'), rowsShown: shown, totalRows: body.length };
}

import type { PhrasingContent, Root, RootContent, Table, TableRow } from 'mdast';
import { gfmToMarkdown } from 'mdast-util-gfm';
import { toMarkdown } from 'mdast-util-to-markdown';

/**
 * Markdown out of a syntax tree (mdast) through `mdast-util-to-markdown` with the GFM extension
 * (tables, strikethrough, task lists), so escaping and table layout are the library's, not ours.
 *
 * @example
 * renderMarkdown({ type: 'root', children: [{ type: 'heading', depth: 1, children: [{ type: 'text', value: 'Plan' }] }] });
 * // '# Plan\n'
 */
export function renderMarkdown(root: Root): string {
  return toMarkdown(root, {
    extensions: [gfmToMarkdown({ tablePipeAlign: false })],
    bullet: '-',
    fences: true,
    rule: '-',
  });
}

/** A cell's text on one line: tables cannot hold line breaks. */
function cellText(value: string): PhrasingContent[] {
  const flat = value.replace(/\s*\n\s*/g, ' ').trim();
  return flat === '' ? [] : [{ type: 'text', value: flat }];
}

/** A GFM table node; every row padded to the header's width. */
export function tableNode(header: readonly string[], rows: readonly (readonly string[])[]): Table {
  const width = Math.max(1, header.length, ...rows.map((row) => row.length));
  const row = (cells: readonly string[]): TableRow => ({
    type: 'tableRow',
    children: Array.from({ length: width }, (_, index) => ({
      type: 'tableCell',
      children: cellText(cells[index] ?? ''),
    })),
  });
  return { type: 'table', children: [row(header), ...rows.map(row)] };
}

/**
 * A Markdown table of `rows` under `header`, optionally after a line of text.
 *
 * @example
 * markdownTable(['name', 'owner'], [['build', 'CI']]); // '| name | owner |\n| - | - |\n| build | CI |\n'
 */
export function markdownTable(
  header: readonly string[],
  rows: readonly (readonly string[])[],
  { before }: { before?: string } = {},
): string {
  const children: RootContent[] = [];
  if (before !== undefined) children.push({ type: 'paragraph', children: [{ type: 'text', value: before }] });
  children.push(tableNode(header, rows));
  return renderMarkdown({ type: 'root', children });
}

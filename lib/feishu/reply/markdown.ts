/**
 * The model writes GitHub-flavoured markdown; a Feishu card (schema 2.0) markdown element renders a
 * subset of it and gives a few HTML-like tags special meaning (`<at id=all>` would @mention
 * everyone). `renderCardMarkdown` keeps the text as written wherever Feishu renders it faithfully
 * and changes only what Feishu would break on or misread.
 *
 * `planCardSegments` cuts a long answer into card-sized pieces at paragraph or line boundaries,
 * avoiding code blocks; when it must cut inside one, each piece closes and reopens the fence.
 */

export interface CardMarkdownOptions {
  /**
   * Markdown tables kept as tables per card; later ones become code blocks. Feishu renders at
   * most five tables in one card (its table component shares the limit), so one is spare.
   */
  maxTables?: number;
  /** Wider tables become code blocks: Feishu squeezes columns until cells are unreadable. */
  maxTableColumns?: number;
  /** The fence a piece starts inside of (set by `planCardSegments` for pieces cut inside a code block). */
  openFence?: string;
}

export const DEFAULT_MAX_TABLES = 4;
export const DEFAULT_MAX_TABLE_COLUMNS = 10;

const FENCE = /^ {0,3}(`{3,}|~{3,})(.*)$/;
const TABLE_DELIMITER = /^\s*\|?\s*:?-+:?\s*(\|\s*:?-+:?\s*)*\|?\s*$/;

/** The fence line that opens a code block, or undefined when `line` does not open one. */
function openingFence(line: string): string | undefined {
  const match = FENCE.exec(line);
  if (!match) return undefined;
  const marker = match[1]!;
  // A backtick fence's info string may not contain backticks (CommonMark).
  if (marker[0] === '`' && match[2]!.includes('`')) return undefined;
  return line.trimStart();
}

function closesFence(line: string, fence: string): boolean {
  const match = FENCE.exec(line);
  if (!match) return false;
  const marker = match[1]!;
  const openMarker = /^(`+|~+)/.exec(fence)![1]!;
  return marker[0] === openMarker[0] && marker.length >= openMarker.length && match[2]!.trim() === '';
}

function fenceMarker(fence: string): string {
  return /^(`+|~+)/.exec(fence)![1]!;
}

function tableCells(line: string): string[] {
  let body = line.trim();
  if (body.startsWith('|')) body = body.slice(1);
  if (body.endsWith('|') && !body.endsWith('\\|')) body = body.slice(0, -1);
  return body.split(/(?<!\\)\|/);
}

function isTableStart(lines: readonly string[], index: number): boolean {
  const header = lines[index];
  const delimiter = lines[index + 1];
  if (header === undefined || delimiter === undefined) return false;
  if (!header.includes('|') || !delimiter.includes('-') || !TABLE_DELIMITER.test(delimiter)) return false;
  // GFM: a delimiter row with pipes or a single column; a lone "---" under text is a heading.
  if (!delimiter.includes('|') && !header.trim().startsWith('|')) return false;
  return tableCells(header).length === tableCells(delimiter).length;
}

/**
 * Escapes what Feishu would interpret instead of showing, outside inline code:
 * HTML-like tags (`<at …>`, `<font …>`, `<text_tag>` …) and remote images (a card image needs an
 * uploaded `img_key`; a URL makes the whole element fail), which become plain links.
 */
function renderInline(line: string): string {
  const parts = line.split(/(`+[^`]*`+)/);
  return parts
    .map((part, index) => {
      if (index % 2 === 1) return part; // inline code: shown verbatim by Feishu
      return part
        .replace(/!\[([^\]]*)\]\((https?:\/\/[^)\s]+)\)/g, (_all, alt: string, url: string) =>
          alt.trim() === '' ? url : `[${alt}](${url})`,
        )
        .replace(/<(?=[A-Za-z/!])/g, '&#60;');
    })
    .join('');
}

/**
 * Renders one card's worth of the model's markdown for a Feishu card markdown element.
 *
 * @example
 * renderCardMarkdown('Hi <at id=all></at>\n```ts\nconst a = 1;\n```');
 * // 'Hi &#60;at id=all>&#60;/at>\n```ts\nconst a = 1;\n```'
 */
export function renderCardMarkdown(
  text: string,
  { maxTables = DEFAULT_MAX_TABLES, maxTableColumns = DEFAULT_MAX_TABLE_COLUMNS, openFence }: CardMarkdownOptions = {},
): string {
  const lines = text.split('\n');
  const out: string[] = [];
  let fence = openFence;
  if (fence !== undefined) out.push(fence);
  let tables = 0;
  for (let index = 0; index < lines.length; index++) {
    const line = lines[index]!;
    if (fence !== undefined) {
      out.push(line);
      if (closesFence(line, fence)) fence = undefined;
      continue;
    }
    const opened = openingFence(line);
    if (opened !== undefined) {
      fence = opened;
      out.push(line);
      continue;
    }
    if (isTableStart(lines, index)) {
      let end = index + 2;
      while (end < lines.length && lines[end]!.trim() !== '' && lines[end]!.includes('|')) end++;
      const tableLines = lines.slice(index, end);
      tables++;
      if (tables > maxTables || tableCells(line).length > maxTableColumns) {
        out.push('```', ...tableLines, '```');
      } else {
        out.push(...tableLines.map(renderInline));
      }
      index = end - 1;
      continue;
    }
    out.push(renderInline(line));
  }
  return out.join('\n');
}

/** What a piece of text costs inside a card's JSON: UTF-8 bytes of its JSON string form. */
export function cardBytes(content: string): number {
  return Buffer.byteLength(JSON.stringify(content), 'utf8');
}

/** A run of the model's raw text `[start, end)` shown in one card. */
export interface CardSegment {
  start: number;
  end: number;
  /** The code fence the segment starts inside of, when the cut fell inside a code block. */
  openFence?: string;
  /** true when the segment ends inside a code block (its card closes the fence itself). */
  endsInFence: boolean;
}

export interface PlanOptions extends Omit<CardMarkdownOptions, 'openFence'> {
  /** Budget per card for the rendered content, measured by `cardBytes`. */
  maxBytes: number;
}

/** Renders one planned segment of `text` exactly as its card shows it. */
export function renderSegment(text: string, segment: CardSegment, options: CardMarkdownOptions = {}): string {
  const raw = text.slice(segment.start, segment.end);
  const rendered = renderCardMarkdown(raw, { ...options, openFence: segment.openFence });
  if (!segment.endsInFence) return rendered;
  // Cut inside a code block: close it here (the next card reopens it) so no text is swallowed.
  const fence = fenceAt(text, segment.start, segment.openFence, segment.end);
  if (fence === undefined) return rendered;
  return `${rendered}${rendered.endsWith('\n') ? '' : '\n'}${fenceMarker(fence)}`;
}

/** The fence open at `to`, scanning whole lines from `from` (a line start) with `fence` open there. */
function fenceAt(text: string, from: number, fence: string | undefined, to: number): string | undefined {
  let current = fence;
  let lineStart = from;
  while (lineStart < to) {
    let lineEnd = text.indexOf('\n', lineStart);
    if (lineEnd === -1 || lineEnd > to) lineEnd = to;
    const line = text.slice(lineStart, lineEnd);
    if (current !== undefined) {
      if (closesFence(line, current)) current = undefined;
    } else {
      current = openingFence(line) ?? undefined;
    }
    lineStart = lineEnd + 1;
  }
  return current;
}

/**
 * Splits `text` into segments whose rendered content fits `maxBytes` each. Greedy from the start,
 * so as a streamed answer grows the earlier cut points stay where they were: a card, once full,
 * keeps its text. Cuts prefer (in order) a blank line outside code, a line end outside code, a
 * line end inside code (the fence is closed and reopened), and finally any character boundary.
 *
 * @example
 * const segments = planCardSegments(answer, { maxBytes: 24_000 });
 * const contents = segments.map((segment) => renderSegment(answer, segment));
 */
export function planCardSegments(text: string, options: PlanOptions): CardSegment[] {
  return planFrom(text, 0, undefined, options, []);
}

/**
 * `planCardSegments` for a text that keeps growing (a streamed answer): cards already full for
 * the previous text are reused as long as the new text still starts with their text, so each
 * call only plans the last card or two instead of the whole answer.
 *
 * @example
 * const planner = createCardPlanner({ maxBytes: 24_000 });
 * planner.plan(partial); planner.plan(longerPartial);
 */
export function createCardPlanner(options: PlanOptions): { plan(text: string): CardSegment[] } {
  let previousText = '';
  let previous: CardSegment[] = [];
  return {
    plan(text) {
      const open = previous.at(-1);
      const stableEnd = open?.start ?? 0;
      const reusable = open !== undefined && stableEnd > 0 && text.startsWith(previousText.slice(0, stableEnd));
      const segments = reusable
        ? planFrom(text, stableEnd, open.openFence, options, previous.slice(0, -1))
        : planCardSegments(text, options);
      previousText = text;
      previous = segments;
      return segments.map((segment) => ({ ...segment }));
    },
  };
}

function planFrom(
  text: string,
  from: number,
  fromFence: string | undefined,
  { maxBytes, ...renderOptions }: PlanOptions,
  segments: CardSegment[],
): CardSegment[] {
  if (maxBytes < 64) throw new RangeError(`maxBytes must be at least 64, got ${maxBytes}`);
  let start = from;
  let openFence = fromFence;
  // Room for the fence lines a cut inside code adds to a card.
  const reserve = 64;
  for (;;) {
    const whole: CardSegment = { start, end: text.length, endsInFence: false };
    if (openFence !== undefined) whole.openFence = openFence;
    // Every character costs at least one byte; only a text far over budget is not even tried
    // (markdown rendering never shrinks text by half).
    if (text.length - start <= maxBytes * 2 && cardBytes(renderSegment(text, whole, renderOptions)) <= maxBytes) {
      segments.push(whole);
      return segments;
    }
    const limit = largestFittingEnd(text, start, openFence, maxBytes - reserve, renderOptions);
    const end = chooseCut(text, start, limit, openFence);
    const fenceAtEnd = fenceAt(text, start, openFence, end);
    const segment: CardSegment = { start, end, endsInFence: fenceAtEnd !== undefined };
    if (openFence !== undefined) segment.openFence = openFence;
    segments.push(segment);
    start = end;
    openFence = fenceAtEnd;
  }
}

function largestFittingEnd(
  text: string,
  start: number,
  openFence: string | undefined,
  budget: number,
  renderOptions: Omit<CardMarkdownOptions, 'openFence'>,
): number {
  // Binary search on the raw end; rendered size grows with it (escapes only ever add bytes),
  // and a piece longer than twice the budget in characters cannot fit.
  let low = start + 1;
  let high = Math.min(text.length, start + budget * 2);
  const fits = (end: number) =>
    cardBytes(renderCardMarkdown(text.slice(start, end), { ...renderOptions, openFence })) <= budget;
  if (!fits(low)) return safeBoundary(text, low);
  while (low < high) {
    const middle = Math.ceil((low + high) / 2);
    if (fits(middle)) low = middle;
    else high = middle - 1;
  }
  return safeBoundary(text, low);
}

/** Never cut between the two halves of a surrogate pair. */
function safeBoundary(text: string, index: number): number {
  const code = text.charCodeAt(index - 1);
  if (index < text.length && code >= 0xd800 && code <= 0xdbff) return index > 1 ? index - 1 : index + 1;
  return index;
}

function chooseCut(text: string, start: number, limit: number, openFence: string | undefined): number {
  // Do not make a card much shorter than it could be just to find a nicer boundary.
  const floor = start + Math.floor((limit - start) * 0.5);
  let bestLineOutside = -1;
  let bestLineInside = -1;
  let bestParagraph = -1;
  let fence = openFence;
  let lineStart = start;
  while (lineStart < limit) {
    const newline = text.indexOf('\n', lineStart);
    if (newline === -1 || newline >= limit) break;
    const line = text.slice(lineStart, newline);
    const wasInFence = fence !== undefined;
    if (fence !== undefined) {
      if (closesFence(line, fence)) fence = undefined;
    } else {
      fence = openingFence(line) ?? undefined;
    }
    const cut = newline + 1;
    if (cut > floor) {
      if (fence === undefined) {
        bestLineOutside = cut;
        if (line.trim() === '' && !wasInFence) bestParagraph = cut;
      } else {
        bestLineInside = cut;
      }
    }
    lineStart = cut;
  }
  if (bestParagraph !== -1) return bestParagraph;
  if (bestLineOutside !== -1) return bestLineOutside;
  if (bestLineInside !== -1) return bestLineInside;
  return Math.max(limit, start + 1);
}

/**
 * A one-line preview for the chat list (`config.summary.content`): markdown marks stripped,
 * whitespace collapsed, cut at `max` characters.
 */
export function previewSummary(text: string, max = 60): string {
  const plain = text
    .replace(/```[^\n]*\n?/g, ' ')
    .replace(/[#>*_`~|]+/g, ' ')
    .replace(/\[([^\]]*)\]\([^)]*\)/g, '$1')
    .replace(/\s+/g, ' ')
    .trim();
  const characters = [...plain];
  return characters.length <= max ? plain : `${characters.slice(0, max - 1).join('')}…`;
}

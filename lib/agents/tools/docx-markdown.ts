import type { BlockContent, List, ListItem, PhrasingContent, Root, RootContent } from 'mdast';
import { renderMarkdown, tableNode } from './markdown.js';

/**
 * A block of a Feishu docx document as `docx.v1.documentBlock.list` returns it, reduced to
 * what rendering reads. Which content field is set depends on `block_type`.
 */
export interface DocxBlock {
  block_id?: string;
  block_type?: number;
  parent_id?: string;
  children?: string[];
  [content: string]: unknown;
}

interface TextElement {
  text_run?: { content?: string; text_element_style?: TextStyle };
  mention_user?: { user_id?: string };
  mention_doc?: { title?: string; url?: string };
  equation?: { content?: string };
}

interface TextStyle {
  bold?: boolean;
  italic?: boolean;
  strikethrough?: boolean;
  inline_code?: boolean;
  link?: { url?: string };
}

interface TextContent {
  elements?: TextElement[];
  style?: { language?: number; done?: boolean };
}

/** Feishu's block types (docx block data structure documentation). */
const BLOCK = {
  page: 1,
  text: 2,
  heading1: 3,
  heading9: 11,
  bullet: 12,
  ordered: 13,
  code: 14,
  quote: 15,
  todo: 17,
  callout: 19,
  divider: 22,
  image: 27,
  table: 31,
  tableCell: 32,
  quoteContainer: 34,
} as const;

/** The content key of each text-like block type. */
const CONTENT_KEY: Readonly<Record<number, string>> = {
  1: 'page',
  2: 'text',
  12: 'bullet',
  13: 'ordered',
  14: 'code',
  15: 'quote',
  17: 'todo',
};
for (let level = 1; level <= 9; level++) (CONTENT_KEY as Record<number, string>)[2 + level] = `heading${level}`;

/** Feishu's code-block language ids for the common languages (others render without a tag). */
const LANGUAGES: Readonly<Record<number, string>> = {
  7: 'bash',
  8: 'csharp',
  9: 'cpp',
  10: 'c',
  12: 'css',
  22: 'go',
  24: 'html',
  28: 'json',
  29: 'java',
  30: 'javascript',
  32: 'kotlin',
  39: 'markdown',
  49: 'python',
  53: 'ruby',
  54: 'rust',
  56: 'sql',
  60: 'shell',
  61: 'swift',
  63: 'typescript',
  66: 'xml',
  67: 'yaml',
};

const MAX_DEPTH = 24;

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function decodeUrl(url: string): string {
  try {
    return decodeURIComponent(url);
  } catch {
    return url;
  }
}

function contentOf(block: DocxBlock): TextContent | undefined {
  const key = CONTENT_KEY[block.block_type ?? 0];
  const value = key === undefined ? undefined : block[key];
  return isObject(value) ? (value as TextContent) : undefined;
}

/** Inline Markdown of a text-like block's elements: styles, links, mentions, equations. */
function phrasing(content: TextContent | undefined, userName: (id: string) => string | undefined): PhrasingContent[] {
  const nodes: PhrasingContent[] = [];
  for (const raw of Array.isArray(content?.elements) ? (content.elements as unknown[]) : []) {
    if (!isObject(raw)) continue;
    const element = raw as TextElement;
    if (isObject(element.text_run)) {
      const text = typeof element.text_run.content === 'string' ? element.text_run.content : '';
      if (text === '') continue;
      const style = element.text_run.text_element_style ?? {};
      let node: PhrasingContent = style.inline_code
        ? { type: 'inlineCode', value: text }
        : { type: 'text', value: text };
      if (style.bold) node = { type: 'strong', children: [node] };
      if (style.italic) node = { type: 'emphasis', children: [node] };
      if (style.strikethrough) node = { type: 'delete', children: [node] };
      const url = style.link?.url;
      if (typeof url === 'string' && url !== '') node = { type: 'link', url: decodeUrl(url), children: [node] };
      nodes.push(node);
    } else if (isObject(element.mention_user)) {
      const id = element.mention_user.user_id ?? '';
      nodes.push({ type: 'text', value: `@${userName(id) ?? id}` });
    } else if (isObject(element.mention_doc)) {
      const title = element.mention_doc.title ?? 'document';
      const url = element.mention_doc.url;
      nodes.push(
        typeof url === 'string' && url !== ''
          ? { type: 'link', url: decodeUrl(url), children: [{ type: 'text', value: title }] }
          : { type: 'text', value: title },
      );
    } else if (isObject(element.equation)) {
      nodes.push({ type: 'inlineCode', value: (element.equation.content ?? '').trim() });
    }
  }
  return nodes;
}

function plain(nodes: readonly PhrasingContent[]): string {
  return nodes
    .map((node) => {
      if (node.type === 'text' || node.type === 'inlineCode') return node.value;
      if ('children' in node) return plain(node.children as PhrasingContent[]);
      return '';
    })
    .join('');
}

export interface DocxRenderOptions {
  /** The document id: its page block is the root. */
  documentId?: string;
  /** Display names for @mentions of people, when known. */
  userName?: (openId: string) => string | undefined;
}

/**
 * Renders the blocks of a docx document as Markdown: headings, paragraphs, bullet, numbered and
 * to-do lists (nested), code with its language, quotes and callouts, dividers and tables;
 * images become `[image]`. Blocks of unknown types keep their text. Blocks the list refers to but
 * did not return (a partial read) are skipped.
 *
 * @example
 * const { title, markdown } = docxToMarkdown(blocks, { documentId });
 */
export function docxToMarkdown(
  blocks: readonly DocxBlock[],
  { documentId, userName = () => undefined }: DocxRenderOptions = {},
): { title: string; markdown: string } {
  const byId = new Map<string, DocxBlock>();
  for (const block of blocks) if (typeof block.block_id === 'string') byId.set(block.block_id, block);
  const page =
    (documentId === undefined ? undefined : byId.get(documentId)) ??
    blocks.find((block) => block.block_type === BLOCK.page);
  const title = page === undefined ? '' : plain(phrasing(contentOf(page), userName)).trim();
  const visited = new Set<string>();

  const childBlocks = (block: DocxBlock): DocxBlock[] =>
    (Array.isArray(block.children) ? block.children : [])
      .map((id) => byId.get(id))
      .filter((child): child is DocxBlock => child !== undefined);

  /** The blocks under `parent` as Markdown nodes; consecutive list items are gathered into one list. */
  function renderChildren(children: readonly DocxBlock[], depth: number): RootContent[] {
    const nodes: RootContent[] = [];
    let list: List | undefined;
    for (const block of children) {
      if (typeof block.block_id === 'string') {
        if (visited.has(block.block_id)) continue;
        visited.add(block.block_id);
      }
      const type = block.block_type ?? 0;
      const isItem = type === BLOCK.bullet || type === BLOCK.ordered || type === BLOCK.todo;
      if (isItem) {
        const ordered = type === BLOCK.ordered;
        if (list === undefined || list.ordered !== ordered) {
          list = { type: 'list', ordered, spread: false, children: [] };
          nodes.push(list);
        }
        const content = contentOf(block);
        const item: ListItem = {
          type: 'listItem',
          spread: false,
          children: [
            { type: 'paragraph', children: phrasing(content, userName) },
            ...(depth < MAX_DEPTH ? (renderChildren(childBlocks(block), depth + 1) as BlockContent[]) : []),
          ],
          ...(type === BLOCK.todo ? { checked: content?.style?.done === true } : {}),
        };
        list.children.push(item);
        continue;
      }
      list = undefined;
      nodes.push(...renderBlock(block, type, depth));
    }
    return nodes;
  }

  function renderBlock(block: DocxBlock, type: number, depth: number): RootContent[] {
    const inner = () => (depth < MAX_DEPTH ? renderChildren(childBlocks(block), depth + 1) : []);
    if (type >= BLOCK.heading1 && type <= BLOCK.heading9) {
      const depthOfHeading = Math.min(6, type - BLOCK.heading1 + 1) as 1 | 2 | 3 | 4 | 5 | 6;
      return [{ type: 'heading', depth: depthOfHeading, children: phrasing(contentOf(block), userName) }, ...inner()];
    }
    switch (type) {
      case BLOCK.text: {
        const children = phrasing(contentOf(block), userName);
        return [...(children.length > 0 ? [{ type: 'paragraph' as const, children }] : []), ...inner()];
      }
      case BLOCK.code: {
        const content = contentOf(block);
        const lang = LANGUAGES[content?.style?.language ?? 0];
        return [{ type: 'code', value: plain(phrasing(content, userName)).replace(/\n$/, ''), lang: lang ?? null }];
      }
      case BLOCK.quote:
        return [
          { type: 'blockquote', children: [{ type: 'paragraph', children: phrasing(contentOf(block), userName) }] },
        ];
      case BLOCK.quoteContainer:
      case BLOCK.callout:
        return [{ type: 'blockquote', children: inner() as BlockContent[] }];
      case BLOCK.divider:
        return [{ type: 'thematicBreak' }];
      case BLOCK.image:
        return [{ type: 'paragraph', children: [{ type: 'text', value: '[image]' }] }];
      case BLOCK.table:
        return [renderTable(block)];
      default: {
        // An unknown or embedded block (a sheet, a board…): keep what text it has, then its children.
        const children = phrasing(contentOf(block), userName);
        return [...(children.length > 0 ? [{ type: 'paragraph' as const, children }] : []), ...inner()];
      }
    }
  }

  function renderTable(block: DocxBlock): RootContent {
    const table = isObject(block.table) ? block.table : {};
    const cells = Array.isArray(table.cells) ? (table.cells as unknown[]) : (block.children ?? []);
    const property = isObject(table.property) ? table.property : {};
    const columns = typeof property.column_size === 'number' && property.column_size > 0 ? property.column_size : 1;
    const texts = cells.map((id) => {
      const cell = typeof id === 'string' ? byId.get(id) : undefined;
      if (cell === undefined) return '';
      if (typeof cell.block_id === 'string') visited.add(cell.block_id);
      return childBlocks(cell)
        .map((child) => {
          if (typeof child.block_id === 'string') visited.add(child.block_id);
          return plain(phrasing(contentOf(child), userName));
        })
        .join(' ');
    });
    const rows: string[][] = [];
    for (let index = 0; index < texts.length; index += columns) rows.push(texts.slice(index, index + columns));
    return tableNode(rows[0] ?? [], rows.slice(1));
  }

  const top = page === undefined ? blocks.filter((block) => !block.parent_id) : childBlocks(page);
  const root: Root = { type: 'root', children: renderChildren(top, 0) };
  return { title, markdown: renderMarkdown(root) };
}

/** What a Feishu (Lark) link points at, by the path segment before its token. */
export type FeishuLinkKind = 'docx' | 'doc' | 'wiki' | 'sheet' | 'base' | 'file' | 'folder';

export interface FeishuLink {
  kind: FeishuLinkKind;
  token: string;
  url: string;
  /** `?sheet=` of a spreadsheet link. */
  sheetId?: string;
  /** `?table=` of a base link. */
  tableId?: string;
}

const KINDS: Readonly<Record<string, FeishuLinkKind>> = {
  docx: 'docx',
  docs: 'doc',
  wiki: 'wiki',
  sheets: 'sheet',
  base: 'base',
  file: 'file',
  folder: 'folder',
};

/** Feishu's, Lark's and Lark Office's web hosts (tenants get sub-domains). */
const HOSTS = /(^|\.)(feishu\.cn|feishu\.net|larksuite\.com|larkoffice\.com)$/i;
/** Feishu object tokens are long alphanumerics. */
const TOKEN = /^[A-Za-z0-9]{10,64}$/;
const URL_IN_TEXT = /https?:\/\/[^\s<>()"'`，。、）]+/g;
const MAX_LINKS = 10;

/**
 * Reads one Feishu URL, e.g. `https://acme.feishu.cn/docx/AbCdEf1234567890` or
 * `https://acme.feishu.cn/sheets/Sh123…?sheet=0b6d2f`; undefined when it is not a document link.
 *
 * @example
 * parseFeishuLink('https://acme.feishu.cn/wiki/Wk123456789012'); // { kind: 'wiki', token: 'Wk123456789012', … }
 */
export function parseFeishuLink(text: string): FeishuLink | undefined {
  let url: URL;
  try {
    url = new URL(text.trim());
  } catch {
    return undefined;
  }
  if (!HOSTS.test(url.hostname)) return undefined;
  const segments = url.pathname.split('/').filter((segment) => segment.length > 0);
  for (let index = 0; index < segments.length - 1; index++) {
    const kind = KINDS[segments[index]!.toLowerCase()];
    const token = segments[index + 1]!;
    if (kind === undefined || !TOKEN.test(token)) continue;
    const sheetId = url.searchParams.get('sheet') ?? undefined;
    const tableId = url.searchParams.get('table') ?? undefined;
    return {
      kind,
      token,
      url: url.toString(),
      ...(kind === 'sheet' && sheetId ? { sheetId } : {}),
      ...(kind === 'base' && tableId ? { tableId } : {}),
    };
  }
  return undefined;
}

/** Every Feishu document link in a message, each token once, at most 10. */
export function findFeishuLinks(text: string): FeishuLink[] {
  const links: FeishuLink[] = [];
  const seen = new Set<string>();
  for (const match of text.matchAll(URL_IN_TEXT)) {
    const link = parseFeishuLink(match[0].replace(/[.,;:!?]+$/, ''));
    if (link === undefined || seen.has(link.token)) continue;
    seen.add(link.token);
    links.push(link);
    if (links.length >= MAX_LINKS) break;
  }
  return links;
}

const READ_WITH: Readonly<Record<FeishuLinkKind, string>> = {
  docx: 'readDocument',
  doc: 'readDocument (older "doc" documents may not be readable)',
  wiki: 'readDocument (it resolves the wiki page to its document; getWikiNode tells what kind it is)',
  sheet: 'readSheet',
  base: 'listBaseTables, then searchBaseRecords',
  file: 'none of the tools (a file in Drive: its contents cannot be read)',
  folder: 'searchDocuments',
};

/**
 * Lines for the instructions naming the Feishu links in the user's message and the tool that
 * reads each, so the model reads a pasted link instead of guessing what it says. Empty when the
 * message has none.
 */
export function feishuLinkHints(input: string): string[] {
  const links = findFeishuLinks(input);
  if (links.length === 0) return [];
  return [
    '',
    'The message links these Feishu documents. Read them with the tool named before answering anything about them:',
    ...links.map((link) => `- ${link.kind} ${link.url} → ${READ_WITH[link.kind]}`),
  ];
}

/**
 * Instruction lines for the other web links in a message (not Feishu documents): each with
 * `readWebPage`, so "what does this page say" is read rather than guessed. At most 5.
 *
 * @example
 * webLinkHints('see https://nodejs.org/en/blog'); // ['', 'The message links these web pages…', '- https://nodejs.org/en/blog → readWebPage']
 */
export function webLinkHints(input: string): string[] {
  const links: string[] = [];
  for (const match of input.matchAll(URL_IN_TEXT)) {
    const text = match[0].replace(/[.,;:!?]+$/, '');
    let url: URL;
    try {
      url = new URL(text);
    } catch {
      continue;
    }
    if (HOSTS.test(url.hostname) || links.includes(url.href)) continue;
    links.push(url.href);
    if (links.length >= 5) break;
  }
  if (links.length === 0) return [];
  return [
    '',
    'The message links these web pages. Read them with readWebPage before answering anything about them:',
    ...links.map((link) => `- ${link} → readWebPage`),
  ];
}

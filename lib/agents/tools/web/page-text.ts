import { NodeHtmlMarkdown } from 'node-html-markdown';
import { parse as parseHtml } from 'node-html-parser';
import type { FetchedPage } from './fetch-page.js';

/** Parts of a page that are not its content. */
const NOT_CONTENT = [
  'script',
  'style',
  'noscript',
  'template',
  'svg',
  'canvas',
  'iframe',
  'form',
  'nav',
  'footer',
  'aside',
  'button',
];

const markdown = new NodeHtmlMarkdown({
  ignore: NOT_CONTENT,
  maxConsecutiveNewlines: 2,
  useLinkReferenceDefinitions: false,
});

/**
 * The charset an HTML page declares in its head (`<meta charset>` or the `http-equiv` form), read
 * from its first 4 KB as Latin-1 (every byte a character, so the ASCII of the tags survives any
 * encoding). Pages in China often declare `gbk` only there.
 */
function metaCharset(body: Buffer): string | undefined {
  const head = parseHtml(body.subarray(0, 4_096).toString('latin1'));
  const direct = head.querySelector('meta[charset]')?.getAttribute('charset');
  if (direct) return direct.trim();
  for (const meta of head.querySelectorAll('meta[http-equiv]')) {
    if (meta.getAttribute('http-equiv')?.toLowerCase() !== 'content-type') continue;
    const declared = /charset=\s*["']?([\w-]+)/i.exec(meta.getAttribute('content') ?? '')?.[1];
    if (declared) return declared;
  }
  return undefined;
}

/** The page's bytes as text: the charset of its Content-Type, else of its HTML head, else UTF-8. */
function decode(page: FetchedPage, html: boolean): string {
  const charset = page.charset ?? (html ? metaCharset(page.body) : undefined) ?? 'utf-8';
  try {
    return new TextDecoder(charset).decode(page.body);
  } catch {
    // A label TextDecoder does not know: UTF-8 is the web's default.
    return new TextDecoder('utf-8').decode(page.body);
  }
}

/**
 * A fetched page as readable text: HTML becomes Markdown of its main content (`<article>`, else
 * `<main>`, else `<body>`; scripts, styles, navigation, footers and forms left out) with its
 * `<title>`; text, JSON and XML stay as they are.
 *
 * @example
 * const { title, text } = pageText(await fetchPage(url, { signal }));
 */
export function pageText(page: FetchedPage): { title: string | undefined; text: string } {
  const html = page.mediaType === 'text/html' || page.mediaType === 'application/xhtml+xml';
  const source = decode(page, html);
  if (!html) return { title: undefined, text: source };
  const root = parseHtml(source, { comment: false });
  const title = root.querySelector('title')?.text.replace(/\s+/g, ' ').trim() || undefined;
  const main = root.querySelector('article') ?? root.querySelector('main') ?? root.querySelector('body') ?? root;
  return { title, text: markdown.translate(main.innerHTML).trim() };
}

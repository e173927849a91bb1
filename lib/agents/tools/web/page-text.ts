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

/** The page's bytes as text, in its declared charset (UTF-8 when none or unknown). */
function decode(page: FetchedPage): string {
  try {
    return new TextDecoder(page.charset ?? 'utf-8').decode(page.body);
  } catch {
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
  const source = decode(page);
  if (page.mediaType !== 'text/html' && page.mediaType !== 'application/xhtml+xml') {
    return { title: undefined, text: source };
  }
  const root = parseHtml(source, { comment: false });
  const title = root.querySelector('title')?.text.replace(/\s+/g, ' ').trim() || undefined;
  const main = root.querySelector('article') ?? root.querySelector('main') ?? root.querySelector('body') ?? root;
  return { title, text: markdown.translate(main.innerHTML).trim() };
}

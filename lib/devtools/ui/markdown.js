// The bot's answers as a Feishu card shows them: GitHub-flavoured Markdown (headings, lists,
// tables, code, links) rendered by marked, then sanitised by DOMPurify into DOM nodes.
// Model text is never trusted: raw HTML in it is shown as text (a card does the same), and the
// sanitiser keeps only the tags and attributes below, with http(s)/mailto links only. This module
// never assigns markup to the page itself: DOMPurify parses it in an inert document and hands back
// a fragment.

import { Marked } from './marked.esm.js';
import DOMPurify from './purify.es.mjs';

const ALLOWED_TAGS = [
  'h1',
  'h2',
  'h3',
  'h4',
  'h5',
  'h6',
  'p',
  'br',
  'hr',
  'strong',
  'em',
  'del',
  'code',
  'pre',
  'blockquote',
  'ul',
  'ol',
  'li',
  'input',
  'table',
  'thead',
  'tbody',
  'tr',
  'th',
  'td',
  'a',
];
const ALLOWED_ATTR = ['href', 'title', 'align', 'start', 'type', 'checked', 'disabled', 'class'];
// DOMPurify checks every attribute value that is not plain text by this pattern, not only links:
// DOMPurify's own default narrowed to http(s) and mailto, so values without a scheme
// (align="right", start="3") stay and javascript:, data: and the like go.
const SAFE_URL = /^(?:(?:https?|mailto):|[^a-z]|[a-z+.-]+(?:[^a-z+.\-:]|$))/i;

function escapeHtml(text) {
  return String(text)
    .replaceAll('&', '&amp;')
    .replaceAll('<', '&lt;')
    .replaceAll('>', '&gt;')
    .replaceAll('"', '&quot;')
    .replaceAll("'", '&#39;');
}

const markdown = new Marked({ gfm: true, breaks: false, async: false });
markdown.use({
  renderer: {
    // A card's markdown has no HTML: tags the model writes are shown as the text they are.
    html({ text }) {
      return escapeHtml(text);
    },
    // A card cannot show an image by URL (it needs an uploaded image key): it shows a link instead.
    image({ href, text }) {
      const label = text.trim() === '' ? href : text;
      return `<a href="${escapeHtml(href)}">${escapeHtml(label)}</a>`;
    },
  },
});

DOMPurify.addHook('afterSanitizeAttributes', (node) => {
  if (node.tagName === 'A') {
    node.setAttribute('target', '_blank');
    node.setAttribute('rel', 'noopener noreferrer nofollow');
  }
  // GFM task list boxes show state; they are not controls.
  if (node.tagName === 'INPUT') {
    if (node.getAttribute('type') !== 'checkbox') node.remove();
    else node.setAttribute('disabled', '');
  }
});

const PURIFY_CONFIG = {
  ALLOWED_TAGS,
  ALLOWED_ATTR: [...ALLOWED_ATTR, 'target', 'rel'],
  ALLOWED_URI_REGEXP: SAFE_URL,
  ALLOW_DATA_ATTR: false,
  RETURN_DOM_FRAGMENT: true,
};

/**
 * Renders Markdown to a sanitised DocumentFragment to append to the page.
 *
 * @example
 * target.replaceChildren(renderMarkdown('# Hello\n\n- one\n- two'));
 */
export function renderMarkdown(text) {
  const html = markdown.parse(String(text ?? ''));
  return DOMPurify.sanitize(html, PURIFY_CONFIG);
}

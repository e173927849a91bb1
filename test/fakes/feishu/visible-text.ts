import { isRecord } from './util.js';

/**
 * What a person sees of a message's content: the text of a text message with mentions as
 * `@name`, the lines of a post, the strings of a card. Pure functions of the stored JSON.
 *
 * @example
 * cardVisibleText({ schema: '2.0', body: { elements: [{ tag: 'markdown', content: 'Hi' }] } }); // 'Hi'
 */

const TEXT_TAGS = new Set(['markdown', 'plain_text', 'lark_md']);

/** Visible strings of a card (v1 or v2 JSON), header first, in document order. */
export function cardVisibleText(card: unknown): string {
  const parts: string[] = [];
  const walk = (node: unknown): void => {
    if (Array.isArray(node)) {
      for (const item of node) walk(item);
      return;
    }
    if (!isRecord(node)) return;
    if (typeof node.tag === 'string' && TEXT_TAGS.has(node.tag) && typeof node.content === 'string') {
      if (node.content !== '') parts.push(node.content);
      return;
    }
    for (const [key, value] of Object.entries(node)) {
      // config (summary, streaming settings) and behaviours are not rendered text.
      if (key === 'config' || key === 'behaviors' || key === 'value' || key === 'header') continue;
      walk(value);
    }
  };
  if (isRecord(card)) walk(card.header);
  walk(card);
  return parts.join('\n');
}

/** Visible text of `post` content (`{title, content}` or `{zh_cn: {...}}` / `{post: {zh_cn}}`). */
export function postVisibleText(post: unknown): string {
  let body: unknown = post;
  if (isRecord(body) && isRecord(body.post)) body = body.post;
  if (isRecord(body) && !Array.isArray(body.content)) {
    const locale = Object.values(body).find((value) => isRecord(value) && Array.isArray(value.content));
    if (locale) body = locale;
  }
  if (!isRecord(body)) return '';
  const lines: string[] = [];
  if (typeof body.title === 'string' && body.title !== '') lines.push(body.title);
  const paragraphs = Array.isArray(body.content) ? body.content : [];
  for (const paragraph of paragraphs) {
    if (!Array.isArray(paragraph)) continue;
    let line = '';
    for (const element of paragraph) {
      if (!isRecord(element)) continue;
      if (element.tag === 'at') line += `@${String(element.user_name ?? element.user_id ?? '')}`;
      else if (element.tag === 'img') line += '[image]';
      else if (typeof element.text === 'string') line += element.text;
    }
    lines.push(line);
  }
  return lines.join('\n');
}

/** Visible text of a `text` message: `<at>` tags and mention keys (`@_user_1`) become `@name`. */
export function textVisibleText(text: string, mentions: ReadonlyArray<{ key: string; name: string }>): string {
  let visible = text.replace(/<at\s+[^>]*>([^<]*)<\/at>/g, '@$1');
  for (const mention of mentions) visible = visible.split(mention.key).join(`@${mention.name}`);
  return visible;
}

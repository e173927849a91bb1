import { z } from 'zod';
import { defineTool } from './tool-definition.js';
import { pageText } from './web/page-text.js';

/** `readWebPage`: a public web page as readable text (SSRF-guarded, size and time limited). */
export const readWebPageTool = defineTool({
  name: 'readWebPage',
  description:
    'Reads a public web page (http or https link) and returns its title and main text as Markdown. Use it for links the user pastes and for search results you need details from. Private and intranet addresses are refused.',
  inputSchema: z.object({
    url: z.string().trim().min(1).max(2_000).describe('The full link, starting with http:// or https://.'),
  }),
  scopes: [],
  access: 'read',
  identity: 'none',
  execute: async ({ url }, { web, signal }) => {
    const page = await web.fetchPage(url, { signal });
    const { title, text } = pageText(page);
    return [
      `# ${title ?? page.url}`,
      `Source: ${page.url}${page.redirectedFrom.length > 0 ? ` (redirected from ${page.redirectedFrom[0]})` : ''}`,
      ...(page.truncated
        ? [`[truncated: the page is larger than ${page.body.length} bytes; only its beginning was read]`]
        : []),
      '',
      text === '' ? '(the page has no readable text)' : text,
    ].join('\n');
  },
});

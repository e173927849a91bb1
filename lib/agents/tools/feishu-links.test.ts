import { describe, expect, it } from 'vitest';
import { feishuLinkHints, findFeishuLinks, parseFeishuLink, webLinkHints } from './feishu-links.js';

describe('Feishu links', () => {
  it('reads docx, wiki, sheet (with sheet) and base (with table) links on Feishu and Lark hosts', () => {
    expect(parseFeishuLink('https://acme.feishu.cn/docx/AbCdEf1234567890?from=x')).toMatchObject({
      kind: 'docx',
      token: 'AbCdEf1234567890',
    });
    expect(parseFeishuLink('https://acme.larksuite.com/wiki/Wk12345678901')).toMatchObject({ kind: 'wiki' });
    expect(parseFeishuLink('https://acme.feishu.cn/sheets/Sh12345678901?sheet=0b6d2f')).toMatchObject({
      kind: 'sheet',
      sheetId: '0b6d2f',
    });
    expect(parseFeishuLink('https://x.feishu.cn/base/Ba12345678901?table=tbl1&view=v')).toMatchObject({
      kind: 'base',
      tableId: 'tbl1',
    });
    expect(parseFeishuLink('https://evil.example.com/docx/AbCdEf1234567890')).toBeUndefined();
    expect(parseFeishuLink('not a url')).toBeUndefined();
  });

  it('finds each link once in a message, without trailing punctuation, and names the tool to read it', () => {
    const text =
      '看一下 https://a.feishu.cn/docx/AbCdEf1234567890，还有 https://a.feishu.cn/docx/AbCdEf1234567890. 和 (https://a.feishu.cn/sheets/Sh12345678901)';
    expect(findFeishuLinks(text).map((link) => link.token)).toEqual(['AbCdEf1234567890', 'Sh12345678901']);
    const hints = feishuLinkHints(text).join('\n');
    expect(hints).toContain('docx https://a.feishu.cn/docx/AbCdEf1234567890 → readDocument');
    expect(hints).toContain('→ readSheet');
    expect(feishuLinkHints('no links here')).toEqual([]);
  });

  it('points out other web links for readWebPage, once each, Feishu links left to their own tools', () => {
    expect(
      webLinkHints(
        'compare https://nodejs.org/en/blog, https://acme.feishu.cn/docx/DoxcnAbc0123456789 and https://nodejs.org/en/blog again',
      ),
    ).toEqual([
      '',
      'The message links these web pages. Read them with readWebPage before answering anything about them:',
      '- https://nodejs.org/en/blog → readWebPage',
    ]);
    expect(webLinkHints('no links here')).toEqual([]);
  });
});

import { describe, expect, it } from 'vitest';
import { decodeText, extractPlainText } from './extract-text.js';

const bytes = (text: string) => new TextEncoder().encode(text);

describe('extractPlainText', () => {
  it('keeps prose and Markdown as they are, line endings normalised', () => {
    expect(extractPlainText(bytes('# Title\r\n\r\nBody\r\n'), { language: 'markdown' }).sections[0]!.text).toBe(
      '# Title\n\nBody',
    );
    expect(extractPlainText(bytes('plain words\n'), {}).sections[0]!.text).toBe('plain words');
  });

  it('fences code and JSON with their language, longer than any backtick run inside', () => {
    expect(extractPlainText(bytes('print(1)\n'), { language: 'python' }).sections[0]!.text).toBe(
      '```python\nprint(1)\n```',
    );
    expect(extractPlainText(bytes('s = "```"'), { language: 'python' }).sections[0]!.text).toBe(
      '````python\ns = "```"\n````',
    );
  });

  it('drops a BOM and decodes other encodings', () => {
    expect(decodeText(new Uint8Array([0xef, 0xbb, 0xbf, 0x61]))).toBe('a');
    expect(decodeText(new Uint8Array([0xc9, 0xcf, 0xba, 0xa3]), 'gb18030')).toBe('上海');
  });
});

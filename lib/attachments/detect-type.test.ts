import { randomBytes } from 'node:crypto';
import { zipSync } from 'fflate';
import { describe, expect, it } from 'vitest';
import { fixture } from '../../test/support/attachment-fixtures.js';
import { detectType, extensionOf } from './detect-type.js';

describe('detectType', () => {
  it('recognises each fixture from its bytes', async () => {
    expect((await detectType(fixture('report.pdf'), 'report.pdf')).kind).toBe('pdf');
    expect((await detectType(fixture('plan.docx'), 'plan.docx')).kind).toBe('docx');
    expect((await detectType(fixture('budget.xlsx'), 'budget.xlsx')).kind).toBe('xlsx');
    expect((await detectType(fixture('deck.pptx'), 'deck.pptx')).kind).toBe('pptx');
    expect(await detectType(fixture('screenshot.png'), 'screenshot.png')).toMatchObject({
      kind: 'image',
      mediaType: 'image/png',
    });
    expect(await detectType(fixture('voice.opus'))).toMatchObject({ kind: 'audio', ext: 'opus' });
  });

  it('trusts the bytes over a misleading name', async () => {
    expect((await detectType(fixture('report.pdf'), 'notes.txt')).kind).toBe('pdf');
    expect((await detectType(fixture('screenshot.png'), 'invoice.pdf')).kind).toBe('image');
    expect((await detectType(fixture('plan.docx'), 'plan.xlsx')).kind).toBe('docx');
    expect((await detectType(Buffer.from('just some words\n'), 'report.pdf')).kind).toBe('text');
  });

  it('uses the name only to refine text: CSV, Markdown, JSON, code', async () => {
    const text = Buffer.from('a,b\n1,2\n');
    expect(await detectType(text, 'data.csv')).toMatchObject({ kind: 'csv', delimiter: ',' });
    expect(await detectType(text, 'data.tsv')).toMatchObject({ kind: 'csv', delimiter: '\t' });
    expect(await detectType(text, 'README.md')).toMatchObject({ kind: 'text', language: 'markdown' });
    expect(await detectType(Buffer.from('{"a":1}'), 'config.json')).toMatchObject({ kind: 'text', language: 'json' });
    expect(await detectType(Buffer.from('print(1)\n'), 'main.py')).toMatchObject({ kind: 'text', language: 'python' });
    expect(await detectType(Buffer.from('FROM node:20\n'), 'Dockerfile')).toMatchObject({ language: 'dockerfile' });
    const plain = await detectType(text);
    expect(plain.kind).toBe('text');
    expect(plain.language).toBeUndefined();
  });

  it('decodes UTF-16 with a BOM and a GB18030 CSV from Chinese Windows', async () => {
    const utf16 = Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from('名字,城市\n', 'utf16le')]);
    expect(await detectType(utf16, 'a.csv')).toMatchObject({ kind: 'csv', encoding: 'utf-16le' });
    expect(await detectType(fixture('contacts-gbk.csv'), 'contacts-gbk.csv')).toMatchObject({
      kind: 'csv',
      encoding: 'gb18030',
    });
    expect(await detectType(fixture('contacts.csv'), 'contacts.csv')).toMatchObject({ kind: 'csv', encoding: 'utf-8' });
  });

  it('calls unknown binaries, archives and videos unsupported, with a description for the notice', async () => {
    const noise = randomBytes(4096);
    noise[0] = 0; // random bytes could start like some format; a NUL never starts text
    expect(await detectType(noise, 'data.txt')).toMatchObject({
      kind: 'unsupported',
      description: 'a binary file of an unknown format',
    });
    const zip = Buffer.from(zipSync({ 'a.txt': new TextEncoder().encode('hello') }));
    expect(await detectType(zip, 'photos.zip')).toMatchObject({
      kind: 'unsupported',
      description: 'a compressed archive (zip)',
    });
  });
});

describe('extensionOf', () => {
  it('takes the last extension, lower-cased, and nothing for dotfiles or bare names', () => {
    expect(extensionOf('Report.Final.PDF')).toBe('pdf');
    expect(extensionOf('dir/notes')).toBe('');
    expect(extensionOf('.bashrc')).toBe('');
    expect(extensionOf(undefined)).toBe('');
  });
});

import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { PriceFileError, readPriceFile } from './price-file.js';

describe('readPriceFile', () => {
  const directory = mkdtempSync(join(tmpdir(), 'prices-'));
  afterAll(() => rmSync(directory, { recursive: true, force: true }));
  const file = (name: string, text: string) => {
    const path = join(directory, name);
    writeFileSync(path, text);
    return path;
  };

  it('reads model prices', () => {
    const path = file('ok.json', JSON.stringify({ 'gpt-4o': { inputPerMillion: 2, outputPerMillion: 8 } }));
    expect(readPriceFile(path)).toEqual({ 'gpt-4o': { inputPerMillion: 2, outputPerMillion: 8 } });
  });

  it.each([
    ['a misspelt field', { 'gpt-4o': { inputPerMillion: 2, outputPerMilion: 8 } }, /gpt-4o/],
    ['a negative price', { 'gpt-4o': { inputPerMillion: -1, outputPerMillion: 8 } }, /gpt-4o\.inputPerMillion/],
    ['a price as text', { 'gpt-4o': { inputPerMillion: '2', outputPerMillion: 8 } }, /inputPerMillion/],
    ['an array', [1, 2], /invalid/],
  ])('refuses %s with a message naming the file and the entry', (name, content, pattern) => {
    const path = file(`${name.replace(/\W/g, '-')}.json`, JSON.stringify(content));
    const error = (() => {
      try {
        readPriceFile(path);
      } catch (caught) {
        return caught;
      }
      return undefined;
    })();
    expect(PriceFileError.isInstance(error)).toBe(true);
    expect((error as Error).message).toContain('MODEL_PRICES_FILE');
    expect((error as Error).message).toContain(path);
    expect((error as Error).message).toMatch(pattern);
  });

  it('refuses a file that is not JSON or does not exist', () => {
    expect(() => readPriceFile(file('broken.json', '{ "gpt-4o": '))).toThrow(/is not JSON/);
    expect(() => readPriceFile(join(directory, 'missing.json'))).toThrow(/cannot be read: ENOENT/);
  });
});

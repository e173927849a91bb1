import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  builtInSpecialists,
  createSpecialistRegistry,
  loadSpecialistsFile,
  parseSpecialists,
  SpecialistsFileError,
} from './specialist-registry.js';
import { defaultToolRegistry } from './tools/built-in-tools.js';

const tools = defaultToolRegistry();

function problemsOf(json: string): string[] {
  try {
    parseSpecialists(json, { path: 'ops/specialists.json', tools });
  } catch (error) {
    if (error instanceof SpecialistsFileError) return error.problems;
    throw error;
  }
  throw new Error('expected a SpecialistsFileError');
}

describe('specialists file', () => {
  it('accepts a valid file', () => {
    const specialists = parseSpecialists(
      JSON.stringify({
        specialists: [
          {
            name: 'sql-helper',
            description: 'Writes and explains SQL queries for the analytics warehouse.',
            instructions: 'You write PostgreSQL.',
            model: 'gpt-4o-mini',
            tools: ['currentTime'],
            maxSteps: 2,
          },
        ],
      }),
      { path: 'x.json', tools },
    );
    expect(specialists).toEqual([expect.objectContaining({ name: 'sql-helper', model: 'gpt-4o-mini' })]);
  });

  it('names the file and every bad field', () => {
    let error: unknown;
    try {
      parseSpecialists(
        JSON.stringify({ specialists: [{ name: 'Bad Name', description: 'short', instructions: '' }] }),
        { path: 'ops/specialists.json', tools },
      );
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(SpecialistsFileError);
    const message = (error as Error).message;
    expect(message).toContain('ops/specialists.json');
    expect(message).toContain('specialists[0].name');
    expect(message).toContain('specialists[0].description');
    expect(message).toContain('specialists[0].instructions');
  });

  it('rejects unknown tools, duplicate names, unknown fields and bad JSON', () => {
    const base = { description: 'Does a useful thing well.', instructions: 'Do it.' };
    expect(problemsOf(JSON.stringify({ specialists: [{ name: 'a', ...base, tools: ['rm -rf'] }] }))).toEqual([
      expect.stringMatching(
        /^specialists\[0\]\.tools\[0\]: unknown tool "rm -rf" \(available: readChatHistory, currentTime, readDocument, /,
      ),
    ]);
    expect(
      problemsOf(
        JSON.stringify({
          specialists: [
            { name: 'a', ...base },
            { name: 'a', ...base },
          ],
        }),
      ),
    ).toEqual(['specialists[1].name: "a" is defined twice']);
    expect(problemsOf(JSON.stringify({ specialists: [{ name: 'a', ...base, temperature: 2 }] }))[0]).toMatch(
      /^specialists\[0\]/,
    );
    expect(problemsOf('{ not json')[0]).toMatch(/^not valid JSON/);
    expect(problemsOf('[]')[0]).toMatch(/^\(top level\)/);
  });

  it('reports a missing file clearly', async () => {
    await expect(loadSpecialistsFile('/nonexistent/specialists.json', { tools })).rejects.toThrow(
      /\/nonexistent\/specialists\.json:\n {2}- file not found/,
    );
  });

  it('loads from disk; an operator entry replaces a built-in of the same name', async () => {
    const directory = mkdtempSync(join(tmpdir(), 'specialists-'));
    const path = join(directory, 'specialists.json');
    writeFileSync(
      path,
      JSON.stringify({
        specialists: [
          { name: 'writer', description: 'Writes in the company house style.', instructions: 'House style.' },
        ],
      }),
    );
    const registry = createSpecialistRegistry([
      ...builtInSpecialists(),
      ...(await loadSpecialistsFile(path, { tools })),
    ]);
    expect(registry.list().map((specialist) => specialist.name)).toEqual([
      'summarizer',
      'writer',
      'documents',
      'scheduler',
    ]);
    expect(registry.get('writer')?.instructions).toBe('House style.');
  });

  it('the shipped example file is valid', async () => {
    const specialists = await loadSpecialistsFile('docs/specialists.example.json', { tools });
    expect(specialists.length).toBeGreaterThan(0);
  });
});

import { describe, expect, it } from 'vitest';
import { CappedNameMap, OTHER } from './capped-name-map.js';

describe('CappedNameMap', () => {
  it('gives each name its own value until the cap, then one shared "other"', () => {
    let created = 0;
    const map = new CappedNameMap({ maxEntries: 3, create: () => ({ id: created++ }) });
    const manager = map.get('manager');
    expect(map.get('manager')).toBe(manager);
    map.get('search');
    const late = map.get('writer');
    expect(map.get('calculator')).toBe(late);
    expect(map.entries().map(([name]) => name)).toEqual(['manager', 'search', OTHER]);
    expect(created).toBe(3);
  });

  it('sends empty, overlong and literal "other" names to "other"', () => {
    const map = new CappedNameMap({ maxEntries: 8, maxNameLength: 10, create: () => ({}) });
    const other = map.get('');
    expect(map.get('x'.repeat(11))).toBe(other);
    expect(map.get(OTHER)).toBe(other);
    expect(map.entries()).toEqual([[OTHER, other]]);
  });

  it('makes each value from its name, and the shared one from "other"', () => {
    const labels = new CappedNameMap({ maxEntries: 2, create: (name) => `label:${name}` });
    expect([labels.get('manager'), labels.get('search'), labels.get('manager')]).toEqual([
      'label:manager',
      `label:${OTHER}`,
      'label:manager',
    ]);
  });

  it('rejects a cap below two', () => {
    expect(() => new CappedNameMap({ maxEntries: 1, create: () => ({}) })).toThrow(/maxEntries/);
  });
});

import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';

const require = createRequire(import.meta.url);

/**
 * The libraries the devtools UI imports, served straight from node_modules as their packages ship
 * them: both are single, dependency-free ES modules built for browsers, so the UI needs no
 * bundler and no build step, and `npm update` updates what the browser gets.
 * Keys are the names the UI imports them by (`/devtools/assets/<name>`).
 */
const VENDOR_FILES: Readonly<Record<string, () => string>> = {
  // marked's package entry point is its browser-ready ES module build.
  'marked.esm.js': () => require.resolve('marked'),
  // DOMPurify's exports map resolves `require` to its CommonJS build; the ES build sits beside it.
  'purify.es.mjs': () => join(dirname(require.resolve('dompurify')), 'purify.es.mjs'),
};

/** Whether `name` is one of the UI's vendored libraries. */
export function isVendorFile(name: string): boolean {
  return Object.hasOwn(VENDOR_FILES, name);
}

/**
 * The source of one vendored library, or undefined when the name is not one or the package is
 * missing. The source-map comment is dropped: the map is not served, and a browser with its
 * developer tools open would otherwise log a 404 for it.
 *
 * @example
 * const source = await readVendorFile('marked.esm.js');
 */
export async function readVendorFile(name: string): Promise<string | undefined> {
  const resolve = VENDOR_FILES[name];
  if (!resolve) return undefined;
  try {
    const source = await readFile(resolve(), 'utf8');
    return source.replace(/\n\/\/# sourceMappingURL=\S+\s*$/, '\n');
  } catch {
    return undefined;
  }
}

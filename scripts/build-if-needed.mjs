// `npm start` on a fresh clone must work without a separate build step, but should not pay for
// a rebuild on every restart: rebuild only when a source file is newer than dist/server.js.
import { execSync } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';

const output = 'dist/server.js';

function newestSource(directory) {
  let newest = 0;
  for (const entry of readdirSync(directory, { withFileTypes: true })) {
    const path = join(directory, entry.name);
    if (entry.isDirectory()) newest = Math.max(newest, newestSource(path));
    else newest = Math.max(newest, statSync(path).mtimeMs);
  }
  return newest;
}

// An image built with `npm run build` ships dist/ without the sources: nothing to rebuild from.
if (!existsSync('lib') && existsSync(output)) process.exit(0);

const sourceTime = Math.max(statSync('server.ts').mtimeMs, newestSource('lib'));
if (!existsSync(output) || statSync(output).mtimeMs < sourceTime) {
  execSync('npm run build', { stdio: 'inherit' });
}

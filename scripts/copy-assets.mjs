// tsc compiles only TypeScript; the devtools UI's static files are copied beside the output.
import { cpSync, existsSync } from 'node:fs';

const assets = [['lib/devtools/ui', 'dist/lib/devtools/ui']];
for (const [from, to] of assets) {
  if (existsSync(from)) cpSync(from, to, { recursive: true });
}

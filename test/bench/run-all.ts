/**
 * `npm run bench`: runs every `test/bench/*.bench.ts` in its own process (so one benchmark's
 * heap and JIT state never colour another's figures), one after the other, with `--expose-gc`
 * for the ones that report heap growth. Prints each one's own output; exits 1 if any failed.
 *
 *   node --import tsx test/bench/run-all.ts [name-filter]
 */
import { spawnSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';

const directory = import.meta.dirname;
const filter = process.argv[2];
const benches = readdirSync(directory)
  .filter((file) => file.endsWith('.bench.ts') && (filter === undefined || file.includes(filter)))
  .sort();

let failed = 0;
for (const file of benches) {
  process.stdout.write(`\n── ${file} ──\n`);
  const result = spawnSync(process.execPath, ['--expose-gc', '--import', 'tsx', join(directory, file)], {
    stdio: 'inherit',
  });
  if (result.status !== 0) {
    failed++;
    process.stdout.write(`${file} failed (exit ${result.status ?? result.signal})\n`);
  }
}
process.exit(failed === 0 ? 0 : 1);

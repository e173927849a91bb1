/**
 * `npm run doctor` (built: `node dist/lib/doctor/doctor-cli.js`): checks the configuration in the
 * environment and `.env` against Feishu, the model provider and the store, prints a checklist
 * with fixes, and exits 0 only when nothing the bot needs failed.
 *
 *   npm run doctor                                # probes the running bot at http://127.0.0.1:PORT
 *   npm run doctor -- --url https://bot.example.com  # probes the public URL Feishu calls
 */

import { parseArgs } from 'node:util';
import { ConfigError, loadConfigFromProcess } from '../config.js';
import { packageVersion } from '../process/startup-summary.js';
import { formatCheck, formatVerdict } from './format-checklist.js';
import { runDoctor } from './run-doctor.js';

const colour = process.stdout.isTTY === true && process.env.NO_COLOR === undefined;
const { values } = parseArgs({
  options: { url: { type: 'string' }, help: { type: 'boolean', short: 'h' } },
  strict: true,
});
if (values.help) {
  process.stdout.write('usage: npm run doctor [-- --url <base URL of the running bot>]\n');
  process.exit(0);
}

process.stdout.write(`feishu-agent-bot ${packageVersion()} doctor\n\n`);
try {
  const config = loadConfigFromProcess();
  const { results, exitCode } = await runDoctor(config, {
    ...(values.url === undefined ? {} : { webhookBaseUrl: values.url }),
    onResult: (result) => process.stdout.write(formatCheck(result, { colour })),
  });
  process.stdout.write(formatVerdict(results, { colour }));
  // Sockets the SDKs keep alive must not hold the verdict back.
  process.exit(exitCode);
} catch (error) {
  if (error instanceof ConfigError) {
    process.stdout.write(
      formatCheck(
        {
          id: 'configuration',
          title: 'Configuration',
          status: 'fail',
          summary: 'invalid: the bot would not start',
          details: error.problems,
          fix: 'Correct these variables in the environment or .env (README: Configuration)',
          durationMs: 0,
        },
        { colour },
      ),
    );
    process.stdout.write(
      formatVerdict([{ id: 'configuration', title: '', status: 'fail', summary: '', durationMs: 0 }]),
    );
    process.exit(1);
  }
  throw error;
}

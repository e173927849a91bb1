/**
 * Composition root: config → bot (store, inbox, agents, app) → listen → lifecycle.
 * Everything else lives in lib/; this file only puts it together and starts it.
 */

import { ConfigError, loadConfigFromProcess } from './lib/config.js';

try {
  const config = loadConfigFromProcess();
  // Loaded once the config is known good: a misconfigured start fails in milliseconds, not after
  // importing both SDKs.
  const { startBot } = await import('./lib/bot.js');
  // This process is the service: signals, PM2's shutdown message and crashes drain it before exit.
  await startBot(config, { installProcessHandlers: true });
} catch (error) {
  // A bad SPECIALISTS_FILE or MCP_SERVERS_FILE is a configuration problem too: its message names the file and every field.
  const code = (error as { code?: unknown } | undefined)?.code;
  if (error instanceof ConfigError || code === 'MCP_SERVERS_FILE_INVALID' || code === 'SPECIALISTS_FILE_INVALID') {
    // One message naming every problem, then exit 1: PM2's min_uptime keeps it from looping hot.
    process.stderr.write(`${(error as Error).message}\n`);
    process.exit(1);
  }
  process.stderr.write(`Failed to start: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exit(1);
}

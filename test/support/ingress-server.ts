/**
 * The bot as a child process for the crash-recovery test: configured from the environment like
 * server.ts, with the echo answer handler (slow, so a test can SIGKILL it mid-answer).
 * Prints one JSON line per milestone on stdout: {"listening":port}, {"started":jobId,"attempt":n},
 * {"replied":jobId,"attempt":n}. Logs go to stderr.
 *
 * Usage: node --import tsx test/support/ingress-server.ts   (env: FEISHU_*, STORE_URL, ECHO_DELAY_MS, …)
 */
import { startBot } from '../../lib/bot.js';
import { loadConfig } from '../../lib/config.js';
import { createLogger } from '../../lib/log.js';
import { createEchoAnswerHandler } from './echo-answer-handler.js';

const say = (line: Record<string, unknown>) => process.stdout.write(`${JSON.stringify(line)}\n`);

const config = loadConfig(process.env);
const log = createLogger({
  level: config.logLevel,
  secrets: config.secrets,
  destination: process.stderr,
  pretty: false,
});
const bot = await startBot(config, {
  log,
  // The stand-in answer. To run the real conversation step instead, drop this one `handlers` line
  // and point MODEL / OPENAI_BASE_URL at the fake OpenAI (startBot then wires createMessageHandler).
  handlers: ({ feishuClient }) => ({
    answer: createEchoAnswerHandler({
      client: feishuClient,
      delayMs: Number(process.env.ECHO_DELAY_MS ?? 0),
      holdAfterReplyMs: Number(process.env.ECHO_HOLD_AFTER_REPLY_MS ?? 0),
      onStart: (jobId, attempt) => say({ started: jobId, attempt }),
      onReplied: (jobId, attempt) => say({ replied: jobId, attempt }),
    }),
  }),
  dispatcher: { pollIntervalMs: Number(process.env.DISPATCHER_POLL_MS ?? 1_000) },
});
say({ listening: bot.port });

for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    void bot.stop().then(() => process.exit(0));
  });
}

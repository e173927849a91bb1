import { Writable } from 'node:stream';
import pino, { type DestinationStream, type Logger } from 'pino';
import pretty from 'pino-pretty';
import { createRedactor, REDACTED } from './observe/redact.js';

export type { Logger } from 'pino';

/** Field names whose values are secrets wherever they sit in a log object. */
const REDACTED_PATHS = [
  'appSecret',
  'app_secret',
  'encryptKey',
  'encrypt_key',
  'apiKey',
  'api_key',
  'token',
  'verificationToken',
  'tenant_access_token',
  'access_token',
  'authorization',
  'Authorization',
  'password',
  'secret',
  '*.appSecret',
  '*.app_secret',
  '*.encryptKey',
  '*.encrypt_key',
  '*.apiKey',
  '*.api_key',
  '*.token',
  '*.verificationToken',
  '*.tenant_access_token',
  '*.access_token',
  '*.authorization',
  '*.Authorization',
  '*.password',
  '*.secret',
  'headers.authorization',
  'req.headers.authorization',
  'req.headers.cookie',
];

export type LogFormat = 'json' | 'pretty';

/**
 * LOG_FORMAT when set, else pretty on a terminal and JSON lines everywhere else (PM2, CI, Docker).
 *
 * @example
 * const log = createLogger({ pretty: resolveLogFormat(config.logFormat) === 'pretty' });
 */
export function resolveLogFormat(
  format: LogFormat | undefined,
  stdout: { isTTY?: boolean } = process.stdout,
): LogFormat {
  return format ?? (stdout.isTTY === true ? 'pretty' : 'json');
}

export interface LoggerOptions {
  level?: string;
  /** Secret values scrubbed from every line, also inside messages and error stacks. */
  secrets?: readonly string[];
  /** Where lines go; stdout by default (PM2 captures it). */
  destination?: NodeJS.WritableStream;
  /** Human-readable lines; defaults to true when stdout is a TTY. */
  pretty?: boolean;
  base?: Record<string, unknown>;
}

/**
 * Wraps a stream so every line passes the service's redactor before it is written: each secret
 * value, also inside messages, URLs and error stacks where path-based redaction cannot reach, and
 * every credential shape (bearer tokens, `sk-` keys, Feishu tenant and user access tokens) that
 * nobody configured, such as a user's own authorization.
 */
export function scrubbingStream(target: NodeJS.WritableStream, secrets: readonly string[]): NodeJS.WritableStream {
  const redact = createRedactor(secrets);
  return new Writable({
    write(chunk: Buffer | string, _encoding, callback) {
      target.write(redact(typeof chunk === 'string' ? chunk : chunk.toString('utf8')));
      callback();
    },
  });
}

/**
 * Creates the service logger: JSON lines to stdout, pretty in a terminal, secrets redacted.
 *
 * @example
 * const log = createLogger({ level: config.logLevel, secrets: config.secrets });
 * log.info({ chatId }, 'message accepted');
 */
export function createLogger({
  level = 'info',
  secrets = [],
  destination = process.stdout,
  pretty: prettyOutput = process.stdout.isTTY === true && destination === process.stdout,
  base,
}: LoggerOptions = {}): Logger {
  const scrubbed = scrubbingStream(destination, secrets);
  const stream: DestinationStream = prettyOutput
    ? pretty({ colorize: true, translateTime: 'SYS:HH:MM:ss.l', destination: scrubbed, sync: true })
    : (scrubbed as DestinationStream);
  return pino(
    {
      level,
      base: base ?? { pid: process.pid },
      redact: { paths: REDACTED_PATHS, censor: REDACTED },
      timestamp: pino.stdTimeFunctions.isoTime,
      serializers: { err: pino.stdSerializers.err, error: pino.stdSerializers.err },
    },
    stream,
  );
}

/** A logger that writes nothing, for unit tests and benchmarks. */
export function silentLogger(): Logger {
  return pino({ level: 'silent' });
}

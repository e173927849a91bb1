import { Writable } from 'node:stream';
import pino, { type DestinationStream, type Logger } from 'pino';
import pretty from 'pino-pretty';

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
 * Wraps a stream so every occurrence of a secret value is replaced before it is written.
 * Path-based redaction misses secrets quoted inside messages or URLs; this does not.
 */
export function scrubbingStream(target: NodeJS.WritableStream, secrets: readonly string[]): NodeJS.WritableStream {
  const needles = [...new Set(secrets.filter((secret) => secret.length >= 4))];
  if (needles.length === 0) return target;
  return new Writable({
    write(chunk: Buffer | string, _encoding, callback) {
      let line = typeof chunk === 'string' ? chunk : chunk.toString('utf8');
      for (const needle of needles) {
        if (line.includes(needle)) line = line.split(needle).join('[Redacted]');
      }
      target.write(line);
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
      redact: { paths: REDACTED_PATHS, censor: '[Redacted]' },
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

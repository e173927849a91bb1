import { createRedactor, type Redactor } from '../observe/redact.js';

export interface SanitiseOptions {
  /** Default: the credential shapes only (no configured secrets). */
  redact?: Redactor;
  /** Longer text is cut to this many characters, an ellipsis included. Default 300. */
  maxLength?: number;
}

const redactShapes = createRedactor();

/**
 * An error message fit to show in `/health`: credentials redacted (see lib/observe/redact.ts),
 * whitespace collapsed to single spaces, and cut to `maxLength`. Redaction comes before the
 * cut, so a secret is never left half visible.
 *
 * @example
 * sanitiseErrorMessage('401 for sk-abcdefghijklmnop', { redact: createRedactor(config.secrets) });
 * // '401 for [Redacted]'
 */
export function sanitiseErrorMessage(
  message: string,
  { redact = redactShapes, maxLength = 300 }: SanitiseOptions = {},
): string {
  const text = redact(typeof message === 'string' ? message : String(message))
    .replace(/\s+/g, ' ')
    .trim();
  return text.length > maxLength ? `${text.slice(0, maxLength - 1)}…` : text;
}

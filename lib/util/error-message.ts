/**
 * The message of anything thrown: an Error's `message`, anything else as a string. Use it where a
 * caught value becomes text for a log field, a notice or another error's message.
 *
 * @example
 * catch (error) { log.warn({ reason: errorMessage(error) }, 'store write failed'); }
 */
export function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/**
 * The value itself when it is an Error, otherwise an Error whose message says what it was, so
 * `cause` chains and stack-aware loggers always get an Error.
 */
export function toError(error: unknown, context?: string): Error {
  if (error instanceof Error) return error;
  return new Error(context === undefined ? String(error) : `${context}: ${String(error)}`);
}

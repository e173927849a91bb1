import { errorMessage, toError } from '../util/error-message.js';
import { StoreUnavailableError } from './store.js';

// SQLite result codes that mean "the database cannot be used right now", not "your call is wrong".
const UNAVAILABLE_CODES = /^SQLITE_(BUSY|LOCKED|IOERR|CANTOPEN|FULL|READONLY|CORRUPT|NOTADB|PROTOCOL)/;

/**
 * What a SQLite failure means to a caller: a StoreUnavailableError (answer 503, try again) when
 * the database cannot be used right now (locked past the busy timeout, disk full, I/O error),
 * otherwise the error itself, so a caller's bad argument or a bug is not mistaken for an outage.
 *
 * @example
 * catch (error) { throw toSqliteStoreError(error, 'SQLite enqueue failed'); }
 */
export function toSqliteStoreError(error: unknown, context: string): Error {
  const code = (error as { code?: unknown } | null)?.code;
  if (typeof code === 'string' && UNAVAILABLE_CODES.test(code)) {
    return new StoreUnavailableError(`${context}: ${errorMessage(error)}`, { cause: error });
  }
  return toError(error, context);
}

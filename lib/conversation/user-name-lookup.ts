import type { Logger } from '../log.js';
import { withTimeout } from '../util/with-timeout.js';

/** Looks up a person's display name; undefined when unknown. */
export type UserNameLookup = (openId: string) => Promise<string | undefined>;

/**
 * A bounded display-name lookup: undefined when there is no resolver, it fails or it is slower
 * than `timeoutMs`; names are trimmed and cut to 100 characters.
 *
 * @example
 * const lookUpUserName = createUserNameLookup({ resolveUserName, timeoutMs: 1_000, log });
 * const name = await lookUpUserName(message.sender.openId);
 */
export function createUserNameLookup({
  resolveUserName,
  timeoutMs = 1_000,
  log,
}: {
  resolveUserName?: ((openId: string) => Promise<string | undefined>) | undefined;
  timeoutMs?: number;
  log: Logger;
}): UserNameLookup {
  return async (openId) => {
    if (resolveUserName === undefined || openId === '') return undefined;
    try {
      const name = await withTimeout(
        resolveUserName(openId),
        timeoutMs,
        () => new Error(`user name lookup took over ${timeoutMs} ms`),
      );
      return typeof name === 'string' && name.trim() !== '' ? name.trim().slice(0, 100) : undefined;
    } catch (error) {
      log.debug({ err: error }, 'user name lookup failed');
      return undefined;
    }
  };
}

/**
 * IANA time zone names, checked the one way this code base does: Intl either knows the zone or
 * refuses to build a formatter for it (aliases such as `UTC` and `Asia/Calcutta` included), so
 * no list of zones is kept that could fall behind the runtime's.
 */

/** Zones already seen valid; a handful in practice, bounded anyway. */
const known = new Set<string>();
const MAX_KNOWN = 256;

/**
 * True when Intl knows the zone.
 *
 * @example
 * isTimeZone('Asia/Shanghai'); // true
 * isTimeZone('Asia/Shanghia'); // false
 */
export function isTimeZone(timeZone: string): boolean {
  if (known.has(timeZone)) return true;
  try {
    new Intl.DateTimeFormat('en', { timeZone });
  } catch {
    return false;
  }
  if (known.size < MAX_KNOWN) known.add(timeZone);
  return true;
}

/**
 * The zone itself when Intl knows it; a RangeError naming it otherwise (callers with errors of
 * their own check with `isTimeZone`).
 *
 * @example
 * const zone = checkTimeZone(conversation.timeZone ?? 'Asia/Shanghai');
 */
export function checkTimeZone(timeZone: string): string {
  if (isTimeZone(timeZone)) return timeZone;
  throw new RangeError(`Unknown time zone "${timeZone}" (use an IANA name such as Asia/Shanghai)`);
}

import { describe, expect, it } from 'vitest';
import { checkTimeZone, isTimeZone } from './time-zone.js';

describe('time zones', () => {
  it('knows real zones and aliases from typos', () => {
    expect(isTimeZone('Asia/Shanghai')).toBe(true);
    expect(isTimeZone('UTC')).toBe(true);
    expect(isTimeZone('America/New_York')).toBe(true);
    expect(isTimeZone('Asia/Shanghia')).toBe(false);
    expect(isTimeZone('')).toBe(false);
    // Asked again (now from the cache of known zones), the answers hold.
    expect(isTimeZone('Asia/Shanghai')).toBe(true);
    expect(isTimeZone('Asia/Shanghia')).toBe(false);
  });

  it('returns a known zone and names an unknown one in its error', () => {
    expect(checkTimeZone('Europe/Berlin')).toBe('Europe/Berlin');
    expect(() => checkTimeZone('Mars/Olympus')).toThrow(
      new RangeError('Unknown time zone "Mars/Olympus" (use an IANA name such as Asia/Shanghai)'),
    );
  });
});

/**
 * A value a fixture's vitest hook sets and its tests read: read before the hook ran (at collection
 * time, or from a file without the fixture's hooks), it is a clear error instead of `undefined`.
 *
 * @example
 * get client() { return setUpValue('useFakeFeishuChat', 'client', client); }
 */
export function setUpValue<T>(fixture: string, what: string, value: T | undefined): T {
  if (value === undefined) throw new Error(`${fixture}: ${what} is read before the set-up ran`);
  return value;
}

/** The name every entry beyond the cap is counted under. */
export const OTHER = 'other';

export interface CappedNameMapOptions<T> {
  /** Entries at most, 'other' included. Integer ≥ 2. */
  maxEntries: number;
  /** Longer names (free text, not a name) go to 'other'. Default 64. */
  maxNameLength?: number;
  /** Makes the value for a name on first use (`'other'` for the shared one). */
  create: (name: string) => T;
}

/**
 * One value per name (agent, provider/model, metric label) for names that come from outside, with a bounded
 * number of entries: the first `maxEntries − 1` distinct names get their own value, every later,
 * empty or overlong name shares the one under 'other'. A lookup of a known name is one map get.
 *
 * @example
 * const agents = new CappedNameMap({ maxEntries: 64, create: () => new CallWindow(geometry) });
 * agents.get('manager').record(now, 840, false);
 */
export class CappedNameMap<T> {
  private readonly named = new Map<string, T>();
  private other: T | undefined;
  private readonly maxEntries: number;
  private readonly maxNameLength: number;
  private readonly create: (name: string) => T;

  constructor({ maxEntries, maxNameLength = 64, create }: CappedNameMapOptions<T>) {
    if (!Number.isInteger(maxEntries) || maxEntries < 2) throw new RangeError('maxEntries must be an integer ≥ 2');
    this.maxEntries = maxEntries;
    this.maxNameLength = maxNameLength;
    this.create = create;
  }

  /** The value for `name`, created on first use. */
  get(name: string): T {
    const known = this.named.get(name);
    if (known !== undefined) return known;
    // One entry stays reserved for 'other', so there are never more than maxEntries values.
    if (
      name === OTHER ||
      name.length === 0 ||
      name.length > this.maxNameLength ||
      this.named.size >= this.maxEntries - 1
    ) {
      this.other ??= this.create(OTHER);
      return this.other;
    }
    const created = this.create(name);
    this.named.set(name, created);
    return created;
  }

  /** Every entry in first-use order, 'other' last. */
  entries(): Array<[string, T]> {
    const entries = [...this.named.entries()];
    if (this.other !== undefined) entries.push([OTHER, this.other]);
    return entries;
  }
}

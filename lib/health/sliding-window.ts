export interface SlidingWindowOptions {
  /** Slots in the ring: the window slides one slot at a time. Integer ≥ 2. */
  slotCount: number;
  /** Length of one slot in ms; the window covers `slotCount × slotMs`. */
  slotMs: number;
  /** Counters per slot (for example one per error category). Default 1. */
  width?: number;
}

const EMPTY_EPOCH = Number.NEGATIVE_INFINITY;

/**
 * Counters over a sliding time window, kept in a ring of `slotCount` slots of `width` counters
 * each, allocated once. Time is cut into epochs of `slotMs`; epoch `e` lives in slot
 * `e mod slotCount`. A slot still holding an older epoch is zeroed when it is next written, and
 * a read counts only the slots whose epoch lies inside the window ending now, so old bursts age
 * out without a timer and recording allocates nothing.
 *
 * @example
 * const errors = new SlidingWindow({ slotCount: 60, slotMs: 5_000, width: 2 });
 * errors.counts[errors.offsetAt(Date.now()) + 1]++;
 * errors.sum(Date.now(), 1); // errors of kind 1 over the last 300 s
 */
export class SlidingWindow {
  readonly slotCount: number;
  readonly slotMs: number;
  readonly width: number;
  /** `slotCount × width` counters; a slot's counters start at the offset `offsetAt` returns. */
  readonly counts: Float64Array;
  private readonly epochs: Float64Array;

  constructor({ slotCount, slotMs, width = 1 }: SlidingWindowOptions) {
    if (!Number.isInteger(slotCount) || slotCount < 2) throw new RangeError('slotCount must be an integer ≥ 2');
    if (!(slotMs > 0) || !Number.isFinite(slotMs)) throw new RangeError('slotMs must be a finite number > 0');
    if (!Number.isInteger(width) || width < 1) throw new RangeError('width must be an integer ≥ 1');
    this.slotCount = slotCount;
    this.slotMs = slotMs;
    this.width = width;
    this.counts = new Float64Array(slotCount * width);
    this.epochs = new Float64Array(slotCount).fill(EMPTY_EPOCH);
  }

  /** The epoch (slot-length period since 1970) that `now` falls in. */
  epochAt(now: number): number {
    return Math.floor(now / this.slotMs);
  }

  /**
   * Offset in `counts` of the first counter of the slot covering `now`, ready to be written:
   * when the slot last held an epoch that has slid out, its counters are zeroed first.
   */
  offsetAt(now: number): number {
    const epoch = Math.floor(now / this.slotMs);
    const slot = epoch % this.slotCount;
    const offset = slot * this.width;
    if (this.epochs[slot] !== epoch) {
      this.epochs[slot] = epoch;
      this.counts.fill(0, offset, offset + this.width);
    }
    return offset;
  }

  /** Adds `amount` to counter `index` of the slot covering `now`. */
  add(now: number, index = 0, amount = 1): void {
    this.counts[this.offsetAt(now) + index]! += amount;
  }

  /** Counter `index` summed over the window ending at `now`. */
  sum(now: number, index = 0): number {
    const current = this.epochAt(now);
    let total = 0;
    for (let slot = 0; slot < this.slotCount; slot++) {
      if (this.isLive(slot, current)) total += this.counts[slot * this.width + index]!;
    }
    return total;
  }

  /** The largest value of counter `index` over the window ending at `now` (0 when empty). */
  max(now: number, index = 0): number {
    const current = this.epochAt(now);
    let largest = 0;
    for (let slot = 0; slot < this.slotCount; slot++) {
      if (!this.isLive(slot, current)) continue;
      const value = this.counts[slot * this.width + index]!;
      if (value > largest) largest = value;
    }
    return largest;
  }

  /**
   * Adds counters `from … from + length − 1` of every slot in the window ending at `now` into
   * `target[0 … length − 1]`, element by element (a histogram, or counts per category).
   */
  sumInto(now: number, target: Float64Array, from = 0, length = this.width - from): Float64Array {
    const current = this.epochAt(now);
    for (let slot = 0; slot < this.slotCount; slot++) {
      if (!this.isLive(slot, current)) continue;
      const offset = slot * this.width + from;
      for (let index = 0; index < length; index++) target[index]! += this.counts[offset + index]!;
    }
    return target;
  }

  /** Whether `slot` holds an epoch inside the window ending at epoch `current`. */
  private isLive(slot: number, current: number): boolean {
    const epoch = this.epochs[slot]!;
    return epoch <= current && epoch > current - this.slotCount;
  }
}

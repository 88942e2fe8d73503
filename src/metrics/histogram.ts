import { ValidationError } from '../core/errors.js';

/**
 * A log-linear histogram in the manner of HdrHistogram: fixed memory, chosen up front, and a
 * bounded relative error at every magnitude, so tail percentiles (p99, p99.9) stay accurate
 * where a fixed-bucket histogram would only say "between 100 ms and 250 ms".
 *
 * Values are first scaled to integer units of `lowest` (the resolution). Below
 * 2^(m+1) units every unit has its own slot; above, each power of two [2^e, 2^(e+1)) is split
 * into 2^m equal slots, with 2^m >= 10^significantFigures. A slot's width is then at most
 * 10^-significantFigures of any value in it, which bounds the error of a reported percentile:
 *
 *   |reported - true| <= max(true * 10^-significantFigures, lowest)
 *
 * A percentile reports the upper end of its slot (clamped to the largest value seen), so it
 * never understates a latency.
 */

/** More figures than this cost more memory than any latency is worth (4 figures: 2.5 MB a histogram over the default range, 4.7 MB over HISTOGRAM_RANGE_MAX; 2: 27 kB). */
export const HISTOGRAM_SIGNIFICANT_FIGURES_MAX = 4;
/** highest / lowest at most: keeps every scaled value an exact integer in a double. */
export const HISTOGRAM_RANGE_MAX = 2 ** 48;

export interface HistogramOptions {
  /** The resolution: values closer than this are not told apart. Default 1e-6 (1 µs in seconds). */
  lowest?: number;
  /** The largest value tracked; larger values count in the last slot. Default 3600 (an hour in seconds). */
  highest?: number;
  /** 1 to HISTOGRAM_SIGNIFICANT_FIGURES_MAX. Default 2 (1% relative error). */
  significantFigures?: number;
}

export const DEFAULT_HISTOGRAM_OPTIONS: Required<HistogramOptions> = { lowest: 1e-6, highest: 3600, significantFigures: 2 };

export class LogLinearHistogram {
  readonly lowest: number;
  readonly highest: number;
  readonly significantFigures: number;
  /** log2 of the slots per power of two above the linear range. */
  private readonly m: number;
  /** 2^(m+1) (the linear slots) and 2^m, kept: indexOf runs on every value recorded. */
  private readonly linearSlots: number;
  private readonly halfSlots: number;
  private readonly counts: Float64Array;
  private total = 0;
  private sumOfValues = 0;
  private minSeen = Number.POSITIVE_INFINITY;
  private maxSeen = Number.NEGATIVE_INFINITY;
  private saturatedCount = 0;

  constructor(options: HistogramOptions = {}) {
    const o = { ...DEFAULT_HISTOGRAM_OPTIONS, ...options };
    if (typeof o.lowest !== 'number' || !(o.lowest > 0) || !Number.isFinite(o.lowest)) {
      throw new ValidationError('lowest', `a finite number > 0, got ${String(o.lowest)}`);
    }
    if (typeof o.highest !== 'number' || !Number.isFinite(o.highest) || !(o.highest >= 2 * o.lowest)) {
      throw new ValidationError('highest', `a finite number >= 2 * lowest, got ${String(o.highest)}`);
    }
    if (o.highest / o.lowest > HISTOGRAM_RANGE_MAX) {
      throw new ValidationError('highest', `at most ${HISTOGRAM_RANGE_MAX} times lowest, got ${o.highest / o.lowest} times`);
    }
    if (!Number.isInteger(o.significantFigures) || o.significantFigures < 1 || o.significantFigures > HISTOGRAM_SIGNIFICANT_FIGURES_MAX) {
      throw new ValidationError('significantFigures', `an integer from 1 to ${HISTOGRAM_SIGNIFICANT_FIGURES_MAX}, got ${String(o.significantFigures)}`);
    }
    this.lowest = o.lowest;
    this.highest = o.highest;
    this.significantFigures = o.significantFigures;
    this.m = Math.ceil(Math.log2(10 ** o.significantFigures));
    const topExponent = floorLog2(Math.floor(o.highest / o.lowest));
    const linear = 2 ** (this.m + 1);
    this.linearSlots = linear;
    this.halfSlots = 2 ** this.m;
    this.counts = new Float64Array(linear + Math.max(0, topExponent - this.m) * 2 ** this.m);
  }

  /** Bytes held by the slots: fixed at construction. */
  get footprintBytes(): number {
    return this.counts.byteLength;
  }

  record(value: number, count = 1): void {
    if (typeof value !== 'number' || !(value >= 0) || !Number.isFinite(value)) {
      throw new ValidationError('value', `a finite number >= 0, got ${String(value)}`);
    }
    if (!Number.isInteger(count) || count < 1) throw new ValidationError('count', `an integer >= 1, got ${String(count)}`);
    let index = this.indexOf(Math.floor(value / this.lowest));
    if (index >= this.counts.length) {
      index = this.counts.length - 1;
      this.saturatedCount += count;
    }
    this.counts[index]! += count;
    this.total += count;
    this.sumOfValues += value * count;
    if (value < this.minSeen) this.minSeen = value;
    if (value > this.maxSeen) this.maxSeen = value;
  }

  get count(): number {
    return this.total;
  }

  get sum(): number {
    return this.sumOfValues;
  }

  /** The smallest value recorded (exact); NaN when empty. */
  get min(): number {
    return this.total === 0 ? Number.NaN : this.minSeen;
  }

  /** The largest value recorded (exact); NaN when empty. */
  get max(): number {
    return this.total === 0 ? Number.NaN : this.maxSeen;
  }

  /** Values recorded above `highest` (counted in the last slot, so their percentiles read low). */
  get saturated(): number {
    return this.saturatedCount;
  }

  /**
   * The value at percentile `p` (0..100): the smallest recorded value with at least p% of the
   * values at or below it, reported as the upper end of its slot. NaN when empty.
   */
  valueAtPercentile(p: number): number {
    if (typeof p !== 'number' || !(p >= 0 && p <= 100)) throw new ValidationError('percentile', `a number from 0 to 100, got ${String(p)}`);
    if (this.total === 0) return Number.NaN;
    const rank = Math.max(1, Math.ceil((p / 100) * this.total));
    let seen = 0;
    for (let i = 0; i < this.counts.length; i++) {
      seen += this.counts[i]!;
      if (seen >= rank) return Math.min(Math.max(this.slotUpper(i), this.minSeen), this.maxSeen);
    }
    return this.maxSeen;
  }

  reset(): void {
    this.counts.fill(0);
    this.total = 0;
    this.sumOfValues = 0;
    this.minSeen = Number.POSITIVE_INFINITY;
    this.maxSeen = Number.NEGATIVE_INFINITY;
    this.saturatedCount = 0;
  }

  private indexOf(units: number): number {
    const linear = this.linearSlots;
    if (units < linear) return units;
    const m = this.m;
    const half = this.halfSlots;
    if (units <= 0xffffffff) {
      // Below 2^32, integer bit operations give the same: floor(log2) and the shift.
      const e = 31 - Math.clz32(units);
      return linear + (e - m - 1) * half + (units >>> (e - m)) - half;
    }
    const e = floorLog2(units);
    return linear + (e - m - 1) * half + Math.floor(units / 2 ** (e - m)) - half;
  }

  /** The exclusive upper end of slot `index`, in the caller's unit. */
  private slotUpper(index: number): number {
    const linear = 2 ** (this.m + 1);
    if (index < linear) return (index + 1) * this.lowest;
    const half = 2 ** this.m;
    const e = Math.floor((index - linear) / half) + this.m + 1;
    const sub = (index - linear) % half;
    const width = 2 ** (e - this.m);
    return (2 ** e + (sub + 1) * width) * this.lowest;
  }
}

/** floor(log2(n)) for an integer n >= 1, exact even where Math.log2 rounds. */
function floorLog2(n: number): number {
  let e = Math.floor(Math.log2(n));
  if (2 ** e > n) e--;
  else if (2 ** (e + 1) <= n) e++;
  return e;
}

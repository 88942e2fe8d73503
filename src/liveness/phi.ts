import { assert } from '../core/assert.js';

/**
 * The phi-accrual failure detector (Hayashibara, Défago, Yared, Katayama, SRDS 2004), with
 * Akka's parameters and arithmetic (akka.remote.PhiAccrualFailureDetector).
 *
 * Instead of a yes/no verdict it outputs phi = -log10(P(a heartbeat arrives later than now)),
 * with the inter-arrival times modelled as a normal distribution fitted to the last
 * maxSampleSize intervals. phi = 1 means a 10% chance that we are wrong to suspect, phi = 8 a
 * 1e-8 chance. The distribution's mean is pushed out by acceptableHeartbeatPauseMs, and its
 * standard deviation is at least minStdDeviationMs, so that a very regular stream (sd near 0)
 * does not make the detector jump at the first late heartbeat.
 */

/** Akka cluster's default threshold. */
export const DEFAULT_PHI_THRESHOLD = 8;
/** Akka's max-sample-size: the window of intervals the distribution is fitted to. */
export const DEFAULT_MAX_SAMPLE_SIZE = 1000;
/** Akka's min-std-deviation. */
export const DEFAULT_MIN_STD_DEVIATION_MS = 100;
/** Margin added to the mean interval; 0 leaves the detection to the statistics alone. */
export const DEFAULT_ACCEPTABLE_HEARTBEAT_PAUSE_MS = 0;
/** Akka's first-heartbeat-estimate: the mean assumed before any interval is known. */
export const DEFAULT_FIRST_HEARTBEAT_ESTIMATE_MS = 1000;

export interface PhiOptions {
  /** isAvailable() is phi < threshold. */
  threshold: number;
  maxSampleSize: number;
  minStdDeviationMs: number;
  acceptableHeartbeatPauseMs: number;
  firstHeartbeatEstimateMs: number;
}

export const DEFAULT_PHI_OPTIONS: Readonly<PhiOptions> = Object.freeze({
  threshold: DEFAULT_PHI_THRESHOLD,
  maxSampleSize: DEFAULT_MAX_SAMPLE_SIZE,
  minStdDeviationMs: DEFAULT_MIN_STD_DEVIATION_MS,
  acceptableHeartbeatPauseMs: DEFAULT_ACCEPTABLE_HEARTBEAT_PAUSE_MS,
  firstHeartbeatEstimateMs: DEFAULT_FIRST_HEARTBEAT_ESTIMATE_MS,
});

/**
 * phi for a silence of `timeDiffMs` under a normal distribution of intervals. The normal CDF
 * is Akka's logistic approximation, 1 / (1 + exp(-y (1.5976 + 0.070566 y^2))) (Bowling et al.
 * 2009, error below 1.4e-4), and each branch is written to avoid cancellation in its tail.
 */
export function phiOf(timeDiffMs: number, meanMs: number, stdDeviationMs: number): number {
  const y = (timeDiffMs - meanMs) / stdDeviationMs;
  const e = Math.exp(-y * (1.5976 + 0.070566 * y * y));
  if (timeDiffMs > meanMs) return -Math.log10(e / (1 + e));
  return -Math.log10(1 - 1 / (1 + e));
}

/** The last `capacity` intervals, with running sums so mean and variance are O(1). */
export class HeartbeatHistory {
  private readonly intervals: Float64Array;
  private start = 0;
  private count = 0;
  private sum = 0;
  private squaredSum = 0;

  constructor(readonly capacity: number) {
    assert(Number.isInteger(capacity) && capacity >= 1, 'history capacity is a positive integer');
    this.intervals = new Float64Array(capacity);
  }

  add(intervalMs: number): void {
    if (this.count === this.capacity) {
      const dropped = this.intervals[this.start] as number;
      this.sum -= dropped;
      this.squaredSum -= dropped * dropped;
      this.intervals[this.start] = intervalMs;
      this.start = (this.start + 1) % this.capacity;
    } else {
      this.intervals[(this.start + this.count) % this.capacity] = intervalMs;
      this.count++;
    }
    this.sum += intervalMs;
    this.squaredSum += intervalMs * intervalMs;
  }

  /** Drop the oldest interval (none if empty): how a stand-in sample makes way for a real one. */
  dropOldest(): void {
    if (this.count === 0) return;
    const dropped = this.intervals[this.start] as number;
    this.start = (this.start + 1) % this.capacity;
    this.count--;
    if (this.count === 0) {
      // Exactly empty, not the rounding residue of the running sums.
      this.sum = 0;
      this.squaredSum = 0;
    } else {
      this.sum -= dropped;
      this.squaredSum -= dropped * dropped;
    }
  }

  get size(): number {
    return this.count;
  }

  get mean(): number {
    return this.count === 0 ? 0 : this.sum / this.count;
  }

  get variance(): number {
    if (this.count === 0) return 0;
    const mean = this.mean;
    // Running sums can leave a tiny negative residue when every interval is equal.
    return Math.max(0, this.squaredSum / this.count - mean * mean);
  }

  get stdDeviation(): number {
    return Math.sqrt(this.variance);
  }
}

export class PhiAccrualDetector {
  readonly options: Readonly<PhiOptions>;
  private history: HeartbeatHistory;
  private lastMs: number | undefined;
  /** Seeded intervals (see heartbeat) still in the history, all older than every real one. */
  private seeds = 0;
  /** The next interval spans a discounted stall of the monitor; it is not a sample. */
  private skipNextInterval = false;

  constructor(options: Partial<PhiOptions> = {}) {
    this.options = { ...DEFAULT_PHI_OPTIONS, ...options };
    const o = this.options;
    assert(o.threshold > 0, 'threshold > 0');
    assert(Number.isInteger(o.maxSampleSize) && o.maxSampleSize >= 2, 'maxSampleSize is an integer >= 2');
    assert(o.minStdDeviationMs > 0, 'minStdDeviationMs > 0');
    assert(o.acceptableHeartbeatPauseMs >= 0, 'acceptableHeartbeatPauseMs >= 0');
    assert(o.firstHeartbeatEstimateMs > 0, 'firstHeartbeatEstimateMs > 0');
    this.history = new HeartbeatHistory(o.maxSampleSize);
  }

  /** When the last heartbeat arrived (after any stall discount), or undefined before the first. */
  get lastHeartbeatMs(): number | undefined {
    return this.lastMs;
  }

  get sampleCount(): number {
    return this.history.size;
  }

  get meanIntervalMs(): number {
    return this.history.mean;
  }

  /** The standard deviation phi uses: the history's, but at least minStdDeviationMs. */
  get stdDeviationMs(): number {
    return Math.max(this.history.stdDeviation, this.options.minStdDeviationMs);
  }

  heartbeat(nowMs: number): void {
    const last = this.lastMs;
    if (last === undefined) {
      // Akka seeds a new history with two intervals around the first estimate, sd = mean / 4,
      // so phi is meaningful from the very first silence.
      const mean = this.options.firstHeartbeatEstimateMs;
      this.history.add(mean - mean / 4);
      this.history.add(mean + mean / 4);
      this.seeds = 2;
    } else {
      // A wall clock may step backwards (NTP); that reads as no time passing, not as a crash.
      // Nor is it an interval: the heartbeat's 0 ms since the last one is the step's, and as a
      // sample it pulled the mean down and widened the spread (noticed in session 68). Two
      // heartbeats read at the same time on a clock that did not step are sampled (as Akka's).
      const steppedBack = nowMs < last;
      nowMs = Math.max(nowMs, last);
      // An interval that already counts as a failure (the first heartbeat after one) or that
      // spans the monitor's own stall would skew the distribution; Akka skips the former too.
      if (!steppedBack && !this.skipNextInterval && this.isAvailable(nowMs)) {
        // Unlike Akka, each real interval evicts a seed while any is left: the estimate stands
        // in only until two real intervals are known. Kept for the whole window (Akka's), an
        // estimate far from the real interval skewed mean and spread for maxSampleSize
        // intervals, after start and after each restart (estimate 5 s, interval 100 ms: a
        // crash took 3.8 s to convict instead of 0.63 s; found by an audit, session 60).
        // Dropped before the add, so a full window of 2 does not evict a real interval.
        if (this.seeds > 0) {
          this.history.dropOldest();
          this.seeds--;
        }
        this.history.add(nowMs - last);
      }
    }
    this.skipNextInterval = false;
    this.lastMs = nowMs;
  }

  /** 0 before the first heartbeat: a node never heard from is not yet suspected. */
  phi(nowMs: number): number {
    const last = this.lastMs;
    if (last === undefined) return 0;
    return phiOf(Math.max(nowMs - last, 0), this.history.mean + this.options.acceptableHeartbeatPauseMs, this.stdDeviationMs);
  }

  isAvailable(nowMs: number): boolean {
    return this.phi(nowMs) < this.options.threshold;
  }

  /**
   * The monitor itself was stalled for `stalledMs` (see stall.ts): heartbeats could not be
   * processed then, so that time does not count as silence. The last arrival moves forward
   * by the stall, though never past `nowMs`, and the interval it starts is not sampled.
   */
  discount(stalledMs: number, nowMs: number): void {
    assert(stalledMs >= 0, 'stalledMs >= 0');
    if (this.lastMs === undefined || stalledMs === 0) return;
    this.lastMs = Math.min(this.lastMs + stalledMs, Math.max(nowMs, this.lastMs));
    this.skipNextInterval = true;
  }
}

/**
 * The silence after the last heartbeat at which phi reaches `threshold`, for intervals of mean
 * `meanMs` and standard deviation `sdMs` (phi grows with silence; bisection to 0.01 ms). The
 * inverse of `phiOf`: what a detection-time bound is made of.
 */
export function silenceAtPhi(threshold: number, meanMs: number, sdMs: number): number {
  let low = 0;
  let high = meanMs + sdMs;
  while (phiOf(high, meanMs, sdMs) < threshold) high *= 2;
  while (high - low > 0.01) {
    const mid = (low + high) / 2;
    if (phiOf(mid, meanMs, sdMs) < threshold) low = mid;
    else high = mid;
  }
  return high;
}

/**
 * The silence after which a detector that has heard one heartbeat convicts (phi reaches its
 * threshold): what `firstHeartbeatEstimateMs`, `acceptableHeartbeatPauseMs`, the spread and
 * the threshold make of a node never heard from since (a Membership counts joining as the
 * first heartbeat, so this is how long a member that never beats stays up). About 620 ms with
 * a cluster's defaults (100 ms estimate, 100 ms least spread, threshold 8).
 */
export function firstSilenceMs(options: Partial<PhiOptions> = {}): number {
  const detector = new PhiAccrualDetector(options);
  detector.heartbeat(0);
  return silenceAtPhi(detector.options.threshold, detector.meanIntervalMs + detector.options.acceptableHeartbeatPauseMs, detector.stdDeviationMs);
}

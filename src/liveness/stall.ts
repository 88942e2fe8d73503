import { assert } from '../core/assert.js';

/**
 * Detects that the MONITOR's own event loop stalled (a long GC, a blocking computation, a
 * starved thread). The monitor runs a periodic check every intervalMs; if the gap since the
 * previous check is more than stallFactor intervals, the monitor was not running for
 * gap - intervalMs, and heartbeats that arrived meanwhile are still queued, unprocessed. Left
 * alone, the first check after the stall would see every node silent for that long and convict
 * them all for the monitor's own fault. The caller discounts the stall instead
 * (PhiAccrualDetector.discount, done by Membership.evaluate).
 *
 * A real failure that happens during a stall is still detected, later by at most the stall.
 */

/** A gap over 3 intervals is a stall: timer jitter is a fraction of one interval. */
export const DEFAULT_STALL_FACTOR = 3;

export interface StallOptions {
  /** How often the monitor's check is meant to run. */
  intervalMs: number;
  stallFactor?: number;
}

export class StallDetector {
  readonly intervalMs: number;
  readonly stallFactor: number;
  private previousMs: number | undefined;
  private stalledTotalMs = 0;
  private stallCount = 0;

  constructor(options: StallOptions) {
    this.intervalMs = options.intervalMs;
    this.stallFactor = options.stallFactor ?? DEFAULT_STALL_FACTOR;
    assert(Number.isFinite(this.intervalMs) && this.intervalMs > 0, 'intervalMs is finite and > 0');
    assert(Number.isFinite(this.stallFactor) && this.stallFactor > 1, 'stallFactor is finite and > 1');
  }

  /**
   * Call at every run of the periodic check. Returns how long the monitor was stalled before
   * this run (the gap beyond one interval), or 0 when it ran on time.
   */
  observe(nowMs: number): number {
    const previous = this.previousMs;
    if (previous === undefined) {
      this.previousMs = nowMs;
      return 0;
    }
    // A clock that steps backwards reads as standing still.
    this.previousMs = Math.max(nowMs, previous);
    const gapMs = Math.max(nowMs - previous, 0);
    if (gapMs <= this.stallFactor * this.intervalMs) return 0;
    const stalledMs = gapMs - this.intervalMs;
    this.stalledTotalMs += stalledMs;
    this.stallCount++;
    return stalledMs;
  }

  get totalStalledMs(): number {
    return this.stalledTotalMs;
  }

  get stalls(): number {
    return this.stallCount;
  }
}

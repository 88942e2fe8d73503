/**
 * Finagle's peak EWMA of response times (finagle-core loadbalancer/PeakEwma.scala). It is an
 * exponentially weighted moving average over an unevenly spaced series, with a twist: a sample
 * above the current cost replaces it at once. A server that turns slow is avoided immediately;
 * one that turns fast again earns traffic back only as the peak decays.
 */

/** Finagle's default decay time: the cost's mean lifetime; its half-life is tau * ln 2. */
export const DEFAULT_DECAY_TIME_MS = 10_000;

/**
 * The cost after observing `rttMs` at `nowMs`, given the cost `costMs` last updated at
 * `stampMs`: w = exp(-(now - stamp) / tau); cost' = rtt if rtt > cost, else cost * w + rtt * (1 - w).
 */
export function observePeakEwma(costMs: number, stampMs: number, rttMs: number, nowMs: number, decayTimeMs: number): number {
  if (rttMs > costMs) return rttMs;
  const w = Math.exp(-Math.max(nowMs - stampMs, 0) / decayTimeMs);
  return costMs * w + rttMs * (1 - w);
}

/**
 * The cost as seen at `nowMs` with no new sample: Finagle observes a 0 on every read, which
 * decays the cost toward 0 so that an idle slow server is eventually probed again.
 */
export function decayedPeakEwma(costMs: number, stampMs: number, nowMs: number, decayTimeMs: number): number {
  return costMs * Math.exp(-Math.max(nowMs - stampMs, 0) / decayTimeMs);
}

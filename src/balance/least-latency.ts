import { assert } from '../core/assert.js';
import type { Prng } from '../core/prng.js';
import { twoDistinct } from './choose.js';
import { DEFAULT_DECAY_TIME_MS, decayedPeakEwma, observePeakEwma } from './peak-ewma.js';
import type { Endpoint, PickRequest, Strategy } from './types.js';

/**
 * Finagle's penalty for an endpoint that has requests in flight but has never answered one:
 * larger than any real cost, so it is not sent a second request before its first returns.
 */
export const UNKNOWN_LATENCY_PENALTY = 2 ** 47;

/** Endpoints remembered beyond the current list before forgotten ones are swept out. */
const MAX_STALE_ENTRIES = 64;

interface Estimate {
  costMs: number;
  stampMs: number;
}

export interface LeastLatencyOptions {
  prng: Prng;
  decayTimeMs?: number;
}

/**
 * Peak-EWMA load balancing (Finagle's "p2cPeakEwma"): each endpoint's score is its decayed
 * peak-EWMA latency times (in-flight + 1), divided by its weight, and the lower-scoring of two
 * random endpoints wins. The (in-flight + 1) factor estimates the latency of one more request
 * sent there; it also makes a slow server, which holds its requests longer, look slower still.
 *
 * Failed requests count with their latency like any other; a server that fails fast would
 * attract traffic, which is the outlier detector's job (outlier.ts) to stop, not this one's.
 * Without `request.nowMs`, costs are read as of the latest result reported.
 */
export function createLeastLatency(options: LeastLatencyOptions): Strategy {
  const { prng } = options;
  const decayTimeMs = options.decayTimeMs ?? DEFAULT_DECAY_TIME_MS;
  assert(Number.isFinite(decayTimeMs) && decayTimeMs > 0, 'decayTimeMs is finite and > 0');
  const estimates = new Map<string, Estimate>();
  let latestMs = 0;

  function score(endpoint: Endpoint, nowMs: number): number {
    const estimate = estimates.get(endpoint.id);
    const cost = estimate === undefined ? 0 : decayedPeakEwma(estimate.costMs, estimate.stampMs, nowMs, decayTimeMs);
    if (cost === 0 && endpoint.active > 0) return UNKNOWN_LATENCY_PENALTY + endpoint.active;
    return (cost * (endpoint.active + 1)) / endpoint.weight;
  }

  function sweep(endpoints: readonly Endpoint[]): void {
    const present = new Set(endpoints.map((e) => e.id));
    for (const id of [...estimates.keys()]) if (!present.has(id)) estimates.delete(id);
  }

  return {
    name: 'least-latency',
    pick(endpoints: readonly Endpoint[], request?: PickRequest): Endpoint | undefined {
      const n = endpoints.length;
      if (n <= 1) return endpoints[0];
      if (estimates.size > n + MAX_STALE_ENTRIES) sweep(endpoints);
      const nowMs = request?.nowMs ?? latestMs;
      const [i, j] = twoDistinct(n, prng);
      const a = endpoints[i] as Endpoint;
      const b = endpoints[j] as Endpoint;
      return score(b, nowMs) < score(a, nowMs) ? b : a;
    },
    onResult(id: string, latencyMs: number, _ok: boolean, nowMs: number): void {
      assert(Number.isFinite(latencyMs) && latencyMs >= 0, 'latencyMs is finite and >= 0');
      latestMs = Math.max(latestMs, nowMs);
      const estimate = estimates.get(id);
      if (estimate === undefined) {
        estimates.set(id, { costMs: latencyMs, stampMs: nowMs });
        return;
      }
      estimate.costMs = observePeakEwma(estimate.costMs, estimate.stampMs, latencyMs, nowMs, decayTimeMs);
      estimate.stampMs = Math.max(estimate.stampMs, nowMs);
    },
  };
}

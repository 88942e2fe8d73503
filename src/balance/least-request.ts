import { assert } from '../core/assert.js';
import type { Prng } from '../core/prng.js';
import { twoDistinct, weightedIndex, weightsEqual } from './choose.js';
import type { Endpoint, Strategy } from './types.js';

/** Envoy's default: two random candidates (the "power of two choices", Mitzenmacher 2001). */
export const DEFAULT_CHOICE_COUNT = 2;
/** Most candidates one pick may compare; past a handful the gain over two is small. */
export const MAX_CHOICE_COUNT = 16;
/** Envoy's default active_request_bias: effective weight = weight / (active + 1) ^ bias. */
export const DEFAULT_ACTIVE_REQUEST_BIAS = 1.0;

export interface LeastRequestOptions {
  prng: Prng;
  choiceCount?: number;
  activeRequestBias?: number;
}

/**
 * Least outstanding requests, as Envoy's LEAST_REQUEST does it.
 *
 * Equal weights: draw `choiceCount` distinct endpoints at random and take the one with the
 * fewest in-flight requests (the first drawn on ties). Two choices already bring the maximum
 * load from ln n / ln ln n down to ln ln n / ln 2 (Azar et al. 1994).
 *
 * Unequal weights: each endpoint gets the effective weight weight / (active + 1) ^ bias and one
 * is drawn in proportion to it. Envoy runs an EDF scheduler over the same effective weights;
 * a weighted draw gives each endpoint the same share in expectation and needs no scheduler
 * state to keep in step with a changing endpoint list. Bias 0 is plain weighted random;
 * larger biases steer harder away from busy endpoints.
 */
export function createLeastRequest(options: LeastRequestOptions): Strategy {
  const { prng } = options;
  const choiceCount = options.choiceCount ?? DEFAULT_CHOICE_COUNT;
  const bias = options.activeRequestBias ?? DEFAULT_ACTIVE_REQUEST_BIAS;
  assert(Number.isInteger(choiceCount) && choiceCount >= 2 && choiceCount <= MAX_CHOICE_COUNT, 'choiceCount in [2, MAX_CHOICE_COUNT]');
  assert(Number.isFinite(bias) && bias >= 0, 'activeRequestBias is finite and >= 0');
  const drawn = new Int32Array(MAX_CHOICE_COUNT);
  let scores = new Float64Array(16);

  function drawnBefore(index: number, count: number): boolean {
    for (let k = 0; k < count; k++) if (drawn[k] === index) return true;
    return false;
  }

  function leastOfDrawn(endpoints: readonly Endpoint[]): Endpoint {
    const n = endpoints.length;
    if (choiceCount >= n) {
      // Every endpoint is a candidate: scan them all from a random start, so ties still
      // go to a random one instead of always to the first in the list.
      const start = prng.int(n);
      let best = endpoints[start] as Endpoint;
      for (let k = 1; k < n; k++) {
        const candidate = endpoints[(start + k) % n] as Endpoint;
        if (candidate.active < best.active) best = candidate;
      }
      return best;
    }
    if (choiceCount === 2) {
      const [i, j] = twoDistinct(n, prng);
      const first = endpoints[i] as Endpoint;
      const second = endpoints[j] as Endpoint;
      return second.active < first.active ? second : first;
    }
    let best: Endpoint | undefined;
    for (let k = 0; k < choiceCount; k++) {
      let index: number;
      // Rejection sampling of distinct indices: choiceCount < n, and choiceCount is small.
      do {
        index = prng.int(n);
      } while (drawnBefore(index, k));
      drawn[k] = index;
      const candidate = endpoints[index] as Endpoint;
      if (best === undefined || candidate.active < best.active) best = candidate;
    }
    return best as Endpoint;
  }

  return {
    name: 'least-request',
    pick(endpoints: readonly Endpoint[]): Endpoint | undefined {
      const n = endpoints.length;
      if (n <= 1) return endpoints[0];
      if (weightsEqual(endpoints)) return leastOfDrawn(endpoints);
      if (scores.length < n) scores = new Float64Array(n * 2);
      let total = 0;
      for (let i = 0; i < n; i++) {
        const endpoint = endpoints[i] as Endpoint;
        const load = endpoint.active + 1;
        const score = bias === 1 ? endpoint.weight / load : bias === 0 ? endpoint.weight : endpoint.weight / Math.pow(load, bias);
        scores[i] = score;
        total += score;
      }
      return endpoints[weightedIndex(scores, n, total, prng)];
    },
    onResult(): void {},
  };
}

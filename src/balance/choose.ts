import type { Prng } from '../core/prng.js';
import type { Endpoint } from './types.js';

/** True when every endpoint has the same weight, so a strategy can take its unweighted path. */
export function weightsEqual(endpoints: readonly Endpoint[]): boolean {
  const first = endpoints[0];
  if (first === undefined) return true;
  for (let i = 1; i < endpoints.length; i++) {
    if ((endpoints[i] as Endpoint).weight !== first.weight) return false;
  }
  return true;
}

/**
 * Index in [0, count) drawn with probability proportional to `scores[i]` (all finite, >= 0, not
 * all 0).
 * Rounding can leave the draw past the last bucket; it then falls on the last positive score.
 */
export function weightedIndex(scores: ArrayLike<number>, count: number, total: number, prng: Prng): number {
  let target = prng.next() * total;
  let lastPositive = -1;
  for (let i = 0; i < count; i++) {
    const score = scores[i] as number;
    if (score <= 0) continue;
    lastPositive = i;
    if (target < score) return i;
    target -= score;
  }
  return lastPositive;
}

/**
 * Two distinct indices in [0, n), uniformly, for power-of-two-choices. Distinct matters at
 * small n: with replacement, two servers would compare a server with itself half the time.
 */
export function twoDistinct(n: number, prng: Prng): [number, number] {
  const first = prng.int(n);
  let second = prng.int(n - 1);
  if (second >= first) second++;
  return [first, second];
}

import type { Prng } from '../core/prng.js';
import { weightedIndex, weightsEqual } from './choose.js';
import type { Endpoint, Strategy } from './types.js';

/**
 * Uniform random choice, or proportional to weight when weights differ. No state: its value is
 * as the baseline every other strategy is measured against (see the balls-into-bins bench).
 */
export function createRandom(prng: Prng): Strategy {
  let scratch = new Float64Array(16);
  return {
    name: 'random',
    pick(endpoints: readonly Endpoint[]): Endpoint | undefined {
      const n = endpoints.length;
      if (n <= 1) return endpoints[0];
      if (weightsEqual(endpoints)) return endpoints[prng.int(n)];
      if (scratch.length < n) scratch = new Float64Array(n * 2);
      let total = 0;
      for (let i = 0; i < n; i++) {
        const weight = (endpoints[i] as Endpoint).weight;
        scratch[i] = weight;
        total += weight;
      }
      return endpoints[weightedIndex(scratch, n, total, prng)];
    },
    onResult(): void {},
  };
}

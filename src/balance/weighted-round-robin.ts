import type { Endpoint, Strategy } from './types.js';

/**
 * Smooth weighted round-robin as nginx does it (ngx_http_upstream_get_peer): every pick, each
 * endpoint's current weight grows by its weight; the largest current weight wins (the first
 * one on ties) and drops by the sum of all weights. Weights 5, 1, 1 give a a b a c a a: the
 * heavy server's turns are spread out instead of bunched as a a a a a b c.
 *
 * Current weights are kept by id. When the endpoint list changes, survivors keep theirs, a
 * newcomer starts at 0 and a leaver's entry is dropped. Each pick adds the total and removes
 * it once, so the sum of current weights stays fixed between changes and the sequence is
 * back to exact proportions within one cycle.
 */
export function createWeightedRoundRobin(): Strategy {
  let current = new Map<string, number>();
  return {
    name: 'weighted-round-robin',
    pick(endpoints: readonly Endpoint[]): Endpoint | undefined {
      const n = endpoints.length;
      if (n === 0) return undefined;
      let total = 0;
      let best: Endpoint | undefined;
      let bestCurrent = -Infinity;
      for (let i = 0; i < n; i++) {
        const endpoint = endpoints[i] as Endpoint;
        const value = (current.get(endpoint.id) ?? 0) + endpoint.weight;
        current.set(endpoint.id, value);
        total += endpoint.weight;
        if (value > bestCurrent) {
          bestCurrent = value;
          best = endpoint;
        }
      }
      const chosen = best as Endpoint;
      current.set(chosen.id, bestCurrent - total);
      // Ids are unique, so a map larger than the list still holds servers that left.
      if (current.size > n) {
        const kept = new Map<string, number>();
        for (const endpoint of endpoints) kept.set(endpoint.id, current.get(endpoint.id) as number);
        current = kept;
      }
      return chosen;
    },
    onResult(): void {},
  };
}

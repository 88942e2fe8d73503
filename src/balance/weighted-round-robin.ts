import { EndpointSetKey } from './endpoint-set.js';
import type { Endpoint, Strategy } from './types.js';

/**
 * Smooth weighted round-robin as nginx does it (ngx_http_upstream_get_peer): every pick, each
 * endpoint's current weight grows by its weight; the largest current weight wins (the first
 * one on ties) and drops by the sum of all weights. Weights 5, 1, 1 give a a b a c a a: the
 * heavy server's turns are spread out instead of bunched as a a a a a b c.
 *
 * Current weights live in an array parallel to the endpoint list. When the list changes,
 * survivors keep theirs (matched by id), a newcomer starts at 0 and a leaver's is dropped.
 * Each pick adds the total and removes it once, so the sum of current weights stays fixed
 * between changes and the sequence is back to exact proportions within a cycle or so.
 */
export function createWeightedRoundRobin(): Strategy {
  let builtFor: EndpointSetKey | undefined;
  let ids: string[] = [];
  let current = new Float64Array(0);

  function adopt(endpoints: readonly Endpoint[]): void {
    const previous = new Map<string, number>();
    ids.forEach((id, i) => previous.set(id, current[i] as number));
    ids = endpoints.map((e) => e.id);
    current = Float64Array.from(ids, (id) => previous.get(id) ?? 0);
    builtFor = new EndpointSetKey(endpoints);
  }

  return {
    name: 'weighted-round-robin',
    pick(endpoints: readonly Endpoint[]): Endpoint | undefined {
      const n = endpoints.length;
      if (n === 0) return undefined;
      if (builtFor === undefined || !builtFor.matches(endpoints)) adopt(endpoints);
      let total = 0;
      let best = 0;
      let bestCurrent = -Infinity;
      for (let i = 0; i < n; i++) {
        const weight = (endpoints[i] as Endpoint).weight;
        const value = (current[i] as number) + weight;
        current[i] = value;
        total += weight;
        if (value > bestCurrent) {
          bestCurrent = value;
          best = i;
        }
      }
      current[best] = bestCurrent - total;
      return endpoints[best];
    },
    onResult(): void {},
  };
}

import type { Endpoint } from './types.js';

/**
 * The ids and weights a lookup structure (hash ring, Maglev table) was built from. Building is
 * costly and the endpoint list rarely changes, so a strategy keeps the last build and checks,
 * in O(n) per pick, whether the list it is handed is still the same one in the same order.
 */
export class EndpointSetKey {
  private readonly ids: string[];
  private readonly weights: number[];

  constructor(endpoints: readonly Endpoint[]) {
    this.ids = endpoints.map((e) => e.id);
    this.weights = endpoints.map((e) => e.weight);
  }

  matches(endpoints: readonly Endpoint[]): boolean {
    if (endpoints.length !== this.ids.length) return false;
    for (let i = 0; i < endpoints.length; i++) {
      const endpoint = endpoints[i] as Endpoint;
      if (endpoint.id !== this.ids[i] || endpoint.weight !== this.weights[i]) return false;
    }
    return true;
  }
}

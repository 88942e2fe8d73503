import { assert } from '../core/assert.js';
import type { Prng } from '../core/prng.js';
import { EndpointSetKey } from './endpoint-set.js';
import { hash32 } from './hash.js';
import { DEFAULT_VIRTUAL_NODES, HashRing, MAX_VIRTUAL_NODES } from './ring.js';
import type { Endpoint, PickRequest, Strategy } from './types.js';

/** A sensible bounded-load factor when one is wanted (Vimeo runs c = 1.25); off by default. */
export const SUGGESTED_BOUNDED_LOAD_FACTOR = 1.25;

export interface ConsistentHashOptions {
  prng: Prng;
  virtualNodes?: number;
  /**
   * Consistent hashing with bounded loads (Mirrokni, Thorup, Zadimoghaddam 2018): no endpoint
   * may hold more than ceil(c * (total active + 1) * weight / total weight) requests, counting
   * the one being placed; a key whose endpoint is full walks on along the ring to the next
   * one with room. c >= 1; undefined turns the bound off.
   */
  boundedLoadFactor?: number;
}

/** The most requests `endpoint` may hold under the bound, counting the one being placed. */
export function boundedLoadCap(endpoint: Endpoint, c: number, totalActive: number, totalWeight: number): number {
  return Math.ceil((c * (totalActive + 1) * endpoint.weight) / totalWeight);
}

/**
 * Ring hashing of the request key. A request without a key lands on a random point, which
 * spreads keyless traffic in proportion to each endpoint's share of the ring.
 */
export function createConsistentHash(options: ConsistentHashOptions): Strategy {
  const { prng } = options;
  const virtualNodes = options.virtualNodes ?? DEFAULT_VIRTUAL_NODES;
  const c = options.boundedLoadFactor;
  assert(Number.isInteger(virtualNodes) && virtualNodes >= 1 && virtualNodes <= MAX_VIRTUAL_NODES, 'virtualNodes in [1, MAX_VIRTUAL_NODES]');
  assert(c === undefined || (Number.isFinite(c) && c >= 1), 'boundedLoadFactor is finite and >= 1');
  let builtFor: EndpointSetKey | undefined;
  let ring: HashRing | undefined;

  return {
    name: 'consistent-hash',
    pick(endpoints: readonly Endpoint[], request?: PickRequest): Endpoint | undefined {
      const n = endpoints.length;
      if (n === 0) return undefined;
      if (ring === undefined || builtFor === undefined || !builtFor.matches(endpoints)) {
        ring = new HashRing(endpoints, virtualNodes);
        builtFor = new EndpointSetKey(endpoints);
      }
      const key = request?.key;
      const hash = key === undefined ? prng.nextUint32() : hash32(key);
      const start = ring.pointFor(hash);
      if (c === undefined) return endpoints[ring.owners[start] as number];

      let totalActive = 0;
      let totalWeight = 0;
      for (const endpoint of endpoints) {
        totalActive += endpoint.active;
        totalWeight += endpoint.weight;
      }
      // The caps sum to at least total + 1 > total active, so some endpoint has room and the
      // walk ends within one turn of the ring.
      for (let step = 0; step < ring.size; step++) {
        const endpoint = endpoints[ring.owners[(start + step) % ring.size] as number] as Endpoint;
        if (endpoint.active < boundedLoadCap(endpoint, c, totalActive, totalWeight)) return endpoint;
      }
      assert(false, 'bounded-load walk found an endpoint with room');
    },
    onResult(): void {},
  };
}

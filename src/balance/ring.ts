import { assert } from '../core/assert.js';
import { hash32 } from './hash.js';
import type { Endpoint } from './types.js';

/**
 * Virtual nodes per endpoint of weight 1. Ketama (libmemcached) uses 160: the share of a server
 * on the ring then has a relative standard deviation of about 1 / sqrt(160), 8%.
 */
export const DEFAULT_VIRTUAL_NODES = 160;
export const MAX_VIRTUAL_NODES = 10_000;
/** The ring never holds more points than this; heavier weights are scaled down to fit. */
export const MAX_RING_SIZE = 1 << 20;

/**
 * A consistent-hash ring (Karger et al. 1997). Each endpoint owns round(virtualNodes * weight)
 * points at hash32("<id>#<i>"); a key belongs to the first point at or after hash32(key),
 * wrapping around. Points depend only on their own endpoint's id, so when one of N endpoints
 * leaves only the keys it owned, about 1/N, move.
 */
export class HashRing {
  /** Point positions, ascending. */
  readonly positions: Uint32Array;
  /** owners[i] is the index, in the endpoint list the ring was built from, of point i. */
  readonly owners: Int32Array;

  constructor(endpoints: readonly Endpoint[], virtualNodes: number) {
    assert(endpoints.length > 0, 'a ring needs at least one endpoint');
    assert(Number.isInteger(virtualNodes) && virtualNodes >= 1, 'virtualNodes is a positive integer');
    let wanted = 0;
    for (const endpoint of endpoints) wanted += Math.max(1, Math.round(virtualNodes * endpoint.weight));
    const scale = wanted > MAX_RING_SIZE ? MAX_RING_SIZE / wanted : 1;
    const points: { position: number; owner: number; id: string }[] = [];
    endpoints.forEach((endpoint, owner) => {
      const count = Math.max(1, Math.round(virtualNodes * endpoint.weight * scale));
      for (let i = 0; i < count; i++) points.push({ position: hash32(`${endpoint.id}#${i}`), owner, id: endpoint.id });
    });
    // Two points may collide; ordering them by id keeps the ring independent of list order.
    points.sort((a, b) => a.position - b.position || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
    this.positions = Uint32Array.from(points, (p) => p.position);
    this.owners = Int32Array.from(points, (p) => p.owner);
  }

  get size(): number {
    return this.positions.length;
  }

  /** Index of the first point at or after `hash`, wrapping to 0 past the last one. */
  pointFor(hash: number): number {
    const positions = this.positions;
    let low = 0;
    let high = positions.length;
    while (low < high) {
      const mid = (low + high) >>> 1;
      if ((positions[mid] as number) < hash) low = mid + 1;
      else high = mid;
    }
    return low === positions.length ? 0 : low;
  }
}

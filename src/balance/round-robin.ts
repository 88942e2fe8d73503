import type { Prng } from '../core/prng.js';
import type { Endpoint, Strategy } from './types.js';

/**
 * Plain round-robin, ignoring weights. It remembers the id it picked last rather than a bare
 * counter, so when the endpoint list changes it continues after that server instead of
 * skipping one or repeating one. The first pick starts at a seeded random position so that
 * many balancers started together do not all send their first request to the same server.
 */
export function createRoundRobin(prng: Prng): Strategy {
  let lastIndex = -1;
  let lastId: string | undefined;
  return {
    name: 'round-robin',
    pick(endpoints: readonly Endpoint[]): Endpoint | undefined {
      const n = endpoints.length;
      if (n === 0) return undefined;
      let index: number;
      if (lastId === undefined) {
        index = prng.int(n);
      } else if (endpoints[lastIndex]?.id === lastId) {
        index = (lastIndex + 1) % n;
      } else {
        const found = endpoints.findIndex((e) => e.id === lastId);
        // The last server left: whoever now stands at its position is the next one in turn.
        index = found >= 0 ? (found + 1) % n : lastIndex % n;
      }
      const chosen = endpoints[index] as Endpoint;
      lastIndex = index;
      lastId = chosen.id;
      return chosen;
    },
    onResult(): void {},
  };
}

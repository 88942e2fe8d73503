import { unreachable } from '../core/assert.js';
import type { Prng } from '../core/prng.js';
import { createConsistentHash } from './consistent-hash.js';
import { createLeastLatency } from './least-latency.js';
import { createLeastRequest } from './least-request.js';
import { createMaglev } from './maglev.js';
import { createRandom } from './random.js';
import { createRoundRobin } from './round-robin.js';
import type { Strategy, StrategyName } from './types.js';
import { createWeightedRoundRobin } from './weighted-round-robin.js';

/** Everything any strategy may be tuned with; each reads only its own options. */
export interface StrategyOptions {
  prng: Prng;
  /** least-request */
  choiceCount?: number;
  /** least-request */
  activeRequestBias?: number;
  /** consistent-hash */
  virtualNodes?: number;
  /** consistent-hash; undefined means no load bound */
  boundedLoadFactor?: number;
  /** maglev */
  maglevTableSize?: number;
  /** least-latency */
  decayTimeMs?: number;
}

export function createStrategy(name: StrategyName, options: StrategyOptions): Strategy {
  const { prng } = options;
  switch (name) {
    case 'random':
      return createRandom(prng);
    case 'round-robin':
      return createRoundRobin(prng);
    case 'weighted-round-robin':
      return createWeightedRoundRobin();
    case 'least-request':
      return createLeastRequest({ prng, choiceCount: options.choiceCount, activeRequestBias: options.activeRequestBias });
    case 'consistent-hash':
      return createConsistentHash({ prng, virtualNodes: options.virtualNodes, boundedLoadFactor: options.boundedLoadFactor });
    case 'maglev':
      return createMaglev({ prng, tableSize: options.maglevTableSize });
    case 'least-latency':
      return createLeastLatency({ prng, decayTimeMs: options.decayTimeMs });
    default:
      return unreachable(name, 'strategy');
  }
}

import { assert } from '../core/assert.js';
import type { Prng } from '../core/prng.js';
import { EndpointSetKey } from './endpoint-set.js';
import { hash32 } from './hash.js';
import type { Endpoint, PickRequest, Strategy } from './types.js';

/** Envoy's default Maglev table size; prime, and large enough for a few hundred endpoints. */
export const DEFAULT_MAGLEV_TABLE_SIZE = 65_537;
/** The smallest table accepted; the paper asks for M much larger than the endpoint count. */
export const MIN_MAGLEV_TABLE_SIZE = 7;
/** Envoy's upper limit; a table is one Int32Array of this many entries. */
export const MAX_MAGLEV_TABLE_SIZE = 5_000_011;

/** Seeds of the two independent hashes that give each endpoint its offset and skip. */
const OFFSET_SEED = 0x6d61676c;
const SKIP_SEED = 0x65763121;

export function isPrime(n: number): boolean {
  if (!Number.isInteger(n) || n < 2) return false;
  if (n % 2 === 0) return n === 2;
  for (let d = 3; d * d <= n; d += 2) if (n % d === 0) return false;
  return true;
}

/**
 * The Maglev lookup table (Eisenbud et al., NSDI 2016, section 3.4). Each endpoint walks its
 * own permutation of the M slots, offset + j * skip (mod M), and the endpoints take turns
 * claiming their next free slot until the table is full. M is prime, so every permutation
 * visits every slot. With equal weights the endpoints' slot counts differ by at most one;
 * unequal weights take turns as Envoy does: an endpoint whose weight is 1/k of the largest
 * claims a slot every k-th round.
 */
export function buildMaglevTable(endpoints: readonly Endpoint[], tableSize: number): Int32Array {
  const n = endpoints.length;
  assert(n > 0, 'a Maglev table needs at least one endpoint');
  assert(isPrime(tableSize), 'the Maglev table size is prime');
  assert(tableSize >= n, 'the Maglev table has at least one slot per endpoint');
  const offsets = new Float64Array(n);
  const skips = new Float64Array(n);
  const next = new Float64Array(n);
  const weights = new Float64Array(n);
  const targets = new Float64Array(n);
  let totalWeight = 0;
  for (const endpoint of endpoints) totalWeight += endpoint.weight;
  let maxWeight = 0;
  endpoints.forEach((endpoint, i) => {
    offsets[i] = hash32(endpoint.id, OFFSET_SEED) % tableSize;
    skips[i] = (hash32(endpoint.id, SKIP_SEED) % (tableSize - 1)) + 1;
    weights[i] = endpoint.weight / totalWeight;
    maxWeight = Math.max(maxWeight, weights[i] as number);
  });
  const table = new Int32Array(tableSize).fill(-1);
  let filled = 0;
  for (let round = 0; filled < tableSize; round++) {
    for (let i = 0; i < n && filled < tableSize; i++) {
      if (round * (weights[i] as number) < (targets[i] as number)) continue;
      targets[i] = (targets[i] as number) + maxWeight;
      let slot: number;
      do {
        slot = ((offsets[i] as number) + (next[i] as number) * (skips[i] as number)) % tableSize;
        next[i] = (next[i] as number) + 1;
      } while (table[slot] !== -1);
      table[slot] = i;
      filled++;
    }
  }
  return table;
}

export interface MaglevOptions {
  prng: Prng;
  tableSize?: number;
}

/** Maglev hashing of the request key; a request without a key takes a random slot. */
export function createMaglev(options: MaglevOptions): Strategy {
  const { prng } = options;
  const tableSize = options.tableSize ?? DEFAULT_MAGLEV_TABLE_SIZE;
  assert(isPrime(tableSize) && tableSize >= MIN_MAGLEV_TABLE_SIZE && tableSize <= MAX_MAGLEV_TABLE_SIZE, 'tableSize is a prime in range');
  let builtFor: EndpointSetKey | undefined;
  let table: Int32Array | undefined;
  return {
    name: 'maglev',
    pick(endpoints: readonly Endpoint[], request?: PickRequest): Endpoint | undefined {
      const n = endpoints.length;
      if (n === 0) return undefined;
      // More endpoints than slots cannot all be placed; the table keeps the first tableSize.
      const placed = n > tableSize ? endpoints.slice(0, tableSize) : endpoints;
      if (table === undefined || builtFor === undefined || !builtFor.matches(placed)) {
        table = buildMaglevTable(placed, tableSize);
        builtFor = new EndpointSetKey(placed);
      }
      const key = request?.key;
      const slot = key === undefined ? prng.int(tableSize) : hash32(key) % tableSize;
      return placed[table[slot] as number];
    },
    onResult(): void {},
  };
}

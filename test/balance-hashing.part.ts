import test from 'ava';
import { Prng } from '../src/core/prng.js';
import { boundedLoadCap, createConsistentHash } from '../src/balance/consistent-hash.js';
import { buildMaglevTable, createMaglev, isPrime } from '../src/balance/maglev.js';
import { DEFAULT_VIRTUAL_NODES, HashRing } from '../src/balance/ring.js';
import type { Endpoint, Strategy } from '../src/balance/types.js';
import { binomialSd, exponential, testSeed, Z_1E4 } from './balance-stats.js';

const SERVERS = 10;
const KEYS = 20_000;

function servers(n: number, weight = 1): Endpoint[] {
  return Array.from({ length: n }, (_, i) => ({ id: `us-east/${i}`, weight, active: 0 }));
}

function keys(seed: number, n: number): string[] {
  const prng = new Prng(seed);
  return Array.from({ length: n }, () => `key-${prng.nextUint32().toString(36)}-${prng.nextUint32().toString(36)}`);
}

function assign(strategy: Strategy, list: readonly Endpoint[], keyList: readonly string[]): string[] {
  return keyList.map((key) => (strategy.pick(list, { key }) as Endpoint).id);
}

/**
 * With V virtual nodes a server's share of the ring is a sum of V spacings of mean 1 / (N V),
 * so its standard deviation is about 1 / (N sqrt V); sampling K keys adds the binomial one.
 */
function ringShareTolerance(n: number, v: number, k: number): number {
  return Z_1E4 * (1 / (n * Math.sqrt(v))) + Z_1E4 * binomialSd(1 / n, k);
}

test('ring: the same key maps to the same server, whatever the list order', (t) => {
  const seed = testSeed(201);
  t.log(`seed ${seed}`);
  const list = servers(SERVERS);
  const shuffled = [...list].reverse();
  const a = createConsistentHash({ prng: new Prng(1) });
  const b = createConsistentHash({ prng: new Prng(2) });
  const keyList = keys(seed, 2000);
  t.deepEqual(assign(a, list, keyList), assign(b, shuffled, keyList));
  t.deepEqual(assign(a, list, keyList), assign(a, list, keyList));
});

test('ring: each server holds about 1/N of the keys', (t) => {
  const seed = testSeed(202);
  t.log(`seed ${seed}`);
  const list = servers(SERVERS);
  const owners = assign(createConsistentHash({ prng: new Prng(seed) }), list, keys(seed, KEYS));
  const tolerance = ringShareTolerance(SERVERS, DEFAULT_VIRTUAL_NODES, KEYS);
  for (const server of list) {
    const share = owners.filter((id) => id === server.id).length / KEYS;
    t.true(Math.abs(share - 1 / SERVERS) < tolerance, `${server.id} share ${share} vs ${1 / SERVERS} +- ${tolerance}`);
  }
});

test('ring: when one of N servers leaves, only its keys move, about 1/N of them', (t) => {
  const seed = testSeed(203);
  t.log(`seed ${seed}`);
  const list = servers(SERVERS);
  const keyList = keys(seed, KEYS);
  const strategy = createConsistentHash({ prng: new Prng(seed) });
  const before = assign(strategy, list, keyList);
  const leaving = 'us-east/3';
  const after = assign(
    strategy,
    list.filter((e) => e.id !== leaving),
    keyList,
  );
  let moved = 0;
  for (let i = 0; i < KEYS; i++) {
    if (before[i] === after[i]) continue;
    moved++;
    t.is(before[i], leaving, 'a key moved although its server stayed');
  }
  const fraction = moved / KEYS;
  const tolerance = ringShareTolerance(SERVERS, DEFAULT_VIRTUAL_NODES, KEYS);
  t.log(`moved ${fraction.toFixed(4)}, expected ${1 / SERVERS} +- ${tolerance.toFixed(4)}`);
  t.true(Math.abs(fraction - 1 / SERVERS) < tolerance);
});

test('ring: a joining server takes keys only for itself', (t) => {
  const seed = testSeed(204);
  t.log(`seed ${seed}`);
  const list = servers(SERVERS);
  const keyList = keys(seed, KEYS);
  const strategy = createConsistentHash({ prng: new Prng(seed) });
  const before = assign(strategy, list.slice(0, SERVERS - 1), keyList);
  const after = assign(strategy, list, keyList);
  const joined = (list[SERVERS - 1] as Endpoint).id;
  let moved = 0;
  for (let i = 0; i < KEYS; i++) {
    if (before[i] === after[i]) continue;
    moved++;
    t.is(after[i], joined);
  }
  t.true(moved > 0);
});

test("ring: weight doubles a server's points and share", (t) => {
  const seed = testSeed(205);
  t.log(`seed ${seed}`);
  const list = servers(SERVERS);
  const heavy = { ...(list[0] as Endpoint), weight: 2 };
  const weighted = [heavy, ...list.slice(1)];
  const ring = new HashRing(weighted, DEFAULT_VIRTUAL_NODES);
  t.is(ring.owners.filter((o) => o === 0).length, 2 * DEFAULT_VIRTUAL_NODES);
  const owners = assign(createConsistentHash({ prng: new Prng(seed) }), weighted, keys(seed, KEYS));
  const share = owners.filter((id) => id === heavy.id).length / KEYS;
  const expected = 2 / (SERVERS + 1);
  const tolerance = (Z_1E4 * Math.sqrt(2)) / ((SERVERS + 1) * Math.sqrt(DEFAULT_VIRTUAL_NODES)) + Z_1E4 * binomialSd(expected, KEYS);
  t.log(`heavy share ${share.toFixed(4)}, expected ${expected.toFixed(4)} +- ${tolerance.toFixed(4)}`);
  t.true(Math.abs(share - expected) < tolerance);
});

/**
 * Hot keys: a quarter of the requests go to one key. Requests stay in flight for an
 * exponential time and the load is high, so the hot key's server would hold far more than its
 * share; the bounded-load variant must never let any server exceed its cap.
 */
function runHotKeys(strategy: Strategy, c: number | undefined, seed: number): { maxOverCap: number; violations: number } {
  const prng = new Prng(seed);
  const list = servers(SERVERS).map((e) => ({ ...e }));
  const keyList = keys(seed, 1000);
  const inFlight: { endsMs: number; index: number }[] = [];
  let nowMs = 0;
  let violations = 0;
  let maxOverCap = -Infinity;
  for (let request = 0; request < 20_000; request++) {
    nowMs += exponential(prng, 1);
    for (let i = inFlight.length - 1; i >= 0; i--) {
      const flight = inFlight[i] as { endsMs: number; index: number };
      if (flight.endsMs > nowMs) continue;
      (list[flight.index] as { active: number }).active--;
      inFlight.splice(i, 1);
    }
    const key = prng.chance(0.25) ? 'hot' : prng.pick(keyList);
    const chosen = strategy.pick(list, { key }) as Endpoint;
    const totalActive = list.reduce((sum, e) => sum + e.active, 0);
    const cap = boundedLoadCap(chosen, c ?? 1.25, totalActive, SERVERS);
    maxOverCap = Math.max(maxOverCap, chosen.active + 1 - cap);
    if (chosen.active + 1 > cap) violations++;
    const index = list.findIndex((e) => e.id === chosen.id);
    (list[index] as { active: number }).active++;
    inFlight.push({ endsMs: nowMs + exponential(prng, 40), index });
  }
  return { maxOverCap, violations };
}

test('ring with bounded loads never puts more than ceil(c * (total + 1) / N) on a server', (t) => {
  const seed = testSeed(206);
  t.log(`seed ${seed}`);
  for (const c of [1, 1.25, 2]) {
    const bounded = runHotKeys(createConsistentHash({ prng: new Prng(seed), boundedLoadFactor: c }), c, seed);
    t.log(`c ${c}: violations ${bounded.violations}, max over cap ${bounded.maxOverCap}`);
    t.is(bounded.violations, 0);
  }
  // The same workload without the bound does exceed the cap, so the check above has teeth.
  const plain = runHotKeys(createConsistentHash({ prng: new Prng(seed) }), undefined, seed);
  t.log(`unbounded: violations of the c = 1.25 cap ${plain.violations}, max over cap ${plain.maxOverCap}`);
  t.true(plain.violations > 0);
});

test('ring with bounded loads keeps keys in place while there is room', (t) => {
  const list = servers(SERVERS);
  const seed = testSeed(207);
  t.log(`seed ${seed}`);
  const keyList = keys(seed, 2000);
  const plain = assign(createConsistentHash({ prng: new Prng(1) }), list, keyList);
  const bounded = assign(createConsistentHash({ prng: new Prng(1), boundedLoadFactor: 1.25 }), list, keyList);
  t.deepEqual(bounded, plain);
});

test('keyless requests spread over the ring and the Maglev table', (t) => {
  const seed = testSeed(208);
  t.log(`seed ${seed}`);
  const list = servers(4);
  for (const strategy of [createConsistentHash({ prng: new Prng(seed) }), createMaglev({ prng: new Prng(seed), tableSize: 5003 })]) {
    const seen = new Set(Array.from({ length: 400 }, () => (strategy.pick(list) as Endpoint).id));
    t.is(seen.size, 4, strategy.name);
  }
});

test('maglev: table sizes are prime and slot counts differ by at most one', (t) => {
  t.true(isPrime(65_537));
  t.false(isPrime(65_535));
  const list = servers(SERVERS);
  const table = buildMaglevTable(list, 65_537);
  const slotCounts = list.map((_, i) => table.filter((owner) => owner === i).length);
  t.log(`slot counts ${slotCounts.join(' ')}`);
  t.true(Math.max(...slotCounts) - Math.min(...slotCounts) <= 1);
});

test('maglev: weighted slot counts follow the weights', (t) => {
  const list = servers(3).map((e, i) => ({ ...e, weight: [1, 2, 4][i] as number }));
  const size = 65_537;
  const table = buildMaglevTable(list, size);
  list.forEach((endpoint, i) => {
    const share = table.filter((owner) => owner === i).length / size;
    // The fill takes turns in whole rounds, so a share is off by at most one turn per round.
    t.true(Math.abs(share - endpoint.weight / 7) < 2 / (size / 7), `${endpoint.id}: ${share}`);
  });
});

test('maglev: when one of N servers leaves, its slots move and few others do', (t) => {
  const seed = testSeed(209);
  t.log(`seed ${seed}`);
  const size = 65_537;
  const list = servers(SERVERS);
  const leaving = 4;
  const before = buildMaglevTable(list, size);
  const rest = list.filter((_, i) => i !== leaving);
  const after = buildMaglevTable(rest, size);
  let fromLeaver = 0;
  let extra = 0;
  for (let slot = 0; slot < size; slot++) {
    const was = (list[before[slot] as number] as Endpoint).id;
    const is = (rest[after[slot] as number] as Endpoint).id;
    if (was === (list[leaving] as Endpoint).id) fromLeaver++;
    else if (was !== is) extra++;
  }
  // The leaver held floor or ceil of M / N slots, all of which must move. Maglev does not
  // promise minimal disruption: other slots shift too, a fraction that grows with N / M (the
  // paper's section 5.3). With M > 1000 N it stays well under a quarter of the minimum 1/N.
  t.true(Math.abs(fromLeaver - size / SERVERS) <= 1);
  t.log(`moved from the leaver ${(fromLeaver / size).toFixed(4)}, extra ${(extra / size).toFixed(4)}`);
  t.true(extra / size < 0.25 / SERVERS);
  const keyList = keys(seed, KEYS);
  const strategy = createMaglev({ prng: new Prng(seed) });
  const keysBefore = assign(strategy, list, keyList);
  const keysAfter = assign(strategy, rest, keyList);
  const moved = keysBefore.filter((id, i) => id !== keysAfter[i]).length / KEYS;
  const expected = fromLeaver / size + extra / size;
  const tolerance = Z_1E4 * binomialSd(expected, KEYS);
  t.log(`keys moved ${moved.toFixed(4)}, expected ${expected.toFixed(4)} +- ${tolerance.toFixed(4)}`);
  t.true(Math.abs(moved - expected) < tolerance);
});

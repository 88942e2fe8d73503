import test from 'ava';
import { Prng } from '../src/core/prng.js';
import { createStrategy } from '../src/balance/strategy.js';
import { STRATEGY_NAMES, type Endpoint } from '../src/balance/types.js';
import { binomialSd, chiSquare, chiSquareCritical, testSeed, Z_1E4 } from './balance-stats.js';

function endpoints(weights: readonly number[], active: readonly number[] = []): Endpoint[] {
  return weights.map((weight, i) => ({ id: String.fromCharCode(97 + i), weight, active: active[i] ?? 0 }));
}

function counts(picks: readonly string[], ids: readonly string[]): number[] {
  return ids.map((id) => picks.filter((p) => p === id).length);
}

test('every strategy returns undefined for no endpoints and the only one for one', (t) => {
  for (const name of STRATEGY_NAMES) {
    const strategy = createStrategy(name, { prng: new Prng(1), maglevTableSize: 101 });
    t.is(strategy.name, name);
    t.is(strategy.pick([], { key: 'k' }), undefined, name);
    const only = endpoints([1]);
    t.is(strategy.pick(only, { key: 'k', nowMs: 0 }), only[0], name);
  }
});

test('random: uniform over equal weights (chi-square)', (t) => {
  const seed = testSeed(101);
  t.log(`seed ${seed}`);
  const strategy = createStrategy('random', { prng: new Prng(seed) });
  const list = endpoints([1, 1, 1, 1, 1]);
  const n = 50_000;
  const picks = Array.from({ length: n }, () => (strategy.pick(list) as Endpoint).id);
  const observed = counts(
    picks,
    list.map((e) => e.id),
  );
  const statistic = chiSquare(
    observed,
    list.map(() => n / list.length),
  );
  t.log(`counts ${observed.join(' ')}, chi2 ${statistic.toFixed(2)} < ${chiSquareCritical(4).toFixed(2)}`);
  t.true(statistic < chiSquareCritical(list.length - 1));
});

test('random: proportional to weight (chi-square)', (t) => {
  const seed = testSeed(102);
  t.log(`seed ${seed}`);
  const strategy = createStrategy('random', { prng: new Prng(seed) });
  const list = endpoints([1, 2, 3, 4]);
  const n = 50_000;
  const picks = Array.from({ length: n }, () => (strategy.pick(list) as Endpoint).id);
  const observed = counts(
    picks,
    list.map((e) => e.id),
  );
  const expected = list.map((e) => (n * e.weight) / 10);
  const statistic = chiSquare(observed, expected);
  t.log(`counts ${observed.join(' ')}, chi2 ${statistic.toFixed(2)}`);
  t.true(statistic < chiSquareCritical(list.length - 1));
});

test('round-robin: every window of n picks holds each endpoint once', (t) => {
  const seed = testSeed(103);
  t.log(`seed ${seed}`);
  const strategy = createStrategy('round-robin', { prng: new Prng(seed) });
  const list = endpoints([1, 1, 1, 1]);
  const picks = Array.from({ length: 40 }, () => (strategy.pick(list) as Endpoint).id);
  for (let i = 0; i + 4 <= picks.length; i++) t.deepEqual([...picks.slice(i, i + 4)].sort(), ['a', 'b', 'c', 'd']);
});

test('round-robin: continues after the last pick when the list changes', (t) => {
  const seed = testSeed(104);
  t.log(`seed ${seed}`);
  const strategy = createStrategy('round-robin', { prng: new Prng(seed) });
  let list = endpoints([1, 1, 1, 1]);
  let last = (strategy.pick(list) as Endpoint).id;
  while (last !== 'b') last = (strategy.pick(list) as Endpoint).id;
  // 'b' was just picked; 'a' leaves: the next is still 'c', then 'd', then wraps to 'b'.
  list = list.filter((e) => e.id !== 'a');
  t.deepEqual(
    [0, 1, 2, 3].map(() => (strategy.pick(list) as Endpoint).id),
    ['c', 'd', 'b', 'c'],
  );
  // 'c' was just picked and leaves itself: whoever stands at its position ('d') is next.
  list = list.filter((e) => e.id !== 'c');
  t.deepEqual(
    [0, 1, 2].map(() => (strategy.pick(list) as Endpoint).id),
    ['d', 'b', 'd'],
  );
});

test("weighted-round-robin: weights 5, 1, 1 give nginx's smooth a a b a c a a", (t) => {
  const strategy = createStrategy('weighted-round-robin', { prng: new Prng(1) });
  const list = endpoints([5, 1, 1]);
  const picks = Array.from({ length: 21 }, () => (strategy.pick(list) as Endpoint).id);
  t.is(picks.join(' '), 'a a b a c a a a a b a c a a a a b a c a a');
});

test('weighted-round-robin: exact shares in every cycle, also after the set changes', (t) => {
  const strategy = createStrategy('weighted-round-robin', { prng: new Prng(1) });
  let list = endpoints([3, 2, 1]);
  const cycle = (size: number): string[] => Array.from({ length: size }, () => (strategy.pick(list) as Endpoint).id);
  for (let round = 0; round < 5; round++) t.deepEqual(counts(cycle(6), ['a', 'b', 'c']), [3, 2, 1]);
  // Mid-cycle change: b leaves, d (weight 2) joins. The sum of current weights is off by b's
  // value only until the next cycles, after which every window of 6 is exact again.
  cycle(2);
  list = [list[0] as Endpoint, list[2] as Endpoint, { id: 'd', weight: 2, active: 0 }];
  const settle = cycle(6);
  t.deepEqual(
    settle.filter((id) => id === 'b'),
    [],
  );
  for (let round = 0; round < 5; round++) t.deepEqual(counts(cycle(6), ['a', 'c', 'd']), [3, 1, 2]);
  // A weight change takes effect at once.
  list = [{ id: 'a', weight: 1, active: 0 }, list[1] as Endpoint, list[2] as Endpoint];
  cycle(4);
  for (let round = 0; round < 5; round++) t.deepEqual(counts(cycle(4), ['a', 'c', 'd']), [1, 1, 2]);
});

test('least-request: with two endpoints always the one with fewer in flight', (t) => {
  const seed = testSeed(105);
  t.log(`seed ${seed}`);
  const strategy = createStrategy('least-request', { prng: new Prng(seed) });
  const list = endpoints([1, 1], [3, 1]);
  for (let i = 0; i < 100; i++) t.is((strategy.pick(list) as Endpoint).id, 'b');
});

test('least-request: P2C never picks the single most loaded of many, and is uniform when idle', (t) => {
  const seed = testSeed(106);
  t.log(`seed ${seed}`);
  const strategy = createStrategy('least-request', { prng: new Prng(seed) });
  const busy = endpoints([1, 1, 1, 1, 1, 1], [0, 0, 0, 0, 0, 9]);
  for (let i = 0; i < 1000; i++) t.not((strategy.pick(busy) as Endpoint).id, 'f');
  const idle = endpoints([1, 1, 1, 1, 1, 1]);
  const n = 30_000;
  const observed = counts(
    Array.from({ length: n }, () => (strategy.pick(idle) as Endpoint).id),
    idle.map((e) => e.id),
  );
  const statistic = chiSquare(
    observed,
    idle.map(() => n / idle.length),
  );
  t.log(`idle counts ${observed.join(' ')}, chi2 ${statistic.toFixed(2)}`);
  t.true(statistic < chiSquareCritical(idle.length - 1));
});

test('least-request: choiceCount >= n picks the global minimum', (t) => {
  const seed = testSeed(107);
  t.log(`seed ${seed}`);
  const strategy = createStrategy('least-request', { prng: new Prng(seed), choiceCount: 4 });
  const list = endpoints([1, 1, 1, 1], [5, 2, 7, 3]);
  for (let i = 0; i < 100; i++) t.is((strategy.pick(list) as Endpoint).id, 'b');
});

test('least-request: unequal weights share by weight / (active + 1) ^ bias', (t) => {
  const seed = testSeed(108);
  t.log(`seed ${seed}`);
  const n = 40_000;
  const cases: { bias: number; weights: number[]; active: number[] }[] = [
    { bias: 1, weights: [1, 3], active: [0, 0] },
    { bias: 1, weights: [1, 2], active: [0, 3] },
    { bias: 2, weights: [1, 2], active: [0, 1] },
    { bias: 0, weights: [1, 2], active: [0, 9] },
  ];
  for (const { bias, weights, active } of cases) {
    const strategy = createStrategy('least-request', { prng: new Prng(seed), activeRequestBias: bias });
    const list = endpoints(weights, active);
    const effective = list.map((e) => e.weight / Math.pow(e.active + 1, bias));
    const p = (effective[0] as number) / ((effective[0] as number) + (effective[1] as number));
    const share =
      counts(
        Array.from({ length: n }, () => (strategy.pick(list) as Endpoint).id),
        ['a'],
      )[0]! / n;
    const tolerance = Z_1E4 * binomialSd(p, n);
    t.log(`bias ${bias} weights ${weights} active ${active}: share of a ${share.toFixed(4)}, expected ${p.toFixed(4)} +- ${tolerance.toFixed(4)}`);
    t.true(Math.abs(share - p) < tolerance);
  }
});

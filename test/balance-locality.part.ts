import test from 'ava';
import { Prng } from '../src/core/prng.js';
import { pickRegion, planLocality, type LocalityInput, type RegionHealth } from '../src/balance/locality.js';
import { chiSquare, chiSquareCritical, testSeed } from './balance-stats.js';

const CLOSE = 1e-9;

function twoLevels(p0Healthy: number, p1Healthy: number, total = 100): LocalityInput {
  return {
    homeRegion: 'us-east',
    priority: ['eu-west'],
    health: { 'us-east': { healthy: p0Healthy, total }, 'eu-west': { healthy: p1Healthy, total } },
  };
}

function loads(input: LocalityInput): number[] {
  return planLocality(input).levels.map((level) => level.loadPercent);
}

test("locality: spill to the next level follows Envoy's table (overprovisioning 1.4)", (t) => {
  // Envoy docs, "Priority levels": P0 health -> traffic to P0 / P1, P1 fully healthy.
  // Envoy rounds to whole percents (71% -> 99 / 1); this computes 1.4 * 71 = 99.4 exactly.
  const table: [number, number, number][] = [
    [100, 100, 0],
    [72, 100, 0],
    [71, 99.4, 0.6],
    [50, 70, 30],
    [25, 35, 65],
    [0, 0, 100],
  ];
  for (const [healthy, p0, p1] of table) {
    const [got0, got1] = loads(twoLevels(healthy, 100));
    t.true(Math.abs((got0 as number) - p0) < CLOSE && Math.abs((got1 as number) - p1) < CLOSE, `P0 ${healthy}% healthy: ${got0} / ${got1}`);
  }
});

test('locality: three levels fill in order; no panic while the total is 100', (t) => {
  const input: LocalityInput = {
    homeRegion: 'a',
    priority: ['b', 'c'],
    health: { a: { healthy: 2, total: 10 }, b: { healthy: 2, total: 10 }, c: { healthy: 10, total: 10 } },
  };
  const plan = planLocality(input);
  t.deepEqual(
    plan.levels.map((l) => l.regions),
    [['a'], ['b'], ['c']],
  );
  const got = plan.levels.map((l) => l.loadPercent);
  [28, 28, 44].forEach((want, i) => t.true(Math.abs((got[i] as number) - want) < CLOSE, `level ${i}: ${got[i]}`));
  // 20% healthy is under the panic threshold, but the levels together are fully healthy.
  t.deepEqual(
    plan.levels.map((l) => l.panic),
    [false, false, false],
  );
  t.false(plan.totalPanic);
});

test('locality: below 100 total health, loads are scaled up and sick levels panic', (t) => {
  const plan = planLocality(twoLevels(60, 10));
  // Healths 84 and 14, normalized total 98: loads 84 / 98 and 14 / 98 of 100.
  t.true(Math.abs(plan.normalizedTotalHealthPercent - 98) < CLOSE);
  t.true(Math.abs((plan.levels[0]?.loadPercent as number) - (84 * 100) / 98) < CLOSE);
  t.true(Math.abs((plan.levels[1]?.loadPercent as number) - (14 * 100) / 98) < CLOSE);
  // 10% healthy is under the 50% threshold: that level routes over all its servers.
  t.deepEqual(
    plan.levels.map((l) => l.panic),
    [false, true],
  );
  t.false(plan.totalPanic);
});

test('locality: total panic splits by server count, ignoring health', (t) => {
  const input: LocalityInput = {
    homeRegion: 'a',
    priority: ['b'],
    health: { a: { healthy: 3, total: 10 }, b: { healthy: 0, total: 30 } },
  };
  const plan = planLocality(input);
  t.true(plan.totalPanic);
  t.deepEqual(
    plan.levels.map((l) => l.loadPercent),
    [25, 75],
  );
  const choice = pickRegion(plan, new Prng(1));
  t.true(choice?.panic);
});

test('locality: panic routes to servers that run: a region whose servers all crashed takes no load, whatever its health', (t) => {
  // One server a region: us-east's crashed (live 0), eu-west's ejected as an outlier (not
  // healthy, but running). Total panic split 50/50 by server count before (2026-12-03), and
  // every request drawn for us-east was refused at once.
  const input: LocalityInput = {
    homeRegion: 'us-east',
    priority: ['eu-west'],
    health: { 'us-east': { healthy: 0, total: 1, live: 0 }, 'eu-west': { healthy: 0, total: 1, live: 1 } },
  };
  const plan = planLocality(input);
  t.true(plan.totalPanic);
  t.deepEqual(
    plan.levels.map((l) => l.loadPercent),
    [0, 100],
  );
  const prng = new Prng(testSeed(121));
  for (let i = 0; i < 200; i++) t.is(pickRegion(plan, prng)?.region, 'eu-west');
  // Within a level in panic, regions are drawn by the servers that run.
  const level: LocalityInput = {
    homeRegion: 'us-east',
    priority: [['eu-west', 'ap-south']],
    health: { 'us-east': { healthy: 0, total: 2, live: 0 }, 'eu-west': { healthy: 0, total: 2, live: 0 }, 'ap-south': { healthy: 0, total: 2, live: 1 } },
  };
  const p2 = planLocality(level);
  for (let i = 0; i < 200; i++) t.is(pickRegion(p2, prng)?.region, 'ap-south');
  // Nothing running anywhere: no region.
  t.is(
    pickRegion(planLocality({ ...input, health: { 'us-east': { healthy: 0, total: 1, live: 0 }, 'eu-west': { healthy: 0, total: 1, live: 0 } } }), prng),
    undefined,
  );
  // live defaults to total, and must lie between healthy and total.
  t.deepEqual(loads(twoLevels(0, 0)), [50, 50]);
  t.throws(() => planLocality({ ...input, health: { 'us-east': { healthy: 1, total: 2, live: 0 }, 'eu-west': { healthy: 0, total: 1 } } }), {
    message: /healthy <= live <= total/,
  });
});

test('locality: a panic threshold of 0 turns panic off; nothing healthy means no region', (t) => {
  const input: LocalityInput = { ...twoLevels(0, 0), panicThresholdPercent: 0 };
  const plan = planLocality(input);
  t.false(plan.totalPanic);
  t.deepEqual(
    plan.levels.map((l) => l.loadPercent),
    [0, 0],
  );
  t.is(pickRegion(plan, new Prng(1)), undefined);
  // With the default threshold the same health is total panic: traffic still flows.
  t.true(planLocality(twoLevels(0, 0)).totalPanic);
  t.not(pickRegion(planLocality(twoLevels(0, 0)), new Prng(1)), undefined);
});

test('locality: the home region leads; unlisted regions form a last level', (t) => {
  const health: Record<string, RegionHealth> = {
    'eu-west': { healthy: 3, total: 3 },
    'us-east': { healthy: 3, total: 3 },
    'ap-south': { healthy: 3, total: 3 },
    'us-west': { healthy: 3, total: 3 },
  };
  const plan = planLocality({ homeRegion: 'eu-west', priority: ['us-east', 'eu-west'], health });
  t.deepEqual(
    plan.levels.map((l) => l.regions),
    [['eu-west'], ['us-east'], ['ap-south', 'us-west']],
  );
});

test('locality: pickRegion draws levels by load and regions by healthy servers (chi-square)', (t) => {
  const seed = testSeed(401);
  t.log(`seed ${seed}`);
  const input: LocalityInput = {
    homeRegion: 'home',
    priority: [['b', 'c']],
    health: { home: { healthy: 5, total: 10 }, b: { healthy: 10, total: 10 }, c: { healthy: 5, total: 10 } },
  };
  const plan = planLocality(input);
  // home: 1.4 * 50 = 70; level [b, c]: min(100, 1.4 * 75) takes the other 30, split 10 : 5.
  const expectedShare = [0.7, 0.2, 0.1];
  const prng = new Prng(seed);
  const n = 30_000;
  const observed = [0, 0, 0];
  const names = ['home', 'b', 'c'];
  for (let i = 0; i < n; i++) {
    const choice = pickRegion(plan, prng);
    observed[names.indexOf(choice?.region as string)]!++;
  }
  const statistic = chiSquare(
    observed,
    expectedShare.map((p) => p * n),
  );
  t.log(`counts ${observed.join(' ')}, chi2 ${statistic.toFixed(2)}`);
  t.true(statistic < chiSquareCritical(2));
});

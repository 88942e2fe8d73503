import test from 'ava';
import { drawShape, drawSwarm, defaultCrashMax, eventually, HistoryRecorder, Nemesis, startCluster, ValidationError } from '../src/index.js';

/**
 * Public functions of src/index.ts that took bad arguments without a word: each is now a
 * ValidationError naming the argument and what it takes. (startCluster's config, the
 * scenarios, the checkers, withCluster and cluster.serveMetrics have tests of their own.)
 */

test('drawShape, drawSwarm, defaultCrashMax, eventually, HistoryRecorder and Nemesis refuse bad arguments, naming them', async (t) => {
  // drawShape drew a shape for any seed (-1, 1.5, 'x'); check's seeds are 0 to 2^32 - 1.
  for (const seed of [-1, 1.5, 2 ** 32, Number.NaN]) {
    t.throws(() => drawShape(seed), { instanceOf: ValidationError, message: `seed: an integer from 0 to 4294967295, got ${String(seed)}` });
  }
  t.throws(() => drawShape('x' as unknown as number), { instanceOf: ValidationError, message: /^seed: .*, got "x"$/ });
  t.deepEqual(drawShape(7), drawShape(7));
  // drawSwarm: a NaN seed drew a plan whose seed was null, an unknown kind went into the plan, an empty pool failed an assertion.
  t.throws(() => drawSwarm(Number.NaN), { instanceOf: ValidationError, message: 'seed: an integer from 0 to 2^32 - 1, got NaN' });
  t.throws(() => drawSwarm(1, ['bogus' as never]), {
    instanceOf: ValidationError,
    message: /^pool\[0\]: a fault kind from crash, .*, got "bogus"$/,
  });
  // A pool with holes passed (`some` skips them) and drew faults [undefined], which describePlan refused.
  // eslint-disable-next-line no-sparse-arrays -- the hole is the case under test
  t.throws(() => drawSwarm(1, [, , 'crash'] as never), {
    instanceOf: ValidationError,
    message: /^pool\[0\]: a fault kind from crash, .*, got a hole \(no element\)$/,
  });
  t.throws(() => drawSwarm(1, ['crash', undefined] as never), { instanceOf: ValidationError, message: /^pool\[1\]: .*, got undefined$/ });
  t.throws(() => drawSwarm(1, 'crash' as never), {
    instanceOf: ValidationError,
    message: /^pool: a non-empty array of fault kinds from crash, .*, got "crash"$/,
  });
  t.throws(() => drawSwarm(1, []), { instanceOf: ValidationError, message: /^pool: .*, got an array of 0$/ });
  t.is(drawSwarm(1, ['crash']).faults.join(), 'crash');
  // defaultCrashMax('x') returned null.
  t.throws(() => defaultCrashMax('x' as unknown as number), {
    instanceOf: ValidationError,
    message: 'factor: undefined or a replication factor (an integer >= 1), got "x"',
  });
  t.is(defaultCrashMax(5), 2);
  t.is(defaultCrashMax(undefined), 1);
  // HistoryRecorder(5) failed at the first invoke() with 'this.clock.now is not a function'.
  t.throws(() => new HistoryRecorder(5 as never), { instanceOf: ValidationError, message: 'clock: an object with now() (milliseconds), got 5' });
  t.throws(() => new HistoryRecorder(null as never), { instanceOf: ValidationError, message: /^clock: .*, got null$/ });

  const cluster = await startCluster({ regions: [{ name: 'r', servers: 1 }], transport: 'sim', seed: 1 });
  try {
    // eventually with a check that is no function tried it until the timeout, then said "not true ...; last: check is not a function".
    await t.throwsAsync(eventually(cluster, 5 as never, { timeoutMs: 60_000 }), {
      instanceOf: ValidationError,
      message: 'check: a function returning false (not yet) or anything else (done), got 5',
    });
    await t.throwsAsync(
      eventually(null as never, () => true),
      { instanceOf: ValidationError, message: /^cluster: a cluster \(or an object with sleep\(\) and now\(\)\), got null$/ },
    );
    t.is(await eventually(cluster, () => 3), 3);
    // new Nemesis(null) threw "Cannot read properties of null (reading 'isStopped')".
    t.throws(() => new Nemesis(null as never), { instanceOf: ValidationError, message: 'cluster: a cluster (what startCluster returns), got null' });
    t.throws(() => new Nemesis({} as never), { instanceOf: ValidationError, message: /^cluster: a cluster/ });
    t.is(new Nemesis(cluster, { seed: 3 }).plan.seed, 3);
  } finally {
    await cluster.stop();
  }
});

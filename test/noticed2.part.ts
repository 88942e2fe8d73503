import test from 'ava';
import { InvariantFailure, TimeoutError, ValidationError, withCluster, type TestContextLike } from '../src/index.js';
import { unknownShares, unknownSharesLine } from '../src/cli/check.js';
import { analyse, delayedCell } from '../bench/failover.js';
import { fmt as reportNumber } from '../bench/lib/report.js';
import { DAMAGED_LOG_CLUSTER, restartDamaged } from './helpers/damaged-log.js';
import { stalledHostOne } from './helpers/stalled-host.js';

// Defects an audit of session 67 noticed and left; one test (or a few) per fix.

/** ava's `t` with what withCluster logs kept, and teardowns only recorded (the cluster is stopped by withCluster itself). */
function fakeT(): TestContextLike & { logs: string[] } {
  const logs: string[] = [];
  return { logs, log: (...values) => logs.push(values.join(' ')), teardown: () => {} };
}

const threeRegions = DAMAGED_LOG_CLUSTER;

/** A body that writes, then restarts b/0 on a damaged log: its actor throws at start (not an assert). */
async function damageALog(cluster: Parameters<Parameters<typeof withCluster>[2]>[0]): Promise<string> {
  const a = cluster.client({ region: 'a' });
  for (let i = 0; i < 5; i++) await a.put(`k${i}`, i);
  await restartDamaged(cluster, 'b/0');
  return 'done';
}

test('withCluster fails the test on an error thrown inside an actor (not only a failed assert), naming the actor and the seed', async (t) => {
  const ft = fakeT();
  const error = await t.throwsAsync(withCluster(ft, threeRegions, damageALog), { instanceOf: InvariantFailure });
  t.regex(
    error!.message,
    /^errors were thrown inside actors \(seed 7\): actor error in b\/0 at \d+ ms: \w*Error: durable store: the log of b\/0 is damaged in the middle/,
  );
  t.true(error!.actorErrors.length > 0);
  t.deepEqual(error!.failures, []);
});

test('withCluster with allowActorErrors lets them pass (a test that damages a log on purpose)', async (t) => {
  const ft = fakeT();
  t.is(await withCluster(ft, threeRegions, damageALog, { allowActorErrors: true }), 'done');
});

test('withCluster checks its options before starting a cluster', async (t) => {
  const ft = fakeT();
  const body = async (): Promise<void> => {};
  await t.throwsAsync(withCluster(ft, threeRegions, body, { allowActorErrors: 'yes' } as never), {
    instanceOf: ValidationError,
    message: /options\.allowActorErrors.*true or false/,
  });
  await t.throwsAsync(withCluster(ft, threeRegions, body, { allowErrors: true } as never), { instanceOf: ValidationError, message: /allowErrors/ });
  t.deepEqual(ft.logs, [], 'no cluster started');
});

// The threads runtime's setNetwork and setPartitions awaited every host's answer with no bound:
// a host held in a step for good left the change (a heal(), a partition) pending for ever.
test('threads: setNetwork and setPartitions reject naming the operation and the host when a host never answers', async (t) => {
  const { rt, holds, held, late, release } = await stalledHostOne();
  try {
    t.true(holds, 'the host of echo/a holds');
    // On the code before, each change waited for the stall's 5 s, then resolved.
    await t.throwsAsync(rt.setPartitions([{ from: ['echo/a'], to: ['echo/b'], oneWay: false }]), { instanceOf: TimeoutError, message: late('setPartitions') });
    await t.throwsAsync(rt.setNetwork({ jitterMs: 1 }), { instanceOf: TimeoutError, message: late('setNetwork') });
    t.true(held(), 'host 1 still held when they rejected');
  } finally {
    await release();
  }
});

// check's "unknown outcomes per seed" mean counted a seed that crashed or hung (no operation,
// share 0) as 0%, pulling the mean down.
test('check: seeds with no operation are left out of the unknown-outcome mean, and the line says how many', (t) => {
  const ran = (unknownShare: number, operations: number): { unknownShare: number; operations: number } => ({ unknownShare, operations });
  const shares = unknownShares([ran(0.1, 100), ran(0.3, 50), ran(0, 0)]);
  t.is(shares.mean, 0.2);
  t.is(shares.max, 0.3);
  t.is(shares.leftOut, 1);
  t.is(
    unknownSharesLine(shares),
    'unknown outcomes per seed: mean 20.0%, max 30.0% (calls that timed out: they may or may not have taken effect; 1 seed with no operation (crashed or hung) left out)',
  );
  t.is(
    unknownSharesLine(unknownShares([ran(0.1, 100)])),
    'unknown outcomes per seed: mean 10.0%, max 10.0% (calls that timed out: they may or may not have taken effect)',
  );
  t.is(
    unknownSharesLine(unknownShares([ran(0, 0), ran(0, 0)])),
    'unknown outcomes per seed: none (no seed ran an operation) (calls that timed out: they may or may not have taken effect; 2 seeds with no operation (crashed or hung) left out)',
  );
  t.is(unknownSharesLine(unknownShares([])), undefined, 'no seed finished: no line');
});

// The failover bench's "delayed" (answered after the fault, slower than 2 x the p99 before it)
// read 0 when nothing was answered before the fault: the p99 was NaN and every comparison false.
test('failover bench: delayed is unknown (-, null in JSON) when no request was answered before the fault', (t) => {
  const scenario = { scope: 'server', failure: 'crash' } as const;
  const after = [
    { sentMs: 1_000, latencyMs: 500, ok: true },
    { sentMs: 1_100, latencyMs: 5, ok: true },
  ];
  const none = analyse(scenario, after, 1_000);
  t.true(Number.isNaN(none.delayed));
  t.is(delayedCell(none.delayed), '-');
  // With answers before the fault (p99 10 ms), the slow one counts.
  const some = analyse(scenario, [{ sentMs: 0, latencyMs: 10, ok: true }, ...after], 1_000);
  t.is(some.delayed, 1);
  t.is(delayedCell(some.delayed), '1');
});

// The bench HTML report chose a number's unit before rounding it: 999,960 printed 1000.0k.
test('bench report numbers: the unit is chosen after rounding (1.00M, not 1000.0k), and the rest reads as before', (t) => {
  t.is(reportNumber(999_960), '1.00M');
  t.is(reportNumber(-999_960), '-1.00M');
  t.is(reportNumber(9_999.7), '10.0k');
  t.is(reportNumber(99.999), '100');
  // Away from the boundaries, as before.
  t.is(reportNumber(999_940), '999.9k');
  t.is(reportNumber(1_500_000), '1.50M');
  t.is(reportNumber(12_345), '12.3k');
  t.is(reportNumber(9_999.4), '9999');
  t.is(reportNumber(150), '150');
  t.is(reportNumber(99.99), '99.99');
  t.is(reportNumber(1), '1.00');
  t.is(reportNumber(0.5), '0.50');
  t.is(reportNumber(Number.NaN), 'NaN');
});

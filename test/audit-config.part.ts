import test from 'ava';
import { parseCheckArgs } from '../src/cli/check.js';
import { FlagError } from '../src/cli/flags.js';
import { drawBalancer } from '../src/harness/scenario.js';
import { ConfigError, startCluster, type ClusterConfig } from '../src/index.js';

// `check --mode hybrid --factor 4` on the default 2 servers a region ran groups of 2 (the
// scenario cuts a hybrid factor to a region's servers: scenarioFactor) while its header said
// "factor 4": the flag given was silently not the one run. Refused now, naming --servers.
test('check: --mode hybrid with a --factor above --servers is refused, not cut silently', (t) => {
  for (const argv of [
    ['--seed', '1', '--mode', 'hybrid', '--factor', '4'],
    ['--seeds', '3', '--mode', 'hybrid', '--servers', '3', '--factor', '5'],
    ['--seed', '1', '--unsafe', 'learner-out-of-order', '--factor', '3'],
    ['--seed', '1', '--workload', 'txn', '--mode', 'hybrid', '--factor', '3'],
  ]) {
    const e = t.throws(() => parseCheckArgs(argv), { instanceOf: FlagError }, argv.join(' '));
    t.regex(e?.message ?? '', /--factor needs an integer from 1 to \d with --mode hybrid .*--servers/, argv.join(' '));
  }
  // At most a region's servers, and the default factor (cut to them), still run.
  t.is(parseCheckArgs(['--seed', '1', '--mode', 'hybrid', '--factor', '2']).factor, 2);
  t.is(parseCheckArgs(['--seed', '1', '--mode', 'hybrid', '--servers', '3', '--factor', '3']).factor, 3);
  t.is(parseCheckArgs(['--seed', '1', '--mode', 'hybrid']).factor, undefined);
  t.is(parseCheckArgs(['--seed', '1', '--factor', '4']).factor, 4);
});

// `replication.unsafe: 'learner-out-of-order'` breaks hybrid learners, which live in the
// regions other than a shard's home (learnersOf): a hybrid cluster of one region has none, so
// the variant could not act and a check of it could not fail, as a variant in a mode it does
// not act in (refused by UNSAFE_VARIANT_MODES). It started; refused now, naming regions.
test('config: learner-out-of-order on one region (no learners) is refused; on two it starts', async (t) => {
  const config = (regions: number): ClusterConfig => ({
    regions: Array.from({ length: regions }, (_, i) => ({ name: `r${i + 1}`, servers: 2 })),
    transport: 'sim',
    seed: 1,
    shards: 2,
    replication: { mode: 'hybrid', factor: 2, unsafe: 'learner-out-of-order' },
  });
  const e = await t.throwsAsync(startCluster(config(1)), { instanceOf: ConfigError });
  t.is(e?.field, 'replication.unsafe');
  t.regex(e?.message ?? '', /only with two regions or more .*regions has one, r1/);
  const c = await startCluster(config(2));
  await c.stop();
  t.pass();
});

// `balancer.dynamicWeights` scales each server's weight by the load it reports; round-robin
// (the default strategy) ignores weights, so it was accepted there and did nothing, and the
// check's drawn balancers gave it to round-robin too. Refused with round-robin now, as
// `weights` is; the draws keep it only where a strategy reads weights.
test('config: balancer.dynamicWeights with round-robin (which ignores weights) is refused', async (t) => {
  const config = (balancer: ClusterConfig['balancer']): ClusterConfig => ({
    regions: [{ name: 'r1', servers: 2 }],
    transport: 'sim',
    seed: 1,
    shards: 1,
    replication: { mode: 'active', factor: 2 },
    balancer,
  });
  for (const balancer of [{ dynamicWeights: true }, { strategy: 'round-robin' as const, dynamicWeights: true }]) {
    const e = await t.throwsAsync(startCluster(config(balancer)), { instanceOf: ConfigError });
    t.is(e?.field, 'balancer.dynamicWeights');
    t.regex(e?.message ?? '', /no value with strategy 'round-robin' \(it is read only by 'random', 'weighted-round-robin'/);
  }
  const c = await startCluster(config({ strategy: 'least-request', dynamicWeights: true }));
  await c.stop();
  let drawn = 0;
  for (let seed = 1; seed <= 300; seed++) {
    const b = drawBalancer(seed, 'drawn', ['r1', 'r2'], 2);
    if (b?.dynamicWeights === true) drawn++;
    t.false(b?.strategy === 'round-robin' && b.dynamicWeights !== undefined, `seed ${seed}: ${JSON.stringify(b)}`);
  }
  t.true(drawn > 0);
});

// `check --fault-ms 0` runs no fault phase: --nemesis, --faults, --only-faults and --shrink,
// which choose (or cut) that phase's faults, were accepted and unread: seed 1 had trace hash
// 0x8ac116dd with --nemesis swarm, --faults crash, --nemesis builtin or none of them, while
// the header said "swarm faults (only crash)" and printed a plan. Refused now.
test('check: --fault-ms 0 (no fault phase) refuses the flags that choose its faults', (t) => {
  for (const [extra, named] of [
    [['--nemesis', 'swarm'], '--nemesis'],
    [['--faults', 'crash'], '--faults'],
    [['--only-faults', '0'], '--only-faults'],
    [['--shrink'], '--shrink'],
    [['--workload', 'txn', '--nemesis', 'targeted', '--faults', 'crash'], '--nemesis, --faults'],
  ] as const) {
    const argv = ['--seed', '1', '--fault-ms', '0', ...extra];
    const e = t.throws(() => parseCheckArgs(argv), { instanceOf: FlagError }, argv.join(' '));
    t.true(e?.message.startsWith(`${named} choose`), e?.message);
    t.regex(e?.message ?? '', /not with --fault-ms 0 \(no fault phase\)$/);
  }
  t.is(parseCheckArgs(['--seed', '1', '--fault-ms', '0']).faultMs, 0);
  t.is(parseCheckArgs(['--seeds', '2', '--fault-ms', '0', '--clients', '2']).faultMs, 0);
  t.deepEqual(parseCheckArgs(['--seed', '1', '--fault-ms', '1', '--faults', 'crash']).faults, ['crash']);
});

// `replication.unsafe: 'forget-promises'` on groups of one (factor 1, mode 'none' included):
// with no other proposer a promise forgotten on restart lets no competing ballot in, and
// `check --factor 1` gave the same trace hash with the variant and without it on seeds 1-5
// (0x0db8c335 on seed 1): a variant that cannot act, a check that cannot fail. It ran; now the
// cluster refuses it, `check` refuses the flags that make groups of one, and a drawn shape of
// factor 1 (--shape random) runs the correct code, as it did in effect.
test('config: forget-promises on groups of one is refused; check refuses --factor 1 with it', async (t) => {
  const config = (factor: number, mode: 'active' | 'none' = 'active'): ClusterConfig => ({
    regions: [{ name: 'r1', servers: 3 }],
    transport: 'sim',
    seed: 1,
    shards: 1,
    replication: { mode, factor, unsafe: 'forget-promises' },
  });
  for (const [factor, mode] of [
    [1, 'active'],
    [1, 'none'],
  ] as const) {
    const e = await t.throwsAsync(startCluster(config(factor, mode)), { instanceOf: ConfigError });
    t.is(e?.field, 'replication.unsafe');
    t.regex(e?.message ?? '', /only with replication\.factor 2 or more .*factor is 1/);
  }
  const c = await startCluster(config(2));
  await c.stop();
  for (const argv of [
    ['--seed', '1', '--unsafe', 'forget-promises', '--factor', '1'],
    ['--seed', '1', '--unsafe', 'forget-promises', '--mode', 'hybrid', '--servers', '1'],
  ]) {
    const e = t.throws(() => parseCheckArgs(argv), { instanceOf: FlagError }, argv.join(' '));
    t.regex(e?.message ?? '', /^--unsafe forget-promises needs groups of 2 or more/);
  }
  t.is(parseCheckArgs(['--seed', '1', '--unsafe', 'forget-promises', '--factor', '2']).factor, 2);
  t.true(parseCheckArgs(['--seed', '1', '--unsafe', 'forget-promises', '--shape', 'random']).randomShape);
});

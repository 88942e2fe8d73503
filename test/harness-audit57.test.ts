import test from 'ava';
import { ConfigError, Nemesis, runScenario, runTxnScenario, startCluster } from '../src/index.js';

/**
 * The harness from code, as an audit of session 57 used it: fault kinds that run only in the
 * simulator named for a real-time cluster, and a nemesis seed of null.
 */

test('Nemesis on threads refuses simulator-only fault kinds named in faults (it took them, ran no fault, and the run passed)', async (t) => {
  const cluster = await startCluster({ regions: [{ name: 'a', servers: 1 }], transport: 'threads', replication: { mode: 'none' } });
  try {
    const error = t.throws(() => new Nemesis(cluster, { faults: ['crash', 'power-loss', 'leader-duel'] }), { instanceOf: ConfigError });
    t.regex(error!.message, /nemesis\.faults: expected kinds that run in real time with transport 'threads' \(not power-loss, leader-duel: sim only\)/);
    // Kinds that run in real time are taken, and a swarm plan from the default pool too.
    t.notThrows(() => new Nemesis(cluster, { faults: ['crash', 'partition'] }));
    t.notThrows(() => new Nemesis(cluster, { swarm: true }));
  } finally {
    await cluster.stop();
  }
});

test('runScenario and runTxnScenario on threads refuse simulator-only fault kinds before a cluster starts', async (t) => {
  let started = 0;
  const start = (() => {
    started++;
    throw new Error('no cluster should start');
  }) as never;
  const kv = await t.throwsAsync(runScenario({ seed: 1, mode: 'active', transport: 'threads', faultMs: 1000, nemesis: { faults: ['power-loss'] } }), {
    instanceOf: ConfigError,
  });
  t.regex(kv!.message, /nemesis\.faults: expected kinds that run in real time with transport 'threads' \(not power-loss: sim only\)/);
  const txn = await t.throwsAsync(
    runTxnScenario({ seed: 1, commit: '2pc', transport: 'threads', faultMs: 1000, nemesis: { faults: ['lost-commits'] } }, start),
    {
      instanceOf: ConfigError,
    },
  );
  t.regex(txn!.message, /nemesis\.faults: expected kinds that run in real time with transport 'threads' \(not lost-commits: sim only\)/);
  t.is(started, 0);
});

test('a nemesis seed of null is refused, as every other null option is (it drew the seed from the cluster)', async (t) => {
  const cluster = await startCluster({ regions: [{ name: 'a', servers: 1 }], transport: 'sim', seed: 3, replication: { mode: 'none' } });
  try {
    t.throws(() => new Nemesis(cluster, { seed: null as never }), {
      instanceOf: ConfigError,
      message: /nemesis\.seed: expected an integer from 0 to 2\^32 - 1/,
    });
  } finally {
    await cluster.stop();
  }
});

test("history() is a copy all the way down; a nemesis's plan is frozen and run() resolves with a copy of its log (edits reached the cluster's record and the schedule)", async (t) => {
  const cluster = await startCluster({ regions: [{ name: 'a', servers: 1 }], transport: 'sim', seed: 5, replication: { mode: 'none' } });
  try {
    const c = cluster.client({ region: 'a' });
    await c.put('k', { v: [1, 2] });
    await c.get('k');
    const first = cluster.history();
    (first[0]!.input as { v: number[] }).v.push(3);
    (first[1]!.output as { v: number[] }).v[0] = 99;
    const again = cluster.history();
    t.deepEqual(again[0]!.input, { v: [1, 2] });
    t.deepEqual(again[1]!.output, { v: [1, 2] });

    const nemesis = new Nemesis(cluster, { faults: ['crash'], intervalMs: 100, faultMs: 50 });
    t.true(Object.isFrozen(nemesis.plan) && Object.isFrozen(nemesis.plan.faults));
    t.throws(() => (nemesis.plan.faults as string[]).push('partition'), { instanceOf: TypeError });
    const log = await nemesis.run(500);
    const n = log.length;
    t.true(n > 0, 'the schedule ran');
    log.length = 0;
    t.is(nemesis.lines().length, n, 'emptying the copy left the log as it was');
    const later = await nemesis.run(500);
    t.is(later.length, nemesis.lines().length);
    t.not(later, log);
  } finally {
    await cluster.stop();
  }
});

test('runTxnScenario names its own key range for a null or fractional keys (it said 1 to 1000, the kv scenario range)', async (t) => {
  for (const keys of [null, 0.5, 65]) {
    await t.throwsAsync(runTxnScenario({ seed: 1, commit: '2pc', keys: keys as never }), {
      instanceOf: ConfigError,
      message: /keys: expected an integer from 1 to 64 \(the final read gets every key in one transaction\)/,
    });
  }
});

test('Nemesis.heal() restarts a coordinator the caller crashed (it stayed down) and names what the caller crashed in its heal line', async (t) => {
  const cluster = await startCluster({ regions: [{ name: 'a', servers: 2 }], transport: 'sim', seed: 9, replication: { mode: 'none' } });
  try {
    const nemesis = new Nemesis(cluster, { faults: ['partition'] });
    await cluster.crash('coordinator/a');
    await cluster.crash('a/1');
    await nemesis.heal();
    t.false(cluster.isDown('coordinator/a'), 'the coordinator is up');
    t.false(cluster.isDown('a/1'), 'the server is up');
    t.regex(nemesis.lines().at(-1)!, /heal \(restarted a\/1, coordinator\/a\)$/);
  } finally {
    await cluster.stop();
  }
});

test("a cluster's config is frozen all the way down (an edit to it changed what members() listed)", async (t) => {
  const cluster = await startCluster({ regions: [{ name: 'a', servers: 2 }], transport: 'sim', seed: 2, replication: { mode: 'none' } });
  try {
    t.throws(() => ((cluster.config.regions[0] as { servers: number }).servers = 99), { instanceOf: TypeError });
    t.throws(() => (cluster.config.regions as unknown[]).push({ name: 'b', servers: 1 }), { instanceOf: TypeError });
    t.is(cluster.members().length, 2);
  } finally {
    await cluster.stop();
  }
});

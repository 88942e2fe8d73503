// A class audit (session 67): every place an error can arise inside an actor or an async path
// (/tmp/s67/scratch-error-audit/audit.md has the table). One test per bug it found, each
// failing on the code before its fix. Simulator only, small runs, no real-time waits.
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import test from 'ava';
import { startCluster, type Cluster } from '../src/cluster/cluster.js';
import type { ClusterConfig } from '../src/cluster/config.js';
import { scenarioOptions, txnScenarioOptions } from '../src/harness/check-runner.js';
import { runScenarioOn } from '../src/harness/scenario.js';
import { runTxnScenario } from '../src/harness/txn-scenario.js';
import type { SimRuntime } from '../src/runtime/transports/sim-runtime.js';

/**
 * startCluster, then a malformed Paxos message from one of its own servers to another: the
 * receiver's step throws a TypeError (not an `assert`), a bug as any other in the simulator,
 * where only the cluster's own actors send. The receiver is restarted from its log and the
 * run goes on as before.
 */
async function startWithBrokenStep(config: ClusterConfig): Promise<Cluster> {
  const cluster = await startCluster(config);
  const [from, to] = cluster.replicasOf(0);
  (cluster.internals.runtime as SimRuntime).world.host.route(from!, to!, { type: 'px', s: 0, m: null });
  return cluster;
}

// Before: the key-value and the transactional scenarios failed a seed on an actor's failed
// `assert` only (Cluster.assertionFailures); any other error thrown in an actor's step (a
// TypeError, MERIDIAN_TICKS=verify's checks, a setTimer refused) restarted the actor and the
// seed passed, the bug unseen unless it broke the history too.
test('an error other than an assert thrown in an actor fails the seed, naming the actor and the error (kv and txn)', async (t) => {
  const seed = 7;
  t.log(`seed ${seed}`);
  const kv = await runScenarioOn({ ...scenarioOptions({ seed, mode: 'active', schedule: 'targeted' }), faultMs: 600, clients: 4 }, startWithBrokenStep);
  t.is(kv.outcome, 'fail', kv.failures.join('; '));
  t.true(
    kv.failures.some((f) => /^actor error in r\d+\/\d+ at \d+ ms: TypeError: /.test(f)),
    kv.failures.join('; '),
  );
  const txn = await runTxnScenario(
    { ...txnScenarioOptions({ seed, mode: 'active', schedule: 'builtin' }, '2pc'), faultMs: 600, clients: 2 },
    startWithBrokenStep,
  );
  t.is(txn.outcome, 'fail', txn.verdict);
  t.regex(txn.verdict, /, actor error in r\d+\/\d+ at \d+ ms: TypeError: /);
});

/**
 * A script run in a process of its own (an uncaught exception is what it checks, and ava's
 * worker would take one as the test's failure): a 2PC transaction over every shard, with an
 * atNextCommit hook that throws at its commit record; then another transaction and a read.
 * Each call is raced against a 10 s real-time guard, which only the code before the fix reached.
 */
const HOOK_SCRIPT = `
const { startCluster } = await import(process.argv[1]);
const uncaught = [];
process.on('uncaughtException', (error) => uncaught.push(error.message));
process.on('unhandledRejection', (error) => uncaught.push('unhandled rejection: ' + error.message));
const cluster = await startCluster({ regions: [{ name: 'r1', servers: 3 }, { name: 'r2', servers: 3 }], transport: 'sim', seed: 12,
  replication: { mode: 'active', factor: 3 }, shards: 4 });
const client = cluster.client({ region: 'r1' });
const guarded = (p) => Promise.race([p.then((v) => JSON.stringify(v) ?? 'done', (e) => e.name),
  new Promise((resolve) => setTimeout(() => resolve('no answer in 10 s'), 10000))]);
const ops = Array.from({ length: 8 }, (_, i) => ({ op: 'put', key: 'k' + i, value: i }));
const shard = cluster.shardLeaders()[0].shard;
cluster.atNextCommit('coordinator/r1', shard, () => { throw new Error('hook boom'); });
const first = await guarded(client.transaction(ops));
const second = await guarded(client.transaction(ops.map((op) => ({ ...op, value: 100 + op.value }))));
const read = await guarded(client.transaction(ops.map((op) => ({ op: 'get', key: op.key }))));
await new Promise((r) => setImmediate(r));
console.log(JSON.stringify({ uncaught, first, second, read }));
process.exit(0);
`;

// Before: the hook's error unwound the coordinator's step after its commit record was written
// and left the simulator's driver (an unhandled rejection, which ends a process that does not
// catch it); the step's commit messages and timers were lost, and the transaction never settled.
test('an atNextCommit hook that throws: the error is an uncaught exception of its own, the transaction commits and the cluster goes on (sim)', async (t) => {
  const index = fileURLToPath(new URL('../src/index.js', import.meta.url));
  const out = await new Promise<string>((resolve, reject) => {
    execFile(process.execPath, ['--input-type=module', '-e', HOOK_SCRIPT, index], { timeout: 60_000 }, (error, stdout, stderr) => {
      if (error !== null) reject(new Error(`${error.message}\n${stderr}`));
      else resolve(stdout);
    });
  });
  const run = JSON.parse(out.trim().split('\n').at(-1)!) as { uncaught: string[]; first: string; second: string; read: string };
  t.log(run);
  t.deepEqual(run.uncaught, ['hook boom']);
  t.is(run.first, JSON.stringify(Array.from({ length: 8 }, () => null)));
  t.is(run.second, run.first);
  t.is(run.read, JSON.stringify(Array.from({ length: 8 }, (_, i) => 100 + i)));
});

/**
 * MERIDIAN_TICKS is read once, as the modules load: a script in a process of its own, per mode.
 * A coordinator asked for a checkpoint (Cluster.requestCheckpoint, a fault site) while idle,
 * then given a transaction: ticks counted in lazy mode, checked in full in eager and verify.
 */
const CHECKPOINT_SCRIPT = `
const { startCluster } = await import(process.argv[1]);
const cluster = await startCluster({ regions: [{ name: 'r1', servers: 3 }], transport: 'sim', seed: 1, replication: { mode: 'active', factor: 3 } });
const client = cluster.client({ region: 'r1' });
await client.transaction([{ op: 'put', key: 'a', value: 1 }]);
await cluster.sleep(500);
cluster.requestCheckpoint('coordinator/r1');
await cluster.sleep(300);
const second = await client.transaction([{ op: 'put', key: 'b', value: 2 }]).then(() => 'ok', (e) => e.name);
const summary = await cluster.inspect('coordinator/r1');
const errors = cluster.errors().filter((e) => e.kind === 'actor-error').map((e) => e.error.message);
console.log(JSON.stringify({ second, errors, restarts: summary.restarts, checkpoints: cluster.checkpointsOf('coordinator/r1') }));
await cluster.stop();
`;

// Before: the checked tick drained and took the checkpoint the fault site had asked for of the
// next step that drains, the check counted it as the tick's effect and threw, and the
// coordinator restarted (in verify mode the transaction then timed out). With ActorErrorWatch
// that failed 14 of the first 100 seeds of `MERIDIAN_TICKS=verify meridian check`.
for (const mode of ['verify', 'eager'] as const) {
  test(`MERIDIAN_TICKS=${mode}: a coordinator's checked ticks leave a checkpoint asked for to its step, and do not throw`, async (t) => {
    const index = fileURLToPath(new URL('../src/index.js', import.meta.url));
    const out = await new Promise<string>((resolve, reject) => {
      const env = { ...process.env, MERIDIAN_TICKS: mode };
      execFile(process.execPath, ['--input-type=module', '-e', CHECKPOINT_SCRIPT, index], { timeout: 60_000, env }, (error, stdout, stderr) => {
        if (error !== null) reject(new Error(`${error.message}\n${stderr}`));
        else resolve(stdout);
      });
    });
    const run = JSON.parse(out.trim().split('\n').at(-1)!) as { second: string; errors: string[]; restarts: number; checkpoints: number };
    t.log(run);
    t.deepEqual(run.errors, []);
    t.is(run.restarts, 0);
    t.is(run.second, 'ok');
    t.true(run.checkpoints >= 1, 'the checkpoint asked for was taken');
  });
}

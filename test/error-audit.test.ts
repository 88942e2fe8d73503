// A class audit (session 67): every place an error can arise inside an actor or an async path
// (/tmp/s67/scratch-error-audit/audit.md has the table). One test per bug it found, each
// failing on the code before its fix. Simulator only, small runs, no real-time waits.
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


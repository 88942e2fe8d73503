import test from 'ava';
import { startCluster, type Cluster, type ClusterConfig } from '../src/index.js';
import { attemptsLine, FINAL_READ_ATTEMPTS, LIVENESS_ATTEMPTS, runTxnScenario } from '../src/harness/txn-scenario.js';
import { AbortedError, TimeoutError } from '../src/core/errors.js';

/**
 * A transactional run that is not live says why (TxnScenarioResult.notLive): which client could
 * not commit, how its attempts ended, and whether the final read failed. It said `live: false`
 * alone, and seed 2320075 (2PC) was "not live" with nothing to go on (docs/findings.md, session 64).
 */

/** startCluster, the cluster cut from region r1 for good once the liveness phase begins (its first setNetwork). */
async function cutR1AtLiveness(config: ClusterConfig): Promise<Cluster> {
  const cluster = await startCluster(config);
  const setNetwork = cluster.setNetwork.bind(cluster);
  cluster.setNetwork = async (change) => {
    await setNetwork(change);
    await cluster.partition(['r1'], ['r2', 'r3']);
  };
  return cluster;
}

test('sim: a transactional run not live names the client that could not commit, its attempts and their errors, and the failed final read', async (t) => {
  const seed = 1;
  t.log(`seed ${seed}`);
  // One client, in r1 (clients go round the regions), cut off from the other two of the three regions.
  const r = await runTxnScenario({ seed, commit: '2pc', faultMs: 300, clients: 1, keys: 2, livenessTxns: 1, limits: 'default' }, cutR1AtLiveness);
  t.log(r.notLive);
  t.false(r.live);
  t.is(r.outcome, 'fail');
  const cause = r.notLive ?? '';
  t.regex(
    cause,
    new RegExp(`^client 0 \\(r1\\): transaction 1 of 1 failed all ${LIVENESS_ATTEMPTS} attempts \\(\\d+x AbortedError: .*no vote in time from shard/`),
  );
  t.regex(
    cause,
    new RegExp(`; the final read of every key \\(client 0, r1\\) failed all ${FINAL_READ_ATTEMPTS} attempts \\(${FINAL_READ_ATTEMPTS}x AbortedError: `),
  );
});

test('sim: a live transactional run has no not-live cause', async (t) => {
  const seed = 1;
  t.log(`seed ${seed}`);
  const r = await runTxnScenario({ seed, commit: '2pc', faultMs: 300, clients: 1, keys: 2, livenessTxns: 1, limits: 'default' });
  t.true(r.live, r.notLive);
  t.is(r.notLive, undefined);
});

test('attemptsLine: errors by kind (numbers aside), the most frequent first with its latest, then the last error when there are several kinds', (t) => {
  const locked = (n: number): AbortedError => new AbortedError(`transaction r1:x:${n} aborted: key "k${n % 2}" is locked by another transaction`);
  const late = new TimeoutError('txn "k0": no answer within 1500 ms; it may or may not have taken effect');
  t.is(
    attemptsLine([locked(1), late, locked(2), locked(3)]),
    '3x AbortedError: transaction r1:x:3 aborted: key "k1" is locked by another transaction' +
      '; 1x TimeoutError: txn "k0": no answer within 1500 ms; it may or may not have taken effect' +
      '; the last: AbortedError: transaction r1:x:3 aborted: key "k1" is locked by another transaction',
  );
  // One kind: its count and latest error, nothing more.
  t.is(attemptsLine([late, late]), '2x TimeoutError: txn "k0": no answer within 1500 ms; it may or may not have taken effect');
  // Past `shown` kinds: how many more.
  t.is(attemptsLine([new Error('a'), new Error('b'), new Error('c')], 1), '1x Error: a; 2 other kinds; the last: Error: c');
  t.is(attemptsLine(['x']), '1x threw x');
});

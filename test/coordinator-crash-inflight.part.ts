import test from 'ava';
import { startCluster, TimeoutError } from '../src/index.js';
import { failoverConfig } from './helpers/failover-cluster.js';

/**
 * A transaction in flight when its coordinator crashes fails at once, outcome unknown, as a
 * request in flight at a server that crashes does: the server that handed it on remembers
 * where it went, and the crash notice fails it. It waited out the whole request timeout (5 s)
 * before (found by a failover audit, session 58: `s6-txn-seq.mjs 2pc crash-coord`). At 1 ms the
 * request has not reached the coordinator yet (the server heard of the crash first); at 30 ms
 * the coordinator is running it (the other regions are 40-90 ms away).
 */
for (const [commit, afterMs] of [
  ['2pc', 1],
  ['2pc', 30],
  ['paxos-commit', 30],
] as const) {
  test(`sim ${commit}, crashed ${afterMs} ms after the call: a transaction in flight at a coordinator that crashes fails at once with a TimeoutError (outcome unknown), not at the request timeout`, async (t) => {
    const cluster = await startCluster(failoverConfig(1, { commit }));
    try {
      const client = cluster.client({ region: 'r2' });
      await cluster.sleep(1_500);
      for (let i = 0; i < 4; i++) await client.put(`t${i}`, 0);
      const started = cluster.now();
      const inflight = client.transaction([
        { op: 'put', key: 't0', value: 1 },
        { op: 'put', key: 't1', value: 1 },
      ]);
      await cluster.sleep(afterMs);
      await cluster.crash('coordinator/r2');
      const error = await t.throwsAsync(inflight);
      const tookMs = cluster.now() - started;
      t.log(`${commit}: ${error?.name} after ${tookMs} virtual ms: ${error?.message}`);
      t.true(error instanceof TimeoutError, String(error));
      t.false((error as TimeoutError).definite);
      t.true(tookMs < 1_000, `failed after ${tookMs} virtual ms, not at once (the request timeout is 5000)`);
    } finally {
      await cluster.stop();
    }
  });
}

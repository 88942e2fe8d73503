import test from 'ava';
import { startCluster } from '../src/index.js';
import { SHARDS_DEFAULT } from '../src/cluster/config.js';
import { shardOf } from '../src/cluster/topology.js';

// The first transaction after startCluster, in the simulator, in passive and hybrid mode,
// always aborted: "no vote in time from shard/12, shard/5" (found by an audit, session 60).
// A new primary proposes nothing but participant records until its barrier is applied, and a
// shard's participant core was built as soon as the leader had applied its log: handed the
// prepare, the core proposed it, the proposal was refused, and the core (with the prepare) was
// dropped. The coordinator's vote timeout then fired, in no real time. Now the core is built
// once the barrier is applied (GroupReplica.leaderCaughtUp); until then the participant holds
// the prepare, as it does while no leader is known, and it is voted on once the primary serves.

const SEEDS = [1, 2, 3];
/** Keys of at least three shards, so the transaction is a distributed one. */
const KEYS = ['a', 'zz', 'k1', 'k2', 'k3'];

for (const mode of ['passive', 'hybrid'] as const) {
  for (const commit of ['2pc', 'paxos-commit'] as const) {
    test(`sim, ${mode}, ${commit}: a multi-shard transaction right after startCluster commits`, async (t) => {
      t.true(new Set(KEYS.map((k) => shardOf(k, SHARDS_DEFAULT))).size >= 3, 'the keys span at least three shards');
      for (const seed of SEEDS) {
        t.log(`seed ${seed}`);
        const cluster = await startCluster({
          regions: [
            { name: 'us-east', servers: 3 },
            { name: 'eu-west', servers: 3 },
            { name: 'ap-south', servers: 3 },
          ],
          transport: 'sim',
          seed,
          replication: { mode, factor: 2 },
          commit,
        });
        try {
          const c = cluster.client({ region: 'us-east' });
          let error: unknown;
          try {
            await c.transaction([{ op: 'check', key: 'a', value: undefined }, ...KEYS.map((key, i) => ({ op: 'put' as const, key, value: i }))]);
          } catch (e) {
            error = e;
          }
          t.is(error, undefined, `seed ${seed}: the first transaction: ${String(error)}`);
          for (const [i, key] of KEYS.entries()) t.is(await c.get(key), error === undefined ? i : undefined, `seed ${seed}: ${key}`);
          c.close();
        } finally {
          await cluster.stop();
        }
      }
    });
  }
}

import test from 'ava';
import { withCluster, type Client, type ClusterConfig } from '../src/index.js';
import type { Cluster } from '../src/cluster/cluster.js';
import type { ServerState } from '../src/cluster/server.js';
import { groupOf, topologyOf } from '../src/cluster/topology.js';
import { Prng } from '../src/core/prng.js';

// Issue 8, item 4, through the cluster: with snapshots every few slots, replicas restored from
// a snapshot (a restart from the checkpoint, a catch-up from the leader) while transactions
// hold locks and operations wait behind them end in the same state as the others.

const SEED = 21;
const KEYS = ['a', 'b', 'c', 'd'];

const config = (mode: 'active' | 'passive' | 'hybrid'): ClusterConfig => ({
  regions: [
    { name: 'r1', servers: 3 },
    { name: 'r2', servers: 3 },
  ],
  transport: 'sim',
  seed: SEED,
  network: { latencyMs: { 'r1~r2': 15 }, jitterMs: 4 },
  heartbeat: { intervalMs: 50 },
  replication: { mode, factor: 3, snapshotEvery: 3 },
  shards: 2,
  requestTimeoutMs: 800,
});

function serverState(cluster: Cluster, id: string): ServerState | undefined {
  return cluster.internals.runtime.host.cell(id)?.peekState() as ServerState | undefined;
}

/** Transactions over two keys and single-key writes on the same keys, until `until()` is false. */
async function workload(client: Client, prng: Prng, until: () => boolean): Promise<void> {
  for (let i = 0; until(); i++) {
    const k1 = KEYS[prng.nextUint32() % KEYS.length]!;
    const k2 = KEYS[prng.nextUint32() % KEYS.length]!;
    try {
      if (prng.nextUint32() % 3 === 0)
        await client.transaction(
          k1 === k2
            ? [{ op: 'put', key: k1, value: i }]
            : [
                { op: 'put', key: k1, value: i },
                { op: 'put', key: k2, value: -i },
              ],
        );
      else if (prng.nextUint32() % 2 === 0) await client.put(k1, `${client.address}:${i}`);
      else await client.cas(k1, null, i);
    } catch {
      // Aborts and timeouts are expected under contention and crashes.
    }
  }
}

for (const mode of ['active', 'passive', 'hybrid'] as const) {
  test(`${mode}: replicas restored from snapshots taken with transactions and waiting operations in flight end equal`, async (t) => {
    await withCluster(t, config(mode), async (cluster) => {
      const topology = topologyOf(cluster.config);
      const prng = new Prng(SEED);
      let running = true;
      const clients = [cluster.client({ region: 'r1' }), cluster.client({ region: 'r1' }), cluster.client({ region: 'r2' }), cluster.client({ region: 'r2' })];
      const load = Promise.all(clients.map((c) => workload(c, prng, () => running)));
      // Crash and restart a follower of each shard in turn, each down over several snapshot
      // intervals: it restarts from its checkpoint and catches up from the leader's snapshot.
      for (let round = 0; round < 4; round++) {
        const shard = round % topology.shards;
        const group = groupOf(shard, topology);
        const leader = group.find((id) => serverState(cluster, id)?.groups.get(shard)?.isLeader());
        const victim = group.find((id) => id !== leader)!;
        await cluster.sleep(150);
        await cluster.crash(victim);
        await cluster.sleep(300);
        await cluster.restart(victim);
      }
      await cluster.sleep(300);
      running = false;
      await load;
      await cluster.sleep(2_000);
      let compared = 0;
      for (let shard = 0; shard < topology.shards; shard++) {
        const group = groupOf(shard, topology);
        const states = group.map((id) => serverState(cluster, id)!.groups.get(shard)!);
        const snapshotIndex = Math.min(...states.map((g) => g.status().snapshotIndex));
        t.true(snapshotIndex > 3 * 3, `shard ${shard}: several snapshot intervals passed (snapshot at ${snapshotIndex})`);
        const [first, ...rest] = states.map((g) => g.sm.snapshot());
        for (const [i, s] of rest.entries()) {
          t.is(s.applied, first!.applied, `shard ${shard}: ${group[i + 1]} applied as much as ${group[0]}`);
          t.deepEqual(s, first, `shard ${shard}: ${group[i + 1]} has the state of ${group[0]}`);
          compared++;
        }
        t.deepEqual(first!.prepared, [], `shard ${shard}: no transaction left holding locks`);
      }
      t.is(compared, 2 * topology.shards);
    });
  });
}

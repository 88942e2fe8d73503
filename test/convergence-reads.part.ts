import test from 'ava';
import { withCluster, type ClusterConfig } from '../src/index.js';
import { convergence } from '../src/harness/scenario.js';

// The convergence reads of `meridian check` (src/harness/scenario.ts): after the faults, every
// region's local read of a key must match a linearizable read. A region whose local reads
// only time out has not shown that its copy agrees: until 2026-12-03 such a read counted as
// agreeing, so a region that never answered passed.

const config: ClusterConfig = {
  regions: [
    { name: 'r1', servers: 1 },
    { name: 'r2', servers: 1 },
    { name: 'r3', servers: 1 },
  ],
  transport: 'sim',
  seed: 11,
  requestTimeoutMs: 300,
  // r2/0 is made slow, not dead: what is sent to it comes 20 s late. Membership keeps it up
  // (its own heartbeats leave on time; phi so high it is never suspected) and outlier ejection
  // is off, so r2's balancer keeps routing local reads to it, and they time out instead of
  // being refused or sent to another region. r1 and r3 stay a majority of every shard.
  heartbeat: { intervalMs: 50, phiThreshold: 1000 },
  balancer: { outlier: false },
  replication: { mode: 'active', factor: 3 },
};

test('a region whose local reads of a key only time out fails the convergence reads; answered, they pass', async (t) => {
  await withCluster(t, config, async (cluster) => {
    await cluster.sleep(500);
    const client = cluster.client({ region: 'r1' });
    await client.put('k', 1);
    await cluster.sleep(200);
    const healthy = await convergence(cluster, ['r1', 'r2', 'r3'], ['k']);
    t.deepEqual(healthy, { diverged: [], failed: [] }, 'every region answers with the value written');

    await cluster.setNetwork({ nodeDelayMs: { 'r2/0': 20_000 } });
    const slow = await convergence(cluster, ['r1', 'r2', 'r3'], ['k']);
    t.log(JSON.stringify(slow));
    t.deepEqual(slow.diverged, []);
    t.is(slow.failed.length, 1, 'the key is not counted as agreeing');
    t.regex(slow.failed[0] ?? '', /^k \(r2: local read timed out 5 times/);

    // On time again once what was sent late has arrived.
    await cluster.setNetwork({ nodeDelayMs: { 'r2/0': 0 } });
    await cluster.sleep(21_000);
    t.deepEqual(await convergence(cluster, ['r1', 'r2', 'r3'], ['k']), { diverged: [], failed: [] }, 'on time again, r2 answers');
  });
});

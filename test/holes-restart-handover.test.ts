import test from 'ava';
import { startCluster } from '../src/index.js';

// A server restarted on threads runs on a new worker thread, which boots with the cluster's
// initial network. It must learn what changed since (partitions, network settings, clock
// skews, other dead nodes) before its actors send anything: otherwise its traffic crosses a
// partition the rest of the cluster obeys.

test('threads: a server restarted inside a partition stays partitioned (its host is handed the partitions set before)', async (t) => {
  const cluster = await startCluster({
    regions: [
      { name: 'r1', servers: 1 },
      { name: 'r2', servers: 1 },
      { name: 'r3', servers: 1 },
    ],
    transport: 'threads',
    placement: 'dedicated',
    replication: { mode: 'active', factor: 3 },
  });
  try {
    await cluster.client({ region: 'r2' }).put('a', 1);
    await cluster.partition(['r1'], ['r2', 'r3']);
    await cluster.crash('r1/0');
    await cluster.restart('r1/0');
    const before = await cluster.internals.runtime.collectStats();
    await cluster.sleep(1_500);
    const after = await cluster.internals.runtime.collectStats();
    // Links are counted by the sending host: r1's link figures are the restarted thread's.
    for (const to of ['r2', 'r3']) {
      const key = `r1->${to}`;
      const sent = (after.links[key]?.sent ?? 0) - (before.links[key]?.sent ?? 0);
      const dropped = (after.links[key]?.dropped ?? 0) - (before.links[key]?.dropped ?? 0);
      // A link counts every message sent on it, dropped or not.
      t.true(dropped > 0, `${key}: the restarted server tries to reach the other side (${dropped} dropped)`);
      t.is(sent, dropped, `${key}: nothing the restarted server sends crosses the partition (${sent} sent, ${dropped} dropped)`);
    }
    await cluster.heal();
    await cluster.client({ region: 'r2' }).put('b', 2);
  } finally {
    await cluster.stop();
  }
});

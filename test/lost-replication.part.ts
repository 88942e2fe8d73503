import test from 'ava';
import { startCluster, type Cluster } from '../src/index.js';
import type { SimRuntime } from '../src/runtime/transports/sim-runtime.js';
import type { Message } from '../src/runtime/actor.js';
import { failoverConfig } from './helpers/failover-cluster.js';

/**
 * Messages of replication and transactions lost with nothing to recover them (a class audit,
 * session 64: every message type, dropped alone, once or for a while, then the network heals).
 * Each test drops exactly one message type in the simulator (Host.setSendFilter) and asserts
 * progress within a stated virtual time.
 */

/** Lose what `from` sends that `lost` picks (undefined: stop losing). */
function lose(cluster: Cluster, from: string, lost: ((msg: Message) => boolean) | undefined): void {
  const host = (cluster.internals.runtime as SimRuntime).world.host;
  host.setSendFilter(from, lost === undefined ? undefined : (msg) => (lost(msg) ? undefined : msg));
}

/** What each copy of `shard` applied, learners (`L`) included. */
function applied(cluster: Cluster, shard: number): Record<string, number> {
  return Object.fromEntries(
    cluster
      .copyProgress()
      .filter((p) => p.shard === shard)
      .map((p) => [`${p.id}${p.learner ? 'L' : ''}`, p.applied]),
  );
}

// A hybrid shard leader feeds its remote learners a batch per tick while it applies commands.
// One batch lost left a gap the learner cannot apply past: it skipped every later batch and
// acknowledged the same index again, and the feed sent again from what it acknowledged only
// after LEARN_RESEND_TICKS without sending anything. A shard written more often than that kept
// its learner where the loss left it for as long as the writes went on (10 s of a put every
// 100 ms: 2 of 102 applied), until they paused. Now answers that stop moving for
// LEARN_RESEND_TICKS send again from what the learner holds.
test('sim, hybrid: a learner that lost one batch catches up while its shard keeps being written', async (t) => {
  const seed = 1;
  t.log(`seed ${seed}`);
  const cluster = await startCluster(failoverConfig(seed, { replication: { mode: 'hybrid' } }));
  try {
    const client = cluster.client({ region: 'r0' });
    await cluster.sleep(1_500);
    const key = 'k';
    const shard = cluster.shardOf(key);
    await client.put(key, 0);
    await cluster.sleep(500);
    const leader = cluster.leaderOf(shard)!;
    let armed = true;
    // The next batch of the shard's feed, to whichever learner it goes: lost.
    lose(cluster, leader, (msg) => {
      if (!armed || msg.type !== 'learn' || (msg as Message & { s: number }).s !== shard) return false;
      armed = false;
      return true;
    });
    const writes: Array<Promise<unknown>> = [];
    for (let i = 1; i <= 30; i++) {
      writes.push(client.put(key, i).catch((e: Error) => e.name));
      await cluster.sleep(100);
    }
    // Still writing: every copy within a few commands of the leader (100 ms a put, 90 ms at most between regions).
    const copies = applied(cluster, shard);
    t.false(armed, 'a batch was lost');
    const top = Math.max(...Object.values(copies));
    for (const [copy, n] of Object.entries(copies)) t.true(n >= top - 5, `${copy} applied ${n} of ${top} (${JSON.stringify(copies)})`);
    lose(cluster, leader, undefined);
    await Promise.all(writes);
  } finally {
    await cluster.stop();
  }
});

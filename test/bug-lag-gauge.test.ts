import test from 'ava';
import { startCluster, type Client, type Cluster, type ClusterConfig } from '../src/index.js';
import { natsServerBinary, startNatsServer } from '../src/harness/nats-server.js';

// cluster.replicationLag() (and the gauge meridian_replication_lag_commands) sums every server's
// lag counters. Until 2026-12-02 a server reported its feed's lag changes only while it led, and
// the runtime kept an actor's counters across a restart while its feed started again from 0, so
// after a change of leader the sum kept the old leader's last lag for good: here { r1: 0, r2: 22 }
// with every replica and the learner at the same index (found by test/learner-random.part.ts's
// model; reproduced on this cluster). A server that stops leading now withdraws what it
// reported, and the counters are levels of an incarnation (`level:`, src/runtime/stats.ts): a
// restarted server starts them from 0.

/** One shard homed in r1 (3 servers) with its learner r2/0; `more` sets the transport and factor. */
function lagConfig(more: Partial<ClusterConfig>): ClusterConfig {
  return {
    regions: [
      { name: 'r1', servers: 3 },
      { name: 'r2', servers: 1 },
    ],
    seed: 7,
    shards: 1,
    replication: { mode: 'hybrid', factor: 3 },
    heartbeat: { intervalMs: 50 },
    ...more,
  };
}

/** Pauses the learner and writes 21 puts past it: returns the client and the shard's leader. */
async function learnerBehind(cluster: Cluster): Promise<{ client: Client; leader: string }> {
  const client = cluster.client({ region: 'r1' });
  await client.put('k', 0);
  const leader = cluster.serverFor('k');
  await cluster.pause('r2/0');
  for (let i = 1; i <= 21; i++) await client.put('k', i);
  return { client, leader };
}

for (const factor of [3, 2]) {
  test(`hybrid: the replication lag goes back to 0 once the learner caught up after its shard's leader crashed (factor ${factor}${factor === 2 ? ', the old leader restarted' : ''})`, async (t) => {
    t.log('seed 7');
    const cluster = await startCluster(lagConfig({ transport: 'sim', replication: { mode: 'hybrid', factor } }));
    try {
      const { client, leader } = await learnerBehind(cluster);
      await cluster.sleep(300); // the leader reports its feed's lag at its ticks
      t.true((cluster.replicationLag()['r2'] ?? 0) > 0, 'the paused learner is behind');
      await cluster.crash(leader);
      await cluster.resume('r2/0');
      await cluster.sleep(2_000);
      if (factor === 2) await cluster.restart(leader);
      for (let i = 22; i <= 26; i++) await client.put('k', i);
      await cluster.sleep(3_000);
      t.deepEqual(cluster.replicationLag(), { r1: 0, r2: 0 });
    } finally {
      await cluster.stop();
    }
  });
}

// The same on worker threads: packed (a crash drops the server's actors on a thread that goes
// on) and dedicated (a crash ends the server's thread; what it last reported is kept for its
// totals, its levels dropped). Before the fix both printed { r1: 0, r2: 21 } (r2: 22
// dedicated) after the catch-up (a /tmp script, 2026-12-02 13:48).
for (const placement of ['packed', 'dedicated'] as const) {
  test(`threads (${placement}): the replication lag goes back to 0 once the learner caught up after its shard's leader crashed`, async (t) => {
    t.log('seed 7');
    const cluster = await startCluster(lagConfig({ transport: 'threads', placement }));
    try {
      const { client, leader } = await learnerBehind(cluster);
      // Real time: the lag shows once the leader's tick reported it and its thread pushed its stats.
      await eventuallyLag(cluster, (lag) => lag > 0);
      t.true((cluster.replicationLag()['r2'] ?? 0) > 0, 'the paused learner is behind');
      await catchUpAfterLeaderCrash(cluster, client, leader);
      t.deepEqual(cluster.replicationLag(), { r1: 0, r2: 0 });
    } finally {
      await cluster.stop();
    }
  });
}

/**
 * Real time: crashes the shard's leader, lets the learner go on, writes 5 more puts and waits
 * until r2's lag is 0 (or 10 s passed).
 */
async function catchUpAfterLeaderCrash(cluster: Cluster, client: Client, leader: string): Promise<void> {
  await cluster.crash(leader);
  await cluster.resume('r2/0');
  for (let i = 22; i <= 26; i++) {
    try {
      await client.put('k', i);
    } catch {
      // A put the crash caught out may time out: the lag is what is checked.
    }
  }
  await eventuallyLag(cluster, (lag) => lag === 0);
}

/** Waits (up to 10 s of real time) until r2's lag satisfies `ok`. */
async function eventuallyLag(cluster: Cluster, ok: (lag: number) => boolean): Promise<void> {
  for (let i = 0; i < 100 && !ok(cluster.replicationLag()['r2'] ?? 0); i++) await cluster.sleep(100);
}

// The same over NATS: two host processes and a real nats-server (each process pushes its
// servers' stats to the cluster; a crash ends the leader's actors in a process that goes on).
const binary = natsServerBinary();
const natsTest = 'bin' in binary ? test.serial : test.skip;
const skipped = 'reason' in binary ? ` (skipped: ${binary.reason})` : '';
natsTest(`nats: the replication lag goes back to 0 once the learner caught up after its shard's leader crashed${skipped}`, async (t) => {
  t.log('seed 7');
  const server = await startNatsServer((binary as { bin: string }).bin);
  try {
    const cluster = await startCluster(lagConfig({ transport: 'nats', nats: { servers: server.url, processes: 2 } }));
    try {
      const { client, leader } = await learnerBehind(cluster);
      await eventuallyLag(cluster, (lag) => lag > 0);
      t.true((cluster.replicationLag()['r2'] ?? 0) > 0, 'the paused learner is behind');
      await catchUpAfterLeaderCrash(cluster, client, leader);
      t.deepEqual(cluster.replicationLag(), { r1: 0, r2: 0 });
    } finally {
      await cluster.stop();
    }
  } finally {
    await server.stop();
  }
});

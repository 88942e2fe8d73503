import test from 'ava';
import { startCluster, ValidationError, type Cluster } from '../src/index.js';
import { replicaStateDiffs } from '../src/harness/scenario.js';
import type { ServerState } from '../src/cluster/server.js';

// `meridian check` compares the replicated state of the replicas of each shard that applied the
// same log index (replicaStateDiffs), not only what reads of the data show: a replica whose
// snapshot lost the request ids it remembered holds the same data and would answer a late
// duplicate differently. Here one replica's state is changed behind the log's back.

/** Three regions of `servers` each, two shards; active replication on 3, or hybrid groups of 2 with learners. */
async function cluster(seed: number, mode: 'active' | 'hybrid' = 'active', servers = 1): Promise<Cluster> {
  return startCluster({
    regions: ['r1', 'r2', 'r3'].map((name) => ({ name, servers })),
    transport: 'sim',
    seed,
    network: { jitterMs: 1 },
    shards: 2,
    replication: { mode, factor: mode === 'active' ? 3 : 2 },
  });
}

test('replicas that applied the same log hold the same state; one changed behind its log is named, with the fields that differ', async (t) => {
  const seed = 5;
  t.log(`seed ${seed}`);
  const c = await cluster(seed);
  try {
    const client = c.client({ region: 'r1' });
    for (let i = 0; i < 12; i++) await client.put(`k${i}`, i);
    await c.sleep(300);
    const states = c.replicaStates(0);
    t.is(states.length, 3);
    t.is(new Set(states.map((s) => s.state.applied)).size, 1, 'all caught up to one index');
    t.true(
      states.every((s) => !s.learner),
      'active replication: no learners',
    );
    t.deepEqual(replicaStateDiffs(c, 2), []);
    // One replica forgets the request ids it answered (what a snapshot missing them would do).
    const victim = states[2]!.id;
    const group = (c.internals.runtime.host.cell(victim)!.peekState() as ServerState).groups.get(0)!;
    const snapshot = group.sm.snapshot();
    t.true(snapshot.seen.length > 0, 'the shard remembered request ids');
    group.sm.restore({ ...snapshot, seen: [] });
    const diffs = replicaStateDiffs(c, 2);
    t.is(diffs.length, 1, diffs.join('; '));
    t.regex(diffs[0]!, new RegExp(`^shard 0 at index ${states[0]!.index}: \\S+ and ${victim.replace('/', '\\/')} differ in seen$`));
  } finally {
    await c.stop();
  }
});

test('hybrid: learners are compared with the replicas at the same command count, and named as learners', async (t) => {
  const seed = 3;
  t.log(`seed ${seed}`);
  const c = await cluster(seed, 'hybrid', 2);
  try {
    const client = c.client({ region: 'r1' });
    for (let i = 0; i < 20; i++) await client.put(`k${i}`, i);
    await c.sleep(1_500);
    const states = c.replicaStates(0);
    const learners = states.filter((s) => s.learner);
    t.is(learners.length, 2, 'a learner in each other region');
    t.is(new Set(states.map((s) => s.state.applied)).size, 1, 'learners caught up with the group');
    t.deepEqual(replicaStateDiffs(c, 2), []);
    // A learner that skipped a command (what learner-out-of-order does) holds other data.
    const victim = learners[0]!.id;
    const learner = (c.internals.runtime.host.cell(victim)!.peekState() as ServerState).learners.get(0)!;
    const snapshot = learner.sm.snapshot();
    learner.sm.restore({ ...snapshot, data: snapshot.data.slice(1) });
    const diffs = replicaStateDiffs(c, 2);
    t.is(diffs.length, 1, diffs.join('; '));
    t.regex(diffs[0]!, new RegExp(`and ${victim.replace('/', '\\/')} \\(learner\\) differ in data$`));
  } finally {
    await c.stop();
  }
});

test('replicaStates takes a shard of the cluster, and needs the simulator', async (t) => {
  const c = await cluster(6);
  try {
    const error = t.throws(() => c.replicaStates(2), { instanceOf: ValidationError });
    t.regex(error!.message, /shard/);
    t.throws(() => c.replicaStates(-1), { instanceOf: ValidationError });
  } finally {
    await c.stop();
  }
  const threads = await startCluster({ regions: [{ name: 'r1', servers: 1 }], transport: 'threads', seed: 1, replication: { mode: 'none' } });
  try {
    const error = t.throws(() => threads.replicaStates(0), { instanceOf: ValidationError });
    t.regex(error!.message, /transport 'sim'/);
  } finally {
    await threads.stop();
  }
});

import test from 'ava';
import { ValidationError, startCluster, eventually, type Cluster } from '../src/index.js';
import { ALL_FAULT_KINDS, FAULT_KINDS, Nemesis, drawSwarm } from '../src/harness/nemesis.js';
import { replicaStateDiffs } from '../src/harness/scenario.js';

// A paused server (Cluster.pause, the nemesis's 'pause'): a process stopped as by SIGSTOP.
// Nothing it runs while paused, not even its timers; what reaches it waits in its mailbox and
// is taken up, in order, when it resumes, with the state it had.

async function sim(seed: number): Promise<Cluster> {
  return startCluster({
    regions: ['r1', 'r2', 'r3'].map((name) => ({ name, servers: 2 })),
    transport: 'sim',
    seed,
    network: { latencyMs: { 'r1~r2': 5, 'r1~r3': 10, 'r2~r3': 15 } },
    replication: { mode: 'active', factor: 3 },
    shards: 2,
    heartbeat: { intervalMs: 100 },
  });
}

/** The commands `id` applied into `shard`'s log, read in place (sim). */
function applied(cluster: Cluster, shard: number, id: string): number {
  const state = cluster.replicaStates(shard).find((s) => s.id === id);
  if (state === undefined) throw new Error(`${id} holds no replica of shard ${shard}`);
  return state.state.applied;
}

test('a paused leader runs nothing, not even its timers: the others elect a leader and go on; resumed, it takes up its backlog, steps down and catches up', async (t) => {
  const seed = 12;
  t.log(`seed ${seed}`);
  const cluster = await sim(seed);
  try {
    const client = cluster.client({ region: 'r2' });
    for (let i = 0; i < 6; i++) await client.put(`k${i}`, i);
    const old = cluster.shardLeader(0).leader!;
    t.truthy(old);
    const stats = (): number => cluster.stats().actors[old]?.received ?? 0;
    const appliedBefore = applied(cluster, 0, old);
    const receivedBefore = stats();
    await cluster.pause(old);
    t.true(cluster.isPaused(old));
    t.false(cluster.isDown(old), 'paused is not crashed');
    t.is(cluster.shardLeader(0).leader, undefined, 'a paused leader, which still believes it leads, is not reported as the leader');
    // Nobody is told: the rest stop hearing from it and elect another leader.
    const fresh = await eventually(
      cluster,
      () => {
        const leader = cluster.shardLeaders().find((s) => s.shard === 0)!.leader;
        if (leader === undefined || leader === old) throw new Error(`shard 0 still led by ${leader}`);
        return leader;
      },
      { timeoutMs: 5_000 },
    );
    // Nor is a balancer: a request it sends to the paused server waits there (an honest timeout
    // for its client); once heartbeats show the server silent, requests go elsewhere.
    await eventually(cluster, () => cluster.members().find((m) => m.id === old)?.state !== 'up', { timeoutMs: 5_000, message: `${old} seen silent` });
    for (let i = 0; i < 6; i++) await eventually(cluster, () => client.put(`k${i}`, `after-${i}`), { timeoutMs: 5_000 });
    t.is(stats(), receivedBefore, 'no message and no timer ran while paused');
    t.is(applied(cluster, 0, old), appliedBefore, 'its state stood still');
    // The paused one still believes it leads (its state is as it was), which shardLeaders passes over.
    t.is(cluster.replicaStates(0).length, 3);
    t.true(cluster.shardLeaders().every((s) => s.leader !== old && !s.candidates!.includes(old)));
    await cluster.resume(old);
    t.false(cluster.isPaused(old));
    await cluster.sleep(10);
    t.true(stats() > receivedBefore, 'the backlog ran at resume');
    await eventually(
      cluster,
      () => {
        const states = cluster.replicaStates(0);
        if (new Set(states.map((s) => s.state.applied)).size !== 1)
          throw new Error(`not caught up: ${states.map((s) => `${s.id} ${s.state.applied}`).join(', ')}`);
      },
      { timeoutMs: 5_000 },
    );
    t.not(cluster.shardLeader(0).leader, undefined);
    t.log(`shard 0: ${old} paused, ${fresh} led, ${cluster.shardLeader(0).leader} leads after the resume`);
    for (let i = 0; i < 6; i++) t.is(await cluster.client({ region: 'r3' }).get(`k${i}`), `after-${i}`);
    t.deepEqual(replicaStateDiffs(cluster, 2), []);
    t.is(cluster.assertionFailures().length, 0);
  } finally {
    await cluster.stop();
  }
});

test('pause / resume / isPaused: ids checked; no pause twice or of a crashed one; a crash ends a pause; resume of a running one is a no-op', async (t) => {
  const cluster = await sim(3);
  try {
    await t.throwsAsync(cluster.pause('nobody'), { instanceOf: ValidationError, message: /id/ });
    t.throws(() => cluster.isPaused('coordinator/r9'), { instanceOf: ValidationError, message: /id/ });
    await t.notThrowsAsync(cluster.resume('r1/0'), 'resume of one not paused');
    await cluster.pause('coordinator/r1');
    t.true(cluster.isPaused('coordinator/r1'));
    await t.throwsAsync(cluster.pause('coordinator/r1'), { instanceOf: ValidationError, message: /not paused already/ });
    await cluster.resume('coordinator/r1');
    t.false(cluster.isPaused('coordinator/r1'));
    await cluster.pause('r2/1');
    await cluster.crash('r2/1');
    t.false(cluster.isPaused('r2/1'), 'a crash ends the pause');
    await t.throwsAsync(cluster.pause('r2/1'), { instanceOf: ValidationError, message: /crashed/ });
    await cluster.restart('r2/1');
    const client = cluster.client({ region: 'r2' });
    await client.put('a', 1);
    t.is(await client.get('a'), 1);
  } finally {
    await cluster.stop();
  }
});

test('threads: a paused server falls silent (its heartbeats stop: the others see it down) while its thread goes on; resumed, it is up again and serves', async (t) => {
  const cluster = await startCluster({ regions: [{ name: 'r1', servers: 3 }], transport: 'threads', seed: 1, heartbeat: { intervalMs: 50 } });
  try {
    const client = cluster.client({ region: 'r1' });
    await eventually(cluster, () => client.put('a', 1), { timeoutMs: 10_000 });
    const state = (): string | undefined => cluster.members().find((m) => m.id === 'r1/2')?.state;
    await eventually(cluster, () => state() === 'up', { timeoutMs: 10_000 });
    await cluster.pause('r1/2');
    t.true(cluster.isPaused('r1/2'));
    await eventually(cluster, () => state() !== 'up', { timeoutMs: 10_000, message: 'r1/2 seen silent' });
    t.true((await cluster.ping()).length > 0, 'every thread still answers its control plane');
    await cluster.resume('r1/2');
    await eventually(cluster, () => state() === 'up', { timeoutMs: 10_000, message: 'r1/2 up again' });
    await eventually(cluster, () => client.put('a', 2), { timeoutMs: 10_000 });
    t.is(await client.get('a'), 2);
  } finally {
    await cluster.stop();
  }
});

test("nemesis 'pause': a leader with commands in flight, a server or a coordinator is paused until the fault ends; heal resumes it; drawn only when named (sim)", async (t) => {
  const seed = 21;
  t.log(`seed ${seed}`);
  const cluster = await sim(seed);
  try {
    const client = cluster.client({ region: 'r1' });
    for (let i = 0; i < 4; i++) await client.put(`k${i}`, i);
    const victims = new Set<string>();
    for (let round = 0; round < 6; round++) {
      const nemesis = new Nemesis(cluster, { faults: ['pause'], seed: seed + round, intervalMs: 50, faultMs: 10_000 });
      await nemesis.step();
      const start = nemesis.log.find((e) => e.action === 'start');
      t.truthy(start);
      const victim = start!.detail.split(' ')[0]!;
      victims.add(victim);
      t.true(cluster.isPaused(victim), `${victim} paused`);
      t.false(cluster.isDown(victim));
      // A paused server counts towards crashMax (1): no other server is crashed or paused meanwhile.
      if (!victim.startsWith('coordinator/')) {
        await nemesis.step();
        t.is(nemesis.log.filter((e) => e.action === 'start').length, 1, 'one at a time');
      }
      await nemesis.heal();
      t.false(cluster.isPaused(victim), 'heal resumes it');
      t.regex(nemesis.lines().join('\n'), new RegExp(`heal \\(resumed ${victim.replace('/', '\\/')}\\)`));
      await client.put(`k${round}`, `r${round}`);
    }
    t.log([...victims].join(', '));
    t.true(victims.size >= 2, 'different victims for different seeds');
    t.is(cluster.assertionFailures().length, 0);
  } finally {
    await cluster.stop();
  }
  t.true(ALL_FAULT_KINDS.includes('pause'));
  t.false(FAULT_KINDS.includes('pause'), 'a plain Nemesis and swarm plans draw what they drew');
  for (let s = 1; s <= 30; s++) t.false(drawSwarm(s).faults.includes('pause'));
});

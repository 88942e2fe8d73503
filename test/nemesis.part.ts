import test, { type ExecutionContext } from 'ava';
import { ConfigError, ValidationError, startCluster, eventually, type Cluster, type ClusterConfig, type NetworkConfig } from '../src/index.js';
import { defaultCrashMax, drawSwarm, FAULT_KINDS, Nemesis, type FaultKind, type NemesisTarget, type ShardView } from '../src/harness/nemesis.js';
import { mergeNetwork } from '../src/net/model.js';
import { runScenario } from '../src/harness/scenario.js';
import { checkHistory } from '../src/harness/linearizability.js';
import { SIM_WRITEBACK_MS_DEFAULT } from '../src/runtime/durable-memory.js';

/**
 * Fault schedules: every kind really changes the cluster (crashes show in members(),
 * partitions and loss drop messages with their cause), heal() undoes all of it, and every
 * choice is a function of the seed.
 */

const REGIONS = ['r1', 'r2', 'r3'];

function simConfig(seed: number): ClusterConfig {
  return {
    regions: REGIONS.map((name) => ({ name, servers: 2 })),
    transport: 'sim',
    seed,
    network: { latencyMs: { 'r1~r2': 5, 'r1~r3': 10, 'r2~r3': 15 } },
    replication: { mode: 'active', factor: 3 },
    shards: 4,
    heartbeat: { intervalMs: 100 },
  };
}

async function withSim<T>(seed: number, body: (cluster: Cluster) => Promise<T>): Promise<T> {
  const cluster = await startCluster(simConfig(seed));
  try {
    return await body(cluster);
  } finally {
    await cluster.stop();
  }
}

/** A cluster that only records: virtual time moves by exactly what sleep() asks. */
class FakeCluster implements NemesisTarget {
  readonly seed: number;
  readonly config: { regions: Array<{ name: string; servers: number }>; network: NetworkConfig };
  isStopped = false;
  network: NetworkConfig;
  partitions: Array<{ a: string[]; b: string[]; oneWay: boolean }> = [];
  down = new Set<string>();
  private clock = 0;

  constructor(seed: number, network: NetworkConfig) {
    this.seed = seed;
    this.config = { regions: REGIONS.map((name) => ({ name, servers: 2 })), network };
    this.network = network;
  }

  async crash(id: string): Promise<void> {
    this.down.add(id);
  }

  async restart(id: string): Promise<void> {
    this.down.delete(id);
  }

  partition(a: string[], b: string[], options: { oneWay?: boolean } = {}): void {
    this.partitions.push({ a, b, oneWay: options.oneWay ?? false });
  }

  heal(): void {
    this.partitions = [];
  }

  setNetwork(change: NetworkConfig): void {
    this.network = mergeNetwork(this.network, change);
  }

  async sleep(ms: number): Promise<void> {
    this.clock += ms;
  }

  now(): number {
    return this.clock;
  }

  /** The latency a message between two regions gets, whatever way it is written down. */
  latency(a: string, b: string): number {
    const t = this.network.latencyMs ?? {};
    return t[`${a}~${b}`] ?? t[`${b}~${a}`] ?? this.network.defaultLatencyMs ?? 0;
  }
}

const BASE_NETWORK: NetworkConfig = { latencyMs: { 'r1~r2': 5, 'r1~r3': 10 }, defaultLatencyMs: 20, loss: 0.001, duplicate: 0, nodeDelayMs: { 'r2/0': 3 } };

test('crash: the victim leaves members() and drops messages as dead; heal brings it back', async (t) => {
  const seed = 11;
  t.log(`seed ${seed}`);
  await withSim(seed, async (cluster) => {
    const n = new Nemesis(cluster, { faults: ['crash'], seed, intervalMs: 100, faultMs: 600_000 });
    await n.run(400, { heal: false });
    const crashed = n.active().map((f) => f.detail);
    t.is(crashed.length, 1, 'crashMax 1 holds however many steps ran');
    const victim = crashed[0]!;
    const state = await eventually(cluster, () => cluster.members().find((m) => m.id === victim)?.state === 'down' && 'down', { timeoutMs: 3_000 });
    t.is(state, 'down');
    const deadBefore = cluster.stats().dropped.dead ?? 0;
    await cluster.sleep(500);
    t.true((cluster.stats().dropped.dead ?? 0) > deadBefore, 'heartbeats to the crashed server are dropped as dead');
    await n.heal();
    t.deepEqual(n.active(), []);
    t.regex(n.lines().at(-1)!, new RegExp(`heal \\(restarted ${victim}\\)`));
    await eventually(cluster, () => cluster.members().every((m) => m.state === 'up'), { timeoutMs: 5_000, message: 'all up after heal' });
    t.pass();
  });
});

test('partition: messages drop with cause partition until heal', async (t) => {
  const seed = 12;
  t.log(`seed ${seed}`);
  await withSim(seed, async (cluster) => {
    const n = new Nemesis(cluster, { faults: ['partition'], seed, intervalMs: 100, faultMs: 600_000 });
    await n.run(300, { heal: false });
    t.is(n.active().length, 1, 'partitionsMax 1');
    t.regex(n.active()[0]!.detail, /^\S+( \S+)* \| \S+( \S+)*$/);
    const before = cluster.stats().dropped.partition ?? 0;
    await cluster.sleep(500);
    const during = cluster.stats().dropped.partition ?? 0;
    t.true(during > before, `heartbeats across the cut are dropped (${before} -> ${during})`);
    await n.heal();
    await cluster.sleep(200);
    const healed = cluster.stats().dropped.partition ?? 0;
    await cluster.sleep(500);
    t.is(cluster.stats().dropped.partition ?? 0, healed, 'nothing dropped by partition after heal');
  });
});

test('loss: messages drop with cause loss; the baseline comes back when the fault ends', async (t) => {
  const seed = 13;
  t.log(`seed ${seed}`);
  await withSim(seed, async (cluster) => {
    const n = new Nemesis(cluster, { faults: ['loss'], seed, lossRate: 0.5, intervalMs: 100, faultMs: 300 });
    const before = cluster.stats().dropped.loss ?? 0;
    await n.run(1_000, { heal: false });
    t.true((cluster.stats().dropped.loss ?? 0) > before, 'some messages were lost');
    t.true(
      n.log.some((e) => e.kind === 'loss' && e.action === 'end'),
      'a loss fault ended inside the run',
    );
    await n.heal();
    await cluster.sleep(100);
    const healed = cluster.stats().dropped.loss ?? 0;
    await cluster.sleep(1_000);
    t.is(cluster.stats().dropped.loss ?? 0, healed, 'no loss after heal (the cluster started with none)');
  });
});

test('a nemesis restores the network in force when it was created (setNetwork included), and needs a running cluster', async (t) => {
  const seed = 14;
  t.log(`seed ${seed}`);
  const cluster = await startCluster(simConfig(seed));
  try {
    await cluster.setNetwork({ duplicate: 0.01, nodeDelayMs: { 'r2/0': 3 } });
    const current = cluster.currentNetwork();
    t.like(current, { duplicate: 0.01, nodeDelayMs: { 'r2/0': 3 }, latencyMs: { 'r1~r2': 5, 'r1~r3': 10, 'r2~r3': 15 } });
    current.duplicate = 0.5;
    t.is(cluster.currentNetwork().duplicate, 0.01, 'a copy: changing it changes nothing');
    const n = new Nemesis(cluster, { faults: ['duplicate', 'latency-spike'], seed, intervalMs: 50, faultMs: 200 });
    await n.run(1_000);
    t.true(
      n.log.some((e) => e.kind === 'duplicate' && e.action === 'start'),
      'a duplicate fault ran',
    );
    t.like(cluster.currentNetwork(), { duplicate: 0.01, nodeDelayMs: { 'r2/0': 3 }, latencyMs: { 'r1~r2': 5, 'r1~r3': 10, 'r2~r3': 15 } });
  } finally {
    await cluster.stop();
  }
  t.is(t.throws(() => new Nemesis(cluster), { instanceOf: ValidationError }).field, 'cluster');
});

test('a bad baseline is refused when the nemesis is made, naming nemesis.baseline; a bad faults value lists every kind; one run() at a time', async (t) => {
  await withSim(9, async (cluster) => {
    // It was taken, and threw only at the run's heal: after the faults were forgotten and
    // before the server it had crashed was restarted, which stayed down.
    t.throws(() => new Nemesis(cluster, { baseline: { loss: 7 }, faults: ['crash'] }), {
      instanceOf: ConfigError,
      message: /^nemesis\.baseline\.loss: expected a probability from 0 to 1, got 7$/,
    });
    t.throws(() => new Nemesis(cluster, { baseline: 5 as never }), {
      instanceOf: ConfigError,
      message: /^nemesis\.baseline: expected a plain object, got 5$/,
    });
    t.throws(() => new Nemesis(cluster, { baseline: { nodeDelayMs: { 'r9/0': 1 } } }), { instanceOf: ConfigError, message: /nemesis\.baseline\.nodeDelayMs/ });
    const error = t.throws(() => new Nemesis(cluster, { faults: [] }), { instanceOf: ConfigError });
    for (const kind of ['crash', 'blackout', 'pause', 'leader-duel', 'late-copies', 'log-hole', 'lost-accepts', 'lost-commits'])
      t.true(error.message.includes(kind), kind);
    const n = new Nemesis(cluster, { baseline: { loss: 0.001 }, faults: ['crash'], seed: 9, intervalMs: 50 });
    const running = n.run(500);
    await t.throwsAsync(n.run(500), { instanceOf: ValidationError, message: /^run: one run\(\) at a time/ });
    await running;
    t.is(cluster.currentNetwork().loss, 0.001, 'the heal restored the baseline given');
    t.true(
      n.log.some((e) => e.kind === 'crash' && e.action === 'start'),
      'a crash ran',
    );
    for (const m of cluster.members()) t.false(cluster.isDown(m.id), `${m.id} restarted by the heal`);
  });
});

test('a schedule runs in sim on virtual time with nothing else awaited, and the same seed gives the same log', async (t) => {
  const seed = 21;
  t.log(`seed ${seed}`);
  const once = (nemesisSeed: number): Promise<{ lines: string[]; elapsedMs: number }> =>
    withSim(seed, async (cluster) => {
      const t0 = cluster.now();
      const n = new Nemesis(cluster, { seed: nemesisSeed });
      await n.run(3_000);
      return { lines: n.lines(), elapsedMs: cluster.now() - t0 };
    });
  const a = await once(5);
  const b = await once(5);
  const c = await once(6);
  t.true(a.elapsedMs >= 3_000, `virtual time moved (${a.elapsedMs} ms)`);
  t.true(a.lines.length >= 5, a.lines.join('\n'));
  t.regex(a.lines.at(-1)!, /heal/);
  t.deepEqual(a.lines, b.lines);
  t.notDeepEqual(a.lines, c.lines);
});

test('stop() ends a run early, with a heal', async (t) => {
  await withSim(3, async (cluster) => {
    const n = new Nemesis(cluster, { seed: 3, intervalMs: 100 });
    const t0 = cluster.now();
    const running = n.run(60_000);
    await cluster.sleep(500);
    n.stop();
    await running;
    t.true(cluster.now() - t0 < 1_000, 'ended at its next wake-up');
    t.is(n.log.at(-1)!.action, 'heal');
  });
});

test('a cluster stopped under a running schedule ends the run quietly (fake cluster)', async (t) => {
  const fake = new FakeCluster(4, {});
  const crash = fake.crash.bind(fake);
  fake.crash = async (id: string) => {
    await crash(id);
    // The cluster stops while the crash is in flight (a test body threw, say): the next call fails.
    fake.isStopped = true;
    fake.restart = () => Promise.reject(new Error('the cluster is stopped'));
    fake.sleep = () => Promise.reject(new Error('the cluster is stopped'));
  };
  const n = new Nemesis(fake, { faults: ['crash'], seed: 4, intervalMs: 100 });
  const log = await n.run(10_000);
  t.is(log.length, 1, 'the crash was logged; no heal was tried on a stopped cluster');
  t.is(log[0]!.action, 'start');
});

test('network kinds and heal restore the baseline exactly (fake cluster)', async (t) => {
  const seeds = [1, 2, 3, 4, 5, 6];
  t.log(`seeds ${seeds.join(', ')}`);
  for (const seed of seeds) {
    const fake = new FakeCluster(seed, BASE_NETWORK);
    const n = new Nemesis(fake, { faults: ['loss', 'duplicate', 'latency-spike'], seed, intervalMs: 50, faultMs: 200, spikeMs: 1_000 });
    let sawSpike = false;
    let sawLoss = false;
    for (let i = 0; i < 40; i++) {
      await fake.sleep(50);
      await n.step();
      const kinds = n.active().map((f) => f.kind);
      t.is(new Set(kinds).size, kinds.length, `seed ${seed}: one fault of each network kind at a time`);
      if (kinds.includes('duplicate')) {
        t.is(fake.network.duplicate, n.plan.duplicateRate);
        t.is(fake.network.duplicateDelayMs, 1_000, `seed ${seed}: copies up to spikeMs late while duplicating`);
      } else t.is(fake.network.duplicateDelayMs ?? 0, 0, `seed ${seed}: copies on time again`);
      if (kinds.includes('loss')) {
        sawLoss = true;
        t.is(fake.network.loss, n.plan.lossRate);
      } else t.is(fake.network.loss, 0.001, `seed ${seed}: loss back to the baseline`);
      if (kinds.includes('latency-spike')) {
        sawSpike = true;
        const spiked =
          REGIONS.some((a) => REGIONS.some((b) => a !== b && fake.latency(a, b) >= 1_000)) ||
          Object.values(fake.network.nodeDelayMs ?? {}).some((ms) => ms >= 1_000);
        t.true(spiked, `seed ${seed}: a spike is in force while active`);
      }
    }
    t.true(sawSpike && sawLoss, `seed ${seed}: both kinds ran`);
    await n.heal();
    t.is(fake.network.loss, 0.001);
    t.is(fake.network.duplicate, 0);
    t.is(fake.network.duplicateDelayMs ?? 0, 0);
    for (const a of REGIONS) for (const b of REGIONS) if (a < b) t.is(fake.latency(a, b), BASE_NETWORK.latencyMs![`${a}~${b}`] ?? 20, `${a}~${b}`);
    for (const s of ['r1/0', 'r1/1', 'r2/0', 'r2/1', 'r3/0', 'r3/1']) t.is(fake.network.nodeDelayMs?.[s] ?? 0, s === 'r2/0' ? 3 : 0, s);
  }
});

test('partition shapes: majority-minority cuts off a minority, one-way cuts one way, ending one keeps the others', async (t) => {
  const seeds = [1, 2, 3, 4, 5, 6, 7, 8];
  t.log(`seeds ${seeds.join(', ')}`);
  for (const seed of seeds) {
    const fake = new FakeCluster(seed, {});
    const n = new Nemesis(fake, { faults: ['majority-minority', 'one-way', 'partition'], seed, partitionsMax: 2, intervalMs: 50, faultMs: 120 });
    const seen = new Set<string>();
    for (let i = 0; i < 30; i++) {
      await fake.sleep(50);
      await n.step();
      const active = n.active();
      t.true(active.length <= 2, `seed ${seed}: partitionsMax`);
      t.is(fake.partitions.length, active.length, `seed ${seed}: the cluster has exactly the active cuts`);
      for (const [j, cut] of fake.partitions.entries()) {
        const kind = active[j]!.kind;
        seen.add(kind);
        t.is(cut.oneWay, kind === 'one-way');
        t.true(cut.a.length > 0 && cut.b.length > 0);
        if (kind === 'majority-minority') {
          const size = (side: string[]): number => side.reduce((sum, x) => sum + (x.includes('/') ? 1 : 2), 0);
          t.true(size(cut.a) < size(cut.b), `seed ${seed}: minority ${cut.a.join(' ')} vs ${cut.b.join(' ')}`);
        }
      }
    }
    // The shapes checked above were there to check: every kind cut the cluster at some step.
    t.deepEqual([...seen].sort(), ['majority-minority', 'one-way', 'partition'], `seed ${seed}: every kind ran`);
    await n.heal();
    t.deepEqual(fake.partitions, []);
  }
});

test('crashMax bounds servers down at once; heal restarts all', async (t) => {
  const fake = new FakeCluster(9, {});
  const n = new Nemesis(fake, { faults: ['crash'], seed: 9, crashMax: 2, intervalMs: 10, faultMs: 1_000_000 });
  for (let i = 0; i < 10; i++) await n.step();
  t.is(fake.down.size, 2);
  await n.heal();
  t.is(fake.down.size, 0);
});

test('swarm: equal seeds draw equal mixes, different seeds differ, some kinds are left out', (t) => {
  const seeds = Array.from({ length: 30 }, (_, i) => i + 1);
  t.log(`seeds ${seeds[0]}..${seeds.at(-1)}`);
  for (const seed of seeds) t.deepEqual(drawSwarm(seed), drawSwarm(seed));
  const mixes = new Set(seeds.map((s) => drawSwarm(s).faults.join(',')));
  t.true(mixes.size >= 10, `${mixes.size} distinct mixes`);
  t.true(
    seeds.some((s) => drawSwarm(s).faults.length < FAULT_KINDS.length),
    'swarm leaves kinds out',
  );
  t.true(new Set(seeds.map((s) => drawSwarm(s).intervalMs)).size > 10, 'intervals differ');
  for (const seed of seeds)
    t.true(
      drawSwarm(seed, ['crash', 'loss']).faults.every((k) => k === 'crash' || k === 'loss'),
      'draws from the given pool only',
    );
  // Explicit options win over the draw.
  const fake = new FakeCluster(1, {});
  t.is(new Nemesis(fake, { swarm: true, seed: 5, intervalMs: 77 }).plan.intervalMs, 77);
  t.deepEqual(new Nemesis(fake, { swarm: true, seed: 5 }).plan, drawSwarm(5));
});

test('faults are a set: the order they are named in draws neither another plan nor another schedule (found by an audit, session 58)', async (t) => {
  const orders: FaultKind[][] = [
    ['loss', 'crash', 'partition'],
    ['crash', 'partition', 'loss'],
    ['partition', 'loss', 'crash', 'loss'],
  ];
  for (const seed of [4, 9]) {
    t.log(`seed ${seed}`);
    const plans = orders.map((faults) => new Nemesis(new FakeCluster(1, {}), { seed, faults }).plan);
    for (const plan of plans) t.deepEqual(plan, plans[0]);
    const swarms = orders.map((faults) => new Nemesis(new FakeCluster(1, {}), { seed, faults, swarm: true }).plan);
    for (const plan of swarms) t.deepEqual(plan, swarms[0]);
    // The schedule itself, on a cluster that records what was done to it.
    const logs = await Promise.all(
      orders.map(async (faults) => {
        const n = new Nemesis(new FakeCluster(1, {}), { seed, faults, intervalMs: 100 });
        return n.run(2_000);
      }),
    );
    for (const log of logs) t.deepEqual(log, logs[0]);
  }
});

test('bad options name the field', async (t) => {
  const fake = new FakeCluster(1, {});
  const unknown = t.throws(() => new Nemesis(fake, { faults: ['clock-drift' as never] }), { instanceOf: ConfigError });
  t.is(unknown.field, 'nemesis.faults');
  t.regex(unknown.message, /clock-skew/);
  t.is(t.throws(() => new Nemesis(fake, { faults: [] }), { instanceOf: ConfigError }).field, 'nemesis.faults');
  t.is(t.throws(() => new Nemesis(fake, { intervalMs: 0 }), { instanceOf: ConfigError }).field, 'nemesis.intervalMs');
  t.is(t.throws(() => new Nemesis(fake, { lossRate: 2 }), { instanceOf: ConfigError }).field, 'nemesis.lossRate');
  t.is(t.throws(() => new Nemesis(fake, { crashMax: 1.5 }), { instanceOf: ConfigError }).field, 'nemesis.crashMax');
  t.is(t.throws(() => new Nemesis(fake, { sped: 1 } as never), { instanceOf: ConfigError }).field, 'nemesis.sped');
  // run()'s own options: a misspelt one is named, a wrong value too, and nothing runs.
  const nemesis = new Nemesis(fake, {});
  t.is((await t.throwsAsync(nemesis.run(100, { heel: false } as never), { instanceOf: ValidationError }))!.field, 'options.heel');
  t.is((await t.throwsAsync(nemesis.run(100, { heal: 'no' } as never), { instanceOf: ValidationError }))!.field, 'options.heal');
});

test('runScenario with a swarm nemesis: the plan and faults are logged and the run is checked', async (t) => {
  const seed = 7;
  t.log(`seed ${seed}`);
  // 1,000 ms of faults and 4 clients (2,000 and the default 12 until 2026-12-07, about twice the
  // CPU): the swarm's plan and nine episodes still run, and the run is checked as any.
  const a = await runScenario({ seed, mode: 'active', nemesis: { swarm: true }, faultMs: 1_000, clients: 4 });
  const b = await runScenario({ seed, mode: 'active', nemesis: { swarm: true }, faultMs: 1_000, clients: 4 });
  t.regex(a.faults[0]!, /^plan /);
  t.true(a.faults.length >= 2, a.faults.join('\n'));
  t.true(a.ok, `${a.check.verdict}, live ${a.live}`);
  t.deepEqual(a.faults, b.faults);
  t.is(a.traceHash, b.traceHash, 'the same seed gives the same run');
});

test('clock-skew: one server reads a clock moved ahead or back, until the fault ends', async (t) => {
  const seed = 9;
  t.log(`seed ${seed}`);
  const cluster = await startCluster({
    regions: [
      { name: 'r1', servers: 2 },
      { name: 'r2', servers: 1 },
    ],
    transport: 'sim',
    seed,
    replication: { mode: 'active', factor: 3 },
  });
  try {
    const nemesis = new Nemesis(cluster, { faults: ['clock-skew'], intervalMs: 100, faultMs: 400, seed });
    const client = cluster.client({ region: 'r1' });
    let writes = 0;
    await Promise.all([
      nemesis.run(2_000),
      (async () => {
        for (let i = 0; i < 30; i++) {
          await client.put('k', i);
          writes++;
        }
      })(),
    ]);
    const starts = nemesis.log.filter((e) => e.kind === 'clock-skew' && e.action === 'start');
    t.true(starts.length >= 2, nemesis.lines().join('\n'));
    t.regex(starts[0]!.detail, /^r[12]\/\d [+-]2000 ms \[#\d+\]$/);
    t.is(writes, 30, 'a skewed clock does not stop the cluster (nothing here compares clocks across nodes)');
  } finally {
    await cluster.stop();
  }
});

test('leader faults hit the leader the cluster reports: crash-leader, isolate-leader, power-loss (sim)', async (t) => {
  const seed = 31;
  t.log(`seed ${seed}`);
  await withSim(seed, async (cluster) => {
    const client = cluster.client({ region: 'r1' });
    for (let i = 0; i < 4; i++) await client.put(`k${i}`, i);
    const leaders = cluster.shardLeaders();
    t.is(leaders.length, 4);
    for (const s of leaders) {
      t.truthy(s.leader, `shard ${s.shard} has a leader after writes`);
      t.true(s.replicas.includes(s.leader!));
      t.is(cluster.leaderOf(s.shard), s.leader);
      // One shard's entry, as the nemesis polls it while it waits for an election.
      t.deepEqual(cluster.shardLeader(s.shard), s);
    }
    t.throws(() => cluster.shardLeader(4), { message: /shard/ });
    t.throws(() => cluster.shardLeader(-1), { message: /shard/ });
    for (const kind of ['crash-leader', 'power-loss', 'isolate-leader'] as const) {
      const before = new Set(cluster.shardLeaders().map((s) => s.leader));
      const nemesis = new Nemesis(cluster, { faults: [kind], seed, intervalMs: 50, faultMs: 10_000 });
      await nemesis.step();
      const start = nemesis.log.find((e) => e.action === 'start');
      t.truthy(start, kind);
      const victim = start!.detail.split(' ')[0]!;
      if (kind === 'isolate-leader') t.regex(start!.detail, /\| /);
      else
        await eventually(cluster, () => cluster.members().find((m) => m.id === victim)?.state !== 'up', {
          timeoutMs: 3_000,
          message: `${kind}: ${victim} goes down`,
        });
      // power-loss hits a leader half of the time; the others always do.
      if (kind !== 'power-loss') t.true(before.has(victim), `${kind} hit ${victim}, a leader (${[...before].join(', ')})`);
      await nemesis.heal();
      await eventually(cluster, () => cluster.shardLeaders().every((s) => s.leader !== undefined), { timeoutMs: 5_000 });
    }
    t.is(cluster.assertionFailures().length, 0);
  });
});

test('crash-leader prefers a leader with a transaction prepared and in doubt, as one with commands in flight (fake cluster)', async (t) => {
  for (const seed of [1, 2, 3, 4, 5]) {
    t.log(`seed ${seed}`);
    const fake = new FakeCluster(seed, {}) as FakeCluster & { shardLeaders(): ShardView[] };
    // Four shards, every leader idle but shard 2's, which holds two transactions prepared.
    fake.shardLeaders = () =>
      [0, 1, 2, 3].map((shard) => ({
        shard,
        replicas: [`r1/${shard % 2}`, `r2/${shard % 2}`, `r3/${shard % 2}`],
        // Leaders r1/0, r2/0, r3/0, r1/1 (the fake's six servers are r1/0 .. r3/1).
        leader: `r${(shard % 3) + 1}/${shard < 3 ? 0 : 1}`,
        inflight: 0,
        openTxns: shard === 2 ? 2 : 0,
      }));
    const n = new Nemesis(fake, { faults: ['crash-leader'], seed, intervalMs: 50, faultMs: 10_000 });
    await n.step();
    const start = n.log.find((e) => e.action === 'start');
    t.truthy(start);
    t.regex(start!.detail, /^r3\/0 .*leader of shard 2, 2 prepared/, start!.detail);
    t.true(fake.down.has('r3/0'));
  }
});

test('checkpoint-crash: a busy leader checkpoints before its next accept, then goes down; it comes back with every acknowledged write (sim)', async (t) => {
  const seed = 34;
  t.log(`seed ${seed}`);
  await withSim(seed, async (cluster) => {
    const client = cluster.client({ region: 'r1' });
    for (let i = 0; i < 8; i++) await client.put(`k${i}`, 0);
    // Writes keep every leader busy while the fault waits for the checkpoint and the crash.
    const acked = new Map<string, number>();
    let writing = true;
    const writer = (async () => {
      for (let n = 1; writing; n++) {
        const key = `k${n % 8}`;
        try {
          await client.put(key, n);
          acked.set(key, n);
        } catch {
          await cluster.sleep(10);
        }
      }
    })();
    try {
      const leaders = new Set(cluster.shardLeaders().map((x) => x.leader));
      const nemesis = new Nemesis(cluster, { faults: ['checkpoint-crash'], seed, intervalMs: 50, faultMs: 10_000 });
      await nemesis.step();
      const start = nemesis.log.find((e) => e.action === 'start')!;
      t.log(start.detail);
      t.regex(start.detail, /checkpoint within \d+ ms, crash \d+ ms later/);
      const victim = start.detail.split(' ')[0]!;
      t.true(leaders.has(victim), `${victim} led a shard (${[...leaders].join(', ')})`);
      t.is(cluster.checkpointsOf(victim), 0, 'a server that is down has written no checkpoint in this incarnation');
      t.false(cluster.requestCheckpoint(victim), 'a server that is down takes no request');
      await nemesis.heal();
      await cluster.sleep(1_000);
    } finally {
      writing = false;
      await writer;
    }
    for (const [key, value] of acked) {
      const now = (await client.get(key)) as number;
      t.true(now >= value, `${key}: ${now}, acknowledged ${value}`);
    }
    t.is(cluster.assertionFailures().length, 0);
  });
});

test("crash-coordinator: a coordinator with transactions open goes down right after a write, before that step's messages leave; transactions go on after the heal (sim)", async (t) => {
  const seed = 36;
  t.log(`seed ${seed}`);
  await withSim(seed, async (cluster) => {
    const clients = REGIONS.map((region) => cluster.client({ region }));
    await clients[0]!.put('x0', 0);
    let running = true;
    const outcomes = { ok: 0, failed: 0 };
    const load = clients.map(async (client, i) => {
      for (let n = 0; running; n++) {
        try {
          await client.transaction([
            { op: 'put', key: `x${i}`, value: n },
            { op: 'put', key: `y${i}`, value: n },
          ]);
          outcomes.ok++;
        } catch {
          outcomes.failed++;
          await cluster.sleep(10);
        }
      }
    });
    try {
      const nemesis = new Nemesis(cluster, { faults: ['crash-coordinator'], seed, intervalMs: 50, faultMs: 10_000 });
      await nemesis.step();
      const start = nemesis.log.find((e) => e.action === 'start')!;
      t.log(start.detail);
      t.regex(start.detail, /^coordinator\/r\d \(\d+ open\), crashed after a write \d+ ms later, before its messages left/);
      const victim = start.detail.split(' ')[0]!;
      t.true(cluster.isDown(victim));
      t.is(cluster.openTransactions(victim), 0, 'a coordinator that is down has none open');
      t.false(cluster.crashAfterNextWrite(victim), 'down already');
      await nemesis.heal();
      t.false(cluster.isDown(victim));
      const before = outcomes.ok;
      await cluster.sleep(1_000);
      t.true(outcomes.ok > before, `transactions commit after the heal (${outcomes.ok - before} in a second)`);
    } finally {
      running = false;
      await Promise.all(load);
    }
    t.is(cluster.assertionFailures().length, 0);
  });
});

test('openTransactions counts what a coordinator still has to do, whatever the commit protocol: 0 once every transaction finished (sim)', async (t) => {
  for (const commit of ['2pc', 'paxos-commit'] as const) {
    const cluster = await startCluster({ ...simConfig(41), commit });
    try {
      const client = cluster.client({ region: 'r1' });
      for (let n = 0; n < 5; n++) {
        await client.transaction([
          { op: 'put', key: `a${n}`, value: n },
          { op: 'put', key: `b${n}`, value: n },
        ]);
      }
      await cluster.sleep(2_000);
      // With Paxos Commit the coordinator's log also holds its acceptor's records of finished
      // transactions: counted as open, every coordinator looked busy to the nemesis (until 2026-12-02).
      t.is(cluster.openTransactions('coordinator/r1'), 0, `${commit}: all five finished`);
    } finally {
      await cluster.stop();
    }
  }
});

test('crashAfterNextWrite / isDown / openTransactions: ids checked, sim only', async (t) => {
  await withSim(37, async (cluster) => {
    t.throws(() => cluster.crashAfterNextWrite('nobody'), { instanceOf: ValidationError, message: /id/ });
    t.throws(() => cluster.isDown('coordinator/r9'), { instanceOf: ValidationError, message: /id/ });
    t.throws(() => cluster.openTransactions('r1/0'), { instanceOf: ValidationError, message: /coordinator/ });
    t.false(cluster.isDown('r1/0'));
    t.is(cluster.openTransactions('coordinator/r1'), 0);
    // A server crashes at its next write: a put is one.
    t.true(cluster.crashAfterNextWrite('r2/0'));
    t.false(cluster.isDown('r2/0'), 'not before it writes');
    const client = cluster.client({ region: 'r2' });
    for (let i = 0; i < 8 && !cluster.isDown('r2/0'); i++) await client.put(`k${i}`, i).catch(() => undefined);
    t.true(cluster.isDown('r2/0'), 'down after a write');
    await cluster.restart('r2/0');
    t.false(cluster.isDown('r2/0'));
  });
});

test("requestCheckpoint with { at: 'step' }: a server checkpoints at its next step, written or not, once; a restart from that checkpoint keeps every acknowledged write", async (t) => {
  await withSim(36, async (cluster) => {
    for (const bad of [{ at: 'later' }, { at: 3 }]) {
      const e = t.throws(() => cluster.requestCheckpoint('r1/0', bad as unknown as { at: 'step' }), { instanceOf: ValidationError });
      t.is(e!.field, 'options.at');
    }
    t.throws(() => cluster.requestCheckpoint('r1/0', null as unknown as { at: 'step' }), { instanceOf: ValidationError, message: /options/ });
    t.throws(() => cluster.requestCheckpoint('r1/0', [] as unknown as { at: 'step' }), { instanceOf: ValidationError, message: /^options: an object/ });
    const typo = t.throws(() => cluster.requestCheckpoint('r1/0', { att: 'step' } as unknown as { at: 'step' }), { instanceOf: ValidationError });
    t.is(typo!.field, 'options.att');
    t.regex(typo!.message, /not an option here \(at is\)/);
    const client = cluster.client({ region: 'r2' });
    for (let i = 0; i < 5; i++) await client.put(`k${i}`, i);
    // An idle cluster: nothing is written, yet the server's next step (its tick) checkpoints.
    await cluster.sleep(200);
    const id = cluster.shardLeader(cluster.shardOf('k0')).leader!;
    const follower = cluster.replicasOf(cluster.shardOf('k0')).find((r) => r !== id)!;
    for (const server of [id, follower]) {
      const before = cluster.checkpointsOf(server);
      t.true(cluster.requestCheckpoint(server, { at: 'step' }));
      await cluster.sleep(30);
      t.is(cluster.checkpointsOf(server), before + 1, `${server} checkpointed at its next step`);
      await cluster.sleep(100);
      t.is(cluster.checkpointsOf(server), before + 1, 'one request, one checkpoint');
      await cluster.crash(server);
      await cluster.restart(server);
    }
    await cluster.sleep(1_000);
    for (let i = 0; i < 5; i++) t.is(await client.get(`k${i}`), i, `k${i} after both restarted from their checkpoints`);
  });
});

test('requestCheckpoint / checkpointsOf: sim only, on a server or coordinator id; a server takes a request at its next accepted write', async (t) => {
  await withSim(35, async (cluster) => {
    t.throws(() => cluster.requestCheckpoint('r9/0'), { instanceOf: ValidationError, message: /id/ });
    t.throws(() => cluster.checkpointsOf(7 as unknown as string), { instanceOf: ValidationError, message: /id/ });
    const client = cluster.client({ region: 'r2' });
    await client.put('a', 1);
    const id = cluster.shardLeader(cluster.shardOf('a')).leader!;
    const before = cluster.checkpointsOf(id);
    t.true(cluster.requestCheckpoint(id));
    await client.put('a', 2);
    t.is(cluster.checkpointsOf(id), before + 1, `${id} checkpointed at its next accept`);
    await client.put('a', 3);
    t.is(cluster.checkpointsOf(id), before + 1, 'one request, one checkpoint');
    // A coordinator checkpoints at its next drain (here: the transaction's begin).
    const coordinator = 'coordinator/r2';
    const c0 = cluster.checkpointsOf(coordinator);
    t.true(cluster.requestCheckpoint(coordinator));
    await client.transaction([
      { op: 'put', key: 'a', value: 4 },
      { op: 'put', key: 'b', value: 4 },
    ]);
    t.is(cluster.checkpointsOf(coordinator), c0 + 1, `${coordinator} checkpointed`);
    await cluster.crash(coordinator);
    t.is(cluster.checkpointsOf(coordinator), 0, 'down: none in this incarnation');
    t.false(cluster.requestCheckpoint(coordinator));
    await cluster.restart(coordinator);
    await client.transaction([
      { op: 'put', key: 'a', value: 5 },
      { op: 'put', key: 'b', value: 5 },
    ]);
    t.is(await client.get('b'), 5, 'transactions go on after its restart from the checkpoint');
  });
  const threads = await startCluster({ regions: [{ name: 'a', servers: 1 }], transport: 'threads' });
  try {
    const error = t.throws(() => threads.requestCheckpoint('a/0'), { instanceOf: ValidationError });
    t.is(error!.field, 'transport');
    t.throws(() => threads.checkpointsOf('a/0'), { instanceOf: ValidationError, message: /sim/ });
    t.throws(() => threads.crashAfterNextWrite('a/0'), { instanceOf: ValidationError, message: /sim/ });
    t.throws(() => threads.openTransactions('coordinator/a'), { instanceOf: ValidationError, message: /sim/ });
    t.false(threads.isDown('a/0'));
  } finally {
    await threads.stop();
  }
});

test("restart-storm: a shard's replicas go down and come back one at a time, the leader first (sim)", async (t) => {
  const seed = 32;
  t.log(`seed ${seed}`);
  await withSim(seed, async (cluster) => {
    await cluster.client({ region: 'r2' }).put('a', 1);
    const nemesis = new Nemesis(cluster, { faults: ['restart-storm'], seed, intervalMs: 50, faultMs: 50 });
    const leaders = cluster.shardLeaders();
    await nemesis.step();
    const start = nemesis.log.find((e) => e.action === 'start')!;
    const m = /^shard (\d+): (.*) \[#0\]$/.exec(start.detail);
    t.truthy(m, start.detail);
    const shard = leaders[Number(m![1])]!;
    const hit = m![2]!.split(' ').map((x) => x.replace('!', ''));
    t.true(hit.length >= 2);
    t.is(hit[0], shard.leader!, 'the leader goes first');
    for (const server of hit) t.true(shard.replicas.includes(server), `${server} is a replica of shard ${shard.shard}`);
    // Every victim is back up when the storm is over.
    await eventually(cluster, () => cluster.members().every((mm) => mm.state === 'up'), { timeoutMs: 5_000 });
    await cluster.client({ region: 'r3' }).put('a', 2);
    t.is(await cluster.client({ region: 'r1' }).get('a'), 2);
  });
});

test('only: episodes left out are not carried out, and the others pick what they picked when the same kinds can start (fake cluster)', async (t) => {
  const seed = 33;
  t.log(`seed ${seed}`);
  const run = async (only?: number[]): Promise<string[]> => {
    const fake = new FakeCluster(seed, { loss: 0 });
    const nemesis = new Nemesis(fake, {
      seed,
      faults: ['partition', 'one-way'],
      partitionsMax: 8,
      intervalMs: 200,
      faultMs: 300,
      ...(only === undefined ? {} : { only }),
    });
    await nemesis.run(3_000);
    return nemesis.log.filter((e) => e.action === 'start').map((e) => `${e.kind} ${e.detail}`);
  };
  const all = await run();
  t.true(all.length >= 5, all.join('\n'));
  const kept = await run([1, 3]);
  t.deepEqual(
    kept,
    all.filter((line) => / \[#(1|3)\]$/.test(line)),
  );
  t.deepEqual(await run([]), []);
  t.throws(() => new Nemesis(new FakeCluster(seed, {}), { only: [-1] }), { instanceOf: ConfigError, message: /nemesis\.only/ });
});

test('election waits read one shard (shardLeader) or every shard (shardLeaders) alike: same faults, same trace (sim)', async (t) => {
  const seed = 41;
  t.log(`seed ${seed}`);
  // The cluster seen through NemesisTarget without its one-shard read: the nemesis falls back to shardLeaders().
  const allShardsOnly = (c: Cluster): NemesisTarget => ({
    get seed() {
      return c.seed;
    },
    get config() {
      return c.config;
    },
    get isStopped() {
      return c.isStopped;
    },
    get transport() {
      return c.transport;
    },
    currentNetwork: () => c.currentNetwork(),
    crash: (id, options) => c.crash(id, options),
    shardLeaders: () => c.shardLeaders(),
    restart: (id) => c.restart(id),
    partition: (a, b, options) => c.partition(a, b, options),
    heal: () => c.heal(),
    setNetwork: (change) => c.setNetwork(change),
    setClockSkew: (id, ms) => c.setClockSkew(id, ms),
    slowTimers: (id, factor) => c.slowTimers(id, factor),
    atNextCommit: (id, shard, hook) => c.atNextCommit(id, shard, hook),
    requestCheckpoint: (id, options) => c.requestCheckpoint(id, options),
    checkpointsOf: (id) => c.checkpointsOf(id),
    sleep: (ms) => c.sleep(ms),
    now: () => c.now(),
  });
  const once = (oneShard: boolean): Promise<{ lines: string[]; hash: number }> =>
    withSim(seed, async (cluster) => {
      const n = new Nemesis(oneShard ? cluster : allShardsOnly(cluster), { seed, faults: ['leader-handover', 'strand-leader'], intervalMs: 300, faultMs: 300 });
      const client = cluster.client({ region: 'r2' });
      let writing = true;
      const writes = async (): Promise<void> => {
        for (let i = 0; writing; i++) await client.put(`k${i % 8}`, i).catch(() => cluster.sleep(20));
      };
      await Promise.all([n.run(2_500).then(() => (writing = false)), writes()]);
      return { lines: n.lines(), hash: cluster.traceHash() };
    });
  const a = await once(true);
  const b = await once(false);
  t.true(
    a.lines.some((line) => /start (leader-handover|strand-leader) .* led/.test(line)),
    a.lines.join('\n'),
  );
  t.deepEqual(a.lines, b.lines);
  t.is(a.hash, b.hash);
});

test('strand-leader on a group of one replica (factor 1) isolates the leader from every other server, and heals (sim)', async (t) => {
  const seed = 5;
  t.log(`seed ${seed}`);
  const cluster = await startCluster({ ...simConfig(seed), replication: { mode: 'active', factor: 1 } });
  try {
    const n = new Nemesis(cluster, { seed, faults: ['strand-leader'], intervalMs: 200, faultMs: 200 });
    const client = cluster.client({ region: 'r1' });
    let writing = true;
    const writes = async (): Promise<void> => {
      for (let i = 0; writing; i++) await client.put(`k${i % 8}`, i).catch(() => cluster.sleep(20));
    };
    // Before the fix: the cut's other side (the group's other replicas) was empty, and
    // partition() threw a ValidationError out of run().
    await Promise.all([n.run(1_500).then(() => (writing = false)), writes()]);
    const strands = n.lines().filter((line) => /start strand-leader/.test(line));
    t.true(strands.length > 0, n.lines().join('\n'));
    for (const line of strands) t.regex(line, /r\d\/\d \| (r\d\/\d ){4}r\d\/\d /, 'cut from the five other servers');
    await client.put('after', 1);
    t.is(await client.get('after'), 1, 'healed');
  } finally {
    await cluster.stop();
  }
});

test('crashMax defaults to a majority less one of a group for a replication factor of 4 or more, else 1; an option still wins', async (t) => {
  t.deepEqual([1, 2, 3, 4, 5, 6, 7, undefined].map(defaultCrashMax), [1, 1, 1, 2, 2, 3, 3, 1]);
  t.is(new Nemesis(new FakeCluster(3, {})).plan.crashMax, 1, 'a target that does not tell its factor');
  const cluster = await startCluster({ ...simConfig(3), regions: REGIONS.map((name) => ({ name, servers: 3 })), replication: { mode: 'active', factor: 5 } });
  try {
    t.is(new Nemesis(cluster).plan.crashMax, 2);
    t.is(new Nemesis(cluster, { crashMax: 1 }).plan.crashMax, 1);
    t.is(new Nemesis(cluster, { swarm: true }).plan.crashMax, drawSwarm(new Nemesis(cluster, { swarm: true }).plan.seed).crashMax, 'swarm draws its own');
  } finally {
    await cluster.stop();
  }
});

test('blackout: every server down at once while the network duplicates and reorders, all back after, the network restored (fake cluster); drawn only when named', async (t) => {
  class Recording extends FakeCluster {
    maxDown = 0;
    networkWhileDown: NetworkConfig | undefined;
    override async crash(id: string): Promise<void> {
      await super.crash(id);
      this.maxDown = Math.max(this.maxDown, this.down.size);
      if (this.down.size === 6) this.networkWhileDown = { ...this.network };
    }
  }
  const fake = new Recording(3, { ...BASE_NETWORK });
  const nemesis = new Nemesis(fake, { faults: ['blackout'], seed: 3, intervalMs: 50, faultMs: 50, spikeMs: 120 });
  await nemesis.step();
  const start = nemesis.log.find((e) => e.action === 'start')!;
  t.log(start.detail);
  t.regex(start.detail, /^every server down \d+ ms \(6\), duplicate 0\.300, jitter 120 ms \[#0\]$/);
  const downMs = Number(/down (\d+) ms/.exec(start.detail)![1]);
  t.true(downMs >= 50 && downMs < 400, `${downMs} ms`);
  t.is(fake.maxDown, 6, 'every server down at once (beyond crashMax 1)');
  t.is(fake.down.size, 0, 'all back when the step is over');
  t.is(fake.networkWhileDown?.duplicate, 0.3);
  t.is(fake.networkWhileDown?.jitterMs, 120);
  t.is(fake.network.duplicate, BASE_NETWORK.duplicate, 'duplication restored');
  t.is(fake.network.jitterMs ?? 0, 0, 'jitter restored');
  // Only named: a default plan and swarm draws leave it out.
  t.false(new Nemesis(new FakeCluster(1, {})).plan.faults.includes('blackout'));
  for (let seed = 1; seed <= 30; seed++) t.false(drawSwarm(seed).faults.includes('blackout'));
});

test('blackout (sim, fsync): the cluster comes back whole: every server up, acknowledged writes kept, calls answered', async (t) => {
  const seed = 44;
  t.log(`seed ${seed}`);
  // With fsync: false a power loss of every replica at once loses what was not synced yet, by design.
  const cluster = await startCluster({ ...simConfig(seed), fsync: true });
  try {
    const client = cluster.client({ region: 'r2' });
    for (let i = 0; i < 8; i++) await client.put(`k${i}`, i);
    const nemesis = new Nemesis(cluster, { faults: ['blackout'], seed, intervalMs: 50, faultMs: 50 });
    await nemesis.step();
    t.log(nemesis.lines().join('\n'));
    t.regex(nemesis.lines().join('\n'), /start blackout every server down \d+ ms \(6, power losses\)/);
    await eventually(cluster, () => cluster.members().every((m) => m.state === 'up'), { timeoutMs: 5_000 });
    for (let i = 0; i < 8; i++) t.is(await eventually(cluster, () => client.get(`k${i}`), { timeoutMs: 5_000 }), i);
    await client.put('k0', 'after');
    t.is(await cluster.client({ region: 'r3' }).get('k0'), 'after');
  } finally {
    await cluster.stop();
  }
});

test('blackout (sim, no fsync): the writes acknowledged within the write-back window are lost, older ones kept, and the history checker fails the run; with fsync none is lost', async (t) => {
  const seed = 44;
  const late = ['late0', 'late1', 'late2', 'late3'];
  for (const fsync of [false, true]) {
    t.log(`seed ${seed}, fsync ${fsync}`);
    const cluster = await startCluster({ ...simConfig(seed), fsync });
    try {
      const client = cluster.client({ region: 'r2' });
      for (let i = 0; i < 8; i++) await client.put(`k${i}`, i);
      // Past the store's write-back window (simulated time): these are on the device.
      await cluster.sleep(SIM_WRITEBACK_MS_DEFAULT + 100);
      // Acknowledged, and without fsync still in the OS's cache when the power goes.
      for (let i = 0; i < late.length; i++) await client.put(`k${i}`, late[i]);
      const nemesis = new Nemesis(cluster, { faults: ['blackout'], seed, intervalMs: 50, faultMs: 50 });
      await nemesis.step();
      t.regex(nemesis.lines().join('\n'), /start blackout every server down \d+ ms \(6, power losses\)/);
      await eventually(cluster, () => cluster.members().every((m) => m.state === 'up'), { timeoutMs: 5_000 });
      const got: unknown[] = [];
      for (let i = 0; i < 8; i++) got.push(await eventually(cluster, () => client.get(`k${i}`), { timeoutMs: 5_000 }));
      const check = checkHistory(cluster.history(), 'register');
      if (fsync) {
        t.deepEqual(got, [...late, 4, 5, 6, 7]);
        t.is(check.verdict, 'linearizable');
      } else {
        t.deepEqual(got, [0, 1, 2, 3, 4, 5, 6, 7], 'the late puts lost, the ones before the window kept');
        t.is(check.verdict, 'not-linearizable');
        t.true(check.violations.length > 0);
        for (const v of check.violations) t.true(['k0', 'k1', 'k2', 'k3'].includes(v.key), `violation on ${v.key}`);
      }
    } finally {
      await cluster.stop();
    }
  }
});

test('slowTimers: a leader cut off from its group with its timers slowed goes on leading in its own view; at factor 1 it steps down (sim)', async (t) => {
  const seed = 7;
  t.log(`seed ${seed}`);
  const roles: Record<number, string> = {};
  for (const factor of [1, 20]) {
    await withSim(seed, async (cluster) => {
      await cluster.client({ region: 'r1' }).put('k', 1);
      const { leader, replicas } = cluster.shardLeader(0);
      t.truthy(leader);
      t.throws(() => cluster.slowTimers(leader!, 0), { instanceOf: ValidationError, message: /factor/ });
      t.throws(() => cluster.slowTimers(leader!, 101), { instanceOf: ValidationError, message: /factor/ });
      t.throws(() => cluster.slowTimers(leader!, Number.NaN), { instanceOf: ValidationError, message: /factor/ });
      t.throws(() => cluster.slowTimers('r9/0', 2), { instanceOf: ValidationError });
      cluster.slowTimers(leader!, factor);
      await cluster.partition(
        [leader!],
        replicas.filter((r) => r !== leader),
      );
      await cluster.sleep(1_500);
      const fresh = cluster.shardLeader(0).leader;
      t.truthy(fresh);
      t.not(fresh, leader, 'the rest elected a new leader');
      const own = (await cluster.inspect(leader!)) as { state: { groups: Record<string, { role: string }> } };
      roles[factor] = own.state.groups['0']!.role;
    });
  }
  t.not(roles[1], 'leader', 'its quorum check deposed it');
  t.is(roles[20], 'leader', 'its quorum check has not come yet');
});

test('loseAccepts: a leader whose accepts are lost gets nothing chosen but keeps its group (heartbeats get through); sent again, the write completes; bad input names the field (sim)', async (t) => {
  const seed = 9;
  t.log(`seed ${seed}`);
  await withSim(seed, async (cluster) => {
    const client = cluster.client({ region: 'r1' });
    await client.put('k', 1);
    const shard = cluster.shardOf('k');
    const leader = cluster.shardLeader(shard).leader!;
    t.truthy(leader);
    t.throws(() => cluster.loseAccepts('r9/0', true), { instanceOf: ValidationError, message: /id/ });
    t.throws(() => cluster.loseAccepts('coordinator/r1', true), { instanceOf: ValidationError, message: /id/ });
    t.throws(() => cluster.loseAccepts(leader, 'yes' as unknown as boolean), { instanceOf: ValidationError, message: /lost.*true or false/ });
    const lost = cluster.stats().dropped.loss ?? 0;
    cluster.loseAccepts(leader, true);
    let answered = false;
    const put = client.put('k', 2).then(() => (answered = true));
    await cluster.sleep(400);
    t.false(answered, 'not chosen while its accepts are lost');
    t.true((cluster.stats().dropped.loss ?? 0) > lost, 'counted as lost');
    t.is(cluster.shardLeader(shard).leader, leader, 'its heartbeats keep its group: no election');
    cluster.loseAccepts(leader, false);
    await put;
    t.is(await client.get('k'), 2);
  });
});

test('atNextCommit: the hook runs once, at the commit record of a transaction at the shard, before its commit messages leave; bad input names the field (sim)', async (t) => {
  const seed = 12;
  t.log(`seed ${seed}`);
  await withSim(seed, async (cluster) => {
    t.throws(() => cluster.atNextCommit('r1/0', 0, () => undefined), { instanceOf: ValidationError, message: /id.*coordinator/ });
    t.throws(() => cluster.atNextCommit('coordinator/r1', 4, () => undefined), { instanceOf: ValidationError, message: /shard.*0 to 3/ });
    t.throws(() => cluster.atNextCommit('coordinator/r1', 0.5, () => undefined), { instanceOf: ValidationError, message: /shard/ });
    t.throws(() => cluster.atNextCommit('coordinator/r1', 0, 'cut' as unknown as () => void), { instanceOf: ValidationError, message: /hook/ });
    t.throws(() => cluster.partition(['coordinator/r9'], ['r1/0']), { instanceOf: ValidationError, message: /coordinator/ });
    const client = cluster.client({ region: 'r1' });
    const ops = Array.from({ length: 8 }, (_, i) => ({ op: 'put' as const, key: `k${i}`, value: i }));
    const shards = cluster.shardLeaders().map((s) => s.shard);
    const calls: Array<{ txn: string; replicas: string[] }> = [];
    const replicas = cluster.shardLeader(shards[0]!).replicas;
    t.true(
      cluster.atNextCommit('coordinator/r1', shards[0]!, (txn) => {
        calls.push({ txn, replicas });
        // Cut there, the commit messages of this very step are lost (the participants learn the outcome only after the heal).
        void cluster.partition(['coordinator/r1'], replicas);
      }),
    );
    await client.transaction(ops);
    t.is(calls.length, 1, 'called at the commit decision');
    t.regex(calls[0]!.txn, /^r1:/);
    await cluster.heal();
    // Until the commit retries reach the shard, its keys stay locked (a transaction over them votes no).
    await eventually(cluster, () => client.transaction(ops.map((op) => ({ ...op, value: 100 + op.value }))), { timeoutMs: 5_000 });
    t.is(calls.length, 1, 'once: cleared after it ran');
    t.true(cluster.atNextCommit('coordinator/r1', shards[0]!, () => calls.push({ txn: 'again', replicas })));
    t.true(cluster.atNextCommit('coordinator/r1', shards[0]!, undefined), 'cleared before it ran');
    await client.transaction(ops);
    t.is(calls.length, 1);
    t.deepEqual(await client.transaction(ops.map((op) => ({ op: 'get' as const, key: op.key }))), [0, 1, 2, 3, 4, 5, 6, 7]);
  });
});

test('strand-leader (sim): at a commit decision at the stranded shard, the coordinator is cut off from its other replicas; the same seed gives the same faults and trace', async (t) => {
  const seed = 3;
  t.log(`seed ${seed}`);
  const once = (): Promise<{ lines: string[]; hash: number }> =>
    withSim(seed, async (cluster) => {
      const n = new Nemesis(cluster, { seed, faults: ['strand-leader'], intervalMs: 200, faultMs: 200 });
      let working = true;
      const work = async (region: string, base: number): Promise<void> => {
        const client = cluster.client({ region });
        for (let i = 0; working; i++) {
          const keys = [`k${(base + i) % 8}`, `k${(base + i + 3) % 8}`, `k${(base + i + 5) % 8}`];
          await client.transaction(keys.map((key) => ({ op: 'put' as const, key, value: i }))).catch(() => cluster.sleep(20));
        }
      };
      // 3 s of faults (was 6): each run still meets commit decisions to strand at (the cuts below).
      await Promise.all([n.run(3_000).then(() => (working = false)), work('r1', 0), work('r2', 1), work('r3', 2)]);
      // Healed: every shard answers again.
      const client = cluster.client({ region: 'r2' });
      await eventually(cluster, () => client.transaction(Array.from({ length: 8 }, (_, i) => ({ op: 'put' as const, key: `k${i}`, value: 'after' }))), {
        timeoutMs: 5_000,
      });
      return { lines: n.lines(), hash: cluster.traceHash() };
    });
  const a = await once();
  t.log(a.lines.join('\n'));
  const cuts = a.lines.filter((line) => /start strand-leader .* at a commit decision of /.test(line));
  t.true(cuts.length > 0, a.lines.join('\n'));
  for (const line of cuts) {
    const m =
      /start strand-leader (r\d\/\d) \| (r\d\/\d) (r\d\/\d) .* at a commit decision of \S+ \d+ ms later (coordinator\/r\d) \| (r\d\/\d) (r\d\/\d) for (\d+) ms/.exec(
        line,
      );
    t.truthy(m, line);
    t.deepEqual([m![5], m![6]].sort(), [m![2], m![3]].sort(), 'the coordinator is cut from the replicas but the stranded leader');
    t.false([m![5], m![6]].includes(m![1]!));
    t.true(Number(m![7]) >= 1_500 && Number(m![7]) <= 2_500, line);
  }
  const b = await once();
  t.deepEqual(b.lines, a.lines);
  t.is(b.hash, a.hash);
});

/**
 * `kind` drawn for 2.5 s (4 s until 2026-12-07; leader-duel still starts two duels, lost-commits
 * one with a successor) while r1, r2 and r3 write, then (every fault over: servers back, cuts
 * healed, nothing filtered) every shard takes a write again and has a leader. The nemesis's
 * lines and the trace hash, to compare with a second run of the same seed.
 */
async function faultsUnderWrites(t: ExecutionContext, cluster: Cluster, seed: number, kind: FaultKind): Promise<{ lines: string[]; hash: number }> {
  const n = new Nemesis(cluster, { seed, faults: [kind], intervalMs: 300, faultMs: 300 });
  let writing = true;
  const writes = async (region: string): Promise<void> => {
    const client = cluster.client({ region });
    for (let i = 0; writing; i++) await client.put(`k${i % 8}`, `${region}:${i}`).catch(() => cluster.sleep(20));
  };
  await Promise.all([n.run(2_500).then(() => (writing = false)), writes('r1'), writes('r2'), writes('r3')]);
  const client = cluster.client({ region: 'r2' });
  for (let i = 0; i < 8; i++) await eventually(cluster, () => client.put(`k${i}`, 'after'), { timeoutMs: 5_000 });
  t.deepEqual(
    cluster.shardLeaders().filter((s) => s.leader === undefined),
    [],
    'every shard has a leader',
  );
  return { lines: n.lines(), hash: cluster.traceHash() };
}

test('leader-duel (sim): a quiet leader stranded, the new one muted towards the rest at its first slot in flight and crashed once it is chosen, then all healed and restarted; the same seed gives the same faults and trace', async (t) => {
  const seed = 5;
  t.log(`seed ${seed}`);
  const once = (): Promise<{ lines: string[]; hash: number }> => withSim(seed, (cluster) => faultsUnderWrites(t, cluster, seed, 'leader-duel'));
  const a = await once();
  t.log(a.lines.join('\n'));
  const duels = a.lines.filter((line) => /start leader-duel .* led, then /.test(line));
  t.true(duels.length > 0, a.lines.join('\n'));
  for (const line of duels) {
    const m =
      /start leader-duel (r\d\/\d) \| (r\d\/\d) (r\d\/\d) \(leader of shard \d+, quiet\).* (r\d\/\d) led, then (r\d\/\d) -> (r\d\/\d), crashed \d+ ms later, restarted (\d+) ms after the heal/.exec(
        line,
      );
    t.truthy(m, line);
    const [, stranded, x, y, fresh, muted, rest, downMs] = m!;
    t.deepEqual([x, y].sort(), [fresh, rest].sort(), "the new leader is one of the stranded leader's peers, muted towards the other");
    t.is(muted, fresh);
    t.not(rest, stranded, 'the stranded leader is not muted: it is cut off already');
    t.true(Number(downMs) >= 100 && Number(downMs) <= 600, line);
  }
  const b = await once();
  t.deepEqual(b.lines, a.lines);
  t.is(b.hash, a.hash);
});

test('lost-commits (sim): a busy leader cut off one way and crashed, its successor (one of its peers) loses its accepts for a while, then all restored and restarted; the same seed gives the same faults and trace', async (t) => {
  const seed = 3;
  t.log(`seed ${seed}`);
  const once = (): Promise<{ lines: string[]; hash: number }> => withSim(seed, (cluster) => faultsUnderWrites(t, cluster, seed, 'lost-commits'));
  const a = await once();
  t.log(a.lines.join('\n'));
  const faults = a.lines.filter((line) => /start lost-commits /.test(line));
  t.true(faults.length > 0, a.lines.join('\n'));
  let successors = 0;
  for (const line of faults) {
    const m =
      /start lost-commits (r\d\/\d) -> (r\d\/\d) (r\d\/\d) \(leader of shard \d+, \d+ in flight[^)]*\) for (\d+) ms, then crashed; (?:its successor (r\d\/\d)'s accepts lost for (\d+) ms|no new leader); restarted (\d+) ms later/.exec(
        line,
      );
    t.truthy(m, line);
    const [, old, x, y, muteMs, fresh, lostMs, downMs] = m!;
    t.false([x, y].includes(old), line);
    t.true(Number(muteMs) >= 30 && Number(muteMs) <= 120, line);
    if (fresh !== undefined) {
      successors++;
      t.true([x, y].includes(fresh), "the successor is one of the old leader's peers");
      t.true(Number(lostMs) >= 1_500 && Number(lostMs) <= 2_500, line);
    }
    t.true(Number(downMs) >= 100 && Number(downMs) <= 600, line);
  }
  t.true(successors > 0, 'a successor was found');
  const b = await once();
  t.deepEqual(b.lines, a.lines);
  t.is(b.hash, a.hash);
});

test('late-copies (sim): every message copied late until the victim (a busy coordinator or shard leader) crashes after a write, restarted soon after; the network restored; the same seed gives the same faults and trace', async (t) => {
  const seed = 4;
  t.log(`seed ${seed}`);
  const once = (): Promise<{ lines: string[]; hash: number; network: NetworkConfig }> =>
    withSim(seed, async (cluster) => {
      const n = new Nemesis(cluster, { seed, faults: ['late-copies'], intervalMs: 250, faultMs: 250 });
      let working = true;
      const work = async (region: string, base: number): Promise<void> => {
        const client = cluster.client({ region });
        for (let i = 0; working; i++) {
          await client.put(`k${(base + i) % 8}`, i).catch(() => cluster.sleep(20));
          await client
            .transaction([
              { op: 'put', key: `k${(base + i) % 8}`, value: i },
              { op: 'put', key: `k${(base + i + 3) % 8}`, value: i },
            ])
            .catch(() => cluster.sleep(20));
        }
      };
      // 2 s of faults (4 until 2026-12-07): five episodes start, on servers and coordinators.
      await Promise.all([n.run(2_000).then(() => (working = false)), work('r1', 0), work('r2', 1), work('r3', 2)]);
      const client = cluster.client({ region: 'r2' });
      await eventually(cluster, () => client.transaction(Array.from({ length: 8 }, (_, i) => ({ op: 'put' as const, key: `k${i}`, value: 'after' }))), {
        timeoutMs: 5_000,
      });
      t.deepEqual(cluster.assertionFailures(), []);
      return { lines: n.lines(), hash: cluster.traceHash(), network: cluster.currentNetwork() };
    });
  const a = await once();
  t.log(a.lines.join('\n'));
  const starts = a.lines.filter((line) => / start late-copies /.test(line));
  t.true(starts.length >= 4, a.lines.join('\n'));
  const victims = new Set<string>();
  for (const line of starts) {
    const m =
      /start late-copies (coordinator\/r\d|r\d\/\d) .*every message copied up to (\d+) ms late for (\d+) ms; (?:crashed after a write \d+ ms later|no write: crashed), restarted (\d+) ms later/.exec(
        line,
      );
    t.truthy(m, line);
    victims.add(m![1]!.startsWith('coordinator') ? 'coordinator' : 'server');
    t.true(Number(m![2]) >= 150 && Number(m![2]) <= 400, line);
    t.true(Number(m![3]) >= 30 && Number(m![3]) <= 120, line);
    t.true(Number(m![4]) >= 10 && Number(m![4]) <= 80, line);
  }
  t.deepEqual([...victims].sort(), ['coordinator', 'server'], 'both kinds of victim');
  t.is(a.network.duplicate ?? 0, 0, 'duplication back to what it was');
  const b = await once();
  t.deepEqual(b.lines, a.lines);
  t.is(b.hash, a.hash);
});

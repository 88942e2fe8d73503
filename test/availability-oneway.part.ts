/**
 * Availability under an asymmetric fault of one server (a minority): every shard whose group
 * keeps a majority without that server must stay writable while the fault lasts. `meridian
 * check` asks for liveness only after healing, so it did not see that, before Multi-Paxos
 * pre-vote (2026-12-03), one server that could send but not hear deposed every leader of its
 * groups again and again (test/multipaxos-prevote.part.ts). Shapes, modes, the server and the
 * fault (nothing reaches it; nothing leaves it; what reaches it comes 5 s late) are drawn per seed.
 */
import test from 'ava';
import { startCluster, type Cluster, type ClusterConfig } from '../src/index.js';
import { Prng } from '../src/core/prng.js';
import { shardOf } from '../src/cluster/topology.js';
import { seedWindow } from './helpers/seed-window.js';
import { keepsMajorityWithout } from '../src/harness/scenario.js';

const KEYS = 8;
const SHARDS = 4;
const TRIES = 5;

type Fault = 'deaf' | 'mute' | 'late';

/** Nothing from `others` reaches `victim` (deaf), nothing from it reaches them (mute), or what reaches it comes 5 s late. */
async function injectFault(cluster: Cluster, victim: string, others: string[], fault: Fault): Promise<void> {
  if (fault === 'deaf') await cluster.partition(others, [victim], { oneWay: true });
  else if (fault === 'mute') await cluster.partition([victim], others, { oneWay: true });
  else await cluster.setNetwork({ nodeDelayMs: { [victim]: 5_000 } });
}

interface Run {
  shape: string;
  /** Keys whose group keeps a majority without the victim, and those of them no try could write. */
  eligible: number;
  unwritten: string[];
}

async function runSeed(seed: number, preVote: boolean): Promise<Run> {
  const prng = new Prng(`availability-oneway:${seed}`);
  const regions = 2 + prng.int(2);
  const servers = 1 + prng.int(2);
  const total = regions * servers;
  const drawn = 3 + prng.int(2);
  const mode = prng.pick(['active', 'passive', 'hybrid'] as const);
  // In hybrid a group is inside its home region: at most its servers.
  const factor = Math.min(mode === 'hybrid' ? servers : total, drawn);
  const fault = prng.pick(['deaf', 'mute', 'late'] as const satisfies readonly Fault[]);
  const config: ClusterConfig = {
    regions: Array.from({ length: regions }, (_, i) => ({ name: `r${i + 1}`, servers })),
    transport: 'sim',
    seed,
    shards: SHARDS,
    requestTimeoutMs: 500,
    replication: { mode, factor, preVote },
  };
  const cluster = await startCluster(config);
  try {
    await cluster.sleep(1_000);
    const ids = config.regions.flatMap((r) => Array.from({ length: r.servers }, (_, i) => `${r.name}/${i}`));
    const victim = prng.pick(ids);
    const others = ids.filter((id) => id !== victim);
    const shape = `${regions}x${servers} factor ${factor} ${mode}, ${victim} ${fault}`;
    await injectFault(cluster, victim, others, fault);
    // A client in a region other than the victim's: its balancer has servers that hear.
    const home = prng.pick(config.regions.map((r) => r.name).filter((r) => r !== victim.split('/')[0]));
    const client = cluster.client({ region: home });
    // Past the fault's first election timeouts (300-600 ms) and a failover.
    await cluster.sleep(2_000);
    const views = cluster.shardLeaders();
    const unwritten: string[] = [];
    let eligible = 0;
    for (let k = 0; k < KEYS; k++) {
      const key = `key${k}`;
      const replicas = views[shardOf(key, SHARDS)]!.replicas;
      const rest = replicas.filter((r) => r !== victim).length;
      if (rest < Math.floor(replicas.length / 2) + 1) continue;
      eligible++;
      let written = false;
      for (let tries = 0; tries < TRIES && !written; tries++) {
        written = await client.put(key, seed * 100 + k).then(
          () => true,
          () => false,
        );
        if (!written) await cluster.sleep(100);
      }
      if (!written) unwritten.push(key);
    }
    return { shape, eligible, unwritten };
  } finally {
    await cluster.stop();
  }
}

test('sim: while one server cannot hear (or be heard, or hears 5 s late), every shard with a majority without it stays writable', async (t) => {
  const { base, seeds } = seedWindow(16, { baseVar: 'MERIDIAN_SEED', base: 1 });
  t.log(`seeds ${base}..${base + seeds - 1} (MERIDIAN_SEED and MERIDIAN_SEEDS move and widen the window)`);
  let eligible = 0;
  for (let seed = base; seed < base + seeds; seed++) {
    const run = await runSeed(seed, true);
    eligible += run.eligible;
    t.deepEqual(run.unwritten, [], `seed ${seed} (${run.shape}): keys no put of ${TRIES} wrote`);
  }
  t.log(`${eligible} keys written while the fault lasted`);
  t.true(eligible > seeds * 2, 'most keys had a majority without the victim');
});

/**
 * A client in the victim's own region: its balancer sends some requests to the victim, and some
 * to a server of the region that forwards them to the victim, the nearest replica of their
 * shard. The victim's answers go to the balancer, not to the forwarder, so until 2026-12-03 a
 * forwarder passed writes to a victim that heard 5 s late, or not at all, until outlier ejection
 * took the forwarder out too: 10-15 of 40 puts failed in most seeds (12 of the first 24 seeds
 * above the bound below). Now a forwarder probes the nodes it forwards to and passes over one
 * that does not answer in time (Reach, src/cluster/server-load.ts). What was left then was mostly
 * the requests the balancer sent to the victim itself before ejecting it (5 in a row); since the
 * balancer's shards avoid a server their requests expired through (BalancerState.avoid), two.
 */
async function grayForwarder(seed: number): Promise<{ shape: string; failed: number; eligible: number }> {
  const prng = new Prng(`availability-gray:${seed}`);
  const [regions, servers, drawn] = prng.pick([
    [3, 2, 3],
    [3, 2, 4],
    [2, 2, 3],
    [2, 3, 3],
  ] as const);
  const mode = prng.pick(['active', 'passive', 'hybrid'] as const);
  // In hybrid a group is inside its home region: at most its servers.
  const factor = mode === 'hybrid' ? Math.min(drawn, servers) : drawn;
  const fault = prng.pick(['deaf', 'mute', 'late'] as const satisfies readonly Fault[]);
  const names = Array.from({ length: regions }, (_, i) => `r${i + 1}`);
  const cluster = await startCluster({
    regions: names.map((name) => ({ name, servers })),
    transport: 'sim',
    seed,
    shards: SHARDS,
    requestTimeoutMs: 500,
    replication: { mode, factor },
  });
  try {
    await cluster.sleep(1_000);
    const ids = names.flatMap((r) => Array.from({ length: servers }, (_, i) => `${r}/${i}`));
    const victim = prng.pick(ids);
    const others = ids.filter((id) => id !== victim);
    await injectFault(cluster, victim, others, fault);
    const client = cluster.client({ region: victim.split('/')[0]! });
    await cluster.sleep(2_000);
    const views = cluster.shardLeaders();
    let failed = 0;
    let eligible = 0;
    for (let i = 0; i < 40; i++) {
      const key = `key${i % KEYS}`;
      if (!keepsMajorityWithout(views[shardOf(key, SHARDS)]!.replicas, victim)) continue;
      eligible++;
      const ok = await client.put(key, i).then(
        () => true,
        () => false,
      );
      if (!ok) failed++;
      await cluster.sleep(50);
    }
    return { shape: `${regions}x${servers} factor ${factor} ${mode}, ${victim} ${fault}`, failed, eligible };
  } finally {
    await cluster.stop();
  }
}

test('sim: a client in the region of a server that cannot hear (or be heard, or hears 5 s late) loses few puts: forwarders pass over it', async (t) => {
  const { base, seeds } = seedWindow(16, { baseVar: 'MERIDIAN_SEED', base: 1 });
  t.log(`seeds ${base}..${base + seeds - 1} (MERIDIAN_SEED and MERIDIAN_SEEDS move and widen the window)`);
  // Two shards' requests the balancer sends to the victim before every shard avoids it, and one
  // or two a forwarder sends before its probe is REACH_SLOW_MS overdue. The worst of seeds
  // 1-100 lost 5 (7 before the avoidance, 2026-12-03).
  const bound = 6;
  let failed = 0;
  let eligible = 0;
  for (let seed = base; seed < base + seeds; seed++) {
    const run = await grayForwarder(seed);
    t.log(`seed ${seed} (${run.shape}): ${run.failed} of ${run.eligible} puts failed`);
    t.true(run.failed <= bound, `seed ${seed} (${run.shape}): ${run.failed} of ${run.eligible} puts failed, more than ${bound}`);
    failed += run.failed;
    eligible += run.eligible;
  }
  t.true(eligible >= seeds * 20, 'most puts were to shards with a majority without the victim');
  t.log(`${failed} of ${eligible} puts failed`);
});

/**
 * A region whose only server is the gray one, with the region's client reading locally between
 * its puts: the server answers the reads, so the balancer's outlier detection never ejects it
 * (a sweep counts a lost request only against a server that answered nothing since), and the
 * strategy kept sending the puts to it, whose forwards were lost (mute) or came seconds late.
 * Until 2026-12-03 the client's puts failed 40 of 40 with r1/0 mute and 20 of 40 deaf (seeds
 * 1-5, active). Now a shard whose leader-bound request expired through a server avoids it, and
 * every shard does once two have (BalancerState.avoid, avoidAll): the next ones go to another
 * region, whose server finds the leader, and the answer teaches the balancer the leader.
 */
async function grayOnlyServer(seed: number): Promise<{ shape: string; failed: number; eligible: number }> {
  const prng = new Prng(`availability-gray-only:${seed}`);
  const mode = prng.pick(['active', 'passive', 'hybrid'] as const);
  const fault = prng.pick(['deaf', 'mute', 'late'] as const satisfies readonly Fault[]);
  const cluster = await startCluster({
    regions: [1, 2, 3].map((i) => ({ name: `r${i}`, servers: 1 })),
    transport: 'sim',
    seed,
    shards: SHARDS,
    requestTimeoutMs: 500,
    replication: { mode, factor: mode === 'hybrid' ? 1 : 3 },
  });
  try {
    await cluster.sleep(1_000);
    await injectFault(cluster, 'r1/0', ['r2/0', 'r3/0'], fault);
    const client = cluster.client({ region: 'r1' });
    await cluster.sleep(2_000);
    let failed = 0;
    let eligible = 0;
    for (let i = 0; i < 40; i++) {
      const key = `key${i % KEYS}`;
      // Hybrid keeps a shard's group in its home region: a shard homed in r1 has no other replica.
      if (keepsMajorityWithout(cluster.replicasOf(shardOf(key, SHARDS)), 'r1/0')) {
        eligible++;
        const ok = await client.put(key, i).then(
          () => true,
          () => false,
        );
        if (!ok) failed++;
      }
      await client.get(key, { consistency: 'local' }).catch(() => undefined);
      await cluster.sleep(200);
    }
    return { shape: `3x1 factor ${mode === 'hybrid' ? 1 : 3} ${mode}, r1/0 ${fault}`, failed, eligible };
  } finally {
    await cluster.stop();
  }
}

test("sim: a region's only server answers its reads but cannot get its writes through: the balancer sends the writes elsewhere", async (t) => {
  const { base, seeds } = seedWindow(8, { baseVar: 'MERIDIAN_SEED', base: 1 });
  t.log(`seeds ${base}..${base + seeds - 1} (MERIDIAN_SEED and MERIDIAN_SEEDS move and widen the window)`);
  // Two shards' requests expire through it before every shard avoids it; one more in slack.
  const bound = 3;
  let eligible = 0;
  for (let seed = base; seed < base + seeds; seed++) {
    const run = await grayOnlyServer(seed);
    t.log(`seed ${seed} (${run.shape}): ${run.failed} of ${run.eligible} puts failed`);
    t.true(run.failed <= bound, `seed ${seed} (${run.shape}): ${run.failed} of ${run.eligible} puts failed, more than ${bound}`);
    eligible += run.eligible;
  }
  t.true(eligible >= seeds * 20, `${eligible} puts to shards with a majority without r1/0`);
});

/**
 * A region's coordinator that clients and balancers reach but whose messages to the servers are
 * lost (mute) aborted every transaction of its region on the vote timeout while the fault
 * lasted: 0 of 30 committed (2026-12-03, marked test.failing until the fix). Now a coordinator
 * silent for a vote timeout probes the servers, and with no answer refuses new transactions
 * (cutOff): its region's balancer holds it down and sends them to the next region's.
 */
async function mutedCoordinator(seed: number, cut: 'mute' | 'deaf' | 'none', crash?: string): Promise<{ committed: number; refusedCutOff: number }> {
  const cluster = await startCluster({
    regions: [1, 2, 3].map((i) => ({ name: `r${i}`, servers: 1 })),
    transport: 'sim',
    seed,
    requestTimeoutMs: 1_000,
    replication: { mode: 'active', factor: 3 },
  });
  try {
    await cluster.sleep(1_000);
    const client = cluster.client({ region: 'r1' });
    await client.transaction([{ op: 'put', key: 'a', value: 0 }]);
    const rest = ['r1/0', 'r2/0', 'r3/0', 'coordinator/r2', 'coordinator/r3'];
    if (cut === 'mute') await cluster.partition(['coordinator/r1'], rest, { oneWay: true });
    else if (cut === 'deaf') await cluster.partition(rest, ['coordinator/r1'], { oneWay: true });
    if (crash !== undefined) await cluster.crash(crash);
    let committed = 0;
    let refusedCutOff = 0;
    for (let i = 1; i <= 30; i++) {
      await client
        .transaction([
          { op: 'put', key: 'a', value: i },
          { op: 'put', key: 'b', value: i },
        ])
        .then(
          () => committed++,
          (e: Error) => {
            if (/hears from no server/.test(e.message)) refusedCutOff++;
          },
        );
      await cluster.sleep(200);
    }
    return { committed, refusedCutOff };
  } finally {
    await cluster.stop();
  }
}

test("sim: while a coordinator cannot reach the servers (mute), or hear them (deaf), most of its region's transactions still commit", async (t) => {
  const seed = 3;
  t.log(`seed ${seed}`);
  for (const cut of ['mute', 'deaf'] as const) {
    const { committed, refusedCutOff } = await mutedCoordinator(seed, cut);
    t.log(`${cut}: ${committed} of 30 committed, ${refusedCutOff} refused as cut off`);
    t.true(committed >= 20, `${cut}: ${committed} of 30 committed`);
  }
});

test('sim: a coordinator is not cut off when one server is down and the others answer its probes', async (t) => {
  const seed = 4;
  t.log(`seed ${seed}`);
  const { committed, refusedCutOff } = await mutedCoordinator(seed, 'none', 'r3/0');
  t.log(`${committed} of 30 committed, ${refusedCutOff} refused as cut off`);
  t.is(refusedCutOff, 0);
  t.true(committed >= 20, `${committed} of 30 committed`);
});

/**
 * A region whose only server hears nothing (deaf): its balancer has no other server there and,
 * the server answering, no reason to move away. A write for a shard the server is a follower
 * of waited there with no leader known until HOLD_TICKS_MAX refused it: 4 of the 12 puts per
 * seed failed, three tries each (2026-12-03, found by the check's gray phase, seed 1120002 of
 * `--shape random --nemesis swarm --mode passive --txn-share 0.2`). Now a request held for two
 * election timeouts is passed to another member of the group once (the server can still send),
 * which forwards it to the leader it knows.
 */
test('sim: a deaf server passes the writes it holds with no leader to another replica, which has one', async (t) => {
  const { base, seeds } = seedWindow(6, { baseVar: 'MERIDIAN_SEED', base: 1 });
  t.log(`seeds ${base}..${base + seeds - 1} (MERIDIAN_SEED and MERIDIAN_SEEDS move and widen the window)`);
  let puts = 0;
  for (let seed = base; seed < base + seeds; seed++) {
    const regions = [1, 2, 3, 4].map((i) => ({ name: `r${i}`, servers: 1 }));
    const cluster = await startCluster({
      regions,
      transport: 'sim',
      seed,
      shards: SHARDS,
      requestTimeoutMs: 1_500,
      replication: { mode: 'active', factor: 3 },
    });
    try {
      await cluster.sleep(1_000);
      await cluster.partition(['r2/0', 'r3/0', 'r4/0'], ['r1/0'], { oneWay: true });
      const client = cluster.client({ region: 'r1' });
      await cluster.sleep(1_500);
      const failed: string[] = [];
      for (let i = 0; i < 2 * KEYS; i++) {
        const key = `key${i % KEYS}`;
        if (!cluster.replicasOf(shardOf(key, SHARDS)).includes('r1/0')) continue;
        puts++;
        let ok = false;
        for (let tries = 0; tries < 3 && !ok; tries++)
          ok = await client.put(key, i).then(
            () => true,
            () => false,
          );
        if (!ok) failed.push(key);
      }
      t.deepEqual(failed, [], `seed ${seed}: puts no try wrote`);
    } finally {
      await cluster.stop();
    }
  }
  t.true(puts >= seeds * 8, `${puts} puts to shards r1/0 is a replica of`);
});

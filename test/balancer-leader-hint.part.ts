/**
 * The balancer's leader hints (balancer.ts route): a leader-bound request (write, linearizable
 * read) goes to the server that last answered for its shard, without the strategy's pick and
 * the forward from a server that is not the leader; local reads stay with the strategy and
 * the locality plan; a crash, a failure or an expiry drops the hint.
 */
import test from 'ava';
import { startCluster, type Cluster, type ClusterConfig } from '../src/index.js';
import { leaderBound } from '../src/cluster/balancer.js';
import { testSeed } from './balance-stats.js';
import { diff, routed } from './helpers/balancer-routed.js';

const HOME = 'us-east';

interface Summary {
  routed: number;
  hinted: number;
  leaders: Partial<Record<string, string>>;
  ejected: string[];
}

async function summary(cluster: Cluster, region = HOME): Promise<Summary> {
  return ((await cluster.inspect(`balancer/${region}`)) as { state: Summary }).state;
}

/** `count` keys, at least one in every shard (so every shard gets a hint). */
function keysCoveringShards(cluster: Cluster, count: number, prefix: string): string[] {
  const keys: string[] = [];
  const seen = new Set<number>();
  for (let i = 0; keys.length < count || seen.size < cluster.config.shards; i++) {
    const key = `${prefix}-${i}`;
    if (keys.length < count || !seen.has(cluster.shardOf(key))) keys.push(key);
    seen.add(cluster.shardOf(key));
  }
  return keys;
}

test('leaderBound: writes and linearizable reads end at the leader; local reads and transactions do not', (t) => {
  t.true(leaderBound({ op: 'put', key: 'k', value: 1 }));
  t.true(leaderBound({ op: 'delete', key: 'k' }));
  t.true(leaderBound({ op: 'cas', key: 'k', expected: null, value: 1 }));
  t.true(leaderBound({ op: 'get', key: 'k' }));
  t.true(leaderBound({ op: 'get', key: 'k', consistency: 'linearizable' }));
  t.false(leaderBound({ op: 'get', key: 'k', consistency: 'local' }));
  t.false(leaderBound({ op: 'txn', key: '', ops: [{ op: 'get', key: 'k' }] }));
});

test('sim: once learned, leader-bound requests go straight to the owner; local reads keep round-robin in the home region', async (t) => {
  const seed = testSeed(201);
  t.log(`seed ${seed}`);
  const config: ClusterConfig = {
    regions: [
      { name: HOME, servers: 4 },
      { name: 'eu-west', servers: 2 },
    ],
    transport: 'sim',
    seed,
    network: { latencyMs: { 'us-east~eu-west': 10 } },
    heartbeat: { intervalMs: 50 },
    replication: { mode: 'none' },
    balancer: { strategy: 'round-robin' },
  };
  const cluster = await startCluster(config);
  try {
    await cluster.sleep(200);
    const client = cluster.client({ region: HOME });
    const keys = keysCoveringShards(cluster, 300, `h${seed}`);
    for (const key of keys) await client.put(key, key);
    const learned = await summary(cluster);
    for (let shard = 0; shard < cluster.config.shards; shard++) {
      t.is(learned.leaders[shard], cluster.serverFor(keys.find((k) => cluster.shardOf(k) === shard)!), `shard ${shard}: its owner`);
    }

    // Linearizable reads and writes: every one to the key's owner (in eu-west too), by hint.
    const before = await routed(cluster, HOME);
    const hintedBefore = learned.hinted;
    for (const key of keys) t.is(await client.get(key), key);
    for (const key of keys.slice(0, 50)) t.true(await client.cas(key, key, `${key}!`));
    const expected: Record<string, number> = Object.fromEntries(Object.keys(before).map((id) => [id, 0]));
    for (const key of [...keys, ...keys.slice(0, 50)]) expected[cluster.serverFor(key)]!++;
    t.deepEqual(diff(await routed(cluster, HOME), before), expected, 'each request to the owner of its key');
    t.is((await summary(cluster)).hinted - hintedBefore, keys.length + 50);

    // Local reads: still round-robin over the home region, whoever owns the key.
    const local = await routed(cluster, HOME);
    const n = 200;
    for (const key of keys.slice(0, n)) await client.get(key, { consistency: 'local' });
    const delta = diff(await routed(cluster, HOME), local);
    const home = [0, 1, 2, 3].map((i) => delta[`${HOME}/${i}`]!);
    t.is(
      home.reduce((a, b) => a + b, 0),
      n,
      `every local read in the home region ${JSON.stringify(delta)}`,
    );
    t.true(Math.max(...home) - Math.min(...home) <= 1, `round-robin: ${home}`);
  } finally {
    await cluster.stop();
  }
});

test("sim: the leaders' crash drops their hints; writes succeed and the hints move to the new leaders", async (t) => {
  const seed = testSeed(202);
  t.log(`seed ${seed}`);
  const regions = ['us-east', 'eu-west', 'ap-south'].map((name) => ({ name, servers: 3 }));
  const cluster = await startCluster({
    regions,
    transport: 'sim',
    seed,
    network: { latencyMs: { 'us-east~eu-west': 10, 'us-east~ap-south': 30, 'eu-west~ap-south': 30 } },
    heartbeat: { intervalMs: 50 },
    balancer: { strategy: 'round-robin' },
  });
  try {
    await cluster.sleep(500);
    const client = cluster.client({ region: HOME });
    const keys = keysCoveringShards(cluster, 100, `c${seed}`);
    for (const key of keys) await client.put(key, 0);
    const learned = await summary(cluster);
    t.is(Object.keys(learned.leaders).length, cluster.config.shards);
    for (const [shard, id] of Object.entries(learned.leaders)) t.is(cluster.leaderOf(Number(shard)), id, `shard ${shard}`);

    // The leader of the first key's shard crashes: its hints go at once.
    const victim = learned.leaders[cluster.shardOf(keys[0]!)]!;
    const itsShards = Object.entries(learned.leaders)
      .filter(([, id]) => id === victim)
      .map(([shard]) => Number(shard));
    await cluster.crash(victim);
    await cluster.sleep(100); // The runtime's crash notice is a message to the balancer (network latency).
    const after = await summary(cluster);
    for (const shard of itsShards) t.is(after.leaders[shard], undefined, `shard ${shard}: the crashed leader's hint is dropped`);

    // Writes to its shards: placed by the strategy until a new leader answers, then by hint.
    const before = await routed(cluster, HOME);
    const affected = keys.filter((k) => itsShards.includes(cluster.shardOf(k)));
    for (const key of affected) await client.put(key, 1);
    t.is(diff(await routed(cluster, HOME), before)[victim], 0, 'nothing sent to the crashed leader');
    const moved = await summary(cluster);
    for (const shard of itsShards) {
      t.not(moved.leaders[shard], undefined, `shard ${shard} learned a new leader`);
      t.not(moved.leaders[shard], victim);
      t.is(moved.leaders[shard], cluster.leaderOf(shard), `shard ${shard}: the hint is the new leader`);
    }
    for (const key of affected) t.is(await client.get(key), 1);
  } finally {
    await cluster.stop();
  }
});

test('sim: a request that expires at a silent hinted leader drops the hint; the next ones find the new leader', async (t) => {
  const seed = testSeed(203);
  t.log(`seed ${seed}`);
  const regions = ['us-east', 'eu-west', 'ap-south'].map((name) => ({ name, servers: 3 }));
  const requestTimeoutMs = 400;
  const cluster = await startCluster({
    regions,
    transport: 'sim',
    seed,
    requestTimeoutMs,
    network: { latencyMs: { 'us-east~eu-west': 10, 'us-east~ap-south': 30, 'eu-west~ap-south': 30 } },
    // phi so high that membership does not act within the test, and no outlier ejection: only
    // the expiry drops the hint.
    heartbeat: { intervalMs: 50, phiThreshold: 1000 },
    balancer: { strategy: 'round-robin', outlier: false },
  });
  try {
    await cluster.sleep(500);
    const client = cluster.client({ region: HOME });
    const keys = keysCoveringShards(cluster, 50, `e${seed}`);
    for (const key of keys) await client.put(key, 0);
    const key = keys[0]!;
    const shard = cluster.shardOf(key);
    const victim = (await summary(cluster)).leaders[shard]!;
    t.is(cluster.leaderOf(shard), victim);

    // Cut off (not crashed: no runtime notice, and membership does not act).
    await cluster.partition(
      [victim],
      regions.map((r) => r.name),
    );
    await t.throwsAsync(client.put(key, 1), undefined, 'the request sent to the silent leader fails');
    await cluster.sleep(requestTimeoutMs / 2);
    t.not((await summary(cluster)).leaders[shard], victim, 'the expiry dropped the hint');
    t.is(cluster.members().find((m) => m.id === victim)!.state, 'up', 'membership has not acted');

    // The next writes go by the strategy to a server that finds the new leader.
    let ok = false;
    for (let i = 0; i < 20 && !ok; i++) {
      ok = await client.put(key, 2).then(
        () => true,
        () => false,
      );
      if (!ok) await cluster.sleep(100);
    }
    t.true(ok, 'a write succeeds once the group elects a new leader');
    const hint = (await summary(cluster)).leaders[shard];
    t.not(hint, victim);
    t.is(hint, cluster.leaderOf(shard));
  } finally {
    await cluster.stop();
  }
});

/**
 * Load balancing through the real cluster: every strategy behind the balancer actor, the
 * two-level dispatch (home region first, failover by priority), slow servers, bad configs.
 *
 * Distributions are read from the balancer's own `routed:<server>` counters: servers count
 * requests where they are EXECUTED, and with replication 'none' a server forwards a key it does
 * not own to its owner, so only the balancer's counters show where the strategy sent a request.
 *
 * The traffic is local reads: the balancer sends leader-bound requests (writes, linearizable
 * reads) to their shard's leader once it has learned it (balancer.ts; balancer-leader-hint.part.ts),
 * so only local reads are placed by the strategy and the locality plan every time.
 */
import test, { type ExecutionContext } from 'ava';
import { ConfigError, startCluster, type Client, type Cluster, type ClusterConfig } from '../src/index.js';
import { STRATEGY_NAMES, type StrategyName } from '../src/balance/types.js';
import { chiSquare, chiSquareCritical, testSeed } from './balance-stats.js';
import { diff, routed } from './helpers/balancer-routed.js';

type Transport = 'sim' | 'threads';

const HOME = 'us-east';
const HOME_SERVERS = ['us-east/0', 'us-east/1', 'us-east/2', 'us-east/3'];
const WEIGHTS: Record<string, number> = { 'us-east/0': 1, 'us-east/1': 2, 'us-east/2': 3, 'us-east/3': 4 };

function base(transport: Transport, seed: number, extra: Partial<ClusterConfig> = {}): ClusterConfig {
  return {
    regions: [
      { name: HOME, servers: 4 },
      { name: 'eu-west', servers: 2 },
    ],
    transport,
    seed,
    network: { latencyMs: { 'us-east~eu-west': 10 } },
    heartbeat: { intervalMs: 50 },
    replication: { mode: 'none' },
    // Two threads for the whole cluster: this machine's cores are shared.
    ...(transport === 'threads' ? { placement: 'packed' as const, threads: 2 } : {}),
    ...extra,
  };
}

function strategyConfig(strategy: StrategyName): ClusterConfig['balancer'] {
  return strategy === 'weighted-round-robin' ? { strategy, weights: WEIGHTS } : { strategy };
}

function sumOf(counts: Record<string, number>, prefix = ''): number {
  let n = 0;
  for (const [id, c] of Object.entries(counts)) if (id.startsWith(prefix)) n += c;
  return n;
}

/** Keys `${prefix}-i` whose owner satisfies `accept`, `count` of them. */
function keysWhere(cluster: Cluster, count: number, prefix: string, accept: (owner: string) => boolean = () => true): string[] {
  const keys: string[] = [];
  for (let i = 0; keys.length < count; i++) if (accept(cluster.serverFor(`${prefix}-${i}`))) keys.push(`${prefix}-${i}`);
  return keys;
}

/** A local read: placed by the strategy, not by a leader hint. */
function localGet(client: Client, key: string): Promise<unknown> {
  return client.get(key, { consistency: 'local' });
}

/** Local reads of `keys`, `concurrency` at a time, from a client homed in `region`; how many succeeded. */
async function getAll(cluster: Cluster, keys: readonly string[], concurrency: number, region = HOME): Promise<number> {
  const client = cluster.client({ region });
  let ok = 0;
  for (let i = 0; i < keys.length; i += concurrency) {
    const outcomes = await Promise.allSettled(keys.slice(i, i + concurrency).map((k) => localGet(client, k)));
    for (const o of outcomes) if (o.status === 'fulfilled') ok++;
  }
  return ok;
}

/**
 * Checks the routed distribution over the home servers for one strategy; `n` requests of
 * distinct keys were routed. Uniform strategies: Pearson's chi-square against uniform at
 * significance 1e-4 (a correct balancer fails on one seed in 10^4).
 */
function checkDistribution(t: ExecutionContext, strategy: StrategyName, counts: Record<string, number>, n: number): void {
  const observed = HOME_SERVERS.map((id) => counts[id]!);
  t.log(`${strategy}: ${observed.join(' / ')}`);
  t.is(sumOf(counts, `${HOME}/`), n, `${strategy}: every request routed in the home region`);
  t.is(sumOf(counts, 'eu-west/'), 0, `${strategy}: none to another region while home is healthy`);
  const k = HOME_SERVERS.length;
  switch (strategy) {
    case 'round-robin':
      t.true(Math.max(...observed) - Math.min(...observed) <= 1, `round-robin is exact: ${observed}`);
      return;
    case 'weighted-round-robin': {
      // Smooth WRR serves whole cycles of sum(weights) picks exactly in proportion.
      const total = Object.values(WEIGHTS).reduce((a, b) => a + b, 0);
      HOME_SERVERS.forEach((id, i) => {
        const expected = (n * WEIGHTS[id]!) / total;
        t.true(Math.abs(observed[i]! - expected) <= 1, `${id}: ${observed[i]} vs ${expected} by weight ${WEIGHTS[id]}`);
      });
      return;
    }
    case 'random':
    case 'least-request':
    case 'consistent-hash':
    case 'maglev': {
      // Hashing strategies spread distinct keys uniformly in expectation too (maglev's table
      // and the ring's virtual nodes hold each server's share close to 1/k).
      const stat = chiSquare(
        observed,
        observed.map(() => n / k),
      );
      const critical = strategy === 'consistent-hash' ? 4 * chiSquareCritical(k - 1) : chiSquareCritical(k - 1);
      t.true(stat < critical, `${strategy}: chi-square ${stat.toFixed(2)} < ${critical.toFixed(2)}: ${observed}`);
      return;
    }
    case 'least-latency':
      // Equal servers: peak-EWMA is not uniform by design (a server that answered fast last
      // looks better), but none may starve.
      for (const [i, c] of observed.entries()) t.true(c >= n / (4 * k), `${HOME_SERVERS[i]} got ${c} of ${n}`);
      return;
  }
}

/** For hashing strategies: each key's repeated requests all go to one server. */
async function checkAffinity(t: ExecutionContext, cluster: Cluster, keys: readonly string[], repeats: number): Promise<void> {
  const client = cluster.client({ region: HOME });
  const servers = new Set<string>();
  for (const key of keys) {
    const before = await routed(cluster, HOME);
    await Promise.all(Array.from({ length: repeats }, () => localGet(client, key)));
    const delta = diff(await routed(cluster, HOME), before);
    const hit = Object.entries(delta).filter(([, c]) => c > 0);
    t.is(hit.length, 1, `key ${key} went to one server: ${JSON.stringify(Object.fromEntries(hit))}`);
    t.is(hit[0]?.[1], repeats);
    servers.add(hit[0]![0]);
  }
  t.true(servers.size > 1, `different keys land on different servers (${[...servers]})`);
}

for (const strategy of STRATEGY_NAMES) {
  test(`sim: ${strategy} through startCluster: requests succeed and spread as the strategy says`, async (t) => {
    const seed = testSeed(101);
    t.log(`seed ${seed}`);
    const cluster = await startCluster(base('sim', seed, { balancer: strategyConfig(strategy) }));
    try {
      await cluster.sleep(200);
      const n = 1000;
      const keys = keysWhere(cluster, n, `k${seed}`);
      t.is(await getAll(cluster, keys, 20), n, 'every request succeeds');
      checkDistribution(t, strategy, await routed(cluster, HOME), n);
      if (strategy === 'consistent-hash' || strategy === 'maglev') await checkAffinity(t, cluster, keys.slice(0, 12), 10);
    } finally {
      await cluster.stop();
    }
  });
}

test('threads: every strategy through startCluster, on worker threads', async (t) => {
  const seed = testSeed(102);
  t.log(`seed ${seed}`);
  for (const strategy of STRATEGY_NAMES) {
    const cluster = await startCluster(base('threads', seed, { balancer: strategyConfig(strategy) }));
    try {
      const n = 400;
      const keys = keysWhere(cluster, n, `t${seed}`);
      t.is(await getAll(cluster, keys, 40), n, `${strategy}: every request succeeds`);
      checkDistribution(t, strategy, await routed(cluster, HOME), n);
      if (strategy === 'consistent-hash' || strategy === 'maglev') await checkAffinity(t, cluster, keys.slice(0, 4), 8);
    } finally {
      await cluster.stop();
    }
  }
});

/** Three regions; eu-west is nearer to us-east than ap-south, so it is first in failover. */
function threeRegions(transport: Transport, seed: number): ClusterConfig {
  return {
    ...base(transport, seed),
    regions: [
      { name: HOME, servers: 2 },
      { name: 'eu-west', servers: 2 },
      { name: 'ap-south', servers: 2 },
    ],
    network: { latencyMs: { 'us-east~eu-west': 10, 'us-east~ap-south': 30, 'eu-west~ap-south': 30 } },
    balancer: { strategy: 'round-robin' },
  };
}

async function twoLevel(t: ExecutionContext, transport: Transport, seed: number): Promise<void> {
  const cluster = await startCluster(threeRegions(transport, seed));
  const settle = (ms: number): Promise<void> => cluster.sleep(ms);
  try {
    await settle(300);
    // Keys that live outside the home region, so they can be served while it is cut off.
    let round = 0;
    const phase = async (): Promise<{ ok: number; delta: Record<string, number> }> => {
      const before = await routed(cluster, HOME);
      const keys = keysWhere(cluster, 60, `p${round++}`, (owner) => !owner.startsWith(`${HOME}/`));
      const ok = await getAll(cluster, keys, 10);
      return { ok, delta: diff(await routed(cluster, HOME), before) };
    };

    const healthy = await phase();
    t.is(healthy.ok, 60);
    t.is(sumOf(healthy.delta, `${HOME}/`), 60, `healthy: all to the home region ${JSON.stringify(healthy.delta)}`);

    // The home region's servers are cut off from everything (their region actor, the
    // balancer, each other, other regions): the region actor convicts them, its digest says so.
    const homeServers = ['us-east/0', 'us-east/1'];
    await cluster.partition(homeServers, [HOME, 'eu-west', 'ap-south']);
    await settle(1500);
    t.true(
      cluster
        .members()
        .filter((m) => m.region === HOME)
        .every((m) => m.state === 'down'),
      JSON.stringify(cluster.members()),
    );
    const cut = await phase();
    t.is(cut.ok, 60, 'requests succeed in the failover region');
    t.is(sumOf(cut.delta, `${HOME}/`), 0, `nothing to the unreachable home servers ${JSON.stringify(cut.delta)}`);
    t.is(sumOf(cut.delta, 'eu-west/'), 60, `all to the nearest healthy region, eu-west ${JSON.stringify(cut.delta)}`);

    await cluster.heal();
    await settle(500);
    t.true(cluster.members().every((m) => m.state === 'up'));
    const healed = await phase();
    t.is(healed.ok, 60);
    t.is(sumOf(healed.delta, `${HOME}/`), 60, `back home after heal ${JSON.stringify(healed.delta)}`);

    // The whole home region crashed: the runtime's notices move traffic at once.
    for (const id of homeServers) await cluster.crash(id);
    const crashed = await phase();
    t.is(crashed.ok, 60);
    t.is(sumOf(crashed.delta, 'eu-west/'), 60, `crash: all to eu-west ${JSON.stringify(crashed.delta)}`);
    for (const id of homeServers) await cluster.restart(id);
    await settle(500);
    const restarted = await phase();
    t.is(restarted.ok, 60);
    t.is(sumOf(restarted.delta, `${HOME}/`), 60, `back home after restart ${JSON.stringify(restarted.delta)}`);
  } finally {
    await cluster.stop();
  }
}

test('sim: two-level dispatch: home region first, failover to the nearest region, back after heal and restart', async (t) => {
  const seed = testSeed(103);
  t.log(`seed ${seed}`);
  await twoLevel(t, 'sim', seed);
});

test('threads: two-level dispatch: home region first, failover to the nearest region, back after heal and restart', async (t) => {
  const seed = testSeed(104);
  t.log(`seed ${seed}`);
  await twoLevel(t, 'threads', seed);
});

test('sim: partition([home], others) cuts the home balancer off too: it keeps serving home, sees the others down, and heals', async (t) => {
  const seed = testSeed(105);
  t.log(`seed ${seed}`);
  // The balancer lives with its clients, in the home region (topology.ts): a partition of the
  // whole home region leaves it no other region to fail over to, only its own.
  const cluster = await startCluster(threeRegions('sim', seed));
  try {
    await cluster.sleep(300);
    await cluster.partition([HOME], ['eu-west', 'ap-south']);
    await cluster.sleep(1500);
    const regionsSeen = async (region: string): Promise<Record<string, string>> =>
      ((await cluster.inspect(`balancer/${region}`)) as { state: { regions: Record<string, string> } }).state.regions;
    t.deepEqual(await regionsSeen(HOME), { [HOME]: 'up', 'eu-west': 'down', 'ap-south': 'down' });
    t.is((await regionsSeen('eu-west'))[HOME], 'down');
    const before = await routed(cluster, HOME);
    const keys = keysWhere(cluster, 40, 'home', (owner) => owner.startsWith(`${HOME}/`));
    t.is(await getAll(cluster, keys, 10), 40, 'keys the home region owns are still served');
    t.is(sumOf(diff(await routed(cluster, HOME), before), `${HOME}/`), 40);
    await cluster.heal();
    await cluster.sleep(300);
    t.deepEqual(await regionsSeen(HOME), { [HOME]: 'up', 'eu-west': 'up', 'ap-south': 'up' });
    const all = keysWhere(cluster, 40, 'all');
    t.is(await getAll(cluster, all, 10), 40);
  } finally {
    await cluster.stop();
  }
});

/**
 * `workers` closed loops of `each` local reads over keys the slow server does not own (so a request's
 * cost depends only on where the balancer sent it); returns the slow server's routed share.
 */
async function slowShare(transport: Transport, seed: number, strategy: StrategyName, workers: number, each: number): Promise<number> {
  const cluster = await startCluster({
    ...base(transport, seed),
    regions: [{ name: HOME, servers: 3 }],
    // Every hop into a server costs 2 ms; into us-east/1, 30 ms: slow, not dead.
    network: { nodeDelayMs: { 'us-east/0': 2, 'us-east/1': 30, 'us-east/2': 2 } },
    balancer: { strategy },
  });
  try {
    await cluster.sleep(200);
    const client = cluster.client({ region: HOME });
    const keys = keysWhere(cluster, 200, `s${seed}`, (owner) => owner !== 'us-east/1');
    await Promise.all(
      Array.from({ length: workers }, async (_, w) => {
        for (let i = 0; i < each; i++) await localGet(client, keys[(w * each + i) % keys.length]!);
      }),
    );
    const counts = await routed(cluster, HOME);
    return counts['us-east/1']! / (workers * each);
  } finally {
    await cluster.stop();
  }
}

test('sim: a slow server gets less traffic under least-request and least-latency than under round-robin', async (t) => {
  const seed = testSeed(106);
  t.log(`seed ${seed}`);
  const share: Partial<Record<StrategyName, number>> = {};
  for (const strategy of ['round-robin', 'least-request', 'least-latency'] as const) share[strategy] = await slowShare('sim', seed, strategy, 24, 40);
  t.log(`slow server's share: ${JSON.stringify(share)}`);
  t.true(Math.abs(share['round-robin']! - 1 / 3) < 0.01, 'round-robin ignores speed');
  t.true(share['least-request']! < 0.8 * share['round-robin']!, 'least-request avoids it');
  t.true(share['least-latency']! < 0.8 * share['round-robin']!, 'least-latency avoids it');
});

test('threads: a slow server gets less traffic under least-request than under round-robin', async (t) => {
  const seed = testSeed(107);
  t.log(`seed ${seed}`);
  const rr = await slowShare('threads', seed, 'round-robin', 16, 15);
  const lr = await slowShare('threads', seed, 'least-request', 16, 15);
  t.log(`slow server's share: round-robin ${rr.toFixed(3)}, least-request ${lr.toFixed(3)}`);
  t.true(lr < rr, `least-request ${lr} < round-robin ${rr}`);
});

test('sim: outlier ejection takes out a silent server, not the healthy servers forwarding to a crashed owner', async (t) => {
  const seed = testSeed(108);
  t.log(`seed ${seed}`);
  // phi so high that membership does not act within the test: only outlier ejection does.
  const cluster = await startCluster(
    base('sim', seed, { requestTimeoutMs: 300, heartbeat: { intervalMs: 50, phiThreshold: 1000 }, balancer: { strategy: 'round-robin' } }),
  );
  const ejected = async (): Promise<string[]> => ((await cluster.inspect(`balancer/${HOME}`)) as { state: { ejected: string[] } }).state.ejected;
  try {
    const client = cluster.client({ region: HOME });
    await cluster.sleep(200);
    // us-east/1 crashes: requests for its keys, routed to the other servers, are forwarded to
    // it and expire at the balancer against the forwarder.
    await cluster.crash('us-east/1');
    const keys = keysWhere(cluster, 400, `o${seed}`);
    const lost = keys.filter((k) => cluster.serverFor(k) === 'us-east/1').length;
    t.true(lost > 20, `${lost} of the keys live on the crashed server`);
    const pending: Promise<unknown>[] = [];
    for (const key of keys) {
      pending.push(localGet(client, key).catch(() => undefined));
      await cluster.sleep(2);
    }
    await Promise.all(pending);
    await cluster.sleep(400);
    t.deepEqual(await ejected(), [], 'the servers that forwarded to the crashed owner answered other requests: not outliers');

    // us-east/2 goes silent (cut off, not crashed: no runtime notice): it is ejected.
    await cluster.partition(['us-east/2'], [HOME, 'eu-west']);
    const live = keysWhere(cluster, 200, `q${seed}`, (owner) => owner !== 'us-east/1' && owner !== 'us-east/2');
    for (const key of live) {
      pending.push(localGet(client, key).catch(() => undefined));
      await cluster.sleep(2);
    }
    await Promise.all(pending);
    t.deepEqual(await ejected(), ['us-east/2']);
    t.is(cluster.members().find((m) => m.id === 'us-east/2')!.state, 'up', 'membership has not acted: the ejection was the outlier detector');
    const before = await routed(cluster, HOME);
    t.is(await getAll(cluster, live.slice(0, 60), 10), 60, 'requests avoid the ejected server and succeed');
    t.is(diff(await routed(cluster, HOME), before)['us-east/2'], 0);
  } finally {
    await cluster.stop();
  }
});

test('bad balancer and heartbeat configs are ConfigErrors naming the field', async (t) => {
  const cases: Array<[Partial<ClusterConfig>, string]> = [
    [{ balancer: { strategy: 'fastest' as never } }, 'balancer.strategy'],
    [{ balancer: { strategy: 42 as never } }, 'balancer.strategy'],
    [{ balancer: { strategy: 'weighted-round-robin', weights: { 'us-east/0': -1 } } }, 'balancer.weights["us-east/0"]'],
    [{ balancer: { strategy: 'weighted-round-robin', weights: { 'us-east/1': 0 } } }, 'balancer.weights["us-east/1"]'],
    [{ balancer: { strategy: 'weighted-round-robin', weights: { 'us-east/9': 1 } } }, 'balancer.weights["us-east/9"]'],
    [{ balancer: { strategy: 'round-robin', weights: { 'us-east/0': 2 } } }, 'balancer.weights'],
    [{ balancer: { strategy: 'random', locality: { priority: ['mars'] } } }, 'balancer.locality.priority[0]'],
    [{ heartbeat: { phiThreshold: 0 } }, 'heartbeat.phiThreshold'],
    [{ heartbeat: { phiThreshold: -3 } }, 'heartbeat.phiThreshold'],
    [{ heartbeat: { phiThreshold: 8, suspectThreshold: 9 } }, 'heartbeat.suspectThreshold'],
    [{ heartbeat: { intervalMs: 0 } }, 'heartbeat.intervalMs'],
  ];
  for (const transport of ['sim', 'threads'] as const) {
    for (const [extra, field] of cases) {
      const error = await t.throwsAsync(startCluster(base(transport, 1, extra)), { instanceOf: ConfigError }, `${transport}: ${JSON.stringify(extra)}`);
      t.is((error as ConfigError).field, field, `${JSON.stringify(extra)} names ${field}: ${error?.message}`);
      t.true(error!.message.includes(field), error?.message);
    }
  }
});

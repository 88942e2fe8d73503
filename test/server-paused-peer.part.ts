/**
 * A paused server (no crash notice, just silence) as its region's other servers see it (found
 * by a failover audit, session 59): a server that passes a request on (it holds no replica of
 * the shard, or its replica knows no leader) chose among the shard's group by crash notices and
 * its own probes only, so it kept passing its region's writes to the paused peer, nearest
 * first, for 10-15 s after the region's membership showed it down: each of them waited out its
 * caller's 5 s timeout. Now the region actor tells its servers which of them it holds down
 * (DownMembers), and they pass over those; a write passed on before is answered at once
 * (outcome unknown) when the notice comes (a read goes to another copy: server-forward-reroute).
 */
import test, { type ExecutionContext } from 'ava';
import { eventually, startCluster, type StrategyName, type Cluster, type Client } from '../src/index.js';
import { failoverConfig } from './helpers/failover-cluster.js';

const REGIONS = ['r0', 'r1', 'r2'];
const VICTIM = 'r2/0';

async function sim(t: ExecutionContext, seed: number, strategy: StrategyName): Promise<{ cluster: Cluster; clients: Client[]; keys: string[] }> {
  t.log(`seed ${seed}, balancer ${strategy}`);
  const cluster = await startCluster(failoverConfig(seed, { balancer: { strategy } }));
  const clients = REGIONS.map((region) => cluster.client({ region }));
  await cluster.sleep(1500);
  for (let i = 0; i < 30; i++) await clients[i % 3]!.put(`k${i}`, i);
  // The keys whose shard's group includes the victim.
  const keys = Array.from({ length: 30 }, (_, i) => `k${i}`).filter((k) =>
    cluster
      .shardLeaders()
      .find((s) => s.shard === cluster.shardOf(k))!
      .replicas.includes(VICTIM),
  );
  return { cluster, clients, keys };
}

/** The servers `server` holds down on its region's word, now (its summary's memberDown). */
async function heldDown(cluster: Cluster, server: string): Promise<string[]> {
  const summary = (await cluster.inspect(server)) as { state: { memberDown: Record<string, number> } };
  return Object.entries(summary.state.memberDown)
    .filter(([, until]) => until > cluster.now())
    .map(([node]) => node);
}

for (const { seed, strategy } of [
  { seed: 1, strategy: 'round-robin' },
  { seed: 1, strategy: 'least-request' },
  { seed: 2, strategy: 'maglev' },
  { seed: 3, strategy: 'consistent-hash' },
] as const) {
  test(`${strategy}, seed ${seed}: once its region holds a paused server down, no write of the region is passed to it; resumed, it is passed to again`, async (t) => {
    const { cluster, clients, keys } = await sim(t, seed, strategy);
    try {
      t.true(keys.length > 0);
      const paused = cluster.now();
      await cluster.pause(VICTIM);
      await eventually(cluster, () => cluster.members().find((m) => m.id === VICTIM)?.state === 'down', { timeoutMs: 3_000, message: `${VICTIM} seen down` });
      t.log(`${VICTIM} down ${Math.round(cluster.now() - paused)} virtual ms after the pause`);
      // Every write from its region succeeds at the first try, in a few round trips: before,
      // the first one of a key passed on through r2/1 or r2/2 waited 5 s for the paused one.
      for (const k of keys) {
        const start = cluster.now();
        await clients[2]!.put(k, 'after');
        const took = cluster.now() - start;
        t.true(took < 1_000, `put ${k} took ${Math.round(took)} virtual ms`);
      }
      for (const peer of ['r2/1', 'r2/2']) t.deepEqual(await heldDown(cluster, peer), [VICTIM], `${peer} holds ${VICTIM} down`);
      await cluster.resume(VICTIM);
      await eventually(cluster, () => cluster.members().find((m) => m.id === VICTIM)?.state === 'up', { timeoutMs: 3_000, message: `${VICTIM} seen up` });
      await eventually(cluster, async () => {
        for (const peer of ['r2/1', 'r2/2']) if ((await heldDown(cluster, peer)).length > 0) throw new Error(`${peer} still holds it down`);
      });
      for (const k of keys) await clients[2]!.put(k, 'resumed');
    } finally {
      await cluster.stop();
    }
  });
}

test('a write passed on to a server just paused is answered when its region holds it down (outcome unknown), not after the caller’s 5 s timeout', async (t) => {
  // round-robin, seed 1: r2's balancer sends k3's put to r2/1 or r2/2, which passes it to
  // r2/0 (the nearest of shard 11's group), paused a moment before.
  const { cluster, clients } = await sim(t, 1, 'round-robin');
  try {
    const paused = cluster.now();
    await cluster.pause(VICTIM);
    const err = await t.throwsAsync(clients[2]!.put('k3', 'x'));
    t.is(err?.name, 'TimeoutError');
    const took = cluster.now() - paused;
    t.log(`answered ${Math.round(took)} virtual ms after the pause: ${err?.message}`);
    t.true(took < 2_000, `answered after ${Math.round(took)} virtual ms`);
    t.regex(err?.message ?? '', /went silent/);
    await clients[2]!.put('k3', 'y');
  } finally {
    await cluster.stop();
  }
});

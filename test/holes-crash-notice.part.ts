import test from 'ava';
import { eventually, withCluster, type ClusterConfig } from '../src/index.js';
import type { Cluster } from '../src/cluster/cluster.js';
import { BALANCER_PROBE_MS, type BalancerState, type BalancerSummary } from '../src/cluster/balancer.js';
import { balancerAddress } from '../src/cluster/topology.js';

// Issue 8, item 6: in sim, the runtime's crash notice is a message through the router, subject
// to partitions and latency, not a direct call into the balancers.

const config: ClusterConfig = {
  regions: [
    { name: 'r1', servers: 2 },
    { name: 'r2', servers: 2 },
  ],
  transport: 'sim',
  seed: 5,
  network: { latencyMs: { 'r1~r2': 100 } },
  heartbeat: { intervalMs: 50 },
  replication: { mode: 'none' },
};

/** Whether the balancer of `region` was told that `server` crashed. */
function heardCrash(cluster: Cluster, region: string, server: string): boolean | undefined {
  const state = cluster.internals.runtime.host.cell(balancerAddress(region))?.peekState() as BalancerState | undefined;
  return state?.members.get(server)?.crashed;
}

function stateAt(cluster: Cluster, region: string, server: string): string | undefined {
  const state = cluster.internals.runtime.host.cell(balancerAddress(region))?.peekState() as BalancerState | undefined;
  return state?.members.get(server)?.state;
}

test('a crash notice takes the link latency to reach a balancer in another region', async (t) => {
  await withCluster(t, config, async (cluster) => {
    await cluster.sleep(200);
    await cluster.crash('r1/0');
    await cluster.sleep(10);
    t.true(heardCrash(cluster, 'r1', 'r1/0'), 'the home balancer heard it at once (no latency within a region)');
    t.false(heardCrash(cluster, 'r2', 'r1/0'), 'the remote balancer has not heard it 10 ms later (latency 100 ms)');
    await cluster.sleep(150);
    t.true(heardCrash(cluster, 'r2', 'r1/0'), 'the remote balancer heard it after the latency');
  });
});

test('a balancer cut off from the crashed server by a partition does not hear the notice', async (t) => {
  await withCluster(t, config, async (cluster) => {
    await cluster.sleep(200);
    await cluster.partition(['r2'], ['r1/1']);
    await cluster.crash('r1/1');
    await cluster.sleep(500);
    t.true(heardCrash(cluster, 'r1', 'r1/1'), 'the balancer on the same side heard it');
    t.false(heardCrash(cluster, 'r2', 'r1/1'), 'the partitioned balancer did not');
    // Once healed, the restart notice arrives.
    await cluster.heal();
    await cluster.restart('r1/1');
    await cluster.sleep(500);
    t.false(heardCrash(cluster, 'r1', 'r1/1'), 'restart heard once healed');
  });
});

test('a restart notice kept out by a partition: the balancer takes the server back once heartbeats show it up', async (t) => {
  await withCluster(t, config, async (cluster) => {
    await cluster.sleep(200);
    await cluster.crash('r1/1');
    // Down in the membership of balancer r2 too (heartbeats stopped).
    await eventually(cluster, () => stateAt(cluster, 'r2', 'r1/1') === 'down', { timeoutMs: 3_000 });
    t.true(heardCrash(cluster, 'r2', 'r1/1'), 'the crash notice arrived');
    await cluster.partition(['r2'], ['r1/1']);
    await cluster.restart('r1/1');
    // The restart notice from r1/1 to balancer r2 is dropped by the partition.
    await cluster.sleep(200);
    await cluster.heal();
    await eventually(cluster, () => heardCrash(cluster, 'r2', 'r1/1') === false, { timeoutMs: 3_000, message: 'balancer r2 takes r1/1 back' });
    t.is(stateAt(cluster, 'r2', 'r1/1'), 'up');
  });
});

/** Three regions of two servers in sim, replication factor 3 (2 in hybrid: a group is inside its home region). */
function threeRegions(mode: 'active' | 'hybrid', seed: number): ClusterConfig {
  return {
    regions: ['r1', 'r2', 'r3'].map((name) => ({ name, servers: 2 })),
    transport: 'sim',
    seed,
    network: { latencyMs: { 'r1~r2': 10, 'r1~r3': 20, 'r2~r3': 15 } },
    replication: { mode, factor: mode === 'hybrid' ? 2 : 3 },
  };
}

test('a server that missed the restart notices of every replica of a shard tries them again once the crash notices are old', async (t) => {
  // Hybrid: shard 0's group is two servers of one region; the other regions hold learners and
  // talk to the group only through requests. A cut drops the restart notices on their way to
  // r3, whose servers then believed every replica of the shard dead, and refused its writes
  // for good ("every replica of shard 0 is down"; `meridian check --seed 753 --mode hybrid
  // --nemesis swarm` was not live that way).
  await withCluster(t, { ...threeRegions('hybrid', 7), shards: 4 }, async (cluster) => {
    const key = Array.from({ length: 64 }, (_, i) => `k${i}`).find((k) => cluster.shardOf(k) === 0)!;
    const group = cluster.replicasOf(0);
    t.log(`key ${key}, shard 0's group ${group.join(', ')}`);
    const client = cluster.client({ region: 'r3' });
    await client.put(key, 1);
    for (const id of group) await cluster.crash(id);
    await cluster.sleep(200); // The crash notices reach r3.
    const homes = [...new Set(group.map((id) => id.split('/')[0]!))];
    await cluster.partition(['r3'], homes);
    for (const id of group) await cluster.restart(id);
    await cluster.sleep(200); // The restart notices are cut off.
    await cluster.heal();
    await eventually(
      cluster,
      async () => {
        try {
          await client.put(key, 2);
          return true;
        } catch {
          return false;
        }
      },
      { timeoutMs: 5_000, message: `a put of ${key} from r3 succeeds again` },
    );
    t.is(await client.get(key), 2);
  });
});

test("a copy of a transaction request goes to the coordinator the first copy went to, even after the home coordinator's restart", async (t) => {
  // `meridian check --seed 2037 --mode hybrid --nemesis swarm`: the balancer's request to a
  // server was duplicated by the network; the first copy arrived while its region's
  // coordinator was down and went to the next region's, the second after the restart and went
  // to the restarted one. Two coordinators ran one transaction: one aborted (what the client
  // was told), the other committed.
  await withCluster(t, threeRegions('active', 11), async (cluster) => {
    const host = cluster.internals.runtime.host;
    const rq = 'dup-test:1';
    const req = {
      type: 'req',
      rid: 900_001,
      body: {
        op: 'txn',
        ops: [
          { op: 'put', key: 'a', value: 1 },
          { op: 'put', key: 'b', value: 1 },
        ],
        rq,
      },
    };
    const begun = (id: string): boolean => (host.cell(id)?.peekState() as { begun?: Map<string, string> } | undefined)?.begun?.has(rq) ?? false;
    await cluster.sleep(500);
    await cluster.crash('coordinator/r1');
    await cluster.sleep(100); // The crash notice reaches r1/0.
    host.route('balancer/r1', 'r1/0', req);
    await cluster.sleep(200);
    t.true(begun('coordinator/r2'), "the first copy ran at the next region's coordinator");
    await cluster.restart('coordinator/r1');
    await cluster.sleep(100); // The restart notice reaches r1/0.
    host.route('balancer/r1', 'r1/0', req); // The network's copy, late.
    await cluster.sleep(500);
    t.false(begun('coordinator/r1'), 'the copy did not start the transaction again at the restarted coordinator');
    t.is(await cluster.client({ region: 'r2' }).get('a'), 1);
  });
});

test("a copy of a transaction request that reaches its server after the server restarted still goes to the first copy's coordinator", async (t) => {
  // The server remembers where it passed each transaction (above) only in memory. The balancer
  // now names the coordinator in the request (`co`), so the server's restart in between does
  // not matter: without it the restarted server, which believes every coordinator up, sent
  // the late copy to its own region's coordinator while the first ran at the next region's.
  await withCluster(t, threeRegions('active', 13), async (cluster) => {
    const host = cluster.internals.runtime.host;
    const sent: Array<{ to: string; msg: { type: string; rid: number; body: { op: string; rq?: string; co?: string } } }> = [];
    const route = host.route.bind(host);
    host.route = ((from: string, to: string, message: { type: string; body?: { op?: string } }, ...rest: unknown[]) => {
      if (from === 'balancer/r1' && message.type === 'req' && message.body?.op === 'txn') sent.push({ to, msg: JSON.parse(JSON.stringify(message)) });
      return (route as (...a: unknown[]) => void)(from, to, message, ...rest);
    }) as typeof host.route;
    const begun = (id: string, rq: string): boolean => (host.cell(id)?.peekState() as { begun?: Map<string, string> } | undefined)?.begun?.has(rq) ?? false;
    await cluster.sleep(500);
    await cluster.crash('coordinator/r1');
    await cluster.sleep(100); // The crash notice reaches balancer/r1.
    await cluster.client({ region: 'r1' }).transaction([
      { op: 'put', key: 'a', value: 1 },
      { op: 'put', key: 'b', value: 1 },
    ]);
    t.is(sent.length, 1);
    const { to, msg } = sent[0]!;
    t.is(to.split('/')[0], 'r1', 'routed to a server of the home region');
    t.is(msg.body.co, 'coordinator/r2', "the balancer chose the next region's coordinator");
    t.true(begun('coordinator/r2', msg.body.rq!));
    await cluster.crash(to);
    await cluster.restart(to);
    await cluster.restart('coordinator/r1');
    await cluster.sleep(300); // Restart notices everywhere; the server is back and leads nothing.
    host.route('balancer/r1', to, msg); // The network's copy, late.
    await cluster.sleep(500);
    t.false(begun('coordinator/r1', msg.body.rq!), 'the copy did not start the transaction again at the restarted coordinator');
    t.is(await cluster.client({ region: 'r2' }).get('a'), 1);
  });
});

/**
 * The coordinators balancer/r1 names in the transactions it routes, and where it sends probes,
 * in order; `txn(v)` runs a two-key transaction from a client of r1.
 */
function watchBalancerR1(cluster: Cluster): { cos: Array<string | undefined>; probes: string[]; txn: (v: number) => Promise<unknown> } {
  const host = cluster.internals.runtime.host;
  const cos: Array<string | undefined> = [];
  const probes: string[] = [];
  const route = host.route.bind(host);
  host.route = ((from: string, to: string, message: { type: string; body?: { op?: string; co?: string } }, ...rest: unknown[]) => {
    if (from === 'balancer/r1' && message.type === 'req' && message.body?.op === 'txn') cos.push(message.body.co);
    if (from === 'balancer/r1' && message.type === 'probe') probes.push(to);
    return (route as (...a: unknown[]) => void)(from, to, message, ...rest);
  }) as typeof host.route;
  const client = cluster.client({ region: 'r1' });
  const txn = (v: number): Promise<unknown> =>
    client.transaction([
      { op: 'put', key: 'a', value: v },
      { op: 'put', key: 'b', value: v },
    ]);
  return { cos, probes, txn };
}

test("a balancer sends transactions to its region's coordinator again once it hears it restarted", async (t) => {
  await withCluster(t, threeRegions('active', 17), async (cluster) => {
    const { cos, txn } = watchBalancerR1(cluster);
    await cluster.sleep(500);
    await txn(1);
    await cluster.crash('coordinator/r1');
    await cluster.sleep(100);
    await txn(2);
    await cluster.restart('coordinator/r1');
    await cluster.sleep(100);
    await txn(3);
    t.deepEqual(cos, ['coordinator/r1', 'coordinator/r2', 'coordinator/r1']);
  });
});

test("a balancer that missed its coordinator's restart notice finds it running by a probe, and sends it transactions again", async (t) => {
  // The restart notice is a message from the coordinator's location: a one-way partition from
  // the coordinator to its region keeps it from balancer/r1. Without the probes, balancer/r1
  // held coordinator/r1 crashed for good and sent every transaction to coordinator/r2.
  await withCluster(t, threeRegions('active', 19), async (cluster) => {
    const { cos, probes, txn } = watchBalancerR1(cluster);
    const down = async (): Promise<string[]> => ((await cluster.inspect('balancer/r1')) as { state: BalancerSummary }).state.coordinatorsDown;
    await cluster.sleep(500);
    t.is(probes.length, 0, 'no probe while every coordinator runs');
    await cluster.crash('coordinator/r1');
    await cluster.sleep(100);
    t.deepEqual(await down(), ['coordinator/r1']);
    await cluster.partition(['coordinator/r1'], ['r1'], { oneWay: true });
    await cluster.restart('coordinator/r1');
    await cluster.sleep(100);
    await txn(1);
    t.deepEqual(await down(), ['coordinator/r1'], 'the restart notice did not come: still held crashed');
    // The probes' answers are cut off too, until the partition heals.
    await cluster.sleep(2 * BALANCER_PROBE_MS);
    t.true(probes.length >= 2 && probes.every((p) => p === 'coordinator/r1'), `probes sent to ${probes.join(', ')}`);
    t.deepEqual(await down(), ['coordinator/r1'], 'no answer through the partition');
    await cluster.heal();
    await eventually(cluster, async () => (await down()).length === 0, { timeoutMs: 3 * BALANCER_PROBE_MS, message: 'a probe answered once healed' });
    const probesThen = probes.length;
    await txn(2);
    t.deepEqual(cos, ['coordinator/r2', 'coordinator/r1'], "the next region's while held crashed, then the region's own");
    await cluster.sleep(3 * BALANCER_PROBE_MS);
    t.is(probes.length, probesThen, 'the probes stop once no coordinator is held crashed');
  });
});

test("a local read at a server that missed the restart notice of every replica of the key's shard is answered again", async (t) => {
  // Two regions of one server, factor 1: r1/0 and r2/0 share no Paxos group, so r1/0 hears
  // from r2/0 only through notices. A one-way cut drops r2/0's restart notice on its way to
  // r1/0, which then held r2/0 dead for good and refused every local read of r2/0's shards
  // that a client of r1 made ("every replica of shard s is down"): writes go to a replica
  // reported long enough ago, local reads were refused at once, and the answer to a write goes
  // to the balancer, not to r1/0.
  const oneServerEach: ClusterConfig = {
    ...config,
    regions: config.regions.map((r) => ({ ...r, servers: 1 })),
    seed: 23,
    shards: 4,
    network: { latencyMs: { 'r1~r2': 10 } },
    replication: { mode: 'active', factor: 1 },
  };
  await withCluster(t, oneServerEach, async (cluster) => {
    const key = Array.from({ length: 64 }, (_, i) => `k${i}`).find((k) => cluster.serverFor(k) === 'r2/0')!;
    t.log(`key ${key}, shard ${cluster.shardOf(key)} on r2/0`);
    const client = cluster.client({ region: 'r1' });
    await client.put(key, 1);
    t.is(await client.get(key, { consistency: 'local' }), 1);
    await cluster.crash('r2/0');
    await cluster.sleep(100); // The crash notice reaches r1/0.
    await cluster.partition(['r2/0'], ['r1/0'], { oneWay: true });
    await cluster.restart('r2/0');
    await cluster.sleep(100); // The restart notice is cut off.
    await cluster.heal();
    await eventually(
      cluster,
      async () => {
        try {
          return (await client.get(key, { consistency: 'local' })) === 1;
        } catch {
          return false;
        }
      },
      { timeoutMs: 5_000, message: `a local read of ${key} from r1 is answered again` },
    );
    t.is(await client.get(key, { consistency: 'local' }), 1);
  });
});

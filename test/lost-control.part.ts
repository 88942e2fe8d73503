/**
 * Control messages lost with nothing to send them again (a class audit, session 64): each test drops exactly one message type in the simulator (Host.setSendFilter, the
 * fault site `cluster.loseAccepts` uses), lets the network heal, and asserts that the view it
 * fed recovers within a stated simulated time. Each failed on the code before its fix. The
 * launcher's control calls over NATS are not in the network model: the last test loses one
 * (a host whose NATS connection bounced) where the launcher makes it.
 */
import test from 'ava';
import { startCluster, TimeoutError, type Cluster } from '../src/index.js';
import { eventually } from '../src/harness/ava.js';
import { natsServerBinary, startNatsServer } from '../src/harness/nats-server.js';
import type { Host, SendFilter } from '../src/runtime/host.js';
import type { Load } from '../src/cluster/messages.js';
import { heartbeatAddress } from '../src/cluster/topology.js';
import { LOAD_REFRESH_REPORTS } from '../src/cluster/server-load.js';
import { testSeed } from './balance-stats.js';
import { routed, diff } from './helpers/balancer-routed.js';

/** The simulator's one host (every actor lives on it). */
function simHost(cluster: Cluster): Host {
  return (cluster as unknown as { sim: { host: Host } }).sim.host;
}

/** An actor's state, read in place (sim only). */
function stateOf<S>(cluster: Cluster, address: string): S {
  return simHost(cluster).cell(address)!.peekState() as S;
}

/** Drop every message of `type` that `from` sends while `on()` says so; the rest go through. */
function dropType(cluster: Cluster, from: string, type: string, on: () => boolean): void {
  const filter: SendFilter = (msg) => (on() && msg.type === type ? undefined : msg);
  simHost(cluster).setSendFilter(from, filter);
}

const HEARTBEAT_MS = 50;

test('sim: a lost load report does not leave the heartbeat carrying stale load for good (least-request routes to the server again)', async (t) => {
  const seed = testSeed(6401);
  t.log(`seed ${seed}`);
  const cluster = await startCluster({
    regions: [{ name: 'r1', servers: 3 }],
    transport: 'sim',
    seed,
    // Intra-region latency: a write is in flight at its leader across a few load reports.
    network: { latencyMs: { 'r1~r1': 5 } },
    heartbeat: { intervalMs: HEARTBEAT_MS },
    replication: { mode: 'active', factor: 3 },
    balancer: { strategy: 'least-request' },
  });
  try {
    await cluster.sleep(500);
    const leader = cluster.leaderOf(0)!;
    t.truthy(leader);
    const keys: string[] = [];
    for (let i = 0; keys.length < 16; i++) if (cluster.shardOf(`k${i}`) === 0) keys.push(`k${i}`);
    const hbLoad = (): Load => stateOf<{ load: Load }>(cluster, heartbeatAddress(leader)).load;
    // Writes to the leader's shard from several clients until its heartbeat holds a load with
    // requests in flight; from then on its load reports are lost.
    let dropping = false;
    dropType(cluster, leader, 'load', () => dropping);
    const writers = keys.map((key) => ({ key, client: cluster.client({ region: 'r1' }) }));
    for (let round = 0; round < 200 && !dropping; round++) {
      await Promise.all(writers.map(({ key, client }) => client.put(key, round)));
      if (hbLoad().inflight > 0) dropping = true;
    }
    t.true(dropping, 'the heartbeat held a load with requests in flight');
    // The writes end (their reports lost), then the loss heals with the server idle.
    await cluster.sleep(500);
    dropping = false;
    const server = stateOf<{ load: { inflight: number } }>(cluster, leader);
    t.is(server.load.inflight, 0, 'nothing in flight at the server');
    t.true(hbLoad().inflight > 0, 'the heartbeat still carries the load of the lost reports');
    // Within LOAD_REFRESH_REPORTS load intervals (one per heartbeat) the heartbeat has it right.
    await cluster.sleep((LOAD_REFRESH_REPORTS + 2) * HEARTBEAT_MS);
    t.is(hbLoad().inflight, 0, 'the heartbeat carries the server load again');
    // And the balancer, which reads it from the digests, routes local reads there again.
    const before = await routed(cluster, 'r1');
    const reader = cluster.client({ region: 'r1' });
    for (let i = 0; i < 60; i++) await reader.get(`r${i}`, { consistency: 'local' });
    const delta = diff(await routed(cluster, 'r1'), before);
    t.true((delta[leader] ?? 0) > 0, `local reads reach ${leader}: ${JSON.stringify(delta)}`);
  } finally {
    await cluster.stop();
  }
});

const binary = natsServerBinary();
const natsTest = 'bin' in binary ? test : test.skip;
const skipped = 'reason' in binary ? ` (skipped: ${binary.reason})` : '';

natsTest(`nats: a host that misses the launcher's heal (a lost control request) is healed all the same${skipped}`, async (t) => {
  const server = await startNatsServer((binary as { bin: string }).bin, []);
  try {
    const cluster = await startCluster({
      regions: [
        { name: 'a', servers: 1 },
        { name: 'b', servers: 1 },
      ],
      transport: 'nats',
      seed: 1,
      requestTimeoutMs: 1_000,
      replication: { mode: 'none' },
      nats: { servers: server.url, processes: 'dedicated' },
    });
    try {
      // The request that would heal b/0's host is lost: it times out, as one its host never got
      // (NatsRuntime's private callWithin, where every control request leaves).
      type Call = (ms: number, entry: { id: number; plan: { specs: Array<{ node: string }> } }, method: string, ...args: unknown[]) => Promise<unknown>;
      const runtime = (cluster as unknown as { runtime: { callWithin: Call } }).runtime;
      const call = runtime.callWithin.bind(runtime);
      let lost = 0;
      runtime.callWithin = (ms, entry, method, ...args) => {
        const heal = method === 'setPartitions' && (args[0] as unknown[]).length === 0;
        if (heal && lost === 0 && entry.plan.specs.some((s) => s.node === 'b/0')) {
          lost++;
          return Promise.reject(new TimeoutError(`host ${entry.id} did not answer setPartitions (lost)`));
        }
        return call(ms, entry, method, ...args);
      };
      const client = cluster.client({ region: 'a' });
      let key = '';
      for (let i = 0; key === ''; i++) if (cluster.serverFor(`k${i}`) === 'b/0') key = `k${i}`;
      await client.put(key, 0);
      await cluster.partition(['a'], ['b']);
      // The heal says that host did not answer (session 67: before, it resolved as if it had).
      await t.throwsAsync(cluster.heal(), { instanceOf: TimeoutError, message: /^setPartitions: host \d+ \([^)]*b\/0[^)]*\) did not answer within \d+ ms/ });
      t.is(lost, 1, "b/0's host missed the heal");
      // Before, that host kept the partition: every put from a to b/0 timed out for good.
      await eventually(
        cluster,
        async () =>
          await client.put(key, 1).then(
            () => true,
            () => false,
          ),
        { timeoutMs: 10_000 },
      );
      t.pass();
    } finally {
      await cluster.stop();
    }
  } finally {
    await server.stop();
  }
});

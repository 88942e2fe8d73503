import test from 'ava';
import type { Worker } from 'node:worker_threads';
import { startCluster } from '../src/index.js';
import type { HostEvent } from '../src/runtime/host.js';
import type { HostPlan } from '../src/runtime/transports/runtime.js';
import type { Cluster } from '../src/cluster/cluster.js';

// A worker thread of several nodes (packed servers, a region's actor and coordinator) that
// dies unasked: until 2026-12-06 none of its servers could be restarted (`restart` failed with
// HostExitedError) and the region stayed without its actor and coordinator for good. Now a
// restart of one of them starts a new thread for the host: the named node and the region
// actor start, the other crashed ones stay down until they are restarted themselves.

type Hosts = Map<number, { id: number; plan: HostPlan; worker: Worker }>;

/** A cluster of one region of `servers` packed on one worker thread, `puts` written, then that thread killed (not through crash). */
async function withDeadThread(
  servers: number,
  puts: string[],
  body: (cluster: Cluster, hosts: Hosts, victim: { id: number; plan: HostPlan; worker: Worker }) => Promise<void>,
): Promise<void> {
  const cluster = await startCluster({
    regions: [{ name: 'r1', servers }],
    transport: 'threads',
    placement: 'packed',
    threads: 1,
    replication: { mode: 'none' },
    requestTimeoutMs: 2_000,
  });
  try {
    const c = cluster.client({ region: 'r1' });
    for (const k of puts) await c.put(k, 1);
    const hosts = (cluster.internals.runtime as unknown as { hosts: Hosts }).hosts;
    const victim = [...hosts.values()].find((h) => h.id !== 0)!;
    const exited = new Promise<HostEvent>((resolve) => cluster.once('host-exit', resolve));
    await victim.worker.terminate();
    const event = await exited;
    if (event.kind !== 'host-exit' || event.host !== victim.id) throw new Error(`unexpected event ${JSON.stringify(event)}`);
    await body(cluster, hosts, victim);
  } finally {
    await cluster.stop();
  }
}

test('threads: a dead thread of several nodes comes back node by node on a new thread', async (t) => {
  await withDeadThread(3, ['a', 'b', 'c', 'd'], async (cluster, hosts, victim) => {
    const c = cluster.client({ region: 'r1' });
    const nodes = [...new Set(victim.plan.specs.map((s) => s.node))].sort();
    t.deepEqual(nodes, ['coordinator/r1', 'r1', 'r1/0', 'r1/1', 'r1/2'], 'one thread holds the region and its servers');
    for (const id of ['r1/0', 'r1/1', 'r1/2', 'coordinator/r1']) t.true(cluster.isDown(id), `${id} down with its thread`);

    // One server back: a new thread runs it and the region actor; the others stay down.
    await cluster.restart('r1/1');
    t.false(cluster.isDown('r1/1'));
    t.true(cluster.isDown('r1/0'));
    t.true(cluster.isDown('coordinator/r1'));
    t.is((await cluster.ping()).length, hosts.size, 'the host answers again');
    t.not(await cluster.inspect('r1/1'), null, 'r1/1 runs');
    t.is(await cluster.inspect('r1/0'), null, 'r1/0 does not run');

    // The rest, at once, on that new thread.
    await Promise.all([cluster.restart('r1/0'), cluster.restart('r1/2'), cluster.restart('coordinator/r1')]);
    for (const id of ['r1/0', 'r1/1', 'r1/2', 'coordinator/r1']) t.false(cluster.isDown(id), `${id} up`);
    for (const k of ['a', 'b', 'c', 'd']) t.is(await c.get(k), 1, `${k} read back from its server's log`);
    await c.put('e', 2);
    t.deepEqual(
      await c.transaction([
        { op: 'put', key: 'a', value: 3 },
        { op: 'get', key: 'e' },
      ]),
      [undefined, 2],
    );
    t.is(await c.get('a'), 3);
  });
});

test('threads: restarts of two nodes of one dead thread at once start one new thread', async (t) => {
  await withDeadThread(2, ['a'], async (cluster, hosts, victim) => {
    await Promise.all([cluster.restart('r1/0'), cluster.restart('r1/1')]);
    t.false(cluster.isDown('r1/0'));
    t.false(cluster.isDown('r1/1'));
    const fresh = hosts.get(victim.id)!;
    t.not(fresh.worker, victim.worker, 'a new thread');
    t.is((await cluster.ping()).length, hosts.size);
    t.is(await cluster.client({ region: 'r1' }).get('a'), 1);
  });
});

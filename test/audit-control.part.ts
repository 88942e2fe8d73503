/**
 * Session 69's class audit of overlapping control calls (crash, restart, pause, partition, heal,
 * setNetwork, reads of the cluster, called while others of them are still pending): each test
 * fails on the code before its fix. The simulator applies every control call at the call, so
 * what is here is the threads and NATS runtimes' (a call meeting a host that ends or starts).
 */
import test from 'ava';
import type { MessagePort } from 'node:worker_threads';
import { startCluster, type Cluster } from '../src/index.js';

/** A worker host of the threads runtime, as its private table holds it. */
interface WorkerEntry {
  id: number;
  plan: { specs: Array<{ node: string }> };
  adminPort: MessagePort;
}

type AdminCall = (admin: unknown) => Promise<unknown>;

/** The threads runtime's private admin call, through which every control call to a worker goes. */
interface ThreadsInternals {
  call: (entry: WorkerEntry, f: AdminCall) => Promise<unknown>;
}

function threadsInternals(cluster: Cluster): ThreadsInternals {
  return cluster.internals.runtime as unknown as ThreadsInternals;
}

const runs = (entry: { plan: { specs: Array<{ node: string }> } }, node: string): boolean => entry.plan.specs.some((s) => s.node === node);

// A partition, heal or setNetwork whose answer from a server's thread had not come when a
// crash() of that server ended the thread rejected with a HostExitedError naming that thread
// (every live host had applied the change; the crashed one is handed it at its restart, as the
// Runtime's setNetwork says). session 68's 0d14df8 rethrew every StoppedError there, for stop(),
// and HostExitedError is one. A nemesis or test that crashes and heals at once failed its heal.
test('threads: a heal() or setNetwork() beside a crash() of a server that had not answered it yet resolves (it rejected naming the crashed thread)', async (t) => {
  const cluster = await startCluster({ regions: [{ name: 'r1', servers: 2 }], transport: 'threads', replication: { mode: 'none' }, requestTimeoutMs: 2_000 });
  try {
    const runtime = threadsInternals(cluster);
    const call = runtime.call.bind(runtime);
    // r1/1's thread applies the changes but its answers are held (as if it were busy in a step
    // when the crash ended it): the crash's end of the thread is what settles them.
    let held = 0;
    runtime.call = (entry, f) => {
      if (held === 0 || !runs(entry, 'r1/1')) return call(entry, f);
      return call(entry, async (admin) => {
        await f(admin);
        return new Promise(() => {});
      });
    };
    held = 1;
    const healed = cluster.heal();
    const changed = cluster.setNetwork({ loss: 0 });
    held = 0;
    await cluster.crash('r1/1');
    const settled = await Promise.allSettled([healed, changed]);
    t.deepEqual(
      settled.map((s) => (s.status === 'fulfilled' ? 'resolved' : `${(s.reason as Error).name}: ${(s.reason as Error).message}`)),
      ['resolved', 'resolved'],
      'heal() and setNetwork() resolve: every live host applied them',
    );
    // The crashed server is handed what is in force at its restart, and serves.
    await cluster.partition(['r1/1'], ['r1']);
    await cluster.heal();
    await cluster.restart('r1/1');
    const client = cluster.client({ region: 'r1' });
    let key = '';
    for (let i = 0; key === ''; i++) if (cluster.serverFor(`k${i}`) === 'r1/1') key = `k${i}`;
    await client.put(key, 1);
    t.is(await client.get(key), 1);
  } finally {
    await cluster.stop();
  }
});

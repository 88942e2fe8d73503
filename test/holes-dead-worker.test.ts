import test from 'ava';
import type { Worker } from 'node:worker_threads';
import { HostExitedError, startCluster } from '../src/index.js';
import type { HostEvent } from '../src/runtime/host.js';
import type { HostPlan } from '../src/runtime/transports/runtime.js';
import type { ThreadsRuntime } from '../src/runtime/transports/threads.js';

// Issue 8, item 7: a worker thread that dies unexpectedly never leaves a call hanging: what
// was pending on it fails with HostExitedError, the host is marked dead, and an event says so.

/** Settles with what `p` settled with, or 'hung' if it has not settled after `ms` of real time (a guard, not a measurement). */
function settled<T>(p: Promise<T>, ms = 10_000): Promise<{ value: T } | { error: unknown } | 'hung'> {
  let timer: NodeJS.Timeout | undefined;
  const guard = new Promise<'hung'>((resolve) => {
    timer = setTimeout(() => resolve('hung'), ms);
  });
  return Promise.race([
    p.then(
      (value) => ({ value }),
      (error: unknown) => ({ error }),
    ),
    guard,
  ]).finally(() => clearTimeout(timer));
}

test('threads: killing a worker fails its pending ping with HostExitedError, answers its pending inspect with null, and reports the exit', async (t) => {
  const cluster = await startCluster({ regions: [{ name: 'r1', servers: 2 }], transport: 'threads', replication: { mode: 'none' }, requestTimeoutMs: 2_000 });
  try {
    const c = cluster.client({ region: 'r1' });
    await c.put('a', 1);
    const runtime = cluster.internals.runtime as ThreadsRuntime;
    const hosts = (runtime as unknown as { hosts: Map<number, { id: number; plan: HostPlan; worker: Worker }> }).hosts;
    const victim = [...hosts.values()].find((h) => h.plan.specs.some((s) => s.node === 'r1/1'))!;
    t.is((await cluster.ping()).length, hosts.size, 'every worker answers a ping');
    const exited = new Promise<HostEvent>((resolve) => cluster.once('host-exit', resolve));

    // The thread dies (not through cluster.crash) with admin calls on their way to it.
    const dying = victim.worker.terminate();
    const pending = [settled(cluster.inspect('r1/1')), settled(cluster.ping())];
    // Counters gathered from every host leave out one that ends meanwhile (its last counters
    // count): since c7e0f40, so that metrics taken while a server is being crashed answer.
    const stats = settled(runtime.collectStats());
    await dying;
    const [inspected, pinged] = await Promise.all(pending);
    // inspect() of an actor whose host ends while it is asked answers null, as one asked after
    // does (344c6e9); the ping names the host that ended.
    t.deepEqual(inspected, { value: null }, `inspect: ${JSON.stringify(inspected)}`);
    t.not(pinged, 'hung', 'ping settled');
    if (pinged !== 'hung')
      t.true('error' in pinged && pinged.error instanceof HostExitedError && pinged.error.host === victim.id, `ping: ${JSON.stringify(pinged)}`);
    const gathered = await stats;
    t.true(gathered !== 'hung' && 'value' in gathered, `collectStats answered: ${JSON.stringify(gathered).slice(0, 200)}`);

    const event = await settled(exited);
    t.like(event, { value: { kind: 'host-exit', host: victim.id, nodes: ['r1/1'] } });
    t.true(
      cluster.errors().some((e) => e.kind === 'host-exit'),
      'kept with the cluster errors',
    );
    // The dead host is left out from now on: calls answer instead of waiting for it.
    const after = await settled(cluster.ping());
    t.true(after !== 'hung' && 'value' in after && after.value.length === hosts.size - 1, JSON.stringify(after));
    t.not(await settled(runtime.collectStats()), 'hung');
    t.is(await settled(cluster.inspect('r1/1')).then((o) => (o !== 'hung' && 'value' in o ? o.value : o)), null);

    // The server is down as after a crash (isDown said false, and restart() did nothing), and
    // a restart brings it back on a new thread; a crash now is a no-op.
    t.true(cluster.isDown('r1/1'));
    await cluster.crash('r1/1');
    await cluster.restart('r1/1');
    t.false(cluster.isDown('r1/1'));
    t.is((await cluster.ping()).length, hosts.size, 'every worker answers again');
    await c.put('b', 2);
    t.is(await c.get('b'), 2);
  } finally {
    await cluster.stop();
  }
});

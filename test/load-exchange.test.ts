import test from 'ava';
import { startCluster } from '../src/index.js';
import { loadFactor, type BalancerState } from '../src/cluster/balancer.js';

test('dynamic weights: full weight under light load, less for a busy or backlogged server', (t) => {
  const load = (busyMs: number, mailbox: number) => ({ inflight: 0, mailbox, latencyEwmaMs: 1, busyMs, requests: 0 });
  t.is(loadFactor(undefined, 100), 1);
  t.is(loadFactor(load(0, 0), 100), 1);
  t.is(loadFactor(load(50, 0), 100), 1, 'up to half busy: unchanged');
  t.is(loadFactor(load(75, 0), 100), 0.5);
  t.is(loadFactor(load(100, 0), 100), 0.1, 'never below the floor');
  t.is(loadFactor(load(0, 400), 100), 0.25, 'a backlog of 4x the knee: a quarter');
});

test('threads: servers report in-flight work, latency and busy time, and the balancer holds them', async (t) => {
  const cluster = await startCluster({
    regions: [
      { name: 'us-east', servers: 2 },
      { name: 'eu-west', servers: 1 },
    ],
    transport: 'threads',
    replication: { mode: 'active', factor: 3 },
    heartbeat: { intervalMs: 50 },
    balancer: { strategy: 'weighted-round-robin', dynamicWeights: true },
  });
  try {
    const c = cluster.client({ region: 'us-east' });
    await Promise.all(Array.from({ length: 300 }, (_, i) => c.put(`k${i % 30}`, i)));
    await cluster.sleep(300);
    const state = cluster.internals.runtime.host.cell('balancer/us-east')!.peekState() as BalancerState;
    const loads = [...state.members.values()].map((m) => m.load).filter((l) => l !== undefined);
    t.is(loads.length, 3, 'every server reported a load');
    t.true(
      loads.some((l) => l!.requests > 0),
      'requests counted',
    );
    t.true(
      loads.some((l) => l!.latencyEwmaMs > 0),
      'a leader measured its latency',
    );
    t.true(loads.some((l) => l!.busyMs >= 0) && loads.every((l) => Number.isFinite(l!.busyMs)), 'busy time per interval reported');
  } finally {
    await cluster.stop();
  }
});

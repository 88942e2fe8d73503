import test from 'ava';
import { startCluster } from '../src/index.js';
import { ValidationError } from '../src/core/errors.js';
import type { HostPing } from '../src/runtime/admin.js';
import { WORKER_OLD_GENERATION_MB_MAX, WORKER_YOUNG_GENERATION_MB_MAX } from '../src/runtime/transports/threads.js';

test('threads: the comlink control plane pings every host and reads an actor summary with its counters', async (t) => {
  const cluster = await startCluster({
    regions: [
      { name: 'a', servers: 2 },
      { name: 'b', servers: 1 },
    ],
    transport: 'threads',
    replication: { mode: 'none' },
  });
  try {
    const c = cluster.client({ region: 'a' });
    for (let i = 0; i < 20; i++) await c.put(`k${i}`, i);
    const pongs = await cluster.ping();
    // dedicated placement: a host per region and per server, plus this thread (not pinged).
    t.is(pongs.length, 2 + 3);
    t.true(pongs.every((p) => p.actors > 0 && Number.isFinite(p.nowMs)));
    // Each worker runs with the heap limits that keep a long-running cluster's memory down
    // (Cluster.ping's public type leaves them out; the runtime's HostPing has them).
    for (const p of pongs as HostPing[]) {
      t.is(p.maxOldGenerationSizeMb, WORKER_OLD_GENERATION_MB_MAX, `host ${p.host}`);
      t.is(p.maxYoungGenerationSizeMb, WORKER_YOUNG_GENERATION_MB_MAX, `host ${p.host}`);
    }
    const summaries = await Promise.all(['a/0', 'a/1', 'b/0'].map((id) => cluster.inspect(id)));
    for (const s of summaries) {
      const summary = s as { status: string; received: number; counters: Record<string, number>; state: { requests: number } };
      t.is(summary.status, 'running');
      t.true(summary.received > 0);
    }
    const requests = summaries.reduce((n: number, s) => n + ((s as { counters: Record<string, number> }).counters.requests ?? 0), 0);
    t.is(requests, 20, 'the counters the control plane reads add up to the requests made');
    // null is for an actor that does not run now (crashed); a name the cluster has none of is refused.
    await t.throwsAsync(cluster.inspect('no-such-actor'), {
      instanceOf: ValidationError,
      message: /^address: an actor of this cluster: .* got "no-such-actor"$/,
    });
    // mode 'none': serverFor names the one server holding a key, and every server holds some.
    const holders = new Set(Array.from({ length: 60 }, (_, i) => cluster.serverFor(`k${i}`)));
    t.deepEqual([...holders].sort(), ['a/0', 'a/1', 'b/0']);
    t.is(t.throws(() => cluster.serverFor(''), { instanceOf: ValidationError })?.field, 'key');
  } finally {
    await cluster.stop();
  }
});

test('threads: workerHeapMb sets each worker old generation maximum; out of range names the field', async (t) => {
  const cluster = await startCluster({
    regions: [{ name: 'a', servers: 1 }],
    transport: 'threads',
    placement: 'packed',
    threads: 1,
    replication: { mode: 'none' },
    workerHeapMb: 256,
  });
  try {
    const pongs = (await cluster.ping()) as HostPing[];
    t.true(pongs.length > 0);
    for (const p of pongs) t.is(p.maxOldGenerationSizeMb, 256, `host ${p.host}`);
  } finally {
    await cluster.stop();
  }
  for (const bad of [10, 1.5, 'big', 100_000]) {
    const error = await t.throwsAsync(startCluster({ regions: [{ name: 'a', servers: 1 }], transport: 'threads', workerHeapMb: bad as number }));
    t.regex(error?.message ?? '', /workerHeapMb/, `workerHeapMb ${String(bad)}`);
  }
});

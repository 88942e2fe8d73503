import test from 'ava';
import { UnavailableError, withCluster, eventually, type ClusterConfig } from '../src/index.js';

// Issue 8, item 3: once a server is known down, local reads are not sent to it.

const config = (mode: 'none' | 'active' | 'passive' | 'hybrid'): ClusterConfig => ({
  regions: [
    { name: 'r1', servers: 3 },
    { name: 'r2', servers: 3 },
  ],
  transport: 'sim',
  seed: 3,
  // Jitter: messages sent before the crash may arrive after its notice.
  network: { latencyMs: { 'r1~r2': 30 }, jitterMs: 25 },
  heartbeat: { intervalMs: 50 },
  replication: mode === 'none' ? { mode } : { mode, factor: 3 },
  requestTimeoutMs: 500,
});

const KEYS = 50;

for (const mode of ['active', 'passive', 'hybrid'] as const) {
  test(`${mode}: with one server of six down, no local read fails`, async (t) => {
    await withCluster(t, config(mode), async (cluster) => {
      const c = cluster.client({ region: 'r1' });
      await Promise.all(Array.from({ length: KEYS }, (_, i) => c.put(`k${i}`, i)));
      await cluster.crash('r1/1');
      await eventually(cluster, () => cluster.members().find((m) => m.id === 'r1/1')?.state === 'down', { timeoutMs: 5_000 });
      // Right after, and again 3 s later.
      for (const round of [0, 1]) {
        const results = await Promise.allSettled(Array.from({ length: 2 * KEYS }, (_, i) => c.get(`k${i % KEYS}`, { consistency: 'local' })));
        const failed = results.filter((r) => r.status === 'rejected').map((r) => String((r as PromiseRejectedResult).reason));
        t.deepEqual(failed, [], `round ${round}: ${failed.length} of ${results.length} failed`);
        await cluster.sleep(3_000);
      }
    });
  });
}

test('none: a key whose only server is down gets an UnavailableError at once, the others are read', async (t) => {
  await withCluster(t, config('none'), async (cluster) => {
    const c = cluster.client({ region: 'r1' });
    await Promise.all(Array.from({ length: KEYS }, (_, i) => c.put(`k${i}`, i)));
    await cluster.crash('r1/1');
    await eventually(cluster, () => cluster.members().find((m) => m.id === 'r1/1')?.state === 'down', { timeoutMs: 5_000 });
    let onDead = 0;
    for (let i = 0; i < KEYS; i++) {
      const key = `k${i}`;
      if (cluster.serverFor(key) === 'r1/1') {
        onDead++;
        await t.throwsAsync(c.get(key, { consistency: 'local' }), { instanceOf: UnavailableError }, key);
      } else {
        t.is(await c.get(key, { consistency: 'local' }), i, key);
      }
    }
    t.true(onDead > 0 && onDead < KEYS, `${onDead} keys live on r1/1`);
  });
});

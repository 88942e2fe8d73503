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

// A server restarted while every copy of a shard was down never heard of their crash (the
// notices went out while it was down, and only to live servers), so it forwarded the local
// reads of that shard to a dead copy, and they timed out (found by an audit, session 55).
// Now a node this server has probed and never heard from since it started counts as down
// once the heartbeat detector would have convicted a node that never beat (about 600 ms
// here): those reads are refused at once, definite, and the copy is probed as they come, so
// it is read again once it answers, its restart notice lost or not.
test('none: a server restarted while the only copy of a shard is down refuses its local reads (UnavailableError), and serves them once the copy is back', async (t) => {
  const two: ClusterConfig = {
    ...config('none'),
    regions: [
      { name: 'r1', servers: 1 },
      { name: 'r2', servers: 1 },
    ],
  };
  await withCluster(t, two, async (cluster) => {
    // Every call of this client enters at r1/0 (its region's only server).
    const c = cluster.client({ region: 'r1' });
    await Promise.all(Array.from({ length: KEYS }, (_, i) => c.put(`k${i}`, i)));
    const keys = Array.from({ length: KEYS }, (_, i) => `k${i}`);
    const onDead = keys.filter((k) => cluster.serverFor(k) === 'r2/0');
    const onRestarted = keys.filter((k) => cluster.serverFor(k) === 'r1/0');
    t.true(onDead.length > 0 && onRestarted.length > 0);
    await cluster.crash('r2/0');
    await cluster.sleep(200);
    await cluster.crash('r1/0');
    await cluster.restart('r1/0');
    // r1/0 never heard that r2/0 crashed.
    const refusal = /^every replica of shard \d+ is down \(r2\/0 never answered this server's probes\)$/;
    const refused = async (): Promise<boolean> => {
      const error = await c.get(onDead[0]!, { consistency: 'local' }).then(
        () => undefined,
        (e: unknown) => e,
      );
      // The server's refusal, not the balancer's (which may not have heard of the restart yet).
      return error instanceof UnavailableError && refusal.test(error.message);
    };
    await eventually(cluster, refused, { timeoutMs: 5_000, message: `a local read of ${onDead[0]} refused` });
    for (const key of onDead) await t.throwsAsync(c.get(key, { consistency: 'local' }), { instanceOf: UnavailableError, message: refusal }, key);
    for (const key of onRestarted) t.is(await c.get(key, { consistency: 'local' }), Number(key.slice(1)), key);
    // r2/0 comes back, its restart notice to r1/0 cut off: the probes of the refused reads find it.
    await cluster.partition(['r1/0'], ['r2/0']);
    await cluster.restart('r2/0');
    await cluster.sleep(300);
    await cluster.heal();
    for (const key of onDead) {
      const value = await eventually(cluster, () => c.get(key, { consistency: 'local' }), { timeoutMs: 5_000, message: `${key} read again` });
      t.is(value, Number(key.slice(1)), key);
    }
  });
});

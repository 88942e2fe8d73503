import test from 'ava';
import { startCluster, StoppedError, type Cluster } from '../src/index.js';
import { SimRuntime } from '../src/runtime/transports/sim-runtime.js';
import { pollEvery } from '../src/harness/nemesis.js';

async function simCluster(seed: number): Promise<{ cluster: Cluster; runtime: SimRuntime }> {
  const cluster = await startCluster({
    regions: [
      { name: 'a', servers: 3 },
      { name: 'b', servers: 3 },
    ],
    transport: 'sim',
    seed,
    network: { jitterMs: 5, loss: 0.02, duplicate: 0.02 },
    requestTimeoutMs: 300,
  });
  const runtime = cluster.internals.runtime;
  if (!(runtime instanceof SimRuntime)) throw new Error('a sim cluster runs on a SimRuntime');
  return { cluster, runtime };
}

/**
 * Puts from two clients while a 1 ms poll reads the shards' leaders at every step and cuts the
 * regions apart at its 80th step (the nemesis's polls act from their steps too), by the
 * simulator's poll (`cluster` has `internals`) or by the loop of sleeps it stands for.
 */
async function pollRun(seed: number, how: 'poll' | 'sleeps'): Promise<{ seen: string[]; hash: number; now: number; results: string }> {
  const { cluster, runtime } = await simCluster(seed);
  try {
    const seen: string[] = [];
    let steps = 0;
    const step = (): boolean => {
      steps++;
      seen.push(`${cluster.now()} ${cluster.shardLeaders().map((s) => `${s.leader}:${s.inflight}`)}`);
      if (steps === 80) void cluster.partition(['a/0', 'a/1', 'a/2'], ['b/0', 'b/1', 'b/2']);
      return steps >= 200;
    };
    const target = how === 'poll' ? cluster : { sleep: (ms: number) => cluster.sleep(ms) };
    const results: string[] = [];
    const puts = ['a', 'b'].map(async (region, c) => {
      const client = cluster.client({ region });
      for (let i = 0; i < 30; i++) {
        try {
          await client.put(`k${i % 3}`, c * 100 + i);
          results.push(`${c}:${i}@${cluster.now()}`);
        } catch (error) {
          results.push(`${c}:${i}!${(error as Error).name}@${cluster.now()}`);
        }
      }
    });
    await Promise.all([pollEvery(target, 1, step), ...puts]);
    return { seen, hash: runtime.world.traceHash, now: cluster.now(), results: results.join(' ') };
  } finally {
    await cluster.stop();
  }
}

test('sim: pollEvery runs each step where the loop of sleeps it stands for ran it: the same steps, trace and results', async (t) => {
  for (const seed of [1, 2, 3]) {
    t.log(`seed ${seed}`);
    const polled = await pollRun(seed, 'poll');
    const slept = await pollRun(seed, 'sleeps');
    t.is(polled.seen.length, 200, `seed ${seed}`);
    t.deepEqual(polled.seen, slept.seen, `seed ${seed}`);
    t.is(polled.results, slept.results, `seed ${seed}`);
    t.is(polled.now, slept.now, `seed ${seed}`);
    t.is(polled.hash, slept.hash, `seed ${seed}`);
  }
});

test('sim: a poll whose step throws rejects with what it threw, and the cluster runs on', async (t) => {
  const { cluster, runtime } = await simCluster(7);
  try {
    let steps = 0;
    const error = await t.throwsAsync(
      runtime.poll(5, () => {
        if (++steps === 3) throw new RangeError('step 3');
        return false;
      }),
    );
    t.is(error?.message, 'step 3');
    t.is(steps, 3);
    const before = cluster.now();
    await cluster.sleep(10);
    t.is(cluster.now(), before + 10);
    await cluster.client({ region: 'a' }).put('k', 1);
  } finally {
    await cluster.stop();
  }
});

test('sim: stop() rejects a pending poll with StoppedError, and a poll after it rejects at once', async (t) => {
  const { cluster, runtime } = await simCluster(8);
  let steps = 0;
  const pending = runtime.poll(1, () => {
    steps++;
    return false;
  });
  const client = cluster.client({ region: 'b' });
  await client.put('k', 1);
  await cluster.stop();
  await t.throwsAsync(pending, { instanceOf: StoppedError });
  t.true(steps > 0, 'the poll stepped while the put ran');
  await t.throwsAsync(
    runtime.poll(1, () => true),
    { instanceOf: StoppedError },
  );
});

import test from 'ava';
import { TimeoutError, ValidationError, eventually, withCluster, type Cluster, type ClusterConfig, type TestContextLike } from '../src/index.js';

/** withCluster always stops its cluster and says which seed failed; eventually waits on cluster time. */

function config(seed: number): ClusterConfig {
  return {
    regions: [
      { name: 'r1', servers: 2 },
      { name: 'r2', servers: 2 },
    ],
    transport: 'sim',
    seed,
    network: { latencyMs: { 'r1~r2': 10 } },
    replication: { mode: 'active', factor: 3 },
    shards: 2,
    heartbeat: { intervalMs: 100 },
  };
}

/** A stand-in for ava's t that keeps what it was given (and passes the logs on, so a failure still shows the seed). */
function fakeT(real: { log(...values: unknown[]): void }): TestContextLike & { logs: string[]; teardowns: Array<() => unknown> } {
  const logs: string[] = [];
  const teardowns: Array<() => unknown> = [];
  return {
    logs,
    teardowns,
    log: (...values) => {
      logs.push(values.join(' '));
      real.log(...values);
    },
    teardown: (fn) => teardowns.push(fn),
  };
}

test('withCluster: a body that throws still stops the cluster, and the seed is logged with the error', async (t) => {
  const ft = fakeT(t);
  let seen: Cluster | undefined;
  await t.throwsAsync(
    withCluster(ft, config(42), async (cluster) => {
      seen = cluster;
      await cluster.client({ region: 'r1' }).put('k', 1);
      throw new Error('boom');
    }),
    { message: 'boom' },
  );
  t.true(seen?.isStopped, 'stopped after the throw');
  t.true(
    ft.logs.some((l) => /seed 42/.test(l)),
    ft.logs.join('\n'),
  );
  t.true(
    ft.logs.some((l) => /failed with seed 42 at cluster time \d+ ms: boom/.test(l)),
    ft.logs.join('\n'),
  );
  t.is(ft.teardowns.length, 1, 'a teardown is registered (for a test that times out)');
  await ft.teardowns[0]!();
});

test('withCluster: returns the body value and stops; a random seed is logged so it can be replayed', async (t) => {
  const ft = fakeT(t);
  let seen: Cluster | undefined;
  const { seed: _omit, ...noSeed } = config(0);
  const value = await withCluster(ft, noSeed, async (cluster) => {
    seen = cluster;
    const c = cluster.client({ region: 'r1' });
    await c.put('a', 'x');
    return c.get('a');
  });
  t.is(value, 'x');
  t.true(seen?.isStopped);
  t.regex(ft.logs[0]!, new RegExp(`cluster seed ${seen!.seed} `));
});

test('withCluster with ava itself, and eventually seeing a crash in members()', async (t) => {
  await withCluster(t, config(5), async (cluster) => {
    await cluster.crash('r2/1');
    const state = await eventually(cluster, () => cluster.members().find((m) => m.id === 'r2/1')!.state === 'down' && 'down');
    t.is(state, 'down');
  });
});

test('eventually: times out on cluster time with the last failure, and validates its options', async (t) => {
  const ft = fakeT(t);
  await withCluster(ft, config(6), async (cluster) => {
    const t0 = cluster.now();
    let calls = 0;
    const error = await t.throwsAsync(
      eventually(
        cluster,
        () => {
          calls++;
          throw new Error(`not yet (${calls})`);
        },
        { timeoutMs: 1_000, intervalMs: 100, message: 'never' },
      ),
    );
    t.regex(error!.message, /eventually \(never\): not true after 1000 ms and 11 tries; last: not yet \(11\)/);
    // A TimeoutError (a MeridianError, as the README promises of every error; a plain Error before 2026-12-06), the last try's error its cause.
    t.true(error instanceof TimeoutError, error?.constructor.name);
    t.is((error as TimeoutError).code, 'TIMEOUT');
    t.regex(((error as TimeoutError).cause as Error).message, /^not yet \(11\)$/);
    t.is(cluster.now() - t0, 1_000, 'virtual time, exactly the timeout');
    let n = 0;
    t.is(await eventually(cluster, () => ++n >= 3 && n, { intervalMs: 10 }), 3);
    await t.throwsAsync(
      eventually(cluster, () => true, { timeout: 5 } as never),
      { message: /^options\.timeout: not an option here/ },
    );
    await t.throwsAsync(
      eventually(cluster, () => true, { timeoutMs: -1 }),
      { instanceOf: ValidationError, message: /^options\.timeoutMs: a number of milliseconds >= 0, got -1$/ },
    );
    await t.throwsAsync(
      eventually(cluster, () => true, { intervalMs: 0 }),
      { instanceOf: ValidationError, message: /^options\.intervalMs: a number of milliseconds > 0, got 0$/ },
    );
  });
});

test('withCluster: an assert that fails inside an actor fails the test, naming the actor, the seed and the message (sim)', async (t) => {
  const seed = 41;
  const fake = fakeT(t);
  let leader = '';
  const error = await t.throwsAsync(
    withCluster(
      fake,
      {
        ...config(seed),
        regions: [
          { name: 'r1', servers: 1 },
          { name: 'r2', servers: 1 },
          { name: 'r3', servers: 1 },
        ],
        network: {},
      },
      async (cluster: Cluster) => {
        await cluster.client({ region: 'r1' }).put('warm-up', 1);
        leader = await eventually(cluster, () => cluster.leaderOf(0) ?? false);
        // A 2PC commit for a transaction the shard's participant has aborted (an abort came
        // first): the participant's assertion fails (the actor is restarted, and nothing else notices).
        const host = cluster.internals.runtime.host;
        host.route('tester', leader, { type: 'tx', s: 0, m: { type: 'abort', txn: 'tx-1' } });
        host.route('tester', leader, { type: 'tx', s: 0, m: { type: 'commit', txn: 'tx-1' } });
        await cluster.sleep(500);
        t.true(cluster.assertionFailures().length > 0, 'the cluster reports the failed assertion');
        return 'the body returned normally';
      },
    ),
  );
  t.log(error?.message);
  t.regex(error!.message, /assertion/);
  t.regex(error!.message, new RegExp(`${leader.replace('/', '\\/')}`));
  t.regex(error!.message, new RegExp(`seed ${seed}`));
  t.regex(error!.message, /commit for tx-1, which this participant aborted/);
});
